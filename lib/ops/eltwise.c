/* Same-shape elementwise ops: add/sub/mul, affine, activations, fill. */
#include "graph/op.h"
#include "ops/common_kernels.h"
#include "ops/op_list.h"
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>

/* Pointwise code for the fusion pass (lib/graph/fuse.c): each op's value as an
 * expression of its inputs' values, with parameters as exact literals. */
static int code(char *buf, size_t cap, int n) { return n > 0 && (size_t)n < cap; }

/* ---- binary ------------------------------------------------------------------ */

/* The kernel's operation code (elt_binary in cl/eltwise.cl). */
enum { BIN_ADD = 0, BIN_SUB = 1, BIN_MUL = 2 };
typedef struct binary_params { int code; } binary_params;
AECL_OP_PARAMS(binary_p, binary_params)

static aecl_status emit_binary(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "elt_binary", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiif", t->in[0], t->in[1], t, (int)t->size, binary_p(t)->code, 1.0));
    return aecl_plan_launch_1d(p, k, t->size, t->op->name);
}

static void backward_binary(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *a = t->in[0], *b = t->in[1], *gy = t->grad;
    int code = binary_p(t)->code;
    if (code == BIN_MUL) {
        if (a->flags & AECL_T_GRAD) aecl_grad_add(g, a, aecl_mul(g, gy, b));
        if (b->flags & AECL_T_GRAD) aecl_grad_add(g, b, aecl_mul(g, gy, a));
        return;
    }
    aecl_grad_add(g, a, gy);
    if (b->flags & AECL_T_GRAD) aecl_grad_add(g, b, code == BIN_SUB ? aecl_scale(g, gy, -1.0f) : gy);
}

static int code_binary(const aecl_tensor *t, const char *const *in, char *buf, size_t cap)
{
    static const char ops[] = "+-*";
    return code(buf, cap, snprintf(buf, cap, "(%s %c %s)", in[0], ops[binary_p(t)->code], in[1]));
}

const aecl_op_def aecl_op_add = {.name = "add", .emit = emit_binary, .backward = backward_binary, .inplace_ok = 1,
                                 .pointwise = code_binary};
const aecl_op_def aecl_op_sub = {.name = "sub", .emit = emit_binary, .backward = backward_binary, .inplace_ok = 1,
                                 .pointwise = code_binary};
const aecl_op_def aecl_op_mul = {.name = "mul", .emit = emit_binary, .backward = backward_binary, .inplace_ok = 1,
                                 .pointwise = code_binary};

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
    if (t) binary_p(t)->code = code;
    return t;
}

aecl_tensor *aecl_add(aecl_graph *g, aecl_tensor *a, aecl_tensor *b) { return binary(g, &aecl_op_add, BIN_ADD, a, b); }
aecl_tensor *aecl_sub(aecl_graph *g, aecl_tensor *a, aecl_tensor *b) { return binary(g, &aecl_op_sub, BIN_SUB, a, b); }
aecl_tensor *aecl_mul(aecl_graph *g, aecl_tensor *a, aecl_tensor *b) { return binary(g, &aecl_op_mul, BIN_MUL, a, b); }

/* ---- affine ------------------------------------------------------------------ */

typedef struct affine_params { float alpha, beta; } affine_params;   /* y = alpha x + beta */
AECL_OP_PARAMS(affine_p, affine_params)

static aecl_status emit_affine(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "elt_affine", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiff", t->in[0], t, (int)t->size, (double)affine_p(t)->alpha,
                            (double)affine_p(t)->beta));
    return aecl_plan_launch_1d(p, k, t->size, "affine");
}

static void backward_affine(aecl_graph *g, aecl_tensor *t)
{
    aecl_grad_add(g, t->in[0], aecl_scale(g, t->grad, affine_p(t)->alpha));
}

static int code_affine(const aecl_tensor *t, const char *const *in, char *buf, size_t cap)
{
    char a[32], b[32];
    aecl_cl_float(affine_p(t)->alpha, a, sizeof a);
    aecl_cl_float(affine_p(t)->beta, b, sizeof b);
    return code(buf, cap, snprintf(buf, cap, "(%s * %s + %s)", a, in[0], b));
}

const aecl_op_def aecl_op_affine = {.name = "affine", .emit = emit_affine, .backward = backward_affine,
                                    .inplace_ok = 1, .pointwise = code_affine};

aecl_tensor *aecl_affine(aecl_graph *g, aecl_tensor *x, float alpha, float beta)
{
    if (!x) return NULL;
    aecl_tensor *t = aecl_node(g, &aecl_op_affine, NULL, x->ndim, x->shape, 1, &x);
    if (t) *affine_p(t) = (affine_params){alpha, beta};
    return t;
}

aecl_tensor *aecl_scale(aecl_graph *g, aecl_tensor *x, float alpha) { return aecl_affine(g, x, alpha, 0.0f); }

