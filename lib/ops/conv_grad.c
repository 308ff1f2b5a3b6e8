/* The parameter gradients of the conv ops: the weight gradient (an implicit GEMM
 * over the batch's pixels, reading the padded channels-last copies the forward
 * and the input gradient read anyway) and the bias gradient (channel sums of
 * the padded output gradient), both in batch chunks added in a fixed order. */
#include "ops/conv.h"
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"
#include "rt/tuning.h"

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

/* Taps per work-item: 3x3 kernels take 9 whatever C (R = 9 C: no clamped taps),
 * so every 3x3 layer's weight gradient shares one program: the conv AE builds
 * one fewer (31 ms of a warm start, a front end and a kernel compile of a cold
 * one), and its C = 32 and 64 layers, which took 8 (a block of taps then being
 * a run of channels of one pixel), ran 0.91-0.98 -> 0.87-0.93 ms. Other kernels
 * take the device's value. */
static int wgrad_wj(const aecl_conv_tuning *t, int R)
{
    return t->wj >= 8 && R % 9 == 0 ? 9 : t->wj;
}

/* Chunks of the batch that give the device enough work-items. Small chunks
 * also keep a chunk's images in the cache while its items run. */
static int batch_chunk(const aecl_ctx *ctx, int N, size_t items, size_t per_cu_cpu, size_t per_cu_gpu)
{
    const aecl_tuning *t = aecl_ctx_tuning(ctx);
    size_t want = (t->cpu ? per_cu_cpu : per_cu_gpu) * t->compute_units;
    size_t S = items >= want ? 1 : (want + items - 1) / items;
    if (S > (size_t)N) S = (size_t)N;
    return ceil_div(N, (int)S);
}

