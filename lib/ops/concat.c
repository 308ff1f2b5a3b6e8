/* Concatenation and slicing along one axis (e.g. axis 1: one dense head of 2L
 * outputs split into mu and logvar, or two feature blocks joined). Both copy;
 * kernels in cl/concat.cl see a tensor as [outer, c, inner] around the axis. */
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"
#include "ops/random.h"

#include <limits.h>
#include <string.h>

/* Elements after `axis` (the inner extent). */
static int inner_of(const aecl_tensor *t, int axis)
{
    size_t n = 1;
    for (int d = axis + 1; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return (int)n;
}

static int check_axis(aecl_graph *g, const char *op, const aecl_tensor *x, int axis)
{
    char s[64];
    if (axis < 0 || axis >= x->ndim) {
        aecl_graph_fail(g, AECL_ERR_INVALID_ARG, "%s: axis %d is outside the %d axes of %s", op, axis, x->ndim,
                        aecl_shape_str(x, s, sizeof s));
        return 0;
    }
    if (x->size > (size_t)INT_MAX) {
        aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: %s has too many elements", op, aecl_shape_str(x, s, sizeof s));
        return 0;
    }
    return 1;
}

/* ---- slice ------------------------------------------------------------------------ */
/* Of a slice node and of its gradient node. Spans are elements per outer index. */
typedef struct slice_params {
    int axis, start, len;
    int x_span;             /* x's: c * inner */
    int first;              /* start * inner */
    int y_span;             /* len * inner */
} slice_params;
AECL_OP_PARAMS(slice_p, slice_params)

static aecl_status emit_slice(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    const slice_params *sp = slice_p(t);
    AECL_TRY(aecl_plan_kernel(p, "concat.cl", "", "slice", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiiii", t->in[0], t, (int)t->size, sp->x_span, sp->first, sp->y_span));
    return aecl_plan_launch_1d(p, k, t->size, "slice");
}

static aecl_status emit_slice_grad(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    const slice_params *sp = slice_p(t);
    AECL_TRY(aecl_plan_kernel(p, "concat.cl", "", "slice_grad", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiiii", t->in[0], t, (int)t->size, sp->x_span, sp->first, sp->y_span));
    return aecl_plan_launch_1d(p, k, t->size, "slice_grad");
}

const aecl_op_def aecl_op_slice_grad = {.name = "slice_grad", .emit = emit_slice_grad};

/* dx: dy placed back at the slice, zero elsewhere (one launch writes all of dx). */
static void backward_slice(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *x = t->in[0], *gy = t->grad;
    aecl_tensor *gx = aecl_node(g, &aecl_op_slice_grad, NULL, x->ndim, x->shape, 1, &gy);
    if (gx) {
        *slice_p(gx) = *slice_p(t);
        gx->flags &= ~(unsigned)AECL_T_GRAD;
    }
    aecl_grad_add(g, x, gx);
}

const aecl_op_def aecl_op_slice = {.name = "slice", .emit = emit_slice, .backward = backward_slice};

aecl_tensor *aecl_slice(aecl_graph *g, aecl_tensor *x, int axis, int start, int len)
{
    if (!x) return NULL;
    if (!check_axis(g, "slice", x, axis)) return NULL;
    int c = x->shape[axis];
    if (start < 0 || len <= 0 || start > c - len) {
        char s[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "slice: [%d, %d + %d) does not fit in axis %d of %s", start, start,
                               len, axis, aecl_shape_str(x, s, sizeof s));
    }
    int shape[AECL_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = len;
    aecl_tensor *t = aecl_node(g, &aecl_op_slice, NULL, x->ndim, shape, 1, &x);
    if (t) {
        int inner = inner_of(x, axis);
        *slice_p(t) = (slice_params){.axis = axis, .start = start, .len = len, .x_span = c * inner,
                                     .first = start * inner, .y_span = len * inner};
    }
    return t;
}

aecl_status aecl_split(aecl_graph *g, aecl_tensor *x, int axis, int size0, aecl_tensor **a, aecl_tensor **b)
{
    *a = *b = NULL;
    if (x && check_axis(g, "split", x, axis)) {
        if (size0 <= 0 || size0 >= x->shape[axis]) {
            char s[64];
            aecl_graph_fail(g, AECL_ERR_SHAPE, "split: first part of %d does not leave two parts of axis %d of %s",
                            size0, axis, aecl_shape_str(x, s, sizeof s));
            return aecl_graph_status(g);
        }
        *a = aecl_slice(g, x, axis, 0, size0);
        *b = aecl_slice(g, x, axis, size0, x->shape[axis] - size0);
    }
    if (!*a || !*b) *a = *b = NULL;
    return aecl_graph_status(g);
}

/* ---- concat ------------------------------------------------------------------------ */
typedef struct concat_params { int axis, a_span, b_span; } concat_params;  /* spans: per outer index */
AECL_OP_PARAMS(concat_p, concat_params)

static aecl_status emit_concat(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_plan_kernel(p, "concat.cl", "", "concat2", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiii", t->in[0], t->in[1], t, (int)t->size, concat_p(t)->a_span,
                            concat_p(t)->b_span));
    return aecl_plan_launch_1d(p, k, t->size, "concat");
}

static void backward_concat(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *a = t->in[0], *b = t->in[1];
    int axis = concat_p(t)->axis, ca = a->shape[axis];
    if (a->flags & AECL_T_GRAD) aecl_grad_add(g, a, aecl_slice(g, t->grad, axis, 0, ca));
    if (b->flags & AECL_T_GRAD) aecl_grad_add(g, b, aecl_slice(g, t->grad, axis, ca, b->shape[axis]));
}

const aecl_op_def aecl_op_concat = {.name = "concat", .emit = emit_concat, .backward = backward_concat};

aecl_tensor *aecl_concat(aecl_graph *g, aecl_tensor *a, aecl_tensor *b, int axis)
{
    if (!a || !b) return NULL;
    if (!check_axis(g, "concat", a, axis)) return NULL;
    int fits = a->ndim == b->ndim;
    for (int d = 0; fits && d < a->ndim; d++) fits = d == axis || a->shape[d] == b->shape[d];
    if (!fits) {
        char sa[64], sb[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "concat: %s and %s differ outside axis %d",
                               aecl_shape_str(a, sa, sizeof sa), aecl_shape_str(b, sb, sizeof sb), axis);
    }
    if (a->size + b->size > (size_t)INT_MAX)
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "concat: the result has too many elements");
    int shape[AECL_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    shape[axis] = a->shape[axis] + b->shape[axis];
    aecl_tensor *in[2] = {a, b};
    aecl_tensor *t = aecl_node(g, &aecl_op_concat, NULL, a->ndim, shape, 2, in);
    if (t) {
        int inner = inner_of(a, axis);
        *concat_p(t) = (concat_params){.axis = axis, .a_span = a->shape[axis] * inner,
                                       .b_span = b->shape[axis] * inner};
    }
    return t;
}
