/* The fused pointwise op: one launch of the kernel that lib/graph/fuse.c
 * generated for a group of pointwise nodes. The activation helpers (act.cl) are
 * prepended, so generators may call act_apply / act_grad. */
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"
#include "rt/program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void aecl_cl_float(float f, char *buf, size_t cap)
{
    unsigned u;
    memcpy(&u, &f, sizeof u);
    snprintf(buf, cap, "as_float(0x%08xu)", u);
}

static aecl_status fused_kernel(aecl_plan *p, const aecl_tensor *t, cl_kernel *k)
{
    aecl_ctx *ctx = aecl_plan_ctx(p);
    char *helpers = NULL;
    AECL_TRY(aecl_kernel_source(ctx, "act.cl", &helpers));
    size_t n = strlen(helpers) + strlen(t->code) + 2;
    char *src = malloc(n);
    if (!src) { free(helpers); return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory"); }
    snprintf(src, n, "%s\n%s", helpers, t->code);
    free(helpers);
    aecl_status st = aecl_plan_kernel_text(p, "fused", src, "fused", k);
    free(src);
    return st;
}

static aecl_status bind(aecl_plan *p, cl_kernel k, const aecl_tensor *t)
{
    aecl_ctx *ctx = aecl_plan_ctx(p);
    cl_uint a = 0;
    for (int i = 0; i <= t->n_in; i++) {
        cl_mem m;
        int off;
        aecl_plan_tensor_mem(p, i < t->n_in ? t->in[i] : t, &m, &off);
        AECL_ARG(ctx, k, a, m);
        AECL_ARG(ctx, k, a + 1, off);
        a += 2;
    }
    int n = (int)t->size;
    AECL_ARG(ctx, k, a, n);
    return AECL_OK;
}

static aecl_status emit_fused(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(fused_kernel(p, t, &k));
    AECL_TRY(bind(p, k, t));
    return aecl_plan_launch_1d(p, k, t->size, "fused");
}

/* Reads each input at i before writing y[i]: may write over input 0. */
const aecl_op_def aecl_op_fused = {.name = "fused", .emit = emit_fused, .inplace_ok = 1};
