//@require eltwise.cl
/* Direct 2-D convolutions on NCHW float32 tensors, written as implicit GEMMs.
 *
 * conv_fwd     y[n,k,oh,ow] = act(b[k] + sum_{c,i,j} x[n,c,oh*s-p+i,ow*s-p+j] w[k,c,i,j])
 *              (Conv2d forward; also the input gradient of ConvTranspose2d)
 * conv_tr_fwd  y[n,k,h,w]   = act(b[k] + sum over (c,i,j,ih,iw) with h = ih*s-p+i and
 *              w = iw*s-p+j of x[n,c,ih,iw] w[c,k,i,j])
 *              (ConvTranspose2d forward; also the input gradient of Conv2d)
 * conv_wgrad   dw[k,c,i,j] = sum_{n,oh,ow} dy[n,k,oh,ow] x[n,c,oh*s-p+i,ow*s-p+j]
 *              (the weight gradient of both, with x and dy swapped for ConvTranspose2d)
 *
 * The input is first copied into a zero-padded buffer (conv_pad) wide enough
 * for every read of a kernel, so the inner loops have no bounds checks: each
 * input value is one scalar load broadcast into CONV_VW multiply-adds, each
 * weight tap one in-range vector load. The weights are relaid (conv_relayout)
 * so the CONV_VW output channels of one tap are contiguous, zero-padded to a
 * multiple of CONV_VW; the weight gradient reads the output gradient relaid
 * the same way (conv_nhwc).
 *
 * Work-items: conv_fwd and conv_tr_fwd own CONV_VW channels x CONV_P pixels of
 * one output row; conv_tr_fwd takes the pixels of one phase (ow mod s), which
 * share their taps and read consecutive inputs, so no tap is visited that
 * contributes nothing. conv_wgrad owns CONV_WJ taps x CONV_VW channels and a
 * chunk of the batch. With few output channels (K < CONV_VW / 2) the channel
 * vectors would be mostly padding: conv_fwd_px (stride 1) and conv_tr_fwd_px
 * take one channel per work-item and vectors over CONV_P consecutive pixels.
 *
 * No local memory, no barriers: on CPUs (PoCL) each work-item is straight vector
 * code; on GPUs the host picks smaller blocks through -D options.
 */

#ifndef CONV_VW
#define CONV_VW 8      /* output channels per work-item: 1, 2, 4, 8 or 16 */
#endif
#ifndef CONV_P
#define CONV_P 8       /* output pixels per work-item (along a row): 1, 2, 4, 8 or 16 */
#endif
#ifndef CONV_WJ
#define CONV_WJ 8      /* weight gradient: (c, i, j) taps per work-item */
#endif

#define CONV_CAT_(a, b) a##b
#define CONV_CAT(a, b) CONV_CAT_(a, b)

#if CONV_VW == 1
typedef float cvec;
#define CVLOAD(p) (*(p))
#else
typedef CONV_CAT(float, CONV_VW) cvec;
#define CVLOAD(p) CONV_CAT(vload, CONV_VW)(0, (p))
#define CVSTORE(v, p) CONV_CAT(vstore, CONV_VW)((v), 0, (p))
#endif

/* Pixel vectors (the _px kernels): CONV_P consecutive (same-phase) pixels. */
#if CONV_P == 1
typedef float pvec;
#define PVLOAD(p) (*(p))
#else
typedef CONV_CAT(float, CONV_P) pvec;
#define PVLOAD(p) CONV_CAT(vload, CONV_P)(0, (p))
#define PVSTORE(v, p) CONV_CAT(vstore, CONV_P)((v), 0, (p))
#endif

/* Lane v of a channel vector, through a private copy (no dynamic indexing of
 * vector components in OpenCL C 1.2). */
inline void cvec_lanes(cvec v, float *out)
{
#if CONV_VW == 1
    out[0] = v;
#else
    CVSTORE(v, out);
#endif
}

/* ---- layout helpers ---------------------------------------------------------------- */

/* w [A, B, KK] -> wt [B*KK, Vp] (mode 0: vectors over A) or [A*KK, Vp] (mode 1:
 * vectors over B), zero past A (B). n = rows * Vp. */
