//@require conv_tile.cl
//@variants
/* The kernels for gathers from few input channels: vectors of output pixels,
 * NCHW copies; built with CONV_P a vector width (conv_common.cl describes the
 * family). */

#ifdef CONV_HAVE_PX
/* conv_fwd for few input channels (C < CONV_VW / 2: images), where the
 * broadcast input values would feed few multiply-adds each and the epilogue's
 * scattered stores would dominate: vectors of CONV_P output pixels along a row,
 * CONV_KB output channels per work-item, NCHW input (sw = 1; rows padded by
 * s - 1 columns more for conv_xrow). Stores are whole pixel vectors: a row's
 * last block overlaps its neighbour (the same values written twice) rather than
 * run past the row. Work-items: channel block (fastest), pixel block, oh, n. */
__kernel void CONV_FN(conv_fwd_px)(CONV_FWD_ARGS)
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
    if (kh == 3 && kw == 3) {
        /* 3x3 taps unrolled (a fifth to a third faster than the loops below on
         * PoCL): the nine row loads and their weight broadcasts schedule freely */
        for (int c = 0; c < C; c++) {
            __global const float *xc = xb + c * sc, *wc = wk + c * Kp;
#pragma unroll
            for (int t = 0; t < 9; t++) {
                pvec xv = CONV_FN(conv_xrow)(xc + (t / 3) * Wp + t % 3, stride);
#pragma unroll
                for (int u = 0; u < CONV_KB; u++) acc[0][u] = fma(xv, (pvec)wc[t * C * Kp + u], acc[0][u]);
            }
        }
    } else {
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++) {
                __global const float *xr = xb + i * Wp + j, *wr = wk + (i * kw + j) * C * Kp;
                int c = 0;
                for (; c + CONV_CH <= C; c += CONV_CH)
#pragma unroll
                    for (int h = 0; h < CONV_CH; h++) {
                        pvec xv = CONV_FN(conv_xrow)(xr + (c + h) * sc, stride);
#pragma unroll
                        for (int u = 0; u < CONV_KB; u++) acc[h][u] = fma(xv, (pvec)wr[(c + h) * Kp + u], acc[h][u]);
                    }
                for (; c < C; c++) {
                    pvec xv = CONV_FN(conv_xrow)(xr + c * sc, stride);
#pragma unroll
                    for (int u = 0; u < CONV_KB; u++) acc[0][u] = fma(xv, (pvec)wr[c * Kp + u], acc[0][u]);
                }
            }
    }
    int nv = min(CONV_P, Wo - ow0);
    for (int u = 0; u < CONV_KB && k0 + u < K; u++) {
        pvec v = acc[0][u];
#pragma unroll
        for (int h = 1; h < CONV_CH; h++) v += acc[h][u];
        v = CONV_FN(conv_act_p)(act, v + (has_bias ? bias[b_off + k0 + u] : 0.0f), slope);
        __global float *yp = CONV_OUT_ROW(n, oh) + (k0 + u) * ysk + ow0 * ysw;
        if (nv == CONV_P && ysw == 1) {
            PVSTORE(v, yp);
        } else {
            float a[CONV_P];
            PVSTORE(v, a);
            for (int q = 0; q < nv; q++) yp[q * ysw] = a[q];
        }
    }
}
#endif

#ifdef CONV_HAVE_PX
/* conv_wgrad for few input channels (the x role; C < CONV_VW / 2), both inputs
 * NCHW (sw = 1): vector partial sums over blocks of CONV_P output pixels of a
 * row, added up at the end. Lanes past the row's end read the output
 * gradient's zero padding (dy's rows hold PL + ceil(Wo/P)*P columns, x's reach
 * conv_xrow's reads): no masks. CONV_KB output-gradient channels x CONV_WJ taps
 * per work-item; taps in (c, i, j) order. Same arguments as conv_wgrad (dy
 * NCHW: Kp = K channels). */
CONV_ITEM_FN CONV_FN(conv_wgrad_px_item)(int id, CONV_WGRAD_ARGS)
{
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
                    pvec xv = CONV_FN(conv_xrow)(xr + off[b], stride);
#pragma unroll
                    for (int u = 0; u < CONV_KB; u++) acc[u][b] = fma(xv, dv[u], acc[u][b]);
                }
            }
    }
    part += p_off + s * K * R;
    for (int u = 0; u < CONV_KB && k0 + u < K; u++)
        for (int b = 0; b < CONV_WJ && r0 + b < R; b++)
            part[(k0 + u) * R + r0 + b] = VEC_SUM(CONV_P, acc[u][b]);
}

__kernel void CONV_FN(conv_wgrad_px)(CONV_WGRAD_ARGS)
{
    CONV_FN(conv_wgrad_px_item)(get_global_id(0), CONV_WGRAD_NAMES);
}
#endif

