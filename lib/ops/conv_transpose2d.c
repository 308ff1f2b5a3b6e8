/* ConvTranspose2d (NCHW, PyTorch semantics): the adjoint of Conv2d's input map.
 * Forward is a gather by output phase (conv_tr_fwd) with the bias and activation
 * fused. Backward:  dz = act'(y) * dy;  dx = conv(dz, w) (a gather convolution);
 * dw = the conv weight gradient with the roles of x and dz swapped;
 * db = channel_sum(dz). */
#include "ops/conv.h"
#include "ops/op.h"
#include "ops/ops.h"

static aecl_status emit_scatter(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *x = t->in[0], *wt = t->in[2];
    aecl_conv_tuning tu = aecl_conv_tuning_for(aecl_plan_ctx(p));
    int stride = t->ip[0], nq = (t->shape[3] + stride - 1) / stride, nqb = (nq + tu.p - 1) / tu.p;
    size_t items = (size_t)t->shape[0] * (size_t)t->shape[2] * (size_t)(stride * nqb) * (size_t)(wt->shape[1] / tu.vw);
    /* useful work: every input pixel meets every tap once */
    double flops = 2.0 * (double)x->size * t->shape[1] * t->ip[4] * t->ip[5];
    return aecl_conv_emit(p, t, "conv_tr_fwd", items, flops);
}

static void backward_scatter(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *x = t->in[0], *w = t->in[1], *b = t->n_in > 3 ? t->in[3] : NULL;
    int stride = t->ip[0], pad = t->ip[1];
    aecl_tensor *dz = aecl_activation_grad(g, t, t->grad, (aecl_act)t->ip[2], t->fp[0]);
    if (x->flags & AECL_T_GRAD) {
        /* out_pad < stride makes the gather's output exactly x's size */
        aecl_tensor *dx = aecl_conv_gather(g, dz, w, NULL, stride, pad, AECL_ACT_NONE, 0);
        if (dx) dx->flags &= ~(unsigned)AECL_T_GRAD;
        aecl_grad_add(g, x, dx);
    }
    if (w->flags & AECL_T_GRAD) aecl_grad_add(g, w, aecl_conv_weight_grad(g, dz, x, t->ip[4], t->ip[5], stride, pad));
    if (b && (b->flags & AECL_T_GRAD)) aecl_grad_add(g, b, aecl_channel_sum(g, dz));
}

static const aecl_op_def op_scatter = {"conv_transpose2d", emit_scatter, backward_scatter, 0, 0};

aecl_tensor *aecl_conv_scatter(aecl_graph *g, aecl_tensor *x, aecl_tensor *w, aecl_tensor *b, int stride,
                               int pad, int Ho, int Wo, aecl_act act, float slope)
{
    if (!x || !w) return NULL;
    int shape[4] = {x->shape[0], w->shape[1], Ho, Wo};
    return aecl_conv_node(g, &op_scatter, x, w, aecl_conv_relayout(g, w, 1), b, shape, stride, pad, act, slope);
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
    return aecl_conv_scatter(g, x, w, b, stride, pad, Ho, Wo, act, slope);
}