__kernel void conv_relayout(__global const float *w, int w_off, __global float *wt, int wt_off, int A, int B,
                            int KK, int Vp, int mode, int n)
{
    int o = get_global_id(0);
    if (o >= n) return;
    int r = o / Vp, v = o - r * Vp;
    int kk = r % KK, u = r / KK; /* u: b (mode 0) or a (mode 1) */
    int a = mode ? u : v, b = mode ? v : u;
    int lim = mode ? B : A;
    wt[wt_off + o] = v < lim ? w[w_off + (a * B + b) * KK + kk] : 0.0f;
}

/* act'(y) on four values: eltwise.cl's act_grad, vectorised (elu: alpha = slope). */
inline float4 conv_act_grad4(int act, float4 y, float slope)
{
    switch (act) {
    case ACT_RELU: return select((float4)0.0f, (float4)1.0f, y > 0.0f);
    case ACT_LEAKY: return select((float4)slope, (float4)1.0f, y > 0.0f);
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    case ACT_ELU: return select(y + slope, (float4)1.0f, y > 0.0f);
    case ACT_SOFTPLUS: return -expm1(-y);
    default: return (float4)1.0f;
    }
}

/* xp[nc, hp, wp] = x[nc, hp - PT, wp - PL], 0 outside x. With act set, x is an
 * output gradient and y the activation's output (same shape): the copy is then
 * x * act'(y), the pre-activation gradient, so no separate pass makes it. One
 * work-item per padded row (rows = NC * Hp), copying four values at a time. */
__kernel void conv_pad(__global const float *x, int x_off, __global const float *y, int y_off, __global float *xp,
                       int xp_off, int H, int W, int Hp, int Wp, int PT, int PL, int act, float slope, int rows)
{
    int row = get_global_id(0);
    if (row >= rows) return;
    int hp = row % Hp, nc = row / Hp, h = hp - PT;
    __global float *d = xp + xp_off + row * Wp;
    if (h < 0 || h >= H) {
        for (int w = 0; w < Wp; w++) d[w] = 0.0f;
        return;
    }
    __global const float *s = x + x_off + (nc * H + h) * W;
    __global const float *ys = y + y_off + (nc * H + h) * W;
    int w0 = min(PL, Wp), n = min(PL + W, Wp) - w0, n4 = n - n % 4;
    for (int w = 0; w < w0; w++) d[w] = 0.0f;
    __global float *dd = d + w0;
    if (act) {
        for (int w = 0; w < n4; w += 4)
            vstore4(vload4(0, s + w) * conv_act_grad4(act, vload4(0, ys + w), slope), 0, dd + w);
        for (int w = n4; w < n; w++) dd[w] = s[w] * act_grad(act, ys[w], slope);
    } else {
        for (int w = 0; w < n4; w += 4) vstore4(vload4(0, s + w), 0, dd + w);
        for (int w = n4; w < n; w++) dd[w] = s[w];
    }
    for (int w = w0 + n; w < Wp; w++) d[w] = 0.0f;
}

/* yt[n, oh*Wo + ow, k] = y[n, k, oh + PT, ow + PL] for k < K, 0 for K <= k < Kp:
 * channels last, read from a tensor [N, K, Hs, Ws] that may be padded. One
 * work-item per (n, pixel): n_items = N * Ho * Wo. */
__kernel void conv_nhwc(__global const float *y, int y_off, __global float *yt, int yt_off, int K, int Kp, int Ho,
                        int Wo, int Hs, int Ws, int PT, int PL, int n_items)
{
    int o = get_global_id(0);
    if (o >= n_items) return;
    int ow = o % Wo, oh = (o / Wo) % Ho, n = o / (Wo * Ho);
    __global const float *s = y + y_off + (n * K * Hs + oh + PT) * Ws + ow + PL;
    __global float *d = yt + yt_off + o * Kp;
    int plane = Hs * Ws;
    for (int k = 0; k < K; k++) d[k] = s[k * plane];
    for (int k = K; k < Kp; k++) d[k] = 0.0f;
}

/* ---- forward ------------------------------------------------------------------------- */

/* The activation on a vector: eltwise.cl's act_apply in branch-free vector
 * forms (elu: alpha = slope), for channel (cvec) and pixel (pvec) vectors. */
