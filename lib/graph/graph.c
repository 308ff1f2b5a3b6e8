/* Graph building: nodes, leaves, shapes, the sticky error state. */
#include "base/buf.h"
#include "graph/op.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aecl_status aecl_graph_create(aecl_ctx *ctx, aecl_graph **out)
{
    if (!out) return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_graph_create: NULL output");
    *out = calloc(1, sizeof **out);
    AECL_RETURN_IF(!*out, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    (*out)->ctx = ctx;
    return AECL_OK;
}

void aecl_graph_free(aecl_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_nodes + g->n_fused_away; i++) {
        aecl_tensor *t = i < g->n_nodes ? g->nodes[i] : g->fused_away[i - g->n_nodes];
        free(t->extra);
        free(t->code);
        free(t);
    }
    free(g->nodes);
    free(g->fused_away);
    free(g);
}

aecl_status aecl_graph_status(const aecl_graph *g) { return g ? g->status : AECL_ERR_INVALID_ARG; }

aecl_tensor *aecl_graph_fail(aecl_graph *g, aecl_status st, const char *fmt, ...)
{
    if (g->status != AECL_OK) return NULL; /* keep the first error: later ones follow from it */
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    g->status = aecl_fail(g->ctx, st, "%s", msg);
    return NULL;
}

const char *aecl_shape_str(const aecl_tensor *t, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; t && i < t->ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? "x%d" : "%d", t->shape[i]);
    return buf;
}

int aecl_same_shape(const aecl_tensor *a, const aecl_tensor *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

static aecl_tensor *append(aecl_graph *g, const char *name, int ndim, const int *shape)
{
    if (g->status != AECL_OK) return NULL;
    if (ndim < 1 || ndim > AECL_MAX_DIMS)
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: %d dimensions (1 to %d allowed)", name, ndim, AECL_MAX_DIMS);
    size_t size = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1 || !aecl_mul_size(size, (size_t)shape[i], &size) || size > (size_t)1 << 31)
            return aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: bad or too large shape (dimension %d is %d)", name, i,
                                   shape[i]);
    }
    if (!aecl_grow((void **)&g->nodes, &g->cap, (size_t)g->n_nodes + 1, sizeof *g->nodes, 256))
        return aecl_graph_fail(g, AECL_ERR_HOST_MEMORY, "out of host memory building the graph");
    aecl_tensor *t = calloc(1, sizeof *t);
    if (!t) return aecl_graph_fail(g, AECL_ERR_HOST_MEMORY, "out of host memory building the graph");
    t->id = g->n_nodes;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->size = size;
    snprintf(t->name, sizeof t->name, "%s", name ? name : "");
    g->nodes[g->n_nodes++] = t;
    return t;
}

aecl_tensor *aecl_input(aecl_graph *g, const char *name, int ndim, const int *shape)
{
    return aecl_mark(append(g, name, ndim, shape), AECL_T_INPUT);
}

aecl_tensor *aecl_param(aecl_graph *g, const char *name, int ndim, const int *shape)
{
    return aecl_mark(append(g, name, ndim, shape), AECL_T_PARAM | AECL_T_GRAD);
}

aecl_tensor *aecl_state(aecl_graph *g, const char *name, int ndim, const int *shape)
{
    return aecl_mark(append(g, name, ndim, shape), AECL_T_STATE);
}

aecl_tensor *aecl_mark(aecl_tensor *t, unsigned flags)
{
    if (t) t->flags |= flags;
    return t;
}

aecl_tensor *aecl_node(aecl_graph *g, const aecl_op_def *op, const char *name, int ndim, const int *shape,
                       int n_in, aecl_tensor *const *in)
{
    for (int i = 0; i < n_in; i++)
        if (!in[i]) return NULL; /* an earlier builder failed: the error is already recorded */
    if (n_in > AECL_MAX_INPUTS)
        return aecl_graph_fail(g, AECL_ERR_INVALID_ARG, "%s: %d inputs (at most %d)", op->name, n_in, AECL_MAX_INPUTS);
    aecl_tensor *t = append(g, name ? name : op->name, ndim, shape);
    if (!t) return NULL;
    t->op = op;
    t->n_in = n_in;
    for (int i = 0; i < n_in; i++) {
        t->in[i] = in[i];
        t->flags |= in[i]->flags & AECL_T_GRAD; /* differentiable if any input is */
    }
    if (op->is_view) t->view_of = aecl_storage_of(in[0]);
    return t;
}

void aecl_node_add_extra(aecl_graph *g, aecl_tensor *t, aecl_tensor *x)
{
    if (!t || !x) return;
    aecl_tensor **n = realloc(t->extra, (size_t)(t->n_extra + 1) * sizeof *n);
    if (!n) {
        aecl_graph_fail(g, AECL_ERR_HOST_MEMORY, "out of host memory building the graph");
        return;
    }
    t->extra = n;
    t->extra[t->n_extra++] = x;
}
