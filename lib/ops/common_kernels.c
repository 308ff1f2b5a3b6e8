/* The common program's options: its GEMM kernels' register block for the
 * device, the device table's vector widths (the conv layout kernels' among
 * them) and the optimizer's table sizes, so
 * that one program serves every model on a device. */
#include "ops/common_kernels.h"
#include "ops/gemm.h"
#include "rt/tuning.h"

#include <stdio.h>

void aecl_common_options(aecl_ctx *ctx, char *opts, size_t cap)
{
    const aecl_tuning *t = aecl_ctx_tuning(ctx);
    char gemm[192];
    aecl_gemm_common_options(ctx, gemm, sizeof gemm);
    snprintf(opts, cap, "%s -DLOSS_VW=%d -DRNG_K=%d -DOPT_CHUNK=%d -DOPT_SQ_K=%d -DCONV_VW=%d", gemm, t->loss_vw,
             t->rng_blocks, AECL_OPT_CHUNK, AECL_OPT_SQ_K, t->conv_vw);
}

aecl_status aecl_common_kernel(aecl_plan *p, const char *name, cl_kernel *k)
{
    char opts[256];
    aecl_common_options(aecl_plan_ctx(p), opts, sizeof opts);
    return aecl_plan_kernel(p, AECL_COMMON_FILE, opts, name, k);
}