#define CONV_ACT_BODY                                                          \
    switch (act) {                                                             \
    case ACT_RELU: return fmax(x, 0.0f);                                       \
    case ACT_LEAKY: return fmax(x, 0.0f) + slope * fmin(x, 0.0f);              \
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));                          \
    case ACT_TANH: return tanh(x);                                             \
    case ACT_ELU: return fmax(x, 0.0f) + slope * (exp(fmin(x, 0.0f)) - 1.0f);  \
    case ACT_SOFTPLUS: return fmax(x, 0.0f) + log1p(exp(-fabs(x)));           \
    default: return x;                                                         \
    }
inline cvec conv_act(int act, cvec x, float slope) { CONV_ACT_BODY }
inline pvec conv_act_p(int act, pvec x, float slope) { CONV_ACT_BODY }

/* The epilogue: bias and activation on whole vectors, then the scatter of a
 * block of CONV_P pixels x CONV_VW channels (channel planes are Ho*Wo apart).
 * ow(q) = ow0 + q * dq. */
inline void conv_store(cvec *acc, __global const float *bias, int has_bias, __global float *y, int K, int Ho,
                       int Wo, int n, int oh, int ow0, int dq, int k0, int act, float slope)
{
    float bl[CONV_VW];
    for (int v = 0; v < CONV_VW; v++) bl[v] = has_bias && k0 + v < K ? bias[k0 + v] : 0.0f;
    cvec bv = CVLOAD(bl);
    int plane = Ho * Wo, nv = min(CONV_VW, K - k0);
    __global float *yb = y + ((n * K + k0) * Ho + oh) * Wo;
    for (int q = 0; q < CONV_P; q++) {
        int ow = ow0 + q * dq;
        if (ow >= Wo) break;
        float a[CONV_VW];
        cvec_lanes(conv_act(act, acc[q] + bv, slope), a);
        __global float *yp = yb + ow;
        if (nv == CONV_VW) {
#pragma unroll
            for (int v = 0; v < CONV_VW; v++) yp[v * plane] = a[v];
        } else {
            for (int v = 0; v < nv; v++) yp[v * plane] = a[v];
        }
    }
}

/* The epilogue of the pixel-vector kernels: one channel k, pixels
 * ow(q) = ow0 + q * dq. */
inline void conv_store_px(pvec acc, __global const float *bias, int has_bias, __global float *y, int K, int Ho,
                          int Wo, int n, int oh, int ow0, int dq, int k, int act, float slope)
{
    float a[CONV_P];
    pvec v = conv_act_p(act, acc + (has_bias ? bias[k] : 0.0f), slope);
#if CONV_P == 1
    a[0] = v;
#else
    PVSTORE(v, a);
#endif
    __global float *yp = y + ((n * K + k) * Ho + oh) * Wo;
    for (int q = 0; q < CONV_P; q++) {
        int ow = ow0 + q * dq;
        if (ow >= Wo) break;
        yp[ow] = a[q];
    }
}

/* xp: the input [N, C, Hp, Wp] padded by (pad, pad) top-left and wide enough
 * for every block (columns up to (ceil(Wo/P)*P - 1)*s + kw). wt [C*kh*kw, Kp].
 * Work-items: kb (fastest: neighbours share input pixels), pixel block, oh, n.
 * pad and PL are unused (the padding is in xp): the argument list is
 * conv_tr_fwd's, so one emitter serves both. */
__kernel void conv_fwd(__global const float *xp, int x_off, __global const float *wt, int wt_off,
                       __global const float *bias, int b_off, __global float *y, int y_off, int N, int C, int Hp,
                       int Wp, int K, int Kp, int Ho, int Wo, int kh, int kw, int stride, int pad, int PL,
                       int has_bias, int act, float slope)
{
    int id = get_global_id(0);
    int nkb = Kp / CONV_VW, nwb = (Wo + CONV_P - 1) / CONV_P;
    int kb = id % nkb;
    id /= nkb;
    int wb = id % nwb;
    id /= nwb;
    int oh = id % Ho, n = id / Ho;
    if (n >= N) return;
    int ow0 = wb * CONV_P;
    __global const float *xb = xp + x_off + (n * C * Hp + oh * stride) * Wp + ow0 * stride;
    __global const float *wr = wt + wt_off + kb * CONV_VW;

    cvec acc[CONV_P];
#pragma unroll
    for (int q = 0; q < CONV_P; q++) acc[q] = (cvec)0.0f;
    for (int c = 0; c < C; c++, xb += Hp * Wp)
        for (int i = 0; i < kh; i++) {
            __global const float *xr = xb + i * Wp;
            for (int j = 0; j < kw; j++, wr += Kp) {
                cvec wv = CVLOAD(wr);
#pragma unroll
                for (int q = 0; q < CONV_P; q++) acc[q] = mad((cvec)xr[q * stride + j], wv, acc[q]);
            }
        }
    conv_store(acc, bias + b_off, has_bias, y + y_off, K, Ho, Wo, n, oh, ow0, 1, kb * CONV_VW, act, slope);
}

