/* Pooling and upsampling on NCHW float32 tensors, forward and backward. Planes
 * (n, c) are independent: every kernel indexes a flat [NC, H, W] layout. The
 * backward kernels gather (one work-item per input pixel, summing the outputs
 * that read it) so no atomics are needed and results are deterministic. */

/* ---- pooling: k x k windows, stride s, no padding ---------------------------------- */

/* mode 0: max, 1: average. n = NC * Ho * Wo */
__kernel void pool_fwd(__global const float *x, int x_off, __global float *y, int y_off, int H, int W, int Ho,
                       int Wo, int k, int s, int mode, int n)
{
    int o = get_global_id(0);
    if (o >= n) return;
    int ow = o % Wo, oh = (o / Wo) % Ho, nc = o / (Wo * Ho);
    __global const float *xp = x + x_off + (nc * H + oh * s) * W + ow * s;
    float m = xp[0], sum = 0.0f;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            float v = xp[i * W + j];
            m = v > m ? v : m;
            sum += v;
        }
    y[y_off + o] = mode ? sum / (float)(k * k) : m;
}

/* Windows containing input row h: oh*s <= h < oh*s + k, 0 <= oh < Ho. */
inline int pool_lo(int h, int k, int s) { return h - k + 1 <= 0 ? 0 : (h - k + s) / s; }
inline int pool_hi(int h, int s, int Ho) { return min(h / s, Ho - 1); }

/* gx[nc, h, w] = sum over windows containing (h, w) of gy, for max pooling only
 * where (h, w) is the window's first maximum (row-major). n = NC * H * W. */
__kernel void pool_grad(__global const float *gy, int gy_off, __global const float *x, int x_off,
                        __global float *gx, int gx_off, int H, int W, int Ho, int Wo, int k, int s, int mode, int n)
{
    int o = get_global_id(0);
    if (o >= n) return;
    int w = o % W, h = (o / W) % H, nc = o / (W * H);
    __global const float *xn = x + x_off + nc * H * W;
    __global const float *gn = gy + gy_off + nc * Ho * Wo;
    float acc = 0.0f;
    for (int oh = pool_lo(h, k, s); oh <= pool_hi(h, s, Ho); oh++)
        for (int ow = pool_lo(w, k, s); ow <= pool_hi(w, s, Wo); ow++) {
            float g = gn[oh * Wo + ow];
            if (mode) { acc += g; continue; }
            __global const float *xp = xn + oh * s * W + ow * s;
            int arg = 0;
            float m = xp[0];
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                    if (xp[i * W + j] > m) { m = xp[i * W + j]; arg = i * k + j; }
            if (arg == (h - oh * s) * k + (w - ow * s)) acc += g;
        }
    gx[gx_off + o] = mode ? acc / (float)(k * k) : acc;
}

/* ---- upsampling by an integer factor f ---------------------------------------------- */

/* Bilinear taps of output o (align_corners = False, as PyTorch with a scale
 * factor): source = (o + 0.5) / f - 0.5 clamped at 0, taps floor and floor+1
 * (clamped to In - 1). */
inline void bil_taps(int o, float inv_f, int In, int *i0, int *i1, float *l1)
{
    float src = fmax(inv_f * ((float)o + 0.5f) - 0.5f, 0.0f);
    int i = (int)src;
    *i0 = i;
    *i1 = i < In - 1 ? i + 1 : i;
    *l1 = src - (float)i;
}

/* The weight of input i in output o along one axis. */
inline float bil_weight(int o, int i, float inv_f, int In)
{
    int i0, i1;
    float l1;
    bil_taps(o, inv_f, In, &i0, &i1, &l1);
    return (i0 == i ? 1.0f - l1 : 0.0f) + (i1 == i ? l1 : 0.0f);
}

/* mode 0 nearest, 1 bilinear. n = NC * H*f * W*f */
__kernel void upsample_fwd(__global const float *x, int x_off, __global float *y, int y_off, int H, int W, int f,
                           int mode, int n)
{
    int o = get_global_id(0);
    if (o >= n) return;
    int Wo = W * f, Ho = H * f;
    int ow = o % Wo, oh = (o / Wo) % Ho, nc = o / (Wo * Ho);
    __global const float *xn = x + x_off + nc * H * W;
    if (!mode) {
        y[y_off + o] = xn[(oh / f) * W + ow / f];
        return;
    }
    float inv = 1.0f / (float)f, lh, lw;
    int h0, h1, w0, w1;
    bil_taps(oh, inv, H, &h0, &h1, &lh);
    bil_taps(ow, inv, W, &w0, &w1, &lw);
    float top = (1.0f - lw) * xn[h0 * W + w0] + lw * xn[h0 * W + w1];
    float bot = (1.0f - lw) * xn[h1 * W + w0] + lw * xn[h1 * W + w1];
    y[y_off + o] = (1.0f - lh) * top + lh * bot;
}

/* The adjoint: gx[nc, h, w] = sum over outputs reading (h, w) of their weight
 * times gy. Bilinear outputs that read input row h lie in [(h-1) f, (h+2) f).
 * n = NC * H * W */
__kernel void upsample_grad(__global const float *gy, int gy_off, __global float *gx, int gx_off, int H, int W,
                            int f, int mode, int n)
{
    int o = get_global_id(0);
    if (o >= n) return;
    int w = o % W, h = (o / W) % H, nc = o / (W * H);
    int Wo = W * f, Ho = H * f;
    __global const float *gn = gy + gy_off + nc * Ho * Wo;
    float acc = 0.0f;
    if (!mode) {
        for (int a = 0; a < f; a++)
            for (int b = 0; b < f; b++) acc += gn[(h * f + a) * Wo + w * f + b];
    } else {
        float inv = 1.0f / (float)f;
        for (int oh = max(0, (h - 1) * f); oh < min(Ho, (h + 2) * f); oh++) {
            float wh = bil_weight(oh, h, inv, H);
            if (wh == 0.0f) continue;
            float row = 0.0f;
            for (int ow = max(0, (w - 1) * f); ow < min(Wo, (w + 2) * f); ow++)
                row += bil_weight(ow, w, inv, W) * gn[oh * Wo + ow];
            acc += wh * row;
        }
    }
    gx[gx_off + o] = acc;
}
