//@require eltwise.cl
/* Direct 2-D convolutions on NCHW float32 tensors, written as implicit GEMMs.
 *
 * conv_fwd     y[n,k,oh,ow] = act(b[k] + sum_{c,i,j} x[n,c,oh*s-p+i,ow*s-p+j] w[k,c,i,j])
 *              (Conv2d forward; also the input gradient of ConvTranspose2d)
 * conv_tr_fwd  y[n,k,h,w]   = act(b[k] + sum over (c,i,j,ih,iw) with h = ih*s-p+i and
 *              w = iw*s-p+j of x[n,c,ih,iw] w[c,k,i,j])
 *              (ConvTranspose2d forward; also the input gradient of Conv2d)
 * conv_im2col + conv_wgrad: the weight gradient, a GEMM of the output gradient
 *              with the column matrix, both contiguous along the reduced pixels.
 *
 * Each work-item of the two forward kernels owns CONV_VW output channels (one
 * vector) times CONV_P output pixels of one row. The weights are first relaid
 * (conv_relayout) so the CONV_VW channels of one tap are contiguous and padded
 * to a multiple of CONV_VW with zeros: every weight load is one in-range vector
 * load, every input value is a scalar broadcast into CONV_VW multiply-adds.
 * conv_tr_fwd groups the pixels of a work-item by output phase (ow mod s), so
 * all of them use the same taps and read consecutive inputs: no tap is visited
 * that contributes nothing.
 *
 * No local memory, no barriers: on CPUs (PoCL) each work-item is straight vector
 * code; on GPUs the host picks a smaller block through -D options.
 */

#ifndef CONV_VW
#define CONV_VW 8      /* output channels per work-item: 1, 2, 4, 8 or 16 */
#endif
#ifndef CONV_P
#define CONV_P 8       /* output pixels per work-item (along a row) */
#endif
#ifndef CONV_WK
#define CONV_WK 4      /* weight gradient: output channels per work-item */
#endif
#ifndef CONV_WJ
#define CONV_WJ 4      /* weight gradient: (c, i, j) taps per work-item */
#endif
#ifndef CONV_WV
#define CONV_WV 8      /* weight gradient: pixels per vector: 1, 2, 4, 8 or 16 */
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

#if CONV_WV == 1
typedef float wvec;
#define WVLOAD(p) (*(p))
#define WVSUM(v) (v)
#else
typedef CONV_CAT(float, CONV_WV) wvec;
#define WVLOAD(p) CONV_CAT(vload, CONV_WV)(0, (p))
#endif

#if CONV_WV == 2
#define WVSUM(v) ((v).s0 + (v).s1)
#elif CONV_WV == 4
#define WVSUM(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#elif CONV_WV == 8
#define WVSUM4(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#define WVSUM(v) WVSUM4((v).lo + (v).hi)
#elif CONV_WV == 16
#define WVSUM4(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#define WVSUM8(v) WVSUM4((v).lo + (v).hi)
#define WVSUM(v) WVSUM8((v).lo + (v).hi)
#endif

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

/* The epilogue: bias, activation, and the guarded scatter of a block of
 * CONV_P pixels x CONV_VW channels. ow(q) = ow0 + q * dq. */
inline void conv_store(cvec *acc, __global const float *bias, int has_bias, __global float *y, int K, int Ho,
                       int Wo, int n, int oh, int ow0, int dq, int k0, int act, float slope)
{
    float bv[CONV_VW];
    for (int v = 0; v < CONV_VW; v++) bv[v] = has_bias && k0 + v < K ? bias[k0 + v] : 0.0f;
    for (int q = 0; q < CONV_P; q++) {
        int ow = ow0 + q * dq;
        if (ow >= Wo) break;
        float a[CONV_VW];
#if CONV_VW == 1
        a[0] = acc[q];
#else
        CVSTORE(acc[q], a);
#endif
        for (int v = 0; v < CONV_VW && k0 + v < K; v++)
            y[((n * K + k0 + v) * Ho + oh) * Wo + ow] = act_apply(act, a[v] + bv[v], slope);
    }
}

