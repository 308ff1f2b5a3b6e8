//@require act.cl
/* Direct 2-D convolutions, written as implicit GEMMs. Graph tensors are NCHW;
 * the kernels read their inputs from zero-padded copies (conv_pad), so the
 * inner loops have no bounds checks. A copy whose channels some kernel reads as
 * vectors is channels-last (NHWC, conv_pad_nhwc; channels padded with zeros to
 * whole vectors); the others stay NCHW, a plain copy.
 *
 * conv_fwd     y[n,k,oh,ow] = act(b[k] + sum_{c,i,j} x[n,c,oh*s-p+i,ow*s-p+j] w[k,c,i,j])
 *              (Conv2d forward; also the input gradient of ConvTranspose2d)
 * conv_tr_fwd  y[n,k,h,w]   = act(b[k] + sum over (c,i,j,ih,iw) with h = ih*s-p+i and
 *              w = iw*s-p+j of x[n,c,ih,iw] w[c,k,i,j])
 *              (ConvTranspose2d forward; also the input gradient of Conv2d)
 * conv_wgrad   dw[k,c,i,j] = sum_{n,oh,ow} dy[n,k,oh,ow] x[n,c,oh*s-p+i,ow*s-p+j]
 *              (the weight gradient of both, with x and dy swapped for ConvTranspose2d)
 *
 * The forward kernels broadcast single input values (either layout: the input
 * is addressed through its pixel and channel strides) into vectors of output
 * channels; the weight gradient takes vectors of the output gradient's channels
 * (NHWC: no transposition pass of its own) and broadcasts input values. Two
 * shapes where channel vectors would be mostly padding get their own kernels:
 * few output channels (_dot: vectors of input channels, NHWC input) and a
 * gather from few input channels, e.g. an image (_px: vectors of output pixels
 * along a row, NCHW input and output, so the stores are whole vectors too).
 * The padding copy of an output gradient also applies the activation's
 * derivative, and the bias gradient sums it (conv_chsum, conv_chsum_nhwc).
 *
 * Work-items: conv_fwd and conv_tr_fwd own CONV_KV vectors of CONV_VW output
 * channels x CONV_P pixels of one output row; conv_tr_fwd takes the pixels of
 * one phase (ow mod s), which share their taps and read consecutive inputs, so
 * no tap is visited that contributes nothing. The _dot kernels own one output
 * channel x CONV_P pixels and keep vector partial sums over input channels; the
 * _px kernels CONV_KB output channels x a vector of CONV_P pixels. conv_wgrad
 * owns CONV_WJ taps x CONV_KV channel vectors and a chunk of the batch.
 *
 * No local memory, no barriers: on CPUs (PoCL) each work-item is straight vector
 * code (fma(), not mad(): PoCL turns mad() into a multiply and an add); on GPUs
 * the host picks smaller blocks through -D options.
 */

#ifndef CONV_VW
#define CONV_VW 8      /* channels per vector: 1, 2, 4, 8 or 16 */
#endif
#ifndef CONV_KV
#define CONV_KV 1      /* channel vectors per work-item */
#endif
#ifndef CONV_P
#define CONV_P 8       /* output pixels per work-item (along a row), any count >= 1;
                          the _px kernels need a vector width */
#endif
#ifndef CONV_WJ
#define CONV_WJ 8      /* weight gradient: (c, i, j) taps per work-item */
#endif
#ifndef CONV_KB
#define CONV_KB 4      /* _px kernels: output channels per work-item */
#endif
/* _px kernels: independent sums over input channels (FMA latency) */
#define CONV_CH (CONV_KB >= 4 ? 1 : 4 / CONV_KB)

#define CONV_CAT_(a, b) a##b
#define CONV_CAT(a, b) CONV_CAT_(a, b)
/* PoCL does not always inline helpers into the work-item loop: a call per
 * pixel or per row cost more than the work in it. */
#define CONV_INLINE inline __attribute__((always_inline))

#if CONV_VW == 1
typedef float cvec;
#define CVLOAD(p) (*(p))
#else
typedef CONV_CAT(float, CONV_VW) cvec;
#define CVLOAD(p) CONV_CAT(vload, CONV_VW)(0, (p))
#define CVSTORE(v, p) CONV_CAT(vstore, CONV_VW)((v), 0, (p))
#endif

/* Pixel vectors (the _px kernels, built with CONV_P a vector width). */
#if CONV_P == 1 || CONV_P == 2 || CONV_P == 4 || CONV_P == 8 || CONV_P == 16
#define CONV_HAVE_PX 1
#if CONV_P == 1
typedef float pvec;
#define PVLOAD(p) (*(p))
#define PVSTORE(v, p) (*(p) = (v))
#else
typedef CONV_CAT(float, CONV_P) pvec;
#define PVLOAD(p) CONV_CAT(vload, CONV_P)(0, (p))
#define PVSTORE(v, p) CONV_CAT(vstore, CONV_P)((v), 0, (p))
#endif
#endif

