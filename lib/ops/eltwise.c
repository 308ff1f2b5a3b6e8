/* Same-shape elementwise ops: add/sub/mul, affine, activations, fill. */
#include "graph/op.h"
#include "ops/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Pointwise code for the fusion pass (lib/graph/fuse.c): each op's value as an
 * expression of its inputs' values, with parameters as exact literals. */
static int code(char *buf, size_t cap, int n) { return n > 0 && (size_t)n < cap; }

/* ---- binary ------------------------------------------------------------------ */

static aecl_status emit_binary(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_plan_kernel(p, "eltwise.cl", "", "elt_binary", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiif", t->in[0], t->in[1], t, (int)t->size, t->ip[0], 1.0));
    return aecl_plan_launch_1d(p, k, t->size, t->op->name);
}

static void backward_binary(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *a = t->in[0], *b = t->in[1], *gy = t->grad;
    if (t->ip[0] == 2) { /* mul */
        if (a->flags & AECL_T_GRAD) aecl_grad_add(g, a, aecl_mul(g, gy, b));
        if (b->flags & AECL_T_GRAD) aecl_grad_add(g, b, aecl_mul(g, gy, a));
        return;
    }
    aecl_grad_add(g, a, gy);
    if (b->flags & AECL_T_GRAD) aecl_grad_add(g, b, t->ip[0] == 1 ? aecl_scale(g, gy, -1.0f) : gy);
}

static int code_binary(const aecl_tensor *t, const char *const *in, char *buf, size_t cap)
{
    static const char ops[] = "+-*";
    return code(buf, cap, snprintf(buf, cap, "(%s %c %s)", in[0], ops[t->ip[0]], in[1]));
}

static const aecl_op_def op_add = {"add", emit_binary, backward_binary, 1, 0, code_binary};
static const aecl_op_def op_sub = {"sub", emit_binary, backward_binary, 1, 0, code_binary};
static const aecl_op_def op_mul = {"mul", emit_binary, backward_binary, 1, 0, code_binary};

static aecl_tensor *binary(aecl_graph *g, const aecl_op_def *op, int code, aecl_tensor *a, aecl_tensor *b)
{
    if (!a || !b) return NULL;
    if (!aecl_same_shape(a, b)) {
        char sa[64], sb[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: shapes %s and %s differ", op->name,
                               aecl_shape_str(a, sa, sizeof sa), aecl_shape_str(b, sb, sizeof sb));
    }
    aecl_tensor *in[2] = {a, b};
    aecl_tensor *t = aecl_node(g, op, NULL, a->ndim, a->shape, 2, in);
    if (t) t->ip[0] = code;
    return t;
}

aecl_tensor *aecl_add(aecl_graph *g, aecl_tensor *a, aecl_tensor *b) { return binary(g, &op_add, 0, a, b); }
aecl_tensor *aecl_sub(aecl_graph *g, aecl_tensor *a, aecl_tensor *b) { return binary(g, &op_sub, 1, a, b); }
aecl_tensor *aecl_mul(aecl_graph *g, aecl_tensor *a, aecl_tensor *b) { return binary(g, &op_mul, 2, a, b); }

/* ---- affine ------------------------------------------------------------------ */

static aecl_status emit_affine(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_plan_kernel(p, "eltwise.cl", "", "elt_affine", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiff", t->in[0], t, (int)t->size, (double)t->fp[0], (double)t->fp[1]));
    return aecl_plan_launch_1d(p, k, t->size, "affine");
}

static void backward_affine(aecl_graph *g, aecl_tensor *t)
{
    aecl_grad_add(g, t->in[0], aecl_scale(g, t->grad, t->fp[0]));
}

static int code_affine(const aecl_tensor *t, const char *const *in, char *buf, size_t cap)
{
    char a[32], b[32];
    aecl_cl_float(t->fp[0], a, sizeof a);
    aecl_cl_float(t->fp[1], b, sizeof b);
    return code(buf, cap, snprintf(buf, cap, "(%s * %s + %s)", a, in[0], b));
}

static const aecl_op_def op_affine = {"affine", emit_affine, backward_affine, 1, 0, code_affine};

aecl_tensor *aecl_affine(aecl_graph *g, aecl_tensor *x, float alpha, float beta)
{
    if (!x) return NULL;
    aecl_tensor *t = aecl_node(g, &op_affine, NULL, x->ndim, x->shape, 1, &x);
    if (t) { t->fp[0] = alpha; t->fp[1] = beta; }
    return t;
}

aecl_tensor *aecl_scale(aecl_graph *g, aecl_tensor *x, float alpha) { return aecl_affine(g, x, alpha, 0.0f); }

/* ---- activations ------------------------------------------------------------- */

static aecl_status emit_act(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_plan_kernel(p, "eltwise.cl", "", "elt_act", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiif", t->in[0], t, (int)t->size, t->ip[0], (double)t->fp[0]));
    return aecl_plan_launch_1d(p, k, t->size, aecl_act_name((aecl_act)t->ip[0]));
}

static void backward_act(aecl_graph *g, aecl_tensor *t)
{
    aecl_grad_add(g, t->in[0], aecl_activation_grad(g, t, t->grad, (aecl_act)t->ip[0], t->fp[0]));
}

static aecl_status emit_act_grad(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_plan_kernel(p, "eltwise.cl", "", "elt_act_grad", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiif", t->in[0], t->in[1], t, (int)t->size, t->ip[0], (double)t->fp[0]));
    return aecl_plan_launch_1d(p, k, t->size, "act_grad");
}

static int code_act(const aecl_tensor *t, const char *const *in, char *buf, size_t cap)
{
    char slope[32];
    aecl_cl_float(t->fp[0], slope, sizeof slope);
    return code(buf, cap, snprintf(buf, cap, "act_apply(%d, %s, %s)", t->ip[0], in[0], slope));
}

static int code_act_grad(const aecl_tensor *t, const char *const *in, char *buf, size_t cap)
{
    char slope[32];
    aecl_cl_float(t->fp[0], slope, sizeof slope);
    return code(buf, cap, snprintf(buf, cap, "(%s * act_grad(%d, %s, %s))", in[1], t->ip[0], in[0], slope));
}

static const aecl_op_def op_act = {"activation", emit_act, backward_act, 1, 0, code_act};
/* In place over gy (input 1 is y, read at the same index first): not input 0, so no. */
static const aecl_op_def op_act_grad = {"activation_grad", emit_act_grad, NULL, 0, 0, code_act_grad};

aecl_tensor *aecl_activation(aecl_graph *g, aecl_tensor *x, aecl_act act, float slope)
{
    if (!x) return NULL;
    if (act == AECL_ACT_NONE) return x;
    aecl_tensor *t = aecl_node(g, &op_act, aecl_act_name(act), x->ndim, x->shape, 1, &x);
    if (t) { t->ip[0] = act; t->fp[0] = slope; }
    return t;
}

int aecl_is_activation_grad(const aecl_tensor *t) { return t && t->op == &op_act_grad; }

aecl_tensor *aecl_activation_grad(aecl_graph *g, aecl_tensor *y, aecl_tensor *gy, aecl_act act, float slope)
{
    if (!y || !gy) return NULL;
    if (act == AECL_ACT_NONE) return gy;
    aecl_tensor *in[2] = {y, gy};
    aecl_tensor *t = aecl_node(g, &op_act_grad, NULL, y->ndim, y->shape, 2, in);
    if (t) { t->ip[0] = act; t->fp[0] = slope; t->flags &= ~(unsigned)AECL_T_GRAD; }
    return t;
}

/* ---- fill ---------------------------------------------------------------------- */

/* A constant is persistent and written once when the plan is compiled: the
 * loss's seed gradient costs no launch per step. */
static aecl_status emit_fill(aecl_plan *p, aecl_tensor *t)
{
    float *v = malloc(t->size * sizeof *v);
    AECL_RETURN_IF(!v, AECL_ERR_HOST_MEMORY, aecl_plan_ctx(p), "out of host memory");
    for (size_t i = 0; i < t->size; i++) v[i] = t->fp[0];
    aecl_status st = aecl_plan_write(p, t, v);
    free(v);
    return st;
}

static const aecl_op_def op_fill = {"fill", emit_fill, NULL, 0, 0, NULL};

aecl_tensor *aecl_fill(aecl_graph *g, int ndim, const int *shape, float value)
{
    aecl_tensor *t = aecl_node(g, &op_fill, NULL, ndim, shape, 0, NULL);
    if (t) {
        t->fp[0] = value;
        t->flags = AECL_T_CONST;
    }
    return t;
}

/* ---- host references ------------------------------------------------------------ */

float aecl_act_host(aecl_act a, float x, float slope)
{
    switch (a) {
    case AECL_ACT_RELU: return x > 0 ? x : 0;
    case AECL_ACT_LEAKY_RELU: return x > 0 ? x : slope * x;
    case AECL_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case AECL_ACT_TANH: return tanhf(x);
    case AECL_ACT_ELU: return x > 0 ? x : slope * expm1f(x);
    case AECL_ACT_SOFTPLUS: return fmaxf(x, 0) + log1pf(expf(-fabsf(x)));
    default: return x;
    }
}

float aecl_act_grad_host(aecl_act a, float y, float slope)
{
    switch (a) {
    case AECL_ACT_RELU: return y > 0 ? 1.0f : 0.0f;
    case AECL_ACT_LEAKY_RELU: return y > 0 ? 1.0f : slope;
    case AECL_ACT_SIGMOID: return y * (1 - y);
    case AECL_ACT_TANH: return 1 - y * y;
    case AECL_ACT_ELU: return y > 0 ? 1.0f : y + slope;
    case AECL_ACT_SOFTPLUS: return -expm1f(-y);
    default: return 1.0f;
    }
}

const char *aecl_act_name(aecl_act a)
{
    static const char *names[] = {"none", "relu", "leaky_relu", "sigmoid", "tanh", "elu", "softplus"};
    return (unsigned)a < sizeof names / sizeof names[0] ? names[a] : "unknown";
}
