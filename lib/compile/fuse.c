/* Pointwise fusion: chains (trees) of pointwise nodes become one node whose
 * kernel is generated from the ops' expression generators (op->pointwise).
 *
 * A node p is folded into its consumer c when c is p's only reader, both are
 * pointwise with the same element count, p is a plain work tensor (not an output,
 * loss, input, parameter, state or constant: nobody reads it after a step), and no
 * side-effect node (an optimizer update, which writes parameters in place) runs
 * between them, since p's reads move to c's place in the schedule. Folding is
 * transitive, so each group is a tree with a root that keeps its identity (the
 * tensor pointer callers hold); the folded nodes leave the node list.
 *
 * The root's kernel reads each outside input once at element i, computes every
 * member in schedule order into a private temporary, and writes the root. The
 * intermediates never touch memory, and the plan has one launch per group. */
#include "compile/passes.h"
#include "compile/fuse_util.h"
#include "base/buf.h"
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pointwise(const aecl_tensor *t) { return t->op && t->op->pointwise && t->op->emit; }

/* folded[i]: node i computes inside its reader's kernel. side_before[i]: side-effect
 * nodes among 0..i-1. */
static void choose_folds(const aecl_graph *g, const int *reader, char *folded, int *side_before)
{
    aecl_fuse_count_sides(g, side_before);
    for (int i = 0; i < g->n_nodes; i++) {
        const aecl_tensor *p = g->nodes[i];
        int c = reader[i];
        folded[i] = c >= 0 && pointwise(p) && pointwise(g->nodes[c]) && !(p->flags & AECL_FUSE_KEEP_FLAGS) &&
                    g->nodes[c]->size == p->size && side_before[c] == side_before[i + 1];
    }
}

static int root_of(const int *reader, const char *folded, int i)
{
    while (folded[i]) i = reader[i];
    return i;
}

/* ---- code generation ------------------------------------------------------------ */

/* A group: its members in schedule order (root last) and its outside inputs. */
typedef struct group {
    aecl_tensor *member[64];
    int n_member;
    aecl_tensor *ext[AECL_MAX_INPUTS];
    int n_ext;
} group;

static int member_index(const group *G, const aecl_tensor *t)
{
    for (int m = 0; m < G->n_member; m++)
        if (G->member[m] == t) return m;
    return -1;
}

/* Collects the outside inputs; 0 when there are more than a node can hold, or
 * one that is broadcast does not divide the element count. */
static int collect_inputs(group *G)
{
    size_t n = G->member[G->n_member - 1]->size;
    G->n_ext = 0;
    for (int m = 0; m < G->n_member; m++)
        for (int k = 0; k < G->member[m]->n_in; k++) {
            aecl_tensor *x = G->member[m]->in[k];
            int seen = member_index(G, x) >= 0;
            for (int e = 0; e < G->n_ext && !seen; e++) seen = G->ext[e] == x;
            if (seen) continue;
            if (G->n_ext == AECL_MAX_INPUTS || x->size > n || n % x->size) return 0;
            G->ext[G->n_ext++] = x;
        }
    return 1;
}

/* The name of input k of member m in the generated code: x<e> or t<m>. */
static void operand_name(const group *G, const aecl_tensor *x, char *buf, size_t cap)
{
    int m = member_index(G, x);
    if (m >= 0) { snprintf(buf, cap, "t%d", m); return; }
    for (int e = 0; e < G->n_ext; e++)
        if (G->ext[e] == x) snprintf(buf, cap, "x%d", e);
}