/* Lane v of a channel vector, through a private copy (no dynamic indexing of
 * vector components in OpenCL C 1.2). */
CONV_INLINE void cvec_lanes(cvec v, float *out)
{
#if CONV_VW == 1
    out[0] = v;
#else
    CVSTORE(v, out);
#endif
}

/* The sum of a vector's lanes, by halves. */
CONV_INLINE float cvec_sum(cvec v)
{
#if CONV_VW == 16
    float8 h8 = v.lo + v.hi;
    float4 h4 = h8.lo + h8.hi;
#elif CONV_VW == 8
    float4 h4 = v.lo + v.hi;
#elif CONV_VW == 4
    float4 h4 = v;
#endif
#if CONV_VW >= 4
    float2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y;
#elif CONV_VW == 2
    return v.x + v.y;
#else
    return v;
#endif
}

/* ---- layout kernels ------------------------------------------------------------------ */

/* w [A, B, KK] -> wt [rows, Vp], vectors over A (mode bit 0 clear) or B (set),
 * zero past A (B); rows are (kk, the other axis) with bit 1 clear, (the other
 * axis, kk) with it set. One work-item per row (its index arithmetic once). */
__kernel void conv_relayout(__global const float *w, int w_off, __global float *wt, int wt_off, int A, int B,
                            int KK, int Vp, int mode, int rows)
{
    int r = get_global_id(0);
    if (r >= rows) return;
    int vec_b = mode & 1, U = vec_b ? A : B, lim = vec_b ? B : A;
    int kk = mode & 2 ? r % KK : r / U, u = mode & 2 ? r / KK : r % U;
    /* w[(a*B + b)*KK + kk] with the vector index v in a (stride B*KK) or b (stride KK) */
    __global const float *src = w + w_off + (vec_b ? u * B * KK : u * KK) + kk;
    int step = vec_b ? KK : B * KK;
    __global float *d = wt + wt_off + r * Vp;
    for (int v = 0; v < lim; v++) d[v] = src[v * step];
    for (int v = lim; v < Vp; v++) d[v] = 0.0f;
}

/* act'(y) on four values: act.cl's act_grad, vectorised (elu: alpha = slope). */
CONV_INLINE float4 conv_act_grad4(int act, float4 y, float slope)
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

/* xp[nc, hp, wp] = x[nc, hp - PT, wp - PL], 0 outside x (NCHW, padded). With act
 * set, x is an output gradient and y the activation's output (same shape): the
 * copy is then x * act'(y), the pre-activation gradient, so no separate pass
 * makes it. One work-item per padded row (rows = NC * Hp), four values at a time. */
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

/* Four columns of one row of x: at[q] for the lanes with ok set, 0 elsewhere
 * (inner: all four set, consecutive from at.s0), times act'(y) when act is set
 * (x is then an output gradient and y the activation's output). */
CONV_INLINE float4 conv_read4(__global const float *x, __global const float *y, int4 at, int4 ok, int inner, int act,
                              float slope)
{
    float4 v, g = (float4)1.0f;
    if (inner) {
        v = vload4(0, x + at.s0);
        if (act) g = vload4(0, y + at.s0);
    } else {
        v = (float4)(x[at.s0], x[at.s1], x[at.s2], x[at.s3]);
        if (act) g = (float4)(y[at.s0], y[at.s1], y[at.s2], y[at.s3]);
        v = select((float4)0.0f, v, ok);
    }
    return act ? v * conv_act_grad4(act, g, slope) : v;
}

/* The first n lanes of v to d[0..n) */
CONV_INLINE void conv_store_lanes(float4 v, __global float *d, int n)
{
    if (n > 0) d[0] = v.s0;
    if (n > 1) d[1] = v.s1;
    if (n > 2) d[2] = v.s2;
    if (n > 3) d[3] = v.s3;
}

/* xp[n, hp, wp, c] = x[n, c, hp - PT, wp - PL] for c < C inside x, 0 elsewhere
 * (the border, and channels C..Cs-1): NCHW -> zero-padded NHWC, with act as
 * conv_pad. Work-items: 4 pixels of a padded row, all their channels (4*Cs
 * contiguous floats): 4 rows of x (4 channels) at a time, 4 columns each,
 * transposed in registers. Measured on PoCL: items that each read a few rows
 * from front to back were no faster (the transposition costs ~3x a plain
 * padded copy, which is why only copies read as channel vectors take it). */
