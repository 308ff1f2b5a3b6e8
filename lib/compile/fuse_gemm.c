/* Folds activation_grad(y, matmul(A, B)) into one GEMM with a gradient epilogue:
 * see fuse_gemm.h for the conditions. The rewrite follows fuse.c: the consumer
 * keeps its pointer and place in the schedule, the folded matmul moves to
 * g->fused_away, and ids and n_forward are renumbered. */
#include "compile/passes.h"
#include "ops/ops.h"
#include "compile/fuse_util.h"
#include "graph/op.h"

#include <stdlib.h>

static int is_act_grad(const aecl_tensor *t)
{
    return aecl_is_activation_grad(t) && t->n_in == 2 && t->n_extra == 0 &&
           aecl_act_p(t)->act != AECL_ACT_NONE;
}

/* The matmul that r can absorb, or NULL. side_before[i]: side-effect nodes among
 * nodes 0..i-1. */
static aecl_tensor *foldable(const aecl_graph *g, const int *reader, const int *side_before, const aecl_tensor *r)
{
    if (!is_act_grad(r) || (r->flags & AECL_T_SIDE)) return NULL;
    aecl_tensor *y = r->in[0], *p = r->in[1];
    if (p == y || !aecl_matmul_is_plain(p) || p->n_extra || (p->flags & AECL_FUSE_KEEP_FLAGS) || p->view_of) return NULL;
    if (reader[p->id] != r->id || y->size != p->size || r->ndim != 2 || !aecl_same_shape(r, p)) return NULL;
    return side_before[r->id] == side_before[p->id + 1] ? p : NULL;
}

aecl_status aecl_fuse_gemm_act_grad(aecl_graph *g, const aecl_plan_options *opt, int *n_folded)
{
    if (n_folded) *n_folded = 0;
    if (!g) return AECL_ERR_INVALID_ARG;
    if (g->status != AECL_OK) return g->status;
    if (opt && opt->no_fuse) return AECL_OK;
    int n = g->n_nodes;
    int *reader = malloc((size_t)(2 * n + 1) * sizeof *reader);
    char *folded = calloc((size_t)n + 1, 1);
    if (!reader || !folded) {
        free(reader);
        free(folded);
        return aecl_fail(g->ctx, AECL_ERR_HOST_MEMORY, "out of host memory fusing the graph");
    }
    int *side_before = reader + n, count = 0;
    aecl_fuse_find_readers(g, reader);
    aecl_fuse_count_sides(g, side_before);
    /* Readers were counted before any rewrite; a rewrite only moves p's reads of
     * A and B to r, which changes no other candidate's reader. */
    for (int i = 0; i < n; i++) {
        aecl_tensor *r = g->nodes[i], *p = foldable(g, reader, side_before, r);
        if (!p) continue;
        aecl_matmul_take_act_grad(r, p, aecl_act_p(r)->act, aecl_act_p(r)->slope);
        folded[p->id] = 1;
        count++;
    }
    aecl_status st = count ? aecl_fuse_drop_folded(g, folded, count) : AECL_OK;
    if (st == AECL_OK && n_folded) *n_folded = count;
    free(reader);
    free(folded);
    return st;
}