static aecl_status emit_sum_parts(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *part = t->in[0];
    cl_kernel k;
    AECL_TRY(aecl_conv_layout_kernel(p, "conv_sum_parts", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTii", part, t, part->shape[0], (int)t->size));
    /* light items (S adds each): big groups; the items past t->size return */
    return aecl_conv_launch_fixed(p, k, t->size, 256, "conv_sum_parts", 0);
}

const aecl_op_def aecl_op_conv_sum_parts = {.name = "conv_sum_parts", .emit = emit_sum_parts};

/* ---- weight gradient ---------------------------------------------------------------------- */

/* Output-gradient channels per work-item of conv_wgrad_px. */
#define WGRAD_PX_KB 2

/* in {xp, dyp}. Output [K, C, kh, kw], or chunk sums [S, K, C*kh*kw] added by
 * conv_sum_parts. */
typedef struct wgrad_params {
    int chunk;              /* images per batch chunk */
    int kh, kw, stride;
    int ho, wo;             /* the convolution's output size */
    int k;                  /* output channels */
    int px;                 /* conv_wgrad_px (pixel vectors) */
} wgrad_params;
AECL_OP_PARAMS(wgrad_p, wgrad_params)

static aecl_status emit_wgrad(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *xp = t->in[0], *dyp = t->in[1];
    const wgrad_params *wp = wgrad_p(t);
    const aecl_pad_params *dp = aecl_pad_p(dyp);
    aecl_conv_tuning tu = aecl_conv_tuning_for(aecl_plan_ctx(p));
    int N = xp->shape[0], C = xp->in[0]->shape[1], K = wp->k, Kp = dyp->shape[3], px = wp->px;
    int R = C * wp->kh * wp->kw, S = ceil_div(N, wp->chunk), kv = aecl_conv_kv(&tu, K), wj = wgrad_wj(&tu, R);
    int sw, sc;
    aecl_conv_pad_strides(xp, &sw, &sc);
    cl_kernel k;
    if (px) AECL_TRY(aecl_conv_kernel(p, "conv_px.cl", "conv_wgrad_px", tu.vw, 1, wj, WGRAD_PX_KB, &k));
    else AECL_TRY(aecl_conv_kernel(p, "conv_wgrad.cl", "conv_wgrad", tu.p, kv, wj, 4, &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiiiiiiiiiiiiiiiiiii", xp, dyp, t, N, C, xp->shape[3], sw, sc, xp->shape[1],
                            xp->shape[2], K, Kp, dyp->shape[1], dyp->shape[2], dp->top, dp->left, wp->ho, wp->wo,
                            wp->kh, wp->kw, wp->stride, wp->chunk));
    size_t kblocks = px ? (size_t)ceil_div(K, WGRAD_PX_KB) : (size_t)(Kp / (tu.vw * kv));
    size_t items = kblocks * (size_t)ceil_div(R, wj) * (size_t)S;
    /* Heavy items: aecl_conv_launch's groups of 16 where there are enough of
     * them (else 1). Single-item groups for every count saved a compile on a
     * first run but made the conv AE's weight gradients ~15% slower (2.65-2.82
     * -> 3.06-3.25 ms a step, same session). */
    return aecl_conv_launch(p, k, items, "conv_wgrad", 2.0 * N * K * (double)R * wp->ho * wp->wo);
}

const aecl_op_def aecl_op_conv_wgrad = {.name = "conv_wgrad", .emit = emit_wgrad, .gathers_variant = 1};

aecl_tensor *aecl_conv_weight_grad(aecl_graph *g, aecl_tensor *xp, aecl_tensor *dyp, int K, int kh, int kw,
                                   int stride, int Ho, int Wo, int px)
{
    if (!xp || !dyp) return NULL;
    if (px ? aecl_pad_p(xp)->nhwc || aecl_pad_p(dyp)->nhwc : !aecl_pad_p(dyp)->nhwc)
        return aecl_graph_fail(g, AECL_ERR_STATE, "conv weight gradient: padded copies in the wrong layout (internal)");
    aecl_conv_tuning tu = aecl_conv_tuning_for(g->ctx);
    int N = xp->shape[0], C = xp->in[0]->shape[1], R = C * kh * kw;
    size_t kblocks = px ? (size_t)ceil_div(K, WGRAD_PX_KB)
                        : (size_t)(aecl_conv_chan(&tu, K) / (tu.vw * aecl_conv_kv(&tu, K)));
    size_t items = (size_t)ceil_div(R, wgrad_wj(&tu, R)) * kblocks;
    int chunk = batch_chunk(g->ctx, N, items, 256, 256), S = ceil_div(N, chunk);
    int wshape[4] = {K, C, kh, kw}, pshape[3] = {S, K, R};
    aecl_tensor *in[2] = {xp, dyp};
    aecl_tensor *dw = aecl_conv_internal(S == 1 ? aecl_node(g, &aecl_op_conv_wgrad, NULL, 4, wshape, 2, in)
                                                : aecl_node(g, &aecl_op_conv_wgrad, NULL, 3, pshape, 2, in));
    if (dw)
        *wgrad_p(dw) = (wgrad_params){.chunk = chunk, .kh = kh, .kw = kw, .stride = stride, .ho = Ho, .wo = Wo,
                                      .k = K, .px = px != 0};
    if (S > 1) dw = aecl_conv_internal(aecl_node(g, &aecl_op_conv_sum_parts, NULL, 4, wshape, 1, &dw));
    return dw;
}

/* ---- bias gradient ------------------------------------------------------------------------ */

/* Work-items per batch chunk: a channel each, or channel vectors of NHWC. */
static int chsum_blocks(const aecl_conv_tuning *t, const aecl_tensor *dzp, int K)
{
    return aecl_pad_p(dzp)->nhwc && dzp->shape[3] % t->vw == 0 ? ceil_div(K, t->vw) : K;
}

/* in {dzp [N, Hp, Wp, Cs]}. Output [K], or chunk sums [S, K]. */
typedef struct bias_grad_params { int chunk; } bias_grad_params;   /* images per batch chunk */
AECL_OP_PARAMS(bias_grad_p, bias_grad_params)

static aecl_status emit_chsum(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *dz = t->in[0];
    aecl_conv_tuning tu = aecl_conv_tuning_for(aecl_plan_ctx(p));
    int chunk = bias_grad_p(t)->chunk;
    int N = dz->shape[0], K = dz->in[0]->shape[1], Cs = dz->shape[3], S = ceil_div(N, chunk);
    int npix = dz->shape[1] * dz->shape[2], items = chsum_blocks(&tu, dz, K) * S;
    cl_kernel k;
    if (aecl_pad_p(dz)->nhwc) {
        AECL_TRY(aecl_conv_layout_kernel(p, "conv_chsum_nhwc", &k));
        AECL_TRY(aecl_plan_args(p, k, "TTiiiiii", dz, t, N, K, Cs, npix, chunk, items));
    } else {
        AECL_TRY(aecl_conv_layout_kernel(p, "conv_chsum", &k));
        AECL_TRY(aecl_plan_args(p, k, "TTiiiii", dz, t, N, K, npix, chunk, items));
    }
    return aecl_conv_launch(p, k, (size_t)items, "conv_bias_grad", 0);
}

const aecl_op_def aecl_op_conv_bias_grad = {.name = "conv_bias_grad", .emit = emit_chsum};

aecl_tensor *aecl_conv_bias_grad(aecl_graph *g, aecl_tensor *dzp)
{
    if (!dzp) return NULL;
    aecl_conv_tuning tu = aecl_conv_tuning_for(g->ctx);
    int N = dzp->shape[0], K = dzp->in[0]->shape[1];
    int chunk = batch_chunk(g->ctx, N, (size_t)chsum_blocks(&tu, dzp, K), 8, 256), S = ceil_div(N, chunk);
    int pshape[2] = {S, K};
    aecl_tensor *db = aecl_conv_internal(S == 1 ? aecl_node(g, &aecl_op_conv_bias_grad, NULL, 1, &K, 1, &dzp)
                                                : aecl_node(g, &aecl_op_conv_bias_grad, NULL, 2, pshape, 1, &dzp));
    if (db) bias_grad_p(db)->chunk = chunk;
    if (S > 1) db = aecl_conv_internal(aecl_node(g, &aecl_op_conv_sum_parts, NULL, 1, &K, 1, &db));
    return db;
}
