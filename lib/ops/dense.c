/* Dense layers and matrix products. One matmul node is one GEMM launch with the
 * bias and activation fused into its epilogue (lib/ops/gemm.c picks aecl's own
 * kernel or CLBlast, by measurement). Backward:
 *   gz = gy * act'(y);  dx = gz W (NN);  dW = gz^T x (TN);  db = column sums of gz.
 * A later pass (lib/compile/fuse_gemm.c) may fold such a gz = gy * act'(y) into the
 * matmul computing gy: a matmul_act_grad node, one GEMM with a gradient epilogue;
 * and have the matmul computing dW = gz^T x also write db (row sums of op(A),
 * its extra[0]; the channel_sum node then launches nothing). */
#include "ops/gemm.h"
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"

#include <string.h>

/* in: [0] A, [1] B, [2] bias (optional), then Y when grad_act is set
 * (matmul_act_grad: the output is multiplied by grad_act'(Y)). */
typedef struct matmul_params {
    int trans_a, trans_b;
    aecl_act act;           /* the epilogue's activation (dense) */
    float slope;
    int has_bias;
    aecl_act grad_act;      /* matmul_act_grad: the activation whose gradient multiplies */
    float grad_slope;
    int row_sums;           /* also writes the row sums of op(A) into extra[0] */
} matmul_params;
AECL_OP_PARAMS(matmul_p, matmul_params)

static void mnk(const aecl_tensor *t, int *M, int *N, int *K)
{
    const aecl_tensor *a = t->in[0];
    *M = t->shape[0];
    *N = t->shape[1];
    *K = matmul_p(t)->trans_a ? aecl_rows(a) : aecl_cols(a);
}

static aecl_status emit_matmul(aecl_plan *p, aecl_tensor *t)
{
    const matmul_params *mp = matmul_p(t);
    aecl_gemm_desc d = aecl_gemm_desc_default();
    mnk(t, &d.M, &d.N, &d.K);
    d.trans_a = mp->trans_a;
    d.trans_b = mp->trans_b;
    d.act = mp->act;
    d.slope = mp->slope;
    d.grad_act = mp->grad_act;
    d.grad_slope = mp->grad_slope;
    cl_mem ma, mb, mc, mbias = NULL, my = NULL;
    int oa, ob, oc, obias = 0, oy = 0;
    aecl_plan_tensor_mem(p, t->in[0], &ma, &oa);
    aecl_plan_tensor_mem(p, t->in[1], &mb, &ob);
    aecl_plan_tensor_mem(p, t, &mc, &oc);
    if (mp->has_bias) aecl_plan_tensor_mem(p, t->in[2], &mbias, &obias);
    if (mp->grad_act) aecl_plan_tensor_mem(p, t->in[mp->has_bias ? 3 : 2], &my, &oy);
    aecl_gemm_bufs b = {ma, mb, mc, mbias, my, NULL, oa, ob, oc, obias, oy, 0};
    if (mp->row_sums) aecl_plan_tensor_mem(p, t->extra[0], &b.row_sums, &b.row_sums_off);
    aecl_launch l = {0};
    AECL_TRY(aecl_gemm_prepare_bufs(aecl_plan_ctx(p), &d, &b, &l));
    l.label = mp->grad_act ? "matmul_act_grad" : mp->has_bias || mp->act ? "dense" : "matmul";
    return aecl_plan_push(p, &l);
}

static void backward_matmul(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *a = t->in[0], *b = t->in[1];
    const matmul_params *mp = matmul_p(t);
    aecl_tensor *gz = aecl_activation_grad(g, t, t->grad, mp->act, mp->slope);
    int ta = mp->trans_a, tb = mp->trans_b;
    /* C = op(A) op(B):  dA = gz op(B)^T (or its transpose), dB = op(A)^T gz (or transpose). */
    if (a->flags & AECL_T_GRAD)
        aecl_grad_add(g, a, ta ? aecl_matmul(g, b, gz, tb, 1) : aecl_matmul(g, gz, b, 0, !tb));
    if (b->flags & AECL_T_GRAD)
        aecl_grad_add(g, b, tb ? aecl_matmul(g, gz, a, 1, ta) : aecl_matmul(g, a, gz, !ta, 0));
    if (mp->has_bias) aecl_grad_add(g, t->in[2], aecl_channel_sum(g, gz));
}

