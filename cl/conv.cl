//@require conv_tile.cl
//@variants
/* conv_fwd and conv_tr_fwd: vectors of output channels x blocks of pixels
 * (conv_common.cl describes the family). */

/* Work-items: channel block kb (fastest: neighbours share input pixels), pixel
 * block, oh, n. */
CONV_ITEM_FN CONV_FN(conv_fwd_item)(int id, CONV_FWD_ARGS)
{
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
        CONV_FN(conv_store)(acc[u], bias + b_off, has_bias, CONV_OUT_ROW(n, oh), ysk, ysw, K, Wo, ow0, 1,
                            k0 + u * CONV_VW, act, slope);
}

__kernel void CONV_FN(conv_fwd)(CONV_FWD_ARGS) { CONV_FN(conv_fwd_item)(get_global_id(0), CONV_FWD_NAMES); }

/* Work-items: kb, (phase r, block of same-phase columns), oh, n. Output columns
 * ow = r + s m for m = qb*CONV_P + q; input column iw feeds ow through tap j iff
 * ow = iw*s - p + j, i.e. j = (r + p) mod s (+ s t) and iw = m + (r + p - j) / s.
 * Hp is the input's height (no row padding). The tap loops are outside the
 * channel loop: their integer divisions run once per tap. */
__kernel void CONV_FN(conv_tr_fwd)(CONV_FWD_ARGS)
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
        CONV_FN(conv_store)(acc[u], bias + b_off, has_bias, CONV_OUT_ROW(n, oh), ysk, ysw, K, Wo, r + stride * m0,
                            stride, k0 + u * CONV_VW, act, slope);
}

