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
    /* Masks from comparisons joined with &, never vector &&, and integer
     * clamp() with vector bounds: Oclgrind 21.10 gets `int4 && (int4)(s)` (1,
     * not -1: select() and all() read the top bit) and integer min/max/clamp
     * with scalar bounds wrong (docs/portability.md). */
    int4 ok = (col >= 0) & (col < W) & (int4)(h >= 0 && h < H ? -1 : 0);
    int inner = all(ok), none = !any(ok), pl = H * W;
    int4 at = clamp(col, (int4)0, (int4)(W - 1)) + (n * C * H + clamp(h, 0, H - 1)) * W;
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

