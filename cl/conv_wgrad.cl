//@require conv_tile.cl
//@variants
/* The weight gradient: vectors of output-gradient channels (conv_common.cl
 * describes the family). */

/* part[s, k, r] = sum over n in chunk s and output pixels (oh, ow) of
 * dy[n, PT + oh, PL + ow, k] * xp[n, oh*s + i, ow*s + j, c], r = (c*kh + i)*kw + j.
 * xp the padded input as conv_fwd reads it (strides sw, sc); dy [N, Hd, Wd, Kp]
 * a padded NHWC gradient (Kp a multiple of CONV_VW * CONV_KV). Work-items: kb
 * (fastest), tap block, s. A block is CONV_WJ consecutive taps in (i, j, c)
 * order, c fastest: with NHWC input, one run of channels of one pixel. Taps
 * past R are clamped (computed twice, not stored). */
CONV_ITEM_FN CONV_FN(conv_wgrad_item)(int id, CONV_WGRAD_ARGS)
{
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

__kernel void CONV_FN(conv_wgrad)(CONV_WGRAD_ARGS) { CONV_FN(conv_wgrad_item)(get_global_id(0), CONV_WGRAD_NAMES); }

