/* Conv2d (NCHW, PyTorch semantics) as a direct implicit-GEMM kernel, and the
 * node plumbing it shares with the transposed convolution.
 *
 * One conv:   xp = pad(x) (zero-padded);  wt = relayout(w);
 *             y = conv_fwd(xp, wt, b), with the bias and activation fused.
 * Backward:   dzp = pad(dy * act'(y)) (channels last where the weight gradient
 *             reads its channel vectors, NCHW for the pixel-vector form; the
 *             activation's gradient fused into the copy);
 *             dx = scatter(dzp, w) (the transposed conv);
 *             dw = wgrad(xp, dzp) (xp kept from the forward);
 *             db = channel sums of dzp (the padding adds zeros).
 * Every kernel reads the same two padded copies: no other relayout pass. */
#include "ops/conv.h"
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

/* ---- the conv nodes --------------------------------------------------------------------- */

aecl_status aecl_conv_emit(aecl_plan *p, aecl_tensor *t, const char *kernel, int P, int kv, int kb, size_t items,
                           double flops)
{
    const aecl_tensor *x = t->in[0], *wt = t->in[2], *xp = t->in[3], *b = t->n_in > 4 ? t->in[4] : NULL;
    aecl_conv_tuning tu = aecl_conv_tuning_for(aecl_plan_ctx(p));
    const aecl_conv_params *cp = aecl_conv_p(t);
    aecl_conv_kind kind = cp->kind;
    const char *file = kind == AECL_CONV_PX ? "conv_px.cl" : kind == AECL_CONV_DOT ? "conv_dot.cl" : "conv.cl";
    cl_kernel k;
    AECL_TRY(aecl_conv_kernel(p, file, kernel, P, kv, tu.wj, kb, &k));
    int sw, sc;
    aecl_conv_pad_strides(xp, &sw, &sc);
    int g[5];
    aecl_conv_geometry(t, g);
    AECL_TRY(aecl_plan_args(p, k, "TT_Tiiiiiiiiiiiiiiiiiifiiiii", xp, wt, b, t, t->shape[0], x->shape[1],
                            xp->shape[3], sw, sc, xp->shape[1], xp->shape[2], t->shape[1], wt->shape[1], t->shape[2],
                            t->shape[3], cp->kh, cp->kw, cp->stride, cp->pad, cp->pl, b != NULL, (int)cp->act,
                            (double)cp->slope, g[0], g[1], g[2], g[3], g[4]));
    return aecl_conv_launch(p, k, items, t->op->name, flops);
}

aecl_tensor *aecl_conv_node(aecl_graph *g, const aecl_op_def *op, aecl_tensor *x, aecl_tensor *w, aecl_tensor *wt,
                            aecl_tensor *xp, aecl_tensor *b, const int *shape, int stride, int pad, aecl_act act,
                            float slope, aecl_conv_kind kind)
{
    aecl_tensor *in[5] = {x, w, wt, xp, b};
    aecl_tensor *t = aecl_node(g, op, NULL, 4, shape, b ? 5 : 4, in);
    if (t)
        *aecl_conv_p(t) = (aecl_conv_params){.stride = stride, .pad = pad, .act = act, .slope = slope,
                                             .has_bias = b != NULL, .kh = w->shape[2], .kw = w->shape[3],
                                             .pl = aecl_pad_p(xp)->left, .kind = kind};
    return t;
}

static aecl_status emit_gather(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *x = t->in[0], *wt = t->in[2];
    aecl_conv_tuning tu = aecl_conv_tuning_for(aecl_plan_ctx(p));
    int C = x->shape[1], K = t->shape[1], Wo = t->shape[3], P = aecl_conv_block_p(&tu, Wo), kv = aecl_conv_kv(&tu, K);
    size_t rows = (size_t)t->shape[0] * (size_t)t->shape[2];
    double flops = 2.0 * (double)t->size * C * aecl_conv_p(t)->kh * aecl_conv_p(t)->kw;
    switch (aecl_conv_p(t)->kind) {
    case AECL_CONV_PX: {
        int pw = aecl_conv_px_width(&tu, Wo), kb = aecl_conv_px_kb(K);
        size_t items = rows * (size_t)ceil_div(Wo, pw) * (size_t)ceil_div(K, kb);
        return aecl_conv_emit(p, t, "conv_fwd_px", pw, 1, kb, items, flops);
    }
    case AECL_CONV_DOT: {
        int pd = aecl_conv_kind_p(&tu, AECL_CONV_DOT, Wo);
        return aecl_conv_emit(p, t, "conv_fwd_dot", pd, 1, 4, rows * (size_t)ceil_div(Wo, pd) * (size_t)K, flops);
    }
    default:
        return aecl_conv_emit(p, t, "conv_fwd", P, kv, 4,
                              rows * (size_t)ceil_div(Wo, P) * (size_t)(wt->shape[1] / (tu.vw * kv)), flops);
    }
}

