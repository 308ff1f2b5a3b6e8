/* Conv2d (NCHW, PyTorch semantics) as direct implicit-GEMM kernels, and the
 * pieces it shares with the transposed convolution: device tuning, the padding,
 * weight-relayout and transposition nodes, the emitter and the weight gradient.
 *
 * One conv:   xp = pad(x);  wt = relayout(w);  y = conv_fwd(xp, wt, b), with the
 *             bias and activation fused.
 * Backward:   dzp = pad(dy * act'(y)) (the activation's gradient fused into the
 *             copy the scatter reads);  dx = scatter(dzp, w) (the transposed conv);
 *             dw = wgrad(xp, nhwc(dzp)) (xp kept from the forward);
 *             db = bias_grad(dzp) (per-channel sums; the padding adds zeros). */
#include "ops/conv.h"
#include "ops/op.h"
#include "ops/ops.h"

#include <stdio.h>

/* ---- tuning and launches ------------------------------------------------------------ */

aecl_conv_tuning aecl_conv_tuning_for(const aecl_ctx *ctx)
{
    /* CPUs: one channel vector of the native SIMD width (16 with AVX-512, 8 with
     * AVX2) times 8 pixels is a register block of straight vector code; 16 x 8
     * measured 1.6x faster than 8 x 8 on an AVX-512 PoCL device, 16 pixels spill.
     * GPUs: small blocks, more work-items, fewer registers per item. */
    const aecl_device_info *d = aecl_ctx_device(ctx);
    if (!d || d->type != AECL_DEVICE_CPU) return (aecl_conv_tuning){4, 4, 4};
    cl_uint native = 0;
    if (!ctx->device || clGetDeviceInfo(ctx->device, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof native, &native,
                                        NULL) != CL_SUCCESS)
        native = 8;
    int vw = native >= 16 ? 16 : native >= 8 ? 8 : 4;
    return (aecl_conv_tuning){vw, 8, 8};
}

static aecl_status conv_kernel(aecl_plan *p, const char *name, cl_kernel *k)
{
    aecl_conv_tuning t = aecl_conv_tuning_for(aecl_plan_ctx(p));
    char opt[96];
    snprintf(opt, sizeof opt, "-DCONV_VW=%d -DCONV_P=%d -DCONV_WJ=%d", t.vw, t.p, t.wj);
    return aecl_plan_kernel(p, "conv.cl", opt, name, k);
}