/* conv_fwd for few output channels (K < CONV_VW / 2) and stride 1: one channel
 * per work-item, CONV_P consecutive pixels as one vector (one vector load per
 * tap and input channel), four accumulators over the input channels to hide
 * the multiply-add latency. Work-items: k (fastest), pixel block, oh, n. Same
 * arguments as conv_fwd. */
__kernel void conv_fwd_px(__global const float *xp, int x_off, __global const float *wt, int wt_off,
                          __global const float *bias, int b_off, __global float *y, int y_off, int N, int C, int Hp,
                          int Wp, int K, int Kp, int Ho, int Wo, int kh, int kw, int stride, int pad, int PL,
                          int has_bias, int act, float slope)
{
    int id = get_global_id(0);
    int nwb = (Wo + CONV_P - 1) / CONV_P;
    int k = id % K;
    id /= K;
    int wb = id % nwb;
    id /= nwb;
    int oh = id % Ho, n = id / Ho;
    if (n >= N) return;
    int ow0 = wb * CONV_P, cx = Hp * Wp, cw = kh * kw * Kp, C4 = C - C % 4;
    __global const float *xb = xp + x_off + (n * C * Hp + oh) * Wp + ow0;
    __global const float *wb0 = wt + wt_off + k;

    pvec a0 = (pvec)0.0f, a1 = a0, a2 = a0, a3 = a0;
    for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++) {
            __global const float *xr = xb + i * Wp + j;
            __global const float *wr = wb0 + (i * kw + j) * Kp;
            int c = 0;
            for (; c < C4; c += 4, xr += 4 * cx, wr += 4 * cw) {
                a0 = mad(PVLOAD(xr), (pvec)wr[0], a0);
                a1 = mad(PVLOAD(xr + cx), (pvec)wr[cw], a1);
                a2 = mad(PVLOAD(xr + 2 * cx), (pvec)wr[2 * cw], a2);
                a3 = mad(PVLOAD(xr + 3 * cx), (pvec)wr[3 * cw], a3);
            }
            for (; c < C; c++, xr += cx, wr += cw) a0 = mad(PVLOAD(xr), (pvec)wr[0], a0);
        }
    conv_store_px((a0 + a1) + (a2 + a3), bias + b_off, has_bias, y + y_off, K, Ho, Wo, n, oh, ow0, 1, k, act,
                  slope);
}

/* Work-items: kb, (phase r, block of same-phase columns), oh, n. Output columns
 * ow = r + s m for m = qb*CONV_P + q; input column iw feeds ow through tap j iff
 * ow = iw*s - p + j, i.e. j = (r + p) mod s (+ s t) and iw = m + (r + p - j) / s.
 * xp: the input [N, C, H, Wp] padded by PL columns on the left (and zeros on the
 * right) so every iw read lies in the row. wt [C*kh*kw, Kp] (relaid from
 * [C, K, kh, kw]). The tap loops are outside the channel loop: their integer
 * divisions run once per tap, not once per channel. */
