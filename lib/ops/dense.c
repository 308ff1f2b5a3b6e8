/* Dense layers and matrix products. One matmul node is one GEMM launch with the
 * bias and activation fused into its epilogue (lib/ops/gemm.c picks aecl's own
 * kernel or CLBlast, by measurement). Backward:
 *   gz = gy * act'(y);  dx = gz W (NN);  dW = gz^T x (TN);  db = column sums of gz. */
#include "ops/gemm.h"
#include "ops/op.h"
#include "ops/ops.h"

/* ip: [0] trans_a, [1] trans_b, [2] act, [3] has bias; fp[0] slope.
 * in: [0] A, [1] B, [2] bias (optional). */
static void mnk(const aecl_tensor *t, int *M, int *N, int *K)
{
    const aecl_tensor *a = t->in[0];
    *M = t->shape[0];
    *N = t->shape[1];
    *K = t->ip[0] ? aecl_rows(a) : aecl_cols(a);
}

static aecl_status emit_matmul(aecl_plan *p, aecl_tensor *t)
{
    aecl_gemm_desc d = aecl_gemm_desc_default();
    mnk(t, &d.M, &d.N, &d.K);
    d.trans_a = t->ip[0];
    d.trans_b = t->ip[1];
    d.act = (aecl_act)t->ip[2];
    d.slope = t->fp[0];
    cl_mem ma, mb, mc, mbias = NULL;
    int oa, ob, oc, obias = 0;
    aecl_plan_tensor_mem(p, t->in[0], &ma, &oa);
    aecl_plan_tensor_mem(p, t->in[1], &mb, &ob);
    aecl_plan_tensor_mem(p, t, &mc, &oc);
    if (t->ip[3]) aecl_plan_tensor_mem(p, t->in[2], &mbias, &obias);
    aecl_launch l = {0};
    AECL_TRY(aecl_gemm_prepare(aecl_plan_ctx(p), &d, ma, oa, mb, ob, mc, oc, mbias, obias, &l));
    l.label = t->ip[3] || t->ip[2] ? "dense" : "matmul";
    return aecl_plan_push(p, &l);
}

static void backward_matmul(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *a = t->in[0], *b = t->in[1];
    aecl_tensor *gz = aecl_activation_grad(g, t, t->grad, (aecl_act)t->ip[2], t->fp[0]);
    int ta = t->ip[0], tb = t->ip[1];
    /* C = op(A) op(B):  dA = gz op(B)^T (or its transpose), dB = op(A)^T gz (or transpose). */
    if (a->flags & AECL_T_GRAD)
        aecl_grad_add(g, a, ta ? aecl_matmul(g, b, gz, tb, 1) : aecl_matmul(g, gz, b, 0, !tb));
    if (b->flags & AECL_T_GRAD)
        aecl_grad_add(g, b, tb ? aecl_matmul(g, gz, a, 1, ta) : aecl_matmul(g, a, gz, !ta, 0));
    if (t->ip[3]) aecl_grad_add(g, t->in[2], aecl_channel_sum(g, gz));
}

static const aecl_op_def op_matmul = {"matmul", emit_matmul, backward_matmul, 0, 0, NULL};

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
    aecl_tensor *t = aecl_node(g, &op_matmul, NULL, 2, shape, bias ? 3 : 2, in);
    if (t) {
        t->ip[0] = ta;
        t->ip[1] = tb;
        t->ip[2] = act;
        t->ip[3] = bias != NULL;
        t->fp[0] = slope;
    }
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