aecl_status aecl_conv_launch(aecl_plan *p, cl_kernel k, size_t n, const char *label, double flops)
{
    aecl_ctx *ctx = aecl_plan_ctx(p);
    const aecl_device_info *d = aecl_ctx_device(ctx);
    size_t g, l;
    aecl_range_1d(ctx, k, n, &g, &l);
    /* Conv launches have few, heavy work-items: keep at least 8 groups per
     * compute unit so none idles (GPUs keep warp-sized groups). */
    size_t groups = 8 * (size_t)(d && d->compute_units ? d->compute_units : 1);
    size_t least = d && d->type == AECL_DEVICE_CPU ? 1 : 32;
    while (l > least && (n + l - 1) / l < groups) l /= 2;
    g = aecl_round_up(n ? n : 1, l);
    return aecl_plan_launch(p, k, 1, &g, &l, label, flops);
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

static aecl_tensor *internal(aecl_tensor *t)
{
    if (t) t->flags &= ~(unsigned)AECL_T_GRAD; /* a copy or a gradient: no gradient of its own */
    return t;
}

/* ---- layout nodes: weight relayout, padding, channels-last ------------------------------ */

/* ip: [0] mode, [1] A, [2] B, [3] KK. Output [rows, Vp]. */
static aecl_status emit_relayout(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(conv_kernel(p, "conv_relayout", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiiiiii", t->in[0], t, t->ip[1], t->ip[2], t->ip[3], t->shape[1], t->ip[0],
                            (int)t->size));
    return aecl_conv_launch(p, k, t->size, "conv_relayout", 0);
}

static const aecl_op_def op_relayout = {"conv_relayout", emit_relayout, NULL, 0, 0, NULL};

aecl_tensor *aecl_conv_relayout(aecl_graph *g, aecl_tensor *w, int mode)
{
    if (!w) return NULL;
    int A = w->shape[0], B = w->shape[1], KK = w->shape[2] * w->shape[3];
    int vw = aecl_conv_tuning_for(g->ctx).vw;
    int shape[2] = {(mode ? A : B) * KK, ceil_div(mode ? B : A, vw) * vw};
    aecl_tensor *t = internal(aecl_node(g, &op_relayout, "conv_wt", 2, shape, 1, &w));
    if (t) {
        t->ip[0] = mode;
        t->ip[1] = A;
        t->ip[2] = B;
        t->ip[3] = KK;
    }
    return t;
}

/* in {x, [y]}; ip: [0] PT, [1] PL, [2] act; fp[0] slope */
static aecl_status emit_pad(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *x = t->in[0];
    int rows = t->shape[0] * t->shape[1] * t->shape[2];
    cl_kernel k;
    AECL_TRY(conv_kernel(p, "conv_pad", &k));
    AECL_TRY(aecl_plan_args(p, k, "T_Tiiiiiiifi", x, t->n_in > 1 ? t->in[1] : NULL, t, x->shape[2], x->shape[3],
                            t->shape[2], t->shape[3], t->ip[0], t->ip[1], t->ip[2], (double)t->fp[0], rows));
    return aecl_conv_launch(p, k, (size_t)rows, "conv_pad", 0);
}

static const aecl_op_def op_pad = {"conv_pad", emit_pad, NULL, 0, 0, NULL};

aecl_tensor *aecl_conv_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int PT, int PL,
                           int Hp, int Wp)
{
    if (!x || (act != AECL_ACT_NONE && !y)) return NULL;
    int shape[4] = {x->shape[0], x->shape[1], Hp, Wp};
    aecl_tensor *in[2] = {x, y};
    aecl_tensor *t = internal(aecl_node(g, &op_pad, NULL, 4, shape, act != AECL_ACT_NONE ? 2 : 1, in));
    if (t) {
        t->ip[0] = PT;
        t->ip[1] = PL;
        t->ip[2] = act;
        t->fp[0] = slope;
    }
    return t;
}

static int imax(int a, int b) { return a > b ? a : b; }

/* Rows: every oh*s + i; columns: every block of CONV_P pixels, the last one's
 * unused pixels included; and all of x. */
aecl_tensor *aecl_conv_gather_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int kh,
                                  int kw, int stride, int pad)
{
    if (!x) return NULL;
    int P = aecl_conv_tuning_for(g->ctx).p, H = x->shape[2], W = x->shape[3];
    int Ho = (H + 2 * pad - kh) / stride + 1, Wo = (W + 2 * pad - kw) / stride + 1;
    int Hp = imax((Ho - 1) * stride + kh, pad + H), Wp = imax((ceil_div(Wo, P) * P - 1) * stride + kw, pad + W);
    return aecl_conv_pad(g, x, y, act, slope, pad, pad, Hp, Wp);
}

/* Columns read by conv_tr_fwd: iw = m + (r + pad - j) / s for m below the blocks
 * of CONV_P same-phase outputs, r < s, j < kw: from -(kw-1)/s to m_max +
 * (s-1+pad)/s. Rows are checked in the kernel (once per tap): no row padding. */
aecl_tensor *aecl_conv_scatter_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int kw,
                                   int stride, int pad, int Wo)
{
    if (!x) return NULL;
    int P = aecl_conv_tuning_for(g->ctx).p;
    int nqb = ceil_div(ceil_div(Wo, stride), P);
    int PL = (kw - 1) / stride, right = nqb * P + (stride - 1 + pad) / stride;
    return aecl_conv_pad(g, x, y, act, slope, 0, PL, x->shape[2], PL + imax(x->shape[3], right));
}