__kernel void conv_pad_nhwc(__global const float *x, int x_off, __global const float *y, int y_off,
                            __global float *xp, int xp_off, int C, int H, int W, int Cs, int Hp, int Wp, int PT,
                            int PL, int act, float slope, int n_items)
{
    int id = get_global_id(0);
    if (id >= n_items) return;
    int nwb = (Wp + 3) / 4;
    int wb = id % nwb;
    id /= nwb;
    int hp = id % Hp, n = id / Hp, wp0 = wb * 4, h = hp - PT, nw = min(4, Wp - wp0);
    __global float *d = xp + xp_off + ((n * Hp + hp) * Wp + wp0) * Cs;
    int4 col = wp0 - PL + (int4)(0, 1, 2, 3);
    int4 ok = col >= 0 && col < W && (int4)(h >= 0 && h < H);
    int inner = all(ok), none = !any(ok), pl = H * W;
    int4 at = clamp(col, 0, W - 1) + (n * C * H + clamp(h, 0, H - 1)) * W;
    x += x_off;
    y += y_off;
    if (Cs == 1) { /* channels last is channels first */
        float4 v = none ? (float4)0.0f : conv_read4(x, y, at, ok, inner, act, slope);
        if (nw == 4) vstore4(v, 0, d);
        else conv_store_lanes(v, d, nw);
        return;
    }
    for (int c0 = 0; c0 < Cs; c0 += 4, at += 4 * pl) {
        float4 r0 = (float4)0.0f, r1 = r0, r2 = r0, r3 = r0;
        if (!none) {
            if (c0 < C) r0 = conv_read4(x, y, at, ok, inner, act, slope);
            if (c0 + 1 < C) r1 = conv_read4(x, y, at + pl, ok, inner, act, slope);
            if (c0 + 2 < C) r2 = conv_read4(x, y, at + 2 * pl, ok, inner, act, slope);
            if (c0 + 3 < C) r3 = conv_read4(x, y, at + 3 * pl, ok, inner, act, slope);
        }
        float4 t0 = (float4)(r0.s0, r1.s0, r2.s0, r3.s0), t1 = (float4)(r0.s1, r1.s1, r2.s1, r3.s1);
        float4 t2 = (float4)(r0.s2, r1.s2, r2.s2, r3.s2), t3 = (float4)(r0.s3, r1.s3, r2.s3, r3.s3);
        __global float *dc = d + c0;
        int nc = min(4, Cs - c0);
        if (nw == 4 && nc == 4) {
            vstore4(t0, 0, dc);
            vstore4(t1, 0, dc + Cs);
            vstore4(t2, 0, dc + 2 * Cs);
            vstore4(t3, 0, dc + 3 * Cs);
        } else {
            conv_store_lanes(t0, dc, nc);
            if (nw > 1) conv_store_lanes(t1, dc + Cs, nc);
            if (nw > 2) conv_store_lanes(t2, dc + 2 * Cs, nc);
            if (nw > 3) conv_store_lanes(t3, dc + 3 * Cs, nc);
        }
    }
}

/* ---- forward ------------------------------------------------------------------------- */

/* The activation on a vector: act.cl's act_apply in branch-free vector forms
 * (elu: alpha = slope), for channel (cvec) and pixel (pvec) vectors. */
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
CONV_INLINE cvec conv_act(int act, cvec x, float slope) { CONV_ACT_BODY }
#ifdef CONV_HAVE_PX
CONV_INLINE pvec conv_act_p(int act, pvec x, float slope) { CONV_ACT_BODY }
#endif

/* The epilogue: bias and activation on whole vectors, then the scatter of a
 * block of CONV_P pixels x CONV_VW channels from k0 into NCHW y (channel planes
 * are Ho*Wo apart). ow(q) = ow0 + q * dq. */