static char *generate(const group *G, int id)
{
    aecl_strbuf b = {0};
    aecl_strbuf_printf(&b, "__kernel void fused_%d(", id);
    for (int e = 0; e < G->n_ext; e++) aecl_strbuf_printf(&b, "__global const float *p%d, int p%d_off, ", e, e);
    aecl_strbuf_printf(&b, "__global float *y, int y_off, int n)\n{\n    int i = get_global_id(0);\n    if (i >= n) return;\n");
    /* Every load comes before the store: y may share storage with an input. A
     * smaller input is broadcast: one value per row (or one in all). */
    size_t n = G->member[G->n_member - 1]->size;
    for (int e = 0; e < G->n_ext; e++) {
        if (G->ext[e]->size == n)
            aecl_strbuf_printf(&b, "    const float x%d = p%d[p%d_off + i];\n", e, e, e);
        else
            aecl_strbuf_printf(&b, "    const float x%d = p%d[p%d_off + i / %zu];\n", e, e, e, n / G->ext[e]->size);
    }
    for (int m = 0; m < G->n_member && !b.failed; m++) {
        const aecl_tensor *t = G->member[m];
        char names[AECL_MAX_INPUTS][16], expr[1024];
        const char *in[AECL_MAX_INPUTS];
        for (int k = 0; k < t->n_in; k++) {
            operand_name(G, t->in[k], names[k], sizeof names[k]);
            in[k] = names[k];
        }
        if (!t->op->pointwise(t, in, expr, sizeof expr)) b.failed = 1;
        aecl_strbuf_printf(&b, "    const float t%d = %s; /* %s */\n", m, expr, t->op->name);
    }
    aecl_strbuf_printf(&b, "    y[y_off + i] = t%d;\n}\n", G->n_member - 1);
    return aecl_strbuf_take(&b);
}

/* ---- rewriting the graph ---------------------------------------------------------- */

/* Turns root r into the fused node of group G, kernel fused_<id>. */
static aecl_status rewrite_root(aecl_graph *g, group *G, aecl_tensor *r, int id)
{
    char *code = generate(G, id);
    AECL_RETURN_IF(!code, AECL_ERR_HOST_MEMORY, g->ctx,
                   "cannot generate the fused kernel of node '%s' (out of host memory, or an op's expression "
                   "longer than its buffer)", r->name);
    r->op = &aecl_op_fused;
    r->n_in = G->n_ext;
    for (int k = 0; k < AECL_MAX_INPUTS; k++) r->in[k] = k < G->n_ext ? G->ext[k] : NULL;
    r->code = code;
    aecl_fused_p(r)->id = id;
    return AECL_OK;
}

/* Builds the group rooted at r; 0 (and unfolds its members) when it cannot be fused. */
static int build_group(aecl_graph *g, const int *reader, char *folded, int r, group *G)
{
    G->n_member = 0;
    int fits = 1;
    for (int i = 0; i <= r; i++) {
        if (i < r && (!folded[i] || root_of(reader, folded, i) != r)) continue;
        if (G->n_member == (int)(sizeof G->member / sizeof G->member[0])) { fits = 0; break; }
        G->member[G->n_member++] = g->nodes[i];
    }
    if (fits) fits = collect_inputs(G);
    if (!fits)
        for (int i = 0; i < r; i++)
            if (folded[i] && root_of(reader, folded, i) == r) folded[i] = 0;
    return fits && G->n_member > 1;
}

aecl_status aecl_fuse_pointwise(aecl_graph *g, int *n_folded)
{
    if (n_folded) *n_folded = 0;
    if (!g) return AECL_ERR_INVALID_ARG;
    if (g->status != AECL_OK) return g->status;
    int n = g->n_nodes;
    int *reader = malloc((size_t)(2 * n + 1) * sizeof *reader);
    char *folded = malloc((size_t)n + 1);
    group *G = malloc(sizeof *G);
    aecl_status st = reader && folded && G ? AECL_OK
                                           : aecl_fail(g->ctx, AECL_ERR_HOST_MEMORY, "out of host memory fusing the graph");
    if (st == AECL_OK) {
        aecl_fuse_find_readers(g, reader);
        choose_folds(g, reader, folded, reader + n);
    }
    /* Kernel ids after those of an earlier fusion of this graph. */
    int id = 0;
    for (int i = 0; i < n; i++) id += g->nodes[i]->op == &aecl_op_fused;
    /* Roots from the last node back: a root's members all have smaller ids. */
    for (int r = n - 1; r >= 0 && st == AECL_OK; r--)
        if (!folded[r] && pointwise(g->nodes[r]) && build_group(g, reader, folded, r, G))
            st = rewrite_root(g, G, g->nodes[r], id++);
    int count = 0;
    for (int i = 0; i < n && st == AECL_OK; i++) count += folded[i];
    if (st == AECL_OK && count) st = aecl_fuse_drop_folded(g, folded, count);
    if (st == AECL_OK && n_folded) *n_folded = count;
    free(reader);
    free(folded);
    free(G);
    return st;
}