/* in {y}; ip: [0] Ho, [1] Wo, [2] PT, [3] PL. Output [N, Ho*Wo, Kp]. */
static aecl_status emit_nhwc(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *y = t->in[0];
    int items = t->shape[0] * t->shape[1];
    cl_kernel k;
    AECL_TRY(conv_kernel(p, "conv_nhwc", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiiiiiiiii", y, t, y->shape[1], t->shape[2], t->ip[0], t->ip[1], y->shape[2],
                            y->shape[3], t->ip[2], t->ip[3], items));
    return aecl_conv_launch(p, k, (size_t)items, "conv_nhwc", 0);
}

static const aecl_op_def op_nhwc = {"conv_nhwc", emit_nhwc, NULL, 0, 0, NULL};

aecl_tensor *aecl_conv_nhwc(aecl_graph *g, aecl_tensor *y, int Ho, int Wo, int PT, int PL)
{
    if (!y) return NULL;
    int vw = aecl_conv_tuning_for(g->ctx).vw;
    int shape[3] = {y->shape[0], Ho * Wo, ceil_div(y->shape[1], vw) * vw};
    aecl_tensor *t = internal(aecl_node(g, &op_nhwc, NULL, 3, shape, 1, &y));
    if (t) {
        t->ip[0] = Ho;
        t->ip[1] = Wo;
        t->ip[2] = PT;
        t->ip[3] = PL;
    }
    return t;
}

/* ---- the conv nodes --------------------------------------------------------------------- */

aecl_status aecl_conv_emit(aecl_plan *p, aecl_tensor *t, const char *kernel, size_t items, double flops)
{
    const aecl_tensor *wt = t->in[2], *xp = t->in[3], *b = t->n_in > 4 ? t->in[4] : NULL;
    cl_kernel k;
    AECL_TRY(conv_kernel(p, kernel, &k));
    AECL_TRY(aecl_plan_args(p, k, "TT_Tiiiiiiiiiiiiiiif", xp, wt, b, t, xp->shape[0], xp->shape[1], xp->shape[2],
                            xp->shape[3], t->shape[1], wt->shape[1], t->shape[2], t->shape[3], t->ip[4], t->ip[5],
                            t->ip[0], t->ip[1], t->ip[6], b != NULL, t->ip[2], (double)t->fp[0]));
    return aecl_conv_launch(p, k, items, t->op->name, flops);
}

aecl_tensor *aecl_conv_node(aecl_graph *g, const aecl_op_def *op, aecl_tensor *x, aecl_tensor *w, aecl_tensor *wt,
                            aecl_tensor *xp, aecl_tensor *b, const int *shape, int stride, int pad, aecl_act act,
                            float slope)
{
    aecl_tensor *in[5] = {x, w, wt, xp, b};
    aecl_tensor *t = aecl_node(g, op, NULL, 4, shape, b ? 5 : 4, in);
    if (t) {
        t->ip[0] = stride;
        t->ip[1] = pad;
        t->ip[2] = act;
        t->ip[3] = b != NULL;
        t->ip[4] = w->shape[2];
        t->ip[5] = w->shape[3];
        t->ip[6] = xp->ip[1]; /* PL */
        t->fp[0] = slope;
    }
    return t;
}

static aecl_status emit_gather(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *x = t->in[0], *wt = t->in[2];
    aecl_conv_tuning tu = aecl_conv_tuning_for(aecl_plan_ctx(p));
    size_t rows = (size_t)t->shape[0] * (size_t)t->shape[2] * (size_t)ceil_div(t->shape[3], tu.p);
    double flops = 2.0 * (double)t->size * x->shape[1] * t->ip[4] * t->ip[5];
    /* Few output channels and stride 1: vectors over (consecutive) pixels instead
     * of mostly-padding channel vectors. */
    if (2 * t->shape[1] < tu.vw && t->ip[0] == 1)
        return aecl_conv_emit(p, t, "conv_fwd_px", rows * (size_t)t->shape[1], flops);
    return aecl_conv_emit(p, t, "conv_fwd", rows * (size_t)(wt->shape[1] / tu.vw), flops);
}

