//@require conv_tile.cl
//@variants
/* The kernels for few output channels: vectors of input channels, NHWC input
 * (conv_common.cl describes the family). */

/* conv_fwd for few output channels (K < CONV_VW / 2), where channel vectors
 * would be mostly padding: one channel per work-item, vectors over input
 * channels (xp and wt are padded to Cs channels with zeros). Work-items: k
 * (fastest), pixel block, oh, n. */
CONV_ITEM_FN CONV_FN(conv_fwd_dot_item)(int id, CONV_FWD_ARGS)
{
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
    CONV_FN(conv_store_dot)(acc, bias + b_off, has_bias, CONV_OUT_ROW(n, oh), ysk, ysw, Wo, ow0, 1, k, act, slope);
}

__kernel void CONV_FN(conv_fwd_dot)(CONV_FWD_ARGS) { CONV_FN(conv_fwd_dot_item)(get_global_id(0), CONV_FWD_NAMES); }

/* conv_tr_fwd for few output channels: one channel per work-item, vectors over
 * input channels. Work-items: k (fastest), (phase, pixel block), oh, n. */
CONV_ITEM_FN CONV_FN(conv_tr_fwd_dot_item)(int id, CONV_FWD_ARGS)
{
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
    CONV_FN(conv_store_dot)(acc, bias + b_off, has_bias, CONV_OUT_ROW(n, oh), ysk, ysw, Wo, r + stride * m0, stride,
                            k, act, slope);
}

__kernel void CONV_FN(conv_tr_fwd_dot)(CONV_FWD_ARGS)
{
    CONV_FN(conv_tr_fwd_dot_item)(get_global_id(0), CONV_FWD_NAMES);
}

