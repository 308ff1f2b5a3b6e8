/* ConvTranspose2d (NCHW, PyTorch semantics): the adjoint of Conv2d's input map.
 * Forward: xp = pad(x) (columns only; channels last when the weight gradient
 * reads its channel vectors), wt = relayout(w),
 * y = conv_tr_fwd(xp, wt, b), a gather by output phase with the bias and
 * activation fused.
 * Backward:  dzp = pad(dy * act'(y)) (the activation's gradient fused into the
 * copy);  dx = conv(dz, w) (a gather convolution reading dzp);  dw = the conv
 * weight gradient with the roles of x and dz swapped (reading dzp, and xp's
 * channel vectors);  db = channel sums of dzp (the padding adds zeros). */
#include "ops/conv.h"
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"

static aecl_status emit_scatter(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *x = t->in[0], *wt = t->in[2];
    aecl_conv_tuning tu = aecl_conv_tuning_for(aecl_plan_ctx(p));
    const aecl_conv_params *cp = aecl_conv_p(t);
    int K = t->shape[1], stride = cp->stride, nq = (t->shape[3] + stride - 1) / stride;
    aecl_conv_kind kind = cp->kind;
    int P = aecl_conv_kind_p(&tu, kind, nq), nqb = (nq + P - 1) / P, kv = aecl_conv_kv(&tu, K);
    size_t rows = (size_t)t->shape[0] * (size_t)t->shape[2] * (size_t)(stride * nqb);
    /* useful work: every input pixel meets every tap once */
    double flops = 2.0 * (double)x->size * K * cp->kh * cp->kw;
    if (kind == AECL_CONV_DOT) return aecl_conv_emit(p, t, "conv_tr_fwd_dot", P, 1, 4, rows * (size_t)K, flops);
    return aecl_conv_emit(p, t, "conv_tr_fwd", P, kv, 4, rows * (size_t)(wt->shape[1] / (tu.vw * kv)), flops);
}

static void backward_scatter(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *x = t->in[0], *w = t->in[1], *xp = t->in[3], *b = t->n_in > 4 ? t->in[4] : NULL;
    aecl_conv_tuning tu = aecl_conv_tuning_for(g->ctx);
    const aecl_conv_params *cp = aecl_conv_p(t);
    int stride = cp->stride, pad = cp->pad, kh = cp->kh, kw = cp->kw, C = x->shape[1], K = t->shape[1];
    int need_dx = (x->flags & AECL_T_GRAD) != 0;
    /* dz = dy * act'(y), padded for the gather that makes dx (and read by the
     * weight gradient, which takes channel vectors of the forward's copy of x) */
    aecl_conv_kind kind = need_dx ? aecl_conv_gather_kind(&tu, K, C, x->shape[3]) : AECL_CONV_VEC;
    aecl_tensor *dzp = aecl_conv_gather_pad(g, t->grad, t, cp->act, cp->slope, kh, kw, stride, pad, kind);
    if (need_dx) {
        /* out_pad < stride makes the gather's output exactly x's size */
        aecl_tensor *dx = aecl_conv_gather(g, t->grad, dzp, w, NULL, stride, pad, AECL_ACT_NONE, 0);
        aecl_grad_add(g, x, aecl_conv_internal(dx));
    }
    if (w->flags & AECL_T_GRAD)
        aecl_grad_add(g, w, aecl_conv_weight_grad(g, dzp, xp, C, kh, kw, stride, x->shape[2], x->shape[3], 0));
    if (b && (b->flags & AECL_T_GRAD)) aecl_grad_add(g, b, aecl_conv_bias_grad(g, dzp));
}

const aecl_op_def aecl_op_conv_transpose2d = {.name = "conv_transpose2d", .emit = emit_scatter,
                                              .backward = backward_scatter, .gathers_variant = 1};

aecl_tensor *aecl_conv_scatter(aecl_graph *g, aecl_tensor *x, aecl_tensor *xp, aecl_tensor *w, aecl_tensor *b,
                               int stride, int pad, int Ho, int Wo, aecl_act act, float slope)
{
    if (!x || !w) return NULL;
    aecl_conv_tuning tu = aecl_conv_tuning_for(g->ctx);
    int K = w->shape[1];
    aecl_conv_kind kind = aecl_conv_scatter_kind(&tu, K);
    /* channels last when a kernel reads x's channel vectors: a DOT forward, the
     * weight gradient */
    int vec = xp ? aecl_pad_p(xp)->nhwc : kind == AECL_CONV_DOT || (w->flags & AECL_T_GRAD);
    if (!vec) kind = AECL_CONV_VEC; /* any layout */
    if (!xp) xp = aecl_conv_scatter_pad(g, x, NULL, AECL_ACT_NONE, 0, w->shape[3], stride, pad, Wo, vec, 0);
    if (!xp) return NULL;
    int shape[4] = {x->shape[0], K, Ho, Wo};
    /* DOT: [K, taps, C] vectors over C; else rows (tap, C) of vectors over K */
    aecl_tensor *wt = aecl_conv_relayout(g, w, kind == AECL_CONV_DOT ? 2 : 1);
    return aecl_conv_node(g, &aecl_op_conv_transpose2d, x, w, wt, xp, b, shape, stride, pad, act, slope, kind);
}

aecl_tensor *aecl_conv_transpose2d(aecl_graph *g, aecl_tensor *x, aecl_tensor *w, aecl_tensor *b, int stride,
                                   int pad, int out_pad, aecl_act act, float slope)
{
    if (!x || !w) return NULL;
    if (!aecl_conv_check(g, "conv_transpose2d", x, w, b, 0, stride, pad, act)) return NULL;
    char sx[64], sw[64];
    aecl_shape_str(x, sx, sizeof sx);
    aecl_shape_str(w, sw, sizeof sw);
    if (out_pad < 0 || out_pad >= stride)
        return aecl_graph_fail(g, AECL_ERR_SHAPE,
                               "conv_transpose2d: output padding %d must be in [0, stride %d) (input %s, weight %s)",
                               out_pad, stride, sx, sw);
    int Ho = (x->shape[2] - 1) * stride - 2 * pad + w->shape[2] + out_pad;
    int Wo = (x->shape[3] - 1) * stride - 2 * pad + w->shape[3] + out_pad;
    if (Ho < 1 || Wo < 1)
        return aecl_graph_fail(g, AECL_ERR_SHAPE,
                               "conv_transpose2d: input %s, weight %s, stride %d, padding %d give an empty %dx%d output",
                               sx, sw, stride, pad, Ho, Wo);
    return aecl_conv_scatter(g, x, NULL, w, b, stride, pad, Ho, Wo, act, slope);
}
