/* Folds activation_grad(y, matmul(A, B)) into one GEMM with a gradient epilogue,
 * and a dense layer's bias gradient into the GEMM of its weight gradient: see
 * passes.h for the conditions. The first rewrite follows fuse.c: the consumer
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

/* The batch loss gradient p that r = activation_grad(y, gy) can absorb, or NULL:
 * gy is p, or a view of p (the output layer's reshape) read only by r; p is read
 * only by gy and its prediction shares y's storage. *view gets gy when it is a
 * view (folded away with p). */
static aecl_tensor *loss_foldable(const int *reader, const int *side_before, const aecl_tensor *r,
                                  aecl_tensor **view)
{
    if (!is_act_grad(r) || (r->flags & AECL_T_SIDE)) return NULL;
    aecl_tensor *gy = r->in[1], *p = aecl_storage_of(gy);
    *view = gy != p ? gy : NULL;
    if (!p->op || p->n_extra || (p->flags & AECL_FUSE_KEEP_FLAGS) || reader[p->id] != (*view ? gy : r)->id)
        return NULL;
    if (*view && (!gy->op || !gy->op->is_view || gy->n_extra || (gy->flags & AECL_FUSE_KEEP_FLAGS) ||
                  reader[gy->id] != r->id))
        return NULL;
    if (!aecl_loss_grad_can_take_act_grad(p, r->in[0]) || r->size != p->size) return NULL;
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
    int dropped = 0;
    for (int i = 0; i < n; i++) {
        aecl_tensor *r = g->nodes[i], *view = NULL, *p = foldable(g, reader, side_before, r);
        if (p) {
            aecl_matmul_take_act_grad(r, p, aecl_act_p(r)->act, aecl_act_p(r)->slope);
        } else if ((p = loss_foldable(reader, side_before, r, &view))) {
            /* the output layer's activation gradient into the loss gradient */
            aecl_loss_grad_take_act_grad(r, p, aecl_act_p(r)->act, aecl_act_p(r)->slope);
            if (view) folded[view->id] = 1, dropped++;
        } else {
            continue;
        }
        folded[p->id] = 1;
        dropped++;
        count++;
    }
    aecl_status st = count ? aecl_fuse_drop_folded(g, folded, dropped) : AECL_OK;
    if (st == AECL_OK && n_folded) *n_folded = count;
    free(reader);
    free(folded);
    return st;
}

/* ---- bias gradients ------------------------------------------------------------------ */

/* The matmul dW = gz^T x that column sum cs of gz can ride on, or NULL: the
 * first plain matmul of op(A) = gz^T after gz, before cs, in the backward part,
 * with no side-effect node between it and cs. */
static aecl_tensor *bias_host(const aecl_graph *g, const int *side_before, const aecl_tensor *cs)
{
    /* an output or loss may: the sum still gets storage of its own */
    unsigned keep = AECL_FUSE_KEEP_FLAGS & ~(unsigned)(AECL_T_OUTPUT | AECL_T_LOSS);
    if (!aecl_is_column_sum(cs) || (cs->flags & keep) || cs->view_of || cs->n_extra) return NULL;
    const aecl_tensor *gz = cs->in[0];
    for (int i = gz->op ? gz->id + 1 : 0; i < cs->id; i++) {
        aecl_tensor *p = g->nodes[i];
        if (i >= g->n_forward && aecl_matmul_can_take_row_sums(p, gz) && side_before[cs->id] == side_before[i + 1])
            return p;
    }
    return NULL;
}

/* The node order with each moved sum right after its GEMM (host[i]: the id of
 * node i's GEMM, or -1), ids renumbered. Moving a sum earlier is safe: it reads
 * only tensors its GEMM reads or writes, and its readers all came after it. */
static aecl_status reorder(aecl_graph *g, const int *host)
{
    int n = g->n_nodes, k = 0;
    aecl_tensor **order = malloc((size_t)n * sizeof *order);
    int *after = malloc((size_t)n * sizeof *after);
    if (!order || !after) {
        free(order);
        free(after);
        return aecl_fail(g->ctx, AECL_ERR_HOST_MEMORY, "out of host memory fusing the graph");
    }
    for (int i = 0; i < n; i++) after[i] = -1;
    for (int i = 0; i < n; i++)
        if (host[i] >= 0) after[host[i]] = i;
    for (int i = 0; i < n; i++) {
        if (host[i] >= 0) continue;
        order[k++] = g->nodes[i];
        if (after[i] >= 0) order[k++] = g->nodes[after[i]];
    }
    for (int i = 0; i < n; i++) {
        g->nodes[i] = order[i];
        g->nodes[i]->id = i;
    }
    free(order);
    free(after);
    return AECL_OK;
}

aecl_status aecl_fuse_gemm_bias_grad(aecl_graph *g, const aecl_plan_options *opt, int *n_folded)
{
    if (n_folded) *n_folded = 0;
    if (!g) return AECL_ERR_INVALID_ARG;
    if (g->status != AECL_OK) return g->status;
    if (opt && opt->no_fuse) return AECL_OK;
    int n = g->n_nodes, count = 0;
    int *side_before = malloc((size_t)(2 * n + 1) * sizeof *side_before);
    if (!side_before) return aecl_fail(g->ctx, AECL_ERR_HOST_MEMORY, "out of host memory fusing the graph");
    int *host = side_before + n + 1;
    aecl_fuse_count_sides(g, side_before);
    for (int i = 0; i < n; i++) {
        aecl_tensor *cs = g->nodes[i], *p = bias_host(g, side_before, cs);
        host[i] = p ? p->id : -1;
        if (!p) continue;
        /* a GEMM takes one sum: it has an extra from here on, so no later cs picks it */
        aecl_matmul_take_row_sums(g, p, cs);
        aecl_channel_sum_written_by(cs, p);
        count++;
    }
    aecl_status st = g->status;
    if (st == AECL_OK && count) st = reorder(g, host);
    if (st == AECL_OK && n_folded) *n_folded = count;
    free(side_before);
    return st;
}