__kernel void conv_tr_fwd(__global const float *xp, int x_off, __global const float *wt, int wt_off,
                          __global const float *bias, int b_off, __global float *y, int y_off, int N, int C, int H,
                          int Wp, int K, int Kp, int Ho, int Wo, int kh, int kw, int stride, int pad, int PL,
                          int has_bias, int act, float slope)
{
    int id = get_global_id(0);
    int nkb = Kp / CONV_VW, nq = (Wo + stride - 1) / stride, nqb = (nq + CONV_P - 1) / CONV_P;
    int kb = id % nkb;
    id /= nkb;
    int wb = id % (stride * nqb);
    id /= stride * nqb;
    int oh = id % Ho, n = id / Ho;
    if (n >= N) return;
    int r = wb % stride, m0 = (wb / stride) * CONV_P;
    __global const float *xn = xp + x_off + n * C * H * Wp + PL + m0;
    __global const float *wk = wt + wt_off + kb * CONV_VW;
    int cstride_x = H * Wp, cstride_w = kh * kw * Kp;

    cvec acc[CONV_P];
#pragma unroll
    for (int q = 0; q < CONV_P; q++) acc[q] = (cvec)0.0f;
    for (int i = (oh + pad) % stride; i < kh; i += stride) {
        int ih = (oh + pad - i) / stride; /* exact: oh + pad - i is a multiple of s */
        if (ih < 0 || ih >= H) continue;
        for (int j = (r + pad) % stride; j < kw; j += stride) {
            __global const float *xr = xn + ih * Wp + (r + pad - j) / stride;
            __global const float *wr = wk + (i * kw + j) * Kp;
            for (int c = 0; c < C; c++, xr += cstride_x, wr += cstride_w) {
                cvec wv = CVLOAD(wr);
#pragma unroll
                for (int q = 0; q < CONV_P; q++) acc[q] = mad((cvec)xr[q], wv, acc[q]);
            }
        }
    }
    conv_store(acc, bias + b_off, has_bias, y + y_off, K, Ho, Wo, n, oh, r + stride * m0, stride, kb * CONV_VW,
               act, slope);
}

/* conv_tr_fwd for few output channels (K < CONV_VW / 2), where channel vectors
 * would be mostly padding: one channel per work-item, CONV_P same-phase pixels
 * as one vector (consecutive inputs: one vector load per tap and channel), four
 * accumulators over the input channels to hide the multiply-add latency.
 * Work-items: k (fastest), pixel block, oh, n. Same arguments as conv_tr_fwd. */
__kernel void conv_tr_fwd_px(__global const float *xp, int x_off, __global const float *wt, int wt_off,
                             __global const float *bias, int b_off, __global float *y, int y_off, int N, int C,
                             int H, int Wp, int K, int Kp, int Ho, int Wo, int kh, int kw, int stride, int pad,
                             int PL, int has_bias, int act, float slope)
{
    int id = get_global_id(0);
    int nq = (Wo + stride - 1) / stride, nqb = (nq + CONV_P - 1) / CONV_P;
    int k = id % K;
    id /= K;
    int wb = id % (stride * nqb);
    id /= stride * nqb;
    int oh = id % Ho, n = id / Ho;
    if (n >= N) return;
    int r = wb % stride, m0 = (wb / stride) * CONV_P;
    __global const float *xn = xp + x_off + n * C * H * Wp + PL + m0;
    __global const float *wk = wt + wt_off + k;
    int cx = H * Wp, cw = kh * kw * Kp, C4 = C - C % 4;

    pvec a0 = (pvec)0.0f, a1 = a0, a2 = a0, a3 = a0;
    for (int i = (oh + pad) % stride; i < kh; i += stride) {
        int ih = (oh + pad - i) / stride;
        if (ih < 0 || ih >= H) continue;
        for (int j = (r + pad) % stride; j < kw; j += stride) {
            __global const float *xr = xn + ih * Wp + (r + pad - j) / stride;
            __global const float *wr = wk + (i * kw + j) * Kp;
            int c = 0;
            for (; c < C4; c += 4, xr += 4 * cx, wr += 4 * cw) {
                a0 = mad(PVLOAD(xr), (pvec)wr[0], a0);
                a1 = mad(PVLOAD(xr + cx), (pvec)wr[cw], a1);
                a2 = mad(PVLOAD(xr + 2 * cx), (pvec)wr[2 * cw], a2);
                a3 = mad(PVLOAD(xr + 3 * cx), (pvec)wr[3 * cw], a3);
            }
            for (; c < C; c++, xr += cx, wr += cw) a0 = mad(PVLOAD(xr), (pvec)wr[0], a0);
        }
    }
    conv_store_px((a0 + a1) + (a2 + a3), bias + b_off, has_bias, y + y_off, K, Ho, Wo, n, oh, r + stride * m0,
                  stride, k, act, slope);
}

/* ---- weight gradient ------------------------------------------------------------------ */