/* ---- activations ------------------------------------------------------------- */

/* Work-items of elt_act and elt_act_grad: ELT_W (cl/eltwise.cl) elements each. */
static size_t div_up_w(size_t n) { return (n + 15) / 16; }

static aecl_status emit_act(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "elt_act", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiif", t->in[0], t, (int)t->size, (int)aecl_act_p(t)->act,
                            (double)aecl_act_p(t)->slope));
    return aecl_plan_launch_1d(p, k, div_up_w(t->size), aecl_act_name(aecl_act_p(t)->act));
}

static void backward_act(aecl_graph *g, aecl_tensor *t)
{
    aecl_grad_add(g, t->in[0], aecl_activation_grad(g, t, t->grad, aecl_act_p(t)->act, aecl_act_p(t)->slope));
}

static aecl_status emit_act_grad(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "elt_act_grad", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiif", t->in[0], t->in[1], t, (int)t->size, (int)aecl_act_p(t)->act,
                            (double)aecl_act_p(t)->slope));
    return aecl_plan_launch_1d(p, k, div_up_w(t->size), "act_grad");
}

static int code_act(const aecl_tensor *t, const char *const *in, char *buf, size_t cap)
{
    char slope[32];
    aecl_cl_float(aecl_act_p(t)->slope, slope, sizeof slope);
    return code(buf, cap, snprintf(buf, cap, "act_apply(%d, %s, %s)", (int)aecl_act_p(t)->act, in[0], slope));
}

static int code_act_grad(const aecl_tensor *t, const char *const *in, char *buf, size_t cap)
{
    char slope[32];
    aecl_cl_float(aecl_act_p(t)->slope, slope, sizeof slope);
    return code(buf, cap,
                snprintf(buf, cap, "(%s * act_grad(%d, %s, %s))", in[1], (int)aecl_act_p(t)->act, in[0], slope));
}

const aecl_op_def aecl_op_activation = {.name = "activation", .emit = emit_act, .backward = backward_act,
                                        .inplace_ok = 1, .pointwise = code_act};
/* In place over gy (input 1 is y, read at the same index first): not input 0, so no. */
const aecl_op_def aecl_op_activation_grad = {.name = "activation_grad", .emit = emit_act_grad,
                                             .pointwise = code_act_grad};

aecl_tensor *aecl_activation(aecl_graph *g, aecl_tensor *x, aecl_act act, float slope)
{
    if (!x) return NULL;
    if (act == AECL_ACT_NONE) return x;
    aecl_tensor *t = aecl_node(g, &aecl_op_activation, aecl_act_name(act), x->ndim, x->shape, 1, &x);
    if (t) *aecl_act_p(t) = (aecl_act_params){act, slope};
    return t;
}

int aecl_is_activation_grad(const aecl_tensor *t) { return t && t->op == &aecl_op_activation_grad; }

aecl_tensor *aecl_activation_grad(aecl_graph *g, aecl_tensor *y, aecl_tensor *gy, aecl_act act, float slope)
{
    if (!y || !gy) return NULL;
    if (act == AECL_ACT_NONE) return gy;
    aecl_tensor *in[2] = {y, gy};
    aecl_tensor *t = aecl_node(g, &aecl_op_activation_grad, NULL, y->ndim, y->shape, 2, in);
    if (t) {
        *aecl_act_p(t) = (aecl_act_params){act, slope};
        t->flags &= ~(unsigned)AECL_T_GRAD;
    }
    return t;
}

/* ---- fill ---------------------------------------------------------------------- */

typedef struct fill_params { float value; } fill_params;
AECL_OP_PARAMS(fill_p, fill_params)

/* A constant is persistent and written once when the plan is compiled: the
 * loss's seed gradient costs no launch per step. */
static aecl_status emit_fill(aecl_plan *p, aecl_tensor *t)
{
    float *v = malloc(t->size * sizeof *v);
    AECL_RETURN_IF(!v, AECL_ERR_HOST_MEMORY, aecl_plan_ctx(p), "out of host memory");
    for (size_t i = 0; i < t->size; i++) v[i] = fill_p(t)->value;
    aecl_status st = aecl_plan_write(p, t, v);
    free(v);
    return st;
}

const aecl_op_def aecl_op_fill = {.name = "fill", .emit = emit_fill};

aecl_tensor *aecl_fill(aecl_graph *g, int ndim, const int *shape, float value)
{
    aecl_tensor *t = aecl_node(g, &aecl_op_fill, NULL, ndim, shape, 0, NULL);
    if (t) {
        fill_p(t)->value = value;
        t->flags = AECL_T_CONST;
    }
    return t;
}

const char *aecl_act_name(aecl_act a)
{
    static const char *names[] = {"none", "relu", "leaky_relu", "sigmoid", "tanh", "elu", "softplus"};
    return (unsigned)a < sizeof names / sizeof names[0] ? names[a] : "unknown";
}
