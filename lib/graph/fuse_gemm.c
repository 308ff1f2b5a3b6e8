/* Folds activation_grad(y, matmul(A, B)) into one GEMM with a gradient epilogue:
 * see fuse_gemm.h for the conditions. The rewrite follows fuse.c: the consumer
 * keeps its pointer and place in the schedule, the folded matmul moves to
 * g->fused_away, and ids and n_forward are renumbered. */
#include "graph/fuse_gemm.h"
#include "ops/op.h"

#include <stdlib.h>
#include <string.h>

enum { NO_READER = -1, MANY_READERS = -2 };

static const unsigned KEEP_FLAGS =
    AECL_T_INPUT | AECL_T_OUTPUT | AECL_T_PARAM | AECL_T_LOSS | AECL_T_STATE | AECL_T_SIDE | AECL_T_CONST;

static aecl_tensor *input_of(const aecl_tensor *t, int k) { return k < t->n_in ? t->in[k] : t->extra[k - t->n_in]; }

/* reader[i]: the id of the one node that reads node i, or NO_READER / MANY_READERS
 * (a node reading i twice is still one reader). */
static void find_readers(const aecl_graph *g, int *reader)
{
    for (int i = 0; i < g->n_nodes; i++) reader[i] = NO_READER;
    for (int i = 0; i < g->n_nodes; i++) {
        const aecl_tensor *t = g->nodes[i];
        for (int k = 0; k < t->n_in + t->n_extra; k++) {
            int id = input_of(t, k)->id;
            reader[id] = reader[id] == NO_READER || reader[id] == i ? i : MANY_READERS;
        }
    }
}

static int is_act_grad(const aecl_tensor *t)
{
    return t->op && t->op->emit && !strcmp(t->op->name, "activation_grad") && t->n_in == 2 && t->n_extra == 0 &&
           t->ip[0] != AECL_ACT_NONE;
}

/* The matmul that r can absorb, or NULL. side_before[i]: side-effect nodes among
 * nodes 0..i-1. */
static aecl_tensor *foldable(const aecl_graph *g, const int *reader, const int *side_before, const aecl_tensor *r)
{
    if (!is_act_grad(r) || (r->flags & AECL_T_SIDE)) return NULL;
    aecl_tensor *y = r->in[0], *p = r->in[1];
    if (p == y || !aecl_matmul_is_plain(p) || p->n_extra || (p->flags & KEEP_FLAGS) || p->view_of) return NULL;
    if (reader[p->id] != r->id || y->size != p->size || r->ndim != 2 || !aecl_same_shape(r, p)) return NULL;
    return side_before[r->id] == side_before[p->id + 1] ? p : NULL;
}

/* Moves folded nodes off the node list (into g->fused_away) and renumbers. */
static aecl_status drop_folded(aecl_graph *g, const char *folded, int n_folded)
{
    aecl_tensor **away = realloc(g->fused_away, (size_t)(g->n_fused_away + n_folded) * sizeof *away);
    AECL_RETURN_IF(!away, AECL_ERR_HOST_MEMORY, g->ctx, "out of host memory fusing the graph");
    g->fused_away = away;
    int kept = 0, forward = g->n_forward;
    for (int i = 0; i < g->n_nodes; i++) {
        aecl_tensor *t = g->nodes[i];
        if (folded[i]) {
            away[g->n_fused_away++] = t;
            forward -= i < g->n_forward;
            continue;
        }
        t->id = kept;
        g->nodes[kept++] = t;
    }
    g->n_nodes = kept;
    g->n_forward = forward;
    return AECL_OK;
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
    find_readers(g, reader);
    side_before[0] = 0;
    for (int i = 0; i < n; i++) side_before[i + 1] = side_before[i] + ((g->nodes[i]->flags & AECL_T_SIDE) != 0);
    /* Readers were counted before any rewrite; a rewrite only moves p's reads of
     * A and B to r, which changes no other candidate's reader. */
    for (int i = 0; i < n; i++) {
        aecl_tensor *r = g->nodes[i], *p = foldable(g, reader, side_before, r);
        if (!p) continue;
        aecl_matmul_take_act_grad(r, p, (aecl_act)r->ip[0], r->fp[0]);
        folded[p->id] = 1;
        count++;
    }
    aecl_status st = count ? drop_folded(g, folded, count) : AECL_OK;
    if (st == AECL_OK && n_folded) *n_folded = count;
    free(reader);
    free(folded);
    return st;
}