static void backward_gather(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *x = t->in[0], *w = t->in[1], *xp = t->in[3], *b = t->n_in > 4 ? t->in[4] : NULL;
    aecl_conv_tuning tu = aecl_conv_tuning_for(g->ctx);
    const aecl_conv_params *cp = aecl_conv_p(t);
    int stride = cp->stride, pad = cp->pad, kh = cp->kh, kw = cp->kw, H = x->shape[2], W = x->shape[3];
    int C = x->shape[1], K = t->shape[1], Ho = t->shape[2], Wo = t->shape[3];
    int need_dx = (x->flags & AECL_T_GRAD) != 0, need_dw = (w->flags & AECL_T_GRAD) != 0;
    /* dz = dy * act'(y), padded for the scatter that makes dx; channels last
     * when a kernel reads its channel vectors: the weight gradient (unless it
     * takes pixel vectors: a PX forward), a DOT scatter */
    int dx_dot = need_dx && aecl_conv_scatter_kind(&tu, C) == AECL_CONV_DOT;
    int wpx = need_dw && cp->kind == AECL_CONV_PX && !dx_dot, vec = dx_dot || (need_dw && !wpx);
    int min_w = wpx ? (Wo + tu.vw - 1) / tu.vw * tu.vw : 0;
    aecl_tensor *dzp = aecl_conv_scatter_pad(g, t->grad, t, cp->act, cp->slope, kw, stride, pad, W, vec,
                                             min_w);
    if (need_dx)
        aecl_grad_add(g, x, aecl_conv_internal(aecl_conv_scatter(g, t->grad, dzp, w, NULL, stride, pad, H, W,
                                                                  AECL_ACT_NONE, 0)));
    if (need_dw) aecl_grad_add(g, w, aecl_conv_weight_grad(g, xp, dzp, K, kh, kw, stride, Ho, Wo, wpx));
    if (b && (b->flags & AECL_T_GRAD)) aecl_grad_add(g, b, aecl_conv_bias_grad(g, dzp));
}

const aecl_op_def aecl_op_conv2d = {.name = "conv2d", .emit = emit_gather, .backward = backward_gather,
                                    .gathers_variant = 1};

aecl_tensor *aecl_conv_gather(aecl_graph *g, aecl_tensor *x, aecl_tensor *xp, aecl_tensor *w, aecl_tensor *b,
                              int stride, int pad, aecl_act act, float slope)
{
    if (!x || !w) return NULL;
    aecl_conv_tuning tu = aecl_conv_tuning_for(g->ctx);
    int shape[4] = {x->shape[0], w->shape[0], (x->shape[2] + 2 * pad - w->shape[2]) / stride + 1,
                    (x->shape[3] + 2 * pad - w->shape[3]) / stride + 1};
    aecl_conv_kind kind = aecl_conv_gather_kind(&tu, x->shape[1], w->shape[0], shape[3]);
    if (!xp) xp = aecl_conv_gather_pad(g, x, NULL, AECL_ACT_NONE, 0, w->shape[2], w->shape[3], stride, pad, kind);
    if (!xp) return NULL;
    if (aecl_pad_p(xp)->nhwc != (kind == AECL_CONV_DOT)) kind = AECL_CONV_VEC; /* any layout */
    /* DOT: [K, taps, C] vectors over C; else rows (tap, C) of vectors over K */
    aecl_tensor *wt = aecl_conv_relayout(g, w, kind == AECL_CONV_DOT ? 3 : 0);
    return aecl_conv_node(g, &aecl_op_conv2d, x, w, wt, xp, b, shape, stride, pad, act, slope, kind);
}

/* ---- the public builder --------------------------------------------------------------------- */

aecl_tensor *aecl_conv_check(aecl_graph *g, const char *op, aecl_tensor *x, aecl_tensor *w, aecl_tensor *b,
                             int wc, int stride, int pad, aecl_act act)
{
    char sx[64], sw[64], sb[64];
    aecl_shape_str(x, sx, sizeof sx);
    aecl_shape_str(w, sw, sizeof sw);
    if (x->ndim != 4 || w->ndim != 4)
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: input %s and weight %s must both be 4-D (NCHW)", op, sx, sw);
    if (w->shape[wc] != x->shape[1])
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: weight %s expects %d input channels, input %s has %d", op, sw,
                               w->shape[wc], sx, x->shape[1]);
    int K = w->shape[1 - wc];
    if (b && (b->ndim != 1 || b->shape[0] != K))
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: bias %s does not match the %d output channels of weight %s",
                               op, aecl_shape_str(b, sb, sizeof sb), K, sw);
    if (stride < 1 || pad < 0)
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: stride %d and padding %d (input %s, weight %s)", op, stride,
                               pad, sx, sw);
    if ((unsigned)act > AECL_ACT_SOFTPLUS)
        return aecl_graph_fail(g, AECL_ERR_INVALID_ARG, "%s: unknown activation %d", op, (int)act);
    return x;
}

aecl_tensor *aecl_conv2d(aecl_graph *g, aecl_tensor *x, aecl_tensor *w, aecl_tensor *b, int stride, int pad,
                         aecl_act act, float slope)
{
    if (!x || !w) return NULL;
    if (!aecl_conv_check(g, "conv2d", x, w, b, 1, stride, pad, act)) return NULL;
    if (x->shape[2] + 2 * pad < w->shape[2] || x->shape[3] + 2 * pad < w->shape[3]) {
        char sx[64], sw[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "conv2d: input %s padded by %d is smaller than the kernel of weight %s",
                               aecl_shape_str(x, sx, sizeof sx), pad, aecl_shape_str(w, sw, sizeof sw));
    }
    return aecl_conv_gather(g, x, NULL, w, b, stride, pad, act, slope);
}
