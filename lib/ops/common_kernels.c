/* The common program's options: the device table's vector widths and the
 * optimizer's table sizes, so that one program serves every model on a device. */
#include "ops/common_kernels.h"
#include "rt/tuning.h"

#include <stdio.h>

aecl_status aecl_common_kernel(aecl_plan *p, const char *name, cl_kernel *k)
{
    const aecl_tuning *t = aecl_ctx_tuning(aecl_plan_ctx(p));
    char opt[96];
    snprintf(opt, sizeof opt, "-DLOSS_VW=%d -DRNG_K=%d -DOPT_CHUNK=%d -DOPT_SQ_K=%d", t->loss_vw, t->rng_blocks,
             AECL_OPT_CHUNK, AECL_OPT_SQ_K);
    return aecl_plan_kernel(p, "common.cl", opt, name, k);
}