static void backward_gather(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *x = t->in[0], *w = t->in[1], *xp = t->in[3], *b = t->n_in > 4 ? t->in[4] : NULL;
    int stride = t->ip[0], pad = t->ip[1], kh = t->ip[4], kw = t->ip[5], H = x->shape[2], W = x->shape[3];
    /* dz = dy * act'(y), padded for the scatter that makes dx */
    aecl_tensor *dzp = aecl_conv_scatter_pad(g, t->grad, t, (aecl_act)t->ip[2], t->fp[0], kw, stride, pad, W);
    if (x->flags & AECL_T_GRAD)
        aecl_grad_add(g, x, internal(aecl_conv_scatter(g, t->grad, dzp, w, NULL, stride, pad, H, W, AECL_ACT_NONE,
                                                        0)));
    if (w->flags & AECL_T_GRAD) {
        aecl_tensor *dzt = aecl_conv_nhwc(g, dzp, t->shape[2], t->shape[3], 0, dzp ? dzp->ip[1] : 0);
        aecl_grad_add(g, w, aecl_conv_weight_grad(g, xp, dzt, t->shape[1], kh, kw, stride, t->shape[2], t->shape[3]));
    }
    if (b && (b->flags & AECL_T_GRAD)) aecl_grad_add(g, b, aecl_conv_bias_grad(g, dzp));
}

static const aecl_op_def op_gather = {"conv2d", emit_gather, backward_gather, 0, 0, NULL};

aecl_tensor *aecl_conv_gather(aecl_graph *g, aecl_tensor *x, aecl_tensor *xp, aecl_tensor *w, aecl_tensor *b,
                              int stride, int pad, aecl_act act, float slope)
{
    if (!x || !w) return NULL;
    if (!xp) xp = aecl_conv_gather_pad(g, x, NULL, AECL_ACT_NONE, 0, w->shape[2], w->shape[3], stride, pad);
    if (!xp) return NULL;
    int shape[4] = {x->shape[0], w->shape[0], (x->shape[2] + 2 * pad - w->shape[2]) / stride + 1,
                    (x->shape[3] + 2 * pad - w->shape[3]) / stride + 1};
    return aecl_conv_node(g, &op_gather, x, w, aecl_conv_relayout(g, w, 0), xp, b, shape, stride, pad, act, slope);
}

/* ---- weight gradient ---------------------------------------------------------------------- */

/* in {xp, dyt}; ip: [0] batch chunk, [1] kh, [2] kw, [3] stride, [4] Ho, [5] Wo, [6] K.
 * Output [K, C, kh, kw], or chunk sums [S, K, C*kh*kw] added by conv_sum_parts. */
static aecl_status emit_wgrad(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *xp = t->in[0], *dyt = t->in[1];
    aecl_conv_tuning tu = aecl_conv_tuning_for(aecl_plan_ctx(p));
    int N = xp->shape[0], C = xp->shape[1], K = t->ip[6], Kp = dyt->shape[2];
    int R = C * t->ip[1] * t->ip[2], S = ceil_div(N, t->ip[0]);
    cl_kernel k;
    AECL_TRY(conv_kernel(p, "conv_wgrad", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiiiiiiiiiiii", xp, dyt, t, N, C, xp->shape[2], xp->shape[3], K, Kp, t->ip[4],
                            t->ip[5], t->ip[1], t->ip[2], t->ip[3], t->ip[0]));
    size_t items = (size_t)(Kp / tu.vw) * (size_t)ceil_div(R, tu.wj) * (size_t)S;
    return aecl_conv_launch(p, k, items, "conv_wgrad", 2.0 * N * K * (double)R * dyt->shape[1]);
}