CONV_INLINE void conv_store(cvec *acc, __global const float *bias, int has_bias, __global float *y, int K, int Ho,
                       int Wo, int n, int oh, int ow0, int dq, int k0, int act, float slope)
{
    int nv = min(CONV_VW, K - k0);
    if (nv <= 0) return;
    float bl[CONV_VW];
    for (int v = 0; v < CONV_VW; v++) bl[v] = has_bias && v < nv ? bias[k0 + v] : 0.0f;
    cvec bv = CVLOAD(bl);
    int plane = Ho * Wo;
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

/* The epilogue of the _dot kernels: one channel k, pixel q's value the lane sum
 * of acc[q]; ow(q) = ow0 + q * dq. The activation runs on a vector of the
 * pixels' sums when they fit in one. */
CONV_INLINE void conv_store_dot(cvec *acc, __global const float *bias, int has_bias, __global float *y, int K,
                                int Ho, int Wo, int n, int oh, int ow0, int dq, int k, int act, float slope)
{
    float b = has_bias ? bias[k] : 0.0f;
    __global float *yp = y + ((n * K + k) * Ho + oh) * Wo;
#if CONV_P <= CONV_VW
    float a[CONV_VW];
    for (int q = 0; q < CONV_P; q++) a[q] = cvec_sum(acc[q]);
    for (int q = CONV_P; q < CONV_VW; q++) a[q] = 0.0f;
#if CONV_VW == 1
    a[0] = conv_act(act, a[0] + b, slope);
#else
    CVSTORE(conv_act(act, CVLOAD(a) + b, slope), a);
#endif
    for (int q = 0; q < CONV_P; q++) {
        int ow = ow0 + q * dq;
        if (ow >= Wo) break;
        yp[ow] = a[q];
    }
#else
    for (int q = 0; q < CONV_P; q++) {
        int ow = ow0 + q * dq;
        if (ow >= Wo) break;
        yp[ow] = act_apply(act, cvec_sum(acc[q]) + b, slope);
    }
#endif
}

/* Arguments shared by the forward kernels (one emitter binds them all):
 * xp the padded input, Cs >= C channels (C real ones) of Hp x Wp pixels, pixel
 * (h, w) channel c of image n at ((n*Hp + h)*Wp*sw + w*sw + c*sc) with
 * (sw, sc) = (Cs, 1) for NHWC, (1, Hp*Wp) for NCHW (the _dot kernels need
 * NHWC); for conv_fwd padded by (pad, pad)
 * top-left and wide enough for every block (columns up to (ceil(Wo/P)*P - 1)*s
 * + kw); for conv_tr_fwd by PL columns on the left and zeros on the right (rows
 * are checked once per tap). wt: the weights relaid
 * by conv_relayout, [kh*kw*C, Kp] rows (i, j, c) for the channel-vector kernels,
 * [K, kh*kw, Cs] for the _dot kernels. Unused arguments keep one list for all. */
#define CONV_FWD_ARGS                                                                                            \
    __global const float *xp, int x_off, __global const float *wt, int wt_off, __global const float *bias,      \
        int b_off, __global float *y, int y_off, int N, int C, int Cs, int sw, int sc, int Hp, int Wp, int K,   \
        int Kp, int Ho, int Wo, int kh, int kw, int stride, int pad, int PL, int has_bias, int act, float slope

/* Work-items: channel block kb (fastest: neighbours share input pixels), pixel
 * block, oh, n. */
__kernel void conv_fwd(CONV_FWD_ARGS)
{
    int id = get_global_id(0);
    int nkb = Kp / (CONV_VW * CONV_KV), nwb = (Wo + CONV_P - 1) / CONV_P;
    int kb = id % nkb;
    id /= nkb;
    int wb = id % nwb;
    id /= nwb;
    int oh = id % Ho, n = id / Ho;
    if (n >= N) return;
    int ow0 = wb * CONV_P, k0 = kb * CONV_VW * CONV_KV, xs = stride * sw;
    __global const float *xb = xp + x_off + n * Hp * Wp * Cs + ((oh * stride) * Wp + ow0 * stride) * sw;
    __global const float *wr = wt + wt_off + k0;

    cvec acc[CONV_KV][CONV_P];
#pragma unroll
    for (int u = 0; u < CONV_KV; u++)
#pragma unroll
        for (int q = 0; q < CONV_P; q++) acc[u][q] = (cvec)0.0f;
    for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++) {
            __global const float *xr = xb + (i * Wp + j) * sw;
            for (int c = 0; c < C; c++, wr += Kp, xr += sc) {
                cvec wv[CONV_KV];
#pragma unroll
                for (int u = 0; u < CONV_KV; u++) wv[u] = CVLOAD(wr + u * CONV_VW);
#pragma unroll
                for (int q = 0; q < CONV_P; q++) {
                    cvec xv = (cvec)xr[q * xs];
#pragma unroll
                    for (int u = 0; u < CONV_KV; u++) acc[u][q] = fma(xv, wv[u], acc[u][q]);
                }
            }
        }
    for (int u = 0; u < CONV_KV; u++)
        conv_store(acc[u], bias + b_off, has_bias, y + y_off, K, Ho, Wo, n, oh, ow0, 1, k0 + u * CONV_VW, act,
                   slope);
}

/* conv_fwd for few output channels (K < CONV_VW / 2), where channel vectors
 * would be mostly padding: one channel per work-item, vectors over input
 * channels (xp and wt are padded to Cs channels with zeros). Work-items: k
 * (fastest), pixel block, oh, n. */