/* part[s, k, r] = sum over n in chunk s and output pixels (oh, ow) of
 * dyt[n, oh*Wo + ow, k] * xp[n, c, oh*s + i, ow*s + j], r = (c*kh + i)*kw + j.
 * xp is padded as for conv_fwd; dyt [N, Ho*Wo, Kp] (conv_nhwc). Work-items: kb
 * (fastest), tap block, s. Taps past R are clamped (computed twice, not stored). */
__kernel void conv_wgrad(__global const float *xp, int x_off, __global const float *dyt, int d_off,
                         __global float *part, int p_off, int N, int C, int Hp, int Wp, int K, int Kp, int Ho,
                         int Wo, int kh, int kw, int stride, int n_chunk)
{
    int id = get_global_id(0);
    int R = C * kh * kw, nkb = Kp / CONV_VW, nrb = (R + CONV_WJ - 1) / CONV_WJ;
    int kb = id % nkb;
    id /= nkb;
    int rb = id % nrb, s = id / nrb;
    int n0 = s * n_chunk, n1 = min(N, n0 + n_chunk);
    if (n0 >= N) return;
    int k0 = kb * CONV_VW, r0 = rb * CONV_WJ;
    int off[CONV_WJ];
    for (int b = 0; b < CONV_WJ; b++) {
        int r = min(r0 + b, R - 1), j = r % kw, i = (r / kw) % kh, c = r / (kw * kh);
        off[b] = (c * Hp + i) * Wp + j;
    }

    cvec acc[CONV_WJ];
#pragma unroll
    for (int b = 0; b < CONV_WJ; b++) acc[b] = (cvec)0.0f;
    for (int n = n0; n < n1; n++) {
        __global const float *xn = xp + x_off + n * C * Hp * Wp;
        __global const float *dn = dyt + d_off + n * Ho * Wo * Kp + k0;
        for (int oh = 0; oh < Ho; oh++) {
            __global const float *xr = xn + oh * stride * Wp;
            for (int ow = 0; ow < Wo; ow++, dn += Kp, xr += stride) {
                cvec dv = CVLOAD(dn);
#pragma unroll
                for (int b = 0; b < CONV_WJ; b++) acc[b] = mad((cvec)xr[off[b]], dv, acc[b]);
            }
        }
    }
    part += p_off + s * K * R;
    for (int b = 0; b < CONV_WJ && r0 + b < R; b++) {
        float a[CONV_VW];
        cvec_lanes(acc[b], a);
        for (int v = 0; v < CONV_VW && k0 + v < K; v++) part[(k0 + v) * R + r0 + b] = a[v];
    }
}

/* The bias gradient: part[s, k] = sum over n in chunk s of the plane x[n, k, :]
 * (plane floats; a padded gradient's zeros add nothing). Work-items: k
 * (fastest), s. Four vector accumulators keep the adds independent. */
__kernel void conv_chsum(__global const float *x, int x_off, __global float *part, int p_off, int N, int K,
                         int plane, int n_chunk, int n_items)
{
    int id = get_global_id(0);
    if (id >= n_items) return;
    int k = id % K, s = id / K, n1 = min(N, (s + 1) * n_chunk), p16 = plane - plane % 16;
    float4 a0 = (float4)0.0f, a1 = a0, a2 = a0, a3 = a0;
    float t = 0.0f;
    for (int n = s * n_chunk; n < n1; n++) {
        __global const float *p = x + x_off + (n * K + k) * plane;
        for (int i = 0; i < p16; i += 16) {
            a0 += vload4(0, p + i);
            a1 += vload4(0, p + i + 4);
            a2 += vload4(0, p + i + 8);
            a3 += vload4(0, p + i + 12);
        }
        for (int i = p16; i < plane; i++) t += p[i];
    }
    part[p_off + s * K + k] = dot((a0 + a1) + (a2 + a3), (float4)1.0f) + t;
}

/* out[i] = sum over s < S of part[s * M + i] */
__kernel void conv_sum_parts(__global const float *part, int p_off, __global float *out, int o_off, int S, int M)
{
    int i = get_global_id(0);
    if (i >= M) return;
    float v = 0.0f;
    for (int s = 0; s < S; s++) v += part[p_off + s * M + i];
    out[o_off + i] = v;
}