static aecl_status emit_sum_parts(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *part = t->in[0];
    cl_kernel k;
    AECL_TRY(conv_kernel(p, "conv_sum_parts", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTii", part, t, part->shape[0], (int)t->size));
    return aecl_conv_launch(p, k, t->size, "conv_sum_parts", 0);
}

static const aecl_op_def op_wgrad = {"conv_wgrad", emit_wgrad, NULL, 0, 0, NULL};
static const aecl_op_def op_sum_parts = {"conv_sum_parts", emit_sum_parts, NULL, 0, 0, NULL};

/* in {dz [N, K, ...]}; ip[0] batch chunk. Output [K], or chunk sums [S, K]. */
static aecl_status emit_chsum(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *dz = t->in[0];
    int N = dz->shape[0], K = dz->shape[1], S = ceil_div(N, t->ip[0]);
    int plane = (int)(dz->size / ((size_t)N * (size_t)K)), items = K * S;
    cl_kernel k;
    AECL_TRY(conv_kernel(p, "conv_chsum", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiiiii", dz, t, N, K, plane, t->ip[0], items));
    return aecl_conv_launch(p, k, (size_t)items, "conv_bias_grad", 0);
}

static const aecl_op_def op_chsum = {"conv_bias_grad", emit_chsum, NULL, 0, 0, NULL};

aecl_tensor *aecl_conv_bias_grad(aecl_graph *g, aecl_tensor *dz)
{
    if (!dz) return NULL;
    const aecl_device_info *d = aecl_ctx_device(g->ctx);
    int N = dz->shape[0], K = dz->shape[1];
    size_t cu = d && d->compute_units ? d->compute_units : 1;
    size_t want = d && d->type == AECL_DEVICE_CPU ? 8 * cu : 256 * cu;
    int S = (size_t)K >= want ? 1 : (int)((want + (size_t)K - 1) / (size_t)K);
    if (S > N) S = N;
    int chunk = ceil_div(N, S);
    S = ceil_div(N, chunk);
    int pshape[2] = {S, K};
    aecl_tensor *db = internal(S == 1 ? aecl_node(g, &op_chsum, NULL, 1, &K, 1, &dz)
                                      : aecl_node(g, &op_chsum, NULL, 2, pshape, 1, &dz));
    if (db) db->ip[0] = chunk;
    if (S > 1) db = internal(aecl_node(g, &op_sum_parts, NULL, 1, &K, 1, &db));
    return db;
}

/* Batch chunks: enough work-items to fill the device, each chunk summing whole
 * images; the chunk sums are then added in a fixed order (deterministic). */
static int wgrad_chunk(const aecl_ctx *ctx, int N, int K, int R)
{
    aecl_conv_tuning tu = aecl_conv_tuning_for(ctx);
    const aecl_device_info *d = aecl_ctx_device(ctx);
    size_t cu = d && d->compute_units ? d->compute_units : 1;
    size_t want = d && d->type == AECL_DEVICE_CPU ? 4 * cu : 256 * cu;
    size_t items = (size_t)ceil_div(R, tu.wj) * (size_t)ceil_div(K, tu.vw);
    size_t S = items >= want ? 1 : (want + items - 1) / items;
    if (S > (size_t)N) S = (size_t)N;
    return ceil_div(N, (int)S);
}

aecl_tensor *aecl_conv_weight_grad(aecl_graph *g, aecl_tensor *xp, aecl_tensor *dyt, int K, int kh, int kw,
                                   int stride, int Ho, int Wo)
{
    if (!xp || !dyt) return NULL;
    int N = xp->shape[0], C = xp->shape[1], R = C * kh * kw;
    int chunk = wgrad_chunk(g->ctx, N, K, R), S = ceil_div(N, chunk);
    int wshape[4] = {K, C, kh, kw}, pshape[3] = {S, K, R};
    aecl_tensor *in[2] = {xp, dyt};
    aecl_tensor *dw = internal(S == 1 ? aecl_node(g, &op_wgrad, NULL, 4, wshape, 2, in)
                                      : aecl_node(g, &op_wgrad, NULL, 3, pshape, 2, in));
    if (dw) {
        int ip[7] = {chunk, kh, kw, stride, Ho, Wo, K};
        for (int i = 0; i < 7; i++) dw->ip[i] = ip[i];
    }
    if (S > 1) dw = internal(aecl_node(g, &op_sum_parts, NULL, 4, wshape, 1, &dw));
    return dw;
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