__kernel void conv_fwd_dot(CONV_FWD_ARGS)
{
    int id = get_global_id(0);
    int nwb = (Wo + CONV_P - 1) / CONV_P;
    int k = id % K;
    id /= K;
    int wb = id % nwb;
    id /= nwb;
    int oh = id % Ho, n = id / Ho;
    if (n >= N) return;
    int ow0 = wb * CONV_P, xs = stride * Cs;
    __global const float *xb = xp + x_off + ((n * Hp + oh * stride) * Wp + ow0 * stride) * Cs;
    __global const float *wk = wt + wt_off + k * kh * kw * Cs;

    cvec acc[CONV_P];
#pragma unroll
    for (int q = 0; q < CONV_P; q++) acc[q] = (cvec)0.0f;
    for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++) {
            __global const float *xr = xb + (i * Wp + j) * Cs, *wr = wk + (i * kw + j) * Cs;
            for (int c = 0; c < Cs; c += CONV_VW) {
                cvec wv = CVLOAD(wr + c);
#pragma unroll
                for (int q = 0; q < CONV_P; q++) acc[q] = fma(CVLOAD(xr + q * xs + c), wv, acc[q]);
            }
        }
    conv_store_dot(acc, bias + b_off, has_bias, y + y_off, K, Ho, Wo, n, oh, ow0, 1, k, act, slope);
}

#ifdef CONV_HAVE_PX
/* CONV_P inputs s apart from p: a vector load, or for s = 2 the even lanes of
 * one twice as long (reads p[2 CONV_P - 1], past the last one used). */
CONV_INLINE pvec conv_xrow(__global const float *p, int s)
{
    if (s == 1) return PVLOAD(p);
#if CONV_P == 16
    if (s == 2) return (float16)(vload16(0, p).even, vload16(0, p + 16).even);
#elif CONV_P == 8
    if (s == 2) return vload16(0, p).even;
#elif CONV_P == 4
    if (s == 2) return vload8(0, p).even;
#elif CONV_P == 2
    if (s == 2) return vload4(0, p).even;
#endif
    float a[CONV_P];
    for (int q = 0; q < CONV_P; q++) a[q] = p[q * s];
    return PVLOAD(a);
}

/* conv_fwd for few input channels (C < CONV_VW / 2: images), where the
 * broadcast input values would feed few multiply-adds each and the epilogue's
 * scattered stores would dominate: vectors of CONV_P output pixels along a row,
 * CONV_KB output channels per work-item, NCHW input (sw = 1; rows padded by
 * s - 1 columns more for conv_xrow). Stores are whole pixel vectors: a row's
 * last block overlaps its neighbour (the same values written twice) rather than
 * run past the row. Work-items: channel block (fastest), pixel block, oh, n. */
__kernel void conv_fwd_px(CONV_FWD_ARGS)
{
    int id = get_global_id(0);
    int nkb = (K + CONV_KB - 1) / CONV_KB, nwb = (Wo + CONV_P - 1) / CONV_P;
    int kb = id % nkb;
    id /= nkb;
    int wb = id % nwb;
    id /= nwb;
    int oh = id % Ho, n = id / Ho;
    if (n >= N) return;
    int ow0 = min(wb * CONV_P, max(Wo - CONV_P, 0)), k0 = kb * CONV_KB;
    __global const float *xb = xp + x_off + n * Hp * Wp * Cs + oh * stride * Wp + ow0 * stride;
    __global const float *wk = wt + wt_off + k0;

    pvec acc[CONV_CH][CONV_KB];
#pragma unroll
    for (int h = 0; h < CONV_CH; h++)
#pragma unroll
        for (int u = 0; u < CONV_KB; u++) acc[h][u] = (pvec)0.0f;
    for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++) {
            __global const float *xr = xb + i * Wp + j, *wr = wk + (i * kw + j) * C * Kp;
            int c = 0;
            for (; c + CONV_CH <= C; c += CONV_CH)
#pragma unroll
                for (int h = 0; h < CONV_CH; h++) {
                    pvec xv = conv_xrow(xr + (c + h) * sc, stride);
#pragma unroll
                    for (int u = 0; u < CONV_KB; u++) acc[h][u] = fma(xv, (pvec)wr[(c + h) * Kp + u], acc[h][u]);
                }
            for (; c < C; c++) {
                pvec xv = conv_xrow(xr + c * sc, stride);
#pragma unroll
                for (int u = 0; u < CONV_KB; u++) acc[0][u] = fma(xv, (pvec)wr[c * Kp + u], acc[0][u]);
            }
        }
    int nv = min(CONV_P, Wo - ow0);
    for (int u = 0; u < CONV_KB && k0 + u < K; u++) {
        pvec v = acc[0][u];
#pragma unroll
        for (int h = 1; h < CONV_CH; h++) v += acc[h][u];
        v = conv_act_p(act, v + (has_bias ? bias[b_off + k0 + u] : 0.0f), slope);
        __global float *yp = y + y_off + ((n * K + k0 + u) * Ho + oh) * Wo + ow0;
        if (nv == CONV_P) {
            PVSTORE(v, yp);
        } else {
            float a[CONV_P];
            PVSTORE(v, a);
            for (int q = 0; q < nv; q++) yp[q] = a[q];
        }
    }
}
#endif