#define CONV_GEOM_ARGS                                                               \
    int N, int C, int H, int W, int K, int Kp, int Ho, int Wo, int kh, int kw, int stride, \
    int pad, int has_bias, int act, float slope

/* Work-items: kb (fastest: neighbours share input pixels), pixel block, oh, n.
 * wt is [C*kh*kw, Kp]. */
__kernel void conv_fwd(__global const float *x, int x_off, __global const float *wt, int wt_off,
                       __global const float *bias, int b_off, __global float *y, int y_off, CONV_GEOM_ARGS)
{
    int id = get_global_id(0);
    int nkb = Kp / CONV_VW, nwb = (Wo + CONV_P - 1) / CONV_P;
    int kb = id % nkb;
    id /= nkb;
    int wb = id % nwb;
    id /= nwb;
    int oh = id % Ho, n = id / Ho;
    if (n >= N) return;
    x += x_off + n * C * H * W;
    wt += wt_off + kb * CONV_VW;

    cvec acc[CONV_P];
    for (int q = 0; q < CONV_P; q++) acc[q] = (cvec)0.0f;
    int ow0 = wb * CONV_P, ih0 = oh * stride - pad, iw0 = ow0 * stride - pad;
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < kh; i++) {
            int ih = ih0 + i;
            if (ih < 0 || ih >= H) continue;
            __global const float *xr = x + (c * H + ih) * W;
            __global const float *wr = wt + (c * kh + i) * kw * Kp;
            for (int j = 0; j < kw; j++, wr += Kp) {
                cvec wv = CVLOAD(wr);
                for (int q = 0; q < CONV_P; q++) {
                    int iw = iw0 + q * stride + j;
                    float xs = xr[clamp(iw, 0, W - 1)];
                    xs = iw >= 0 && iw < W ? xs : 0.0f;
                    acc[q] = mad((cvec)xs, wv, acc[q]);
                }
            }
        }
    }
    conv_store(acc, bias + b_off, has_bias, y + y_off, K, Ho, Wo, n, oh, ow0, 1, kb * CONV_VW, act, slope);
}

/* Work-items: kb, (phase r, block of same-phase columns), oh, n. Output
 * columns ow = r + s * m for m = qb*CONV_P + q; an input column iw feeds ow
 * through tap j iff ow = iw*s - p + j, i.e. j = (r + p) mod s (+ s t) and
 * iw = m + (r + p - j) / s. wt is [C*kh*kw, Kp] (relaid from [C, K, kh, kw]). */
__kernel void conv_tr_fwd(__global const float *x, int x_off, __global const float *wt, int wt_off,
                          __global const float *bias, int b_off, __global float *y, int y_off, CONV_GEOM_ARGS)
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
    x += x_off + n * C * H * W;
    wt += wt_off + kb * CONV_VW;

    cvec acc[CONV_P];
    for (int q = 0; q < CONV_P; q++) acc[q] = (cvec)0.0f;
    int i0 = (oh + pad) % stride, j0 = (r + pad) % stride;
    for (int c = 0; c < C; c++) {
        for (int i = i0; i < kh; i += stride) {
            int ih = (oh + pad - i) / stride; /* exact: oh + pad - i is a multiple of s */
            if (ih < 0 || ih >= H) continue;
            __global const float *xr = x + (c * H + ih) * W;
            __global const float *wr = wt + (c * kh + i) * kw * Kp;
            for (int j = j0; j < kw; j += stride) {
                cvec wv = CVLOAD(wr + j * Kp);
                int iw0 = m0 + (r + pad - j) / stride;
                for (int q = 0; q < CONV_P; q++) {
                    int iw = iw0 + q;
                    float xs = xr[clamp(iw, 0, W - 1)];
                    xs = iw >= 0 && iw < W ? xs : 0.0f;
                    acc[q] = mad((cvec)xs, wv, acc[q]);
                }
            }
        }
    }
    conv_store(acc, bias + b_off, has_bias, y + y_off, K, Ho, Wo, n, oh, r + stride * m0, stride, kb * CONV_VW,
               act, slope);
}

