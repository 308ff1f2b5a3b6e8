/* The memory plan. Persistent tensors (inputs, parameters, optimizer state,
 * constants) get fixed regions of one buffer. Every other tensor gets a region of
 * the work arena for its lifetime only: from the node that produces it to the
 * last node that reads it (outputs and the loss live to the end). Regions are
 * taken best-fit from a free list, and an elementwise op may write over its input
 * when that input dies at the op. Views (reshape) alias their base tensor.
 * The gradients of the trainable parameters are the exception: they get one
 * contiguous region at the start of the arena, in parameter order, for the whole
 * step (never reused, never taken over in place), so that data-parallel training
 * can sum them across processes with one copy each way (plan.h, aecl_plan_grads). */
#include "compile/passes.h"
#include "base/buf.h"
#include "graph/plan_internal.h"
#include "graph/op.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct block { size_t off, len; } block;
typedef struct freelist { block *b; int n; size_t cap; size_t end; } freelist;

static size_t aligned(size_t n) { return aecl_round_up(n, AECL_ALIGN_ELEMS); }

int aecl_plan_has_storage(const aecl_tensor *t)
{
    return !(t->flags & AECL_T_SIDE) && !t->view_of;
}

static int persistent(const aecl_tensor *t)
{
    return (t->flags & (AECL_T_INPUT | AECL_T_PARAM | AECL_T_STATE | AECL_T_CONST | AECL_T_ZEROED)) != 0;
}

static void compute_last_use(aecl_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i]->last_use = i;
    for (int i = 0; i < g->n_nodes; i++) {
        aecl_tensor *t = g->nodes[i];
        for (int k = 0; k < t->n_in + t->n_extra; k++) {
            aecl_tensor *b = aecl_storage_of(k < t->n_in ? t->in[k] : t->extra[k - t->n_in]);
            if (b->last_use < i) b->last_use = i;
        }
        if (t->flags & (AECL_T_OUTPUT | AECL_T_LOSS)) aecl_storage_of(t)->last_use = INT_MAX;
    }
}

/* Best fit: the smallest free block that holds len; else grow the arena (from a
 * free block at its end, if there is one). */
static int fl_alloc(freelist *f, size_t len, size_t *off)
{
    int best = -1;
    for (int i = 0; i < f->n; i++)
        if (f->b[i].len >= len && (best < 0 || f->b[i].len < f->b[best].len)) best = i;
    if (best >= 0) {
        *off = f->b[best].off;
        f->b[best].off += len;
        f->b[best].len -= len;
        if (!f->b[best].len) f->b[best] = f->b[--f->n];
        return 1;
    }
    for (int i = 0; i < f->n; i++)
        if (f->b[i].off + f->b[i].len == f->end) {
            *off = f->b[i].off;
            f->end = *off + len;
            f->b[i] = f->b[--f->n];
            return 1;
        }
    *off = f->end;
    f->end += len;
    return 1;
}

static int fl_free(freelist *f, size_t off, size_t len)
{
    /* Merge with neighbours so big tensors can reuse the space of several small ones. */
    for (int i = 0; i < f->n; i++) {
        if (f->b[i].off + f->b[i].len == off) { off = f->b[i].off; len += f->b[i].len; f->b[i--] = f->b[--f->n]; }
        else if (off + len == f->b[i].off) { len += f->b[i].len; f->b[i--] = f->b[--f->n]; }
    }
    if (!aecl_grow((void **)&f->b, &f->cap, (size_t)f->n + 1, sizeof *f->b, 64)) return 0;
    f->b[f->n++] = (block){off, len};
    return 1;
}

/* In place: the op allows it, input 0 is a work tensor (not a view of one) of the
 * same size, dies at this node, and feeds no other input of this node; neither is
 * a gradient of the region (fixed[id]). */
static int can_take_input(const aecl_tensor *t, const char *fixed)
{
    if (!t->op || !t->op->inplace_ok || t->n_in < 1 || fixed[t->id]) return 0;
    const aecl_tensor *x = t->in[0];
    if (x->view_of || persistent(x) || x->storage != AECL_STORE_WORK || x->last_use != t->id || fixed[x->id])
        return 0;
    if (aligned(x->size) != aligned(t->size)) return 0;
    for (int k = 1; k < t->n_in; k++)
        if (aecl_storage_of(t->in[k]) == x) return 0;
    return 1;
}

/* The parameter w's gradient storage (a view's base) when it can join the
 * gradient region: a work tensor of its own, not shared with another parameter
 * (fixed[] marks those taken); else NULL. */
static aecl_tensor *grad_storage(const aecl_tensor *w, const char *fixed)
{
    aecl_tensor *b = aecl_storage_of(w->grad);
    return !b->op || persistent(b) || !aecl_plan_has_storage(b) || fixed[b->id] || b->size != w->size ? NULL : b;
}

/* The gradient region: each trainable parameter's gradient gets the next aligned
 * offset from 0, marked in fixed[]. A graph where some gradient cannot (one
 * tensor is the gradient of two parameters, as in x + x) gets no region: its
 * gradients are planned like any tensor, and aecl_plan_grads reports none. */