/* Work-items: kb, (phase r, block of same-phase columns), oh, n. Output columns
 * ow = r + s m for m = qb*CONV_P + q; input column iw feeds ow through tap j iff
 * ow = iw*s - p + j, i.e. j = (r + p) mod s (+ s t) and iw = m + (r + p - j) / s.
 * Hp is the input's height (no row padding). The tap loops are outside the
 * channel loop: their integer divisions run once per tap. */
__kernel void conv_tr_fwd(CONV_FWD_ARGS)
{
    int id = get_global_id(0);
    int nkb = Kp / (CONV_VW * CONV_KV), nq = (Wo + stride - 1) / stride, nqb = (nq + CONV_P - 1) / CONV_P;
    int kb = id % nkb;
    id /= nkb;
    int wb = id % (stride * nqb);
    id /= stride * nqb;
    int oh = id % Ho, n = id / Ho;
    if (n >= N) return;
    int r = wb % stride, m0 = (wb / stride) * CONV_P, k0 = kb * CONV_VW * CONV_KV;
    __global const float *xn = xp + x_off + n * Hp * Wp * Cs + (PL + m0) * sw;
    __global const float *wk = wt + wt_off + k0;

    cvec acc[CONV_KV][CONV_P];
#pragma unroll
    for (int u = 0; u < CONV_KV; u++)
#pragma unroll
        for (int q = 0; q < CONV_P; q++) acc[u][q] = (cvec)0.0f;
    for (int i = (oh + pad) % stride; i < kh; i += stride) {
        int ih = (oh + pad - i) / stride; /* exact: oh + pad - i is a multiple of s */
        if (ih < 0 || ih >= Hp) continue;
        for (int j = (r + pad) % stride; j < kw; j += stride) {
            __global const float *xr = xn + (ih * Wp + (r + pad - j) / stride) * sw;
            __global const float *wr = wk + (i * kw + j) * C * Kp;
            for (int c = 0; c < C; c++, wr += Kp, xr += sc) {
                cvec wv[CONV_KV];
#pragma unroll
                for (int u = 0; u < CONV_KV; u++) wv[u] = CVLOAD(wr + u * CONV_VW);
#pragma unroll
                for (int q = 0; q < CONV_P; q++) {
                    cvec xv = (cvec)xr[q * sw];
#pragma unroll
                    for (int u = 0; u < CONV_KV; u++) acc[u][q] = fma(xv, wv[u], acc[u][q]);
                }
            }
        }
    }
    for (int u = 0; u < CONV_KV; u++)
        conv_store(acc[u], bias + b_off, has_bias, y + y_off, K, Ho, Wo, n, oh, r + stride * m0, stride,
                   k0 + u * CONV_VW, act, slope);
}

/* conv_tr_fwd for few output channels: one channel per work-item, vectors over
 * input channels. Work-items: k (fastest), (phase, pixel block), oh, n. */
__kernel void conv_tr_fwd_dot(CONV_FWD_ARGS)
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
    __global const float *xn = xp + x_off + (n * Hp * Wp + PL + m0) * Cs;
    __global const float *wk = wt + wt_off + k * kh * kw * Cs;

    cvec acc[CONV_P];
#pragma unroll
    for (int q = 0; q < CONV_P; q++) acc[q] = (cvec)0.0f;
    for (int i = (oh + pad) % stride; i < kh; i += stride) {
        int ih = (oh + pad - i) / stride;
        if (ih < 0 || ih >= Hp) continue;
        for (int j = (r + pad) % stride; j < kw; j += stride) {
            __global const float *xr = xn + (ih * Wp + (r + pad - j) / stride) * Cs, *wr = wk + (i * kw + j) * Cs;
            for (int c = 0; c < Cs; c += CONV_VW) {
                cvec wv = CVLOAD(wr + c);
#pragma unroll
                for (int q = 0; q < CONV_P; q++) acc[q] = fma(CVLOAD(xr + q * Cs + c), wv, acc[q]);
            }
        }
    }
    conv_store_dot(acc, bias + b_off, has_bias, y + y_off, K, Ho, Wo, n, oh, r + stride * m0, stride, k, act,
                   slope);
}

/* ---- weight gradient ------------------------------------------------------------------ */

