/* The fused pointwise op: one launch of the kernel that lib/compile/fuse.c
 * generated for a group of pointwise nodes. The activation helpers (act.cl) are
 * prepended, so generators may call act_apply / act_grad. */
#include "base/buf.h"
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

/* The kernels of every fused node of the plan's graph, after the activation
 * helpers: one program however many groups were fused (each program costs PoCL
 * a front end on a first run and a preprocessing of its headers, 25-40 ms, on
 * every later one; the VAE's training net has four groups). Dead nodes' kernels
 * come along unlaunched. The same text for every node of the plan, so the
 * context's table builds it once. */
static aecl_status fused_source(aecl_plan *p, char **out)
{
    aecl_ctx *ctx = aecl_plan_ctx(p);
    const aecl_graph *g = aecl_plan_graph(p);
    aecl_strbuf b = {0};
    char *helpers = NULL;
    AECL_TRY(aecl_kernel_source(ctx, "act.cl", &helpers));
    aecl_strbuf_str(&b, helpers);
    free(helpers);
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i]->op == &aecl_op_fused) {
            aecl_strbuf_str(&b, "\n");
            aecl_strbuf_str(&b, g->nodes[i]->code);
        }
    *out = aecl_strbuf_take(&b);
    AECL_RETURN_IF(!*out, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    return AECL_OK;
}

static aecl_status fused_kernel(aecl_plan *p, const aecl_tensor *t, cl_kernel *k)
{
    char *src, name[32];
    AECL_TRY(fused_source(p, &src));
    snprintf(name, sizeof name, "fused_%d", aecl_fused_p(t)->id);
    aecl_status st = aecl_plan_kernel_text(p, "fused", src, name, k);
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