/* cols[n, (c*kh + i)*kw + j, oh*Wo + ow] = x[n, c, oh*s - p + i, ow*s - p + j] (0 outside).
 * n_items = N * C*kh*kw * Ho*Wo. */
__kernel void conv_im2col(__global const float *x, int x_off, __global float *cols, int c_off, int C, int H,
                          int W, int Ho, int Wo, int kh, int kw, int stride, int pad, int n_items)
{
    int o = get_global_id(0);
    if (o >= n_items) return;
    int pix = o % (Ho * Wo), r = o / (Ho * Wo);
    int ow = pix % Wo, oh = pix / Wo;
    int j = r % kw, i = (r / kw) % kh, nc = r / (kw * kh); /* nc = n*C + c */
    int ih = oh * stride - pad + i, iw = ow * stride - pad + j;
    float v = 0.0f;
    if (ih >= 0 && ih < H && iw >= 0 && iw < W) v = x[x_off + (nc * H + ih) * W + iw];
    cols[c_off + o] = v;
}

/* part[s, k, r] = sum over n in chunk s, pix of dy[n, k, pix] * cols[n, r, pix]
 * dy [N, K, P], cols [N, R, P]. Work-items: rb (fastest), kb, s. Rows past K or
 * R are clamped (computed twice) and not stored. */
__kernel void conv_wgrad(__global const float *dy, int dy_off, __global const float *cols, int c_off,
                         __global float *part, int p_off, int N, int K, int R, int P, int n_chunk)
{
    int id = get_global_id(0);
    int nrb = (R + CONV_WJ - 1) / CONV_WJ, nkb = (K + CONV_WK - 1) / CONV_WK;
    int rb = id % nrb;
    id /= nrb;
    int kb = id % nkb, s = id / nkb;
    int n0 = s * n_chunk, n1 = min(N, n0 + n_chunk);
    if (n0 >= N) return;
    int k0 = kb * CONV_WK, r0 = rb * CONV_WJ;
    int krow[CONV_WK], rrow[CONV_WJ];
    for (int a = 0; a < CONV_WK; a++) krow[a] = min(k0 + a, K - 1);
    for (int b = 0; b < CONV_WJ; b++) rrow[b] = min(r0 + b, R - 1);

    wvec acc[CONV_WK][CONV_WJ];
    float tail[CONV_WK][CONV_WJ];
    for (int a = 0; a < CONV_WK; a++)
        for (int b = 0; b < CONV_WJ; b++) { acc[a][b] = (wvec)0.0f; tail[a][b] = 0.0f; }
    int pv = P - P % CONV_WV;
    for (int n = n0; n < n1; n++) {
        __global const float *dn = dy + dy_off + n * K * P;
        __global const float *cn = cols + c_off + n * R * P;
        for (int p = 0; p < pv; p += CONV_WV) {
            wvec dv[CONV_WK], cv[CONV_WJ];
            for (int a = 0; a < CONV_WK; a++) dv[a] = WVLOAD(dn + krow[a] * P + p);
            for (int b = 0; b < CONV_WJ; b++) cv[b] = WVLOAD(cn + rrow[b] * P + p);
            for (int a = 0; a < CONV_WK; a++)
                for (int b = 0; b < CONV_WJ; b++) acc[a][b] = mad(dv[a], cv[b], acc[a][b]);
        }
        for (int p = pv; p < P; p++)
            for (int a = 0; a < CONV_WK; a++)
                for (int b = 0; b < CONV_WJ; b++) tail[a][b] = mad(dn[krow[a] * P + p], cn[rrow[b] * P + p], tail[a][b]);
    }
    part += p_off + s * K * R;
    for (int a = 0; a < CONV_WK && k0 + a < K; a++)
        for (int b = 0; b < CONV_WJ && r0 + b < R; b++) part[(k0 + a) * R + r0 + b] = WVSUM(acc[a][b]) + tail[a][b];
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
