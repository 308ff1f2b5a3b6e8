//@require conv_common.cl
/* The conv layout kernels: the weight relayout, the zero-padded copies (NCHW
 * and channels-last) and the channel and chunk sums of the gradients. See
 * conv_common.cl. */

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

/* p[0], p[s], p[2s], p[3s]: one vector load where s is 1. */
CONV_INLINE float4 conv_load4s(__global const float *p, int s)
{
    return s == 1 ? vload4(0, p) : (float4)(p[0], p[s], p[2 * s], p[3 * s]);
}

/* xp[nc, hp, wp] = x[nc, hp - PT, wp - PL], 0 outside x (NCHW, padded). With act
 * set, x is an output gradient and y the activation's output (same shape): the
 * copy is then x * act'(y), the pre-activation gradient, so no separate pass
 * makes it. y's element (n, c, h, w) is at yo + n ysn + c ysc + h ysh + w ysw:
 * NCHW, or the padded copy its convolution wrote in place (compile/pad_fold.c).
 * One work-item per padded row (rows = NC * Hp), four values at a time. */
__kernel void conv_pad(__global const float *x, int x_off, __global const float *y, int y_off, __global float *xp,
                       int xp_off, int C, int H, int W, int Hp, int Wp, int PT, int PL, int act, float slope, int rows,
                       int yo, int ysn, int ysc, int ysh, int ysw)
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
    __global const float *ys = y + y_off + yo + nc / C * ysn + nc % C * ysc + h * ysh;
    int w0 = min(PL, Wp), n = min(PL + W, Wp) - w0, n4 = n - n % 4;
    for (int w = 0; w < w0; w++) d[w] = 0.0f;
    __global float *dd = d + w0;
    if (act) {
        for (int w = 0; w < n4; w += 4)
            vstore4(vload4(0, s + w) * conv_act_grad4(act, conv_load4s(ys + w * ysw, ysw), slope), 0, dd + w);
        for (int w = n4; w < n; w++) dd[w] = s[w] * act_grad(act, ys[w * ysw], slope);
    } else {
        for (int w = 0; w < n4; w += 4) vstore4(vload4(0, s + w), 0, dd + w);
        for (int w = n4; w < n; w++) dd[w] = s[w];
    }
    for (int w = w0 + n; w < Wp; w++) d[w] = 0.0f;
}

/* The first n lanes of v to d[0..n) */
CONV_INLINE void conv_store_lanes(float4 v, __global float *d, int n)
{
    if (n == 4) {
        vstore4(v, 0, d);
        return;
    }
    if (n > 0) d[0] = v.s0;
    if (n > 1) d[1] = v.s1;
    if (n > 2) d[2] = v.s2;
    if (n > 3) d[3] = v.s3;
}

/* Four consecutive values of x from x[i], times act'(y) when act is set (x is
 * then an output gradient and y the activation's output, its four values from
 * y[j] ysw apart). */
CONV_INLINE float4 conv_row4(__global const float *x, __global const float *y, int i, int j, int ysw, int act,
                             float slope)
{
    float4 v = vload4(0, x + i);
    if (!act) return v;
    return v * conv_act_grad4(act, conv_load4s(y + j, ysw), slope);
}

/* xp[n, hp, wp, c] = x[n, c, hp - PT, wp - PL] for c < C inside x, 0 elsewhere
 * (the border, and channels C..Cs-1): NCHW -> zero-padded NHWC, with act and
 * y's geometry as conv_pad. Work-items: a block of 4 channels (fastest) of one image; an
 * item reads its 4 channel planes front to back (4 sequential streams), 4
 * columns at a time, transposes them in registers and stores a 4-channel
 * vector per pixel. Rows take whole 4-column blocks, the last one overlapping
 * its predecessor (the same values stored twice): per-column tails became
 * gathers that cost most of the copy. Measured in the conv AE's step
 * (bench_conv, alternating runs): 0.5-0.7x the time of items of 4 pixels x all
 * channels, which read 32-64 planes at once and stalled on their loads. */
__kernel void conv_pad_nhwc(__global const float *x, int x_off, __global const float *y, int y_off,
                            __global float *xp, int xp_off, int C, int H, int W, int Cs, int Hp, int Wp, int PT,
                            int PL, int act, float slope, int n_items, int yo, int ysn, int ysc, int ysh, int ysw)
{
    int id = get_global_id(0);
    if (id >= n_items) return;
    int ncb = (Cs + 3) / 4, cb = id % ncb, n = id / ncb, c0 = cb * 4, nc = min(4, Cs - c0);
    __global float *d = xp + xp_off + n * Hp * Wp * Cs + c0;
    int4 ch = c0 + (int4)(0, 1, 2, 3), ok = ch < (int4)C;
    int4 at = (n * C + min(ch, (int4)(C - 1))) * (H * W) - PT * W - PL;
    int4 ya = yo + n * ysn + min(ch, (int4)(C - 1)) * ysc - PT * ysh - PL * ysw; /* y as at, in y's geometry */
    int w0 = min(PL, Wp), w1 = min(PL + W, Wp), vec = w1 - w0 >= 4;
    float4 z = (float4)0.0f;
    x += x_off;
    y += y_off;
    for (int hp = 0; hp < Hp; hp++, d += Wp * Cs, at += W, ya += ysh) {
        int h = hp - PT;
        if (h < 0 || h >= H || c0 >= C) {
            for (int wp = 0; wp < Wp; wp++) conv_store_lanes(z, d + wp * Cs, nc);
            continue;
        }
        for (int wp = 0; wp < w0; wp++) conv_store_lanes(z, d + wp * Cs, nc);
        for (int wp = w0; wp < w1 && vec; wp += 4) {
            int wq = min(wp, w1 - 4);
            int4 yq = ya + wq * ysw;
            float4 r0 = conv_row4(x, y, at.s0 + wq, yq.s0, ysw, act, slope);
            float4 r1 = conv_row4(x, y, at.s1 + wq, yq.s1, ysw, act, slope);
            float4 r2 = conv_row4(x, y, at.s2 + wq, yq.s2, ysw, act, slope);
            float4 r3 = conv_row4(x, y, at.s3 + wq, yq.s3, ysw, act, slope);
            __global float *dw = d + wq * Cs;
            conv_store_lanes(select(z, (float4)(r0.s0, r1.s0, r2.s0, r3.s0), ok), dw, nc);
            conv_store_lanes(select(z, (float4)(r0.s1, r1.s1, r2.s1, r3.s1), ok), dw + Cs, nc);
            conv_store_lanes(select(z, (float4)(r0.s2, r1.s2, r2.s2, r3.s2), ok), dw + 2 * Cs, nc);
            conv_store_lanes(select(z, (float4)(r0.s3, r1.s3, r2.s3, r3.s3), ok), dw + 3 * Cs, nc);
        }
        for (int wp = vec ? w1 : w0; wp < w1; wp++) {
            int4 i = at + wp, j = ya + wp * ysw;
            float4 v = (float4)(x[i.s0], x[i.s1], x[i.s2], x[i.s3]);
            if (act) v *= conv_act_grad4(act, (float4)(y[j.s0], y[j.s1], y[j.s2], y[j.s3]), slope);
            conv_store_lanes(select(z, v, ok), d + wp * Cs, nc);
        }
        for (int wp = w1; wp < Wp; wp++) conv_store_lanes(z, d + wp * Cs, nc);
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
    part[p_off + s * K + k] = vec_sum4((a0 + a1) + (a2 + a3)) + t;
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