/* part[s, k, r] = sum over n in chunk s and output pixels (oh, ow) of
 * dy[n, PT + oh, PL + ow, k] * xp[n, oh*s + i, ow*s + j, c], r = (c*kh + i)*kw + j.
 * xp the padded input as conv_fwd reads it (strides sw, sc); dy [N, Hd, Wd, Kp]
 * a padded NHWC gradient (Kp a multiple of CONV_VW * CONV_KV). Work-items: kb
 * (fastest), tap block, s. A block is CONV_WJ consecutive taps in (i, j, c)
 * order, c fastest: with NHWC input, one run of channels of one pixel. Taps
 * past R are clamped (computed twice, not stored). */
__kernel void conv_wgrad(__global const float *xp, int x_off, __global const float *dy, int d_off,
                         __global float *part, int p_off, int N, int C, int Cs, int sw, int sc, int Hp, int Wp,
                         int K, int Kp, int Hd, int Wd, int PT, int PL, int Ho, int Wo, int kh, int kw, int stride,
                         int n_chunk)
{
    int id = get_global_id(0);
    int R = C * kh * kw, nkb = Kp / (CONV_VW * CONV_KV), nrb = (R + CONV_WJ - 1) / CONV_WJ;
    int kb = id % nkb;
    id /= nkb;
    int rb = id % nrb, s = id / nrb;
    int n0 = s * n_chunk, n1 = min(N, n0 + n_chunk);
    if (n0 >= N) return;
    int k0 = kb * CONV_VW * CONV_KV, r0 = rb * CONV_WJ, xs = stride * sw;
    int off[CONV_WJ];
    for (int b = 0; b < CONV_WJ; b++) {
        int t = min(r0 + b, R - 1), c = t % C, j = (t / C) % kw, i = t / (C * kw);
        off[b] = (i * Wp + j) * sw + c * sc;
    }

    cvec acc[CONV_KV][CONV_WJ];
#pragma unroll
    for (int u = 0; u < CONV_KV; u++)
#pragma unroll
        for (int b = 0; b < CONV_WJ; b++) acc[u][b] = (cvec)0.0f;
    for (int n = n0; n < n1; n++) {
        __global const float *xn = xp + x_off + n * Hp * Wp * Cs;
        __global const float *dn = dy + d_off + ((n * Hd + PT) * Wd + PL) * Kp + k0;
        for (int oh = 0; oh < Ho; oh++) {
            __global const float *xr = xn + oh * stride * Wp * sw, *dr = dn + oh * Wd * Kp;
            for (int ow = 0; ow < Wo; ow++, dr += Kp, xr += xs) {
                cvec dv[CONV_KV];
#pragma unroll
                for (int u = 0; u < CONV_KV; u++) dv[u] = CVLOAD(dr + u * CONV_VW);
#pragma unroll
                for (int b = 0; b < CONV_WJ; b++) {
                    cvec xv = (cvec)xr[off[b]];
#pragma unroll
                    for (int u = 0; u < CONV_KV; u++) acc[u][b] = fma(xv, dv[u], acc[u][b]);
                }
            }
        }
    }
    part += p_off + s * K * R;
    for (int u = 0; u < CONV_KV; u++) {
        int ku = k0 + u * CONV_VW;
        for (int b = 0; b < CONV_WJ && r0 + b < R; b++) {
            int t = r0 + b, c = t % C, j = (t / C) % kw, i = t / (C * kw), r = (c * kh + i) * kw + j;
            float a[CONV_VW];
            cvec_lanes(acc[u][b], a);
            for (int v = 0; v < CONV_VW && ku + v < K; v++) part[(ku + v) * R + r] = a[v];
        }
    }
}

#ifdef CONV_HAVE_PX
/* The sum of a pixel vector's lanes. */
CONV_INLINE float pvec_sum(pvec v)
{
#if CONV_P == 16
    float8 h8 = v.lo + v.hi;
    float4 h4 = h8.lo + h8.hi;
#elif CONV_P == 8
    float4 h4 = v.lo + v.hi;
#elif CONV_P == 4
    float4 h4 = v;
#endif
#if CONV_P >= 4
    float2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y;
#elif CONV_P == 2
    return v.x + v.y;
#else
    return v;
#endif
}

/* conv_wgrad for few input channels (the x role; C < CONV_VW / 2), both inputs
 * NCHW (sw = 1): vector partial sums over blocks of CONV_P output pixels of a
 * row, added up at the end. Lanes past the row's end read the output
 * gradient's zero padding (dy's rows hold PL + ceil(Wo/P)*P columns, x's reach
 * conv_xrow's reads): no masks. CONV_KB output-gradient channels x CONV_WJ taps
 * per work-item; taps in (c, i, j) order. Same arguments as conv_wgrad (dy
 * NCHW: Kp = K channels). */