const aecl_op_def aecl_op_matmul = {.name = "matmul", .emit = emit_matmul, .backward = backward_matmul};
/* A backward node only (never differentiated again). Not in place: the epilogue
 * reads Y while writing the output. */
const aecl_op_def aecl_op_matmul_act_grad = {.name = "matmul_act_grad", .emit = emit_matmul};

int aecl_matmul_is_plain(const aecl_tensor *t)
{
    return t && t->op == &aecl_op_matmul && matmul_p(t)->act == AECL_ACT_NONE && !matmul_p(t)->has_bias &&
           t->ndim == 2;
}

void aecl_matmul_take_act_grad(aecl_tensor *r, const aecl_tensor *p, aecl_act act, float slope)
{
    aecl_tensor *y = r->in[0];
    r->op = &aecl_op_matmul_act_grad;
    r->n_in = 3;
    r->in[0] = p->in[0];
    r->in[1] = p->in[1];
    r->in[2] = y;
    for (int k = 3; k < AECL_MAX_INPUTS; k++) r->in[k] = NULL;
    memset(&r->param, 0, sizeof r->param);
    *matmul_p(r) = (matmul_params){.trans_a = matmul_p(p)->trans_a, .trans_b = matmul_p(p)->trans_b,
                                   .act = AECL_ACT_NONE, .grad_act = act, .grad_slope = slope};
}

int aecl_matmul_can_take_row_sums(const aecl_tensor *p, const aecl_tensor *a)
{
    return aecl_matmul_is_plain(p) && matmul_p(p)->trans_a && p->in[0] == a && !p->n_extra;
}

void aecl_matmul_take_row_sums(aecl_graph *g, aecl_tensor *p, aecl_tensor *sums)
{
    aecl_node_add_extra(g, p, sums);
    matmul_p(p)->row_sums = 1;
}

static aecl_tensor *matmul_node(aecl_graph *g, aecl_tensor *a, aecl_tensor *b, aecl_tensor *bias, int ta, int tb,
                                aecl_act act, float slope)
{
    if (!a || !b) return NULL;
    int am = ta ? aecl_cols(a) : aecl_rows(a), ak = ta ? aecl_rows(a) : aecl_cols(a);
    int bk = tb ? aecl_cols(b) : aecl_rows(b), bn = tb ? aecl_rows(b) : aecl_cols(b);
    if (ak != bk || (bias && bias->size != (size_t)bn)) {
        char sa[64], sb[64], sc[64] = "";
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "matmul: %s%s x %s%s do not fit%s%s", aecl_shape_str(a, sa, sizeof sa),
                               ta ? "^T" : "", aecl_shape_str(b, sb, sizeof sb), tb ? "^T" : "", bias ? ", bias " : "",
                               bias ? aecl_shape_str(bias, sc, sizeof sc) : "");
    }
    aecl_tensor *in[3] = {a, b, bias};
    int shape[2] = {am, bn};
    aecl_tensor *t = aecl_node(g, &aecl_op_matmul, NULL, 2, shape, bias ? 3 : 2, in);
    if (t)
        *matmul_p(t) = (matmul_params){.trans_a = ta, .trans_b = tb, .act = act, .slope = slope,
                                       .has_bias = bias != NULL};
    return t;
}

aecl_tensor *aecl_matmul(aecl_graph *g, aecl_tensor *a, aecl_tensor *b, int trans_a, int trans_b)
{
    aecl_tensor *t = matmul_node(g, aecl_flatten(g, a), aecl_flatten(g, b), NULL, trans_a, trans_b, AECL_ACT_NONE, 0);
    return t;
}

aecl_tensor *aecl_dense(aecl_graph *g, aecl_tensor *x, aecl_tensor *w, aecl_tensor *b, aecl_act act, float slope)
{
    if (!x || !w) return NULL;
    if (w->ndim != 2) {
        char s[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "dense: weight must be [out, in], got %s",
                               aecl_shape_str(w, s, sizeof s));
    }
    return matmul_node(g, aecl_flatten(g, x), w, b, 0, 1, act, slope);
}