static aecl_status place_grads(aecl_plan *p, char *fixed)
{
    aecl_graph *g = p->g;
    int n = 0, ok = 1;
    for (int i = 0; i < g->n_nodes; i++) {
        const aecl_tensor *w = g->nodes[i];
        if (!(w->flags & AECL_T_PARAM) || !w->grad) continue;
        aecl_tensor *b = grad_storage(w, fixed);
        if (b) fixed[b->id] = 1, n++;
        else ok = 0;
    }
    memset(fixed, 0, (size_t)g->n_nodes + 1);
    if (!n || !ok) return AECL_OK;
    p->grads = calloc((size_t)n, sizeof *p->grads);
    AECL_RETURN_IF(!p->grads, AECL_ERR_HOST_MEMORY, p->ctx, "out of host memory planning memory");
    size_t end = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const aecl_tensor *w = g->nodes[i];
        if (!(w->flags & AECL_T_PARAM) || !w->grad) continue;
        aecl_tensor *b = grad_storage(w, fixed);
        fixed[b->id] = 1;
        b->storage = AECL_STORE_WORK;
        b->offset = end;
        p->grads[p->n_grads++] = (aecl_plan_grad){.param = w, .off = end, .size = w->size};
        end += aligned(b->size);
    }
    p->grad_off = 0;
    p->grad_elems = end;
    return AECL_OK;
}

aecl_status aecl_memplan(aecl_plan *p)
{
    aecl_graph *g = p->g;
    compute_last_use(g);
    freelist f = {0};
    size_t persist = 0, unplanned = 0;
    char *taken = calloc((size_t)g->n_nodes + 1, 1); /* storage handed to an in-place successor */
    char *fixed = calloc((size_t)g->n_nodes + 1, 1); /* a gradient of the region */
    aecl_status st = taken && fixed ? AECL_OK : aecl_fail(p->ctx, AECL_ERR_HOST_MEMORY, "out of host memory planning memory");
    if (st == AECL_OK) st = place_grads(p, fixed);
    if (st != AECL_OK) { free(taken); free(fixed); return st; }
    f.end = p->grad_elems;
    for (int i = 0; i < g->n_nodes; i++) {
        aecl_tensor *t = g->nodes[i];
        if (fixed[i]) { unplanned += aligned(t->size); taken[i] = 1; } /* placed; never freed */
        else t->storage = AECL_STORE_NONE;
        if (fixed[i] || !aecl_plan_has_storage(t)) goto free_dying;
        if (persistent(t)) {
            t->storage = AECL_STORE_PERSIST;
            t->offset = persist;
            persist += aligned(t->size);
            continue;
        }
        t->storage = AECL_STORE_WORK;
        unplanned += aligned(t->size);
        if (p->opt.no_reuse) { t->offset = f.end; f.end += aligned(t->size); continue; }
        if (can_take_input(t, fixed)) {
            t->offset = t->in[0]->offset;
            taken[t->in[0]->id] = 1;
            p->stats.n_inplace++;
        } else {
            fl_alloc(&f, aligned(t->size), &t->offset);
        }
    free_dying:
        if (p->opt.no_reuse || !aecl_plan_has_storage(t)) continue;
        /* Free what dies at this node (after its output was placed). */
        for (int k = 0; k < t->n_in + t->n_extra; k++) {
            const aecl_tensor *x = aecl_storage_of(k < t->n_in ? t->in[k] : t->extra[k - t->n_in]);
            if (x->storage == AECL_STORE_WORK && x->last_use == i && !taken[x->id]) {
                taken[x->id] = 1; /* free once even if read twice by this node */
                if (!fl_free(&f, x->offset, aligned(x->size))) { free(taken); free(fixed); free(f.b); return aecl_fail(p->ctx, AECL_ERR_HOST_MEMORY, "out of host memory"); }
            }
        }
        if (t->last_use == i && !taken[i]) { taken[i] = 1; fl_free(&f, t->offset, aligned(t->size)); } /* never read */
    }
    free(taken);
    free(fixed);
    free(f.b);
    p->persist_elems = persist ? persist : 1;
    p->work_elems = f.end ? f.end : 1;
    p->stats.persist_bytes = persist * sizeof(float);
    p->stats.work_bytes = f.end * sizeof(float);
    p->stats.unplanned_bytes = (persist + unplanned) * sizeof(float);
    return AECL_OK;
}

int aecl_memplan_dying(const aecl_plan *p, int node_id, const aecl_tensor **out, int cap)
{
    const aecl_tensor *t = p->g->nodes[node_id];
    int n = 0;
    for (int k = 0; k < t->n_in + t->n_extra && n < cap; k++) {
        const aecl_tensor *x = aecl_storage_of(k < t->n_in ? t->in[k] : t->extra[k - t->n_in]);
        int dup = 0;
        for (int j = 0; j < n; j++) dup |= out[j] == x;
        /* In place: the storage lives on in the output, so it is not dead. */
        int inplace = k == 0 && t->op && t->op->inplace_ok && t->storage == AECL_STORE_WORK &&
                      x->storage == AECL_STORE_WORK && x->offset == t->offset && !t->view_of;
        if (!dup && !inplace && x->storage == AECL_STORE_WORK && x->last_use == node_id) out[n++] = x;
    }
    return n;
}