__kernel void conv_wgrad_px(__global const float *xp, int x_off, __global const float *dy, int d_off,
                            __global float *part, int p_off, int N, int C, int Cs, int sw, int sc, int Hp, int Wp,
                            int K, int Kp, int Hd, int Wd, int PT, int PL, int Ho, int Wo, int kh, int kw,
                            int stride, int n_chunk)
{
    int id = get_global_id(0);
    int R = C * kh * kw, nkb = (K + CONV_KB - 1) / CONV_KB, nrb = (R + CONV_WJ - 1) / CONV_WJ;
    int kb = id % nkb;
    id /= nkb;
    int rb = id % nrb, s = id / nrb;
    int n0 = s * n_chunk, n1 = min(N, n0 + n_chunk);
    if (n0 >= N) return;
    int k0 = kb * CONV_KB, r0 = rb * CONV_WJ, nwb = (Wo + CONV_P - 1) / CONV_P, xs = Hp * Wp * Cs;
    int off[CONV_WJ], kd[CONV_KB];
    for (int b = 0; b < CONV_WJ; b++) {
        int t = min(r0 + b, R - 1), j = t % kw, i = (t / kw) % kh, c = t / (kw * kh);
        off[b] = i * Wp + j + c * sc;
    }
    for (int u = 0; u < CONV_KB; u++) kd[u] = min(k0 + u, K - 1) * Hd * Wd;

    pvec acc[CONV_KB][CONV_WJ];
#pragma unroll
    for (int u = 0; u < CONV_KB; u++)
#pragma unroll
        for (int b = 0; b < CONV_WJ; b++) acc[u][b] = (pvec)0.0f;
    for (int n = n0; n < n1; n++) {
        __global const float *xn = xp + x_off + n * xs, *dn = dy + d_off + n * Kp * Hd * Wd + PT * Wd + PL;
        for (int oh = 0; oh < Ho; oh++)
            for (int wb = 0; wb < nwb; wb++) {
                int ow0 = wb * CONV_P;
                __global const float *xr = xn + oh * stride * Wp + ow0 * stride, *dr = dn + oh * Wd + ow0;
                pvec dv[CONV_KB];
#pragma unroll
                for (int u = 0; u < CONV_KB; u++) dv[u] = PVLOAD(dr + kd[u]);
#pragma unroll
                for (int b = 0; b < CONV_WJ; b++) {
                    pvec xv = conv_xrow(xr + off[b], stride);
#pragma unroll
                    for (int u = 0; u < CONV_KB; u++) acc[u][b] = fma(xv, dv[u], acc[u][b]);
                }
            }
    }
    part += p_off + s * K * R;
    for (int u = 0; u < CONV_KB && k0 + u < K; u++)
        for (int b = 0; b < CONV_WJ && r0 + b < R; b++) part[(k0 + u) * R + r0 + b] = pvec_sum(acc[u][b]);
}
#endif

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

/* conv_chsum for an NHWC gradient x [N, npix, Cs].
 * Work-items: channel block (fastest), s. With Cs a multiple of CONV_VW a block
 * is a channel vector, else one channel. */
__kernel void conv_chsum_nhwc(__global const float *x, int x_off, __global float *part, int p_off, int N, int K,
                              int Cs, int npix, int n_chunk, int n_items)
{
    int id = get_global_id(0);
    if (id >= n_items) return;
    int vec = Cs % CONV_VW == 0, nb = vec ? (K + CONV_VW - 1) / CONV_VW : K;
    int cb = id % nb, s = id / nb, n1 = min(N, (s + 1) * n_chunk), m = n1 - s * n_chunk;
    __global const float *p = x + x_off + (size_t)s * n_chunk * npix * Cs;
    int len = m * npix, len2 = len - len % 2;
    part += p_off + s * K;
    if (vec) {
        int k0 = cb * CONV_VW;
        p += k0;
        cvec a0 = (cvec)0.0f, a1 = a0;
        for (int i = 0; i < len2; i += 2, p += 2 * Cs) {
            a0 += CVLOAD(p);
            a1 += CVLOAD(p + Cs);
        }
        if (len2 < len) a0 += CVLOAD(p);
        float a[CONV_VW];
        cvec_lanes(a0 + a1, a);
        for (int v = 0; v < CONV_VW && k0 + v < K; v++) part[k0 + v] = a[v];
    } else {
        p += cb;
        float a0 = 0.0f, a1 = 0.0f;
        for (int i = 0; i < len2; i += 2, p += 2 * Cs) {
            a0 += p[0];
            a1 += p[Cs];
        }
        if (len2 < len) a0 += p[0];
        part[cb] = a0 + a1;
    }
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
