/* Reductions. A whole-tensor reduction runs in one work-group (the tensors here
 * are at most a few million elements, and one group keeps the result exact and
 * deterministic), with a local-memory tree sized by RED_WG. */
#ifndef RED_WG
#define RED_WG 256  /* must be >= the local size used; a power of two */
#endif

#define MODE_PLAIN 0
#define MODE_ABS 1
#define MODE_SQUARE 2

float red_term(int mode, float v) { return mode == MODE_ABS ? fabs(v) : mode == MODE_SQUARE ? v * v : v; }
float red_dterm(int mode, float v)
{
    return mode == MODE_ABS ? (v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : 0.0f) : mode == MODE_SQUARE ? 2.0f * v : 1.0f;
}

/* Elements counted: the first min(n, valid_rows * row_len). */
int red_count(int n, int row_len, int valid_rows)
{
    return valid_rows >= n / row_len ? n : valid_rows * row_len;
}

/* y = alpha * sum(term(x)) [/ rows counted], accumulated onto y when accumulate. */
__kernel void reduce_sum(__global const float *x, int x_off, __global float *y, int y_off, int n, int row_len,
                         int valid_rows, int mode, float alpha, int per_row_mean, int accumulate)
{
    __local float part[RED_WG];
    int lid = get_local_id(0), ls = get_local_size(0);
    int m = red_count(n, row_len, valid_rows);
    float s = 0.0f;
    for (int i = lid; i < m; i += ls) s += red_term(mode, x[x_off + i]);
    part[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = ls / 2; w > 0; w /= 2) {
        if (lid < w) part[lid] += part[lid + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        float r = alpha * part[0];
        if (per_row_mean) r /= (float)max(1, m / row_len);
        y[y_off] = accumulate ? y[y_off] + r : r;
    }
}

/* gx[i] = g * alpha [/ rows] * term'(x[i]) for counted elements, 0 for the rest. */
__kernel void reduce_sum_grad(__global const float *g, int g_off, __global const float *x, int x_off,
                              __global float *gx, int gx_off, int n, int row_len, int valid_rows, int mode,
                              float alpha, int per_row_mean)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int m = red_count(n, row_len, valid_rows);
    float f = alpha * g[g_off];
    if (per_row_mean) f /= (float)max(1, m / row_len);
    /* a plain sum's x is a stand-in buffer: never read */
    gx[gx_off + i] = i >= m ? 0.0f : mode == MODE_PLAIN ? f : f * red_dterm(mode, x[x_off + i]);
}

/* y[c] = sum over n < outer, s < inner of x[(n * C + c) * inner + s] */
__kernel void channel_sum(__global const float *x, int x_off, __global float *y, int y_off, int outer, int C,
                          int inner)
{
    int c = get_global_id(0);
    if (c >= C) return;
    float s = 0.0f;
    for (int n = 0; n < outer; n++) {
        __global const float *p = x + x_off + ((size_t)n * C + c) * inner;
        for (int k = 0; k < inner; k++) s += p[k];
    }
    y[y_off + c] = s;
}

/* channel_sum for inner == 1 (a dense layer's bias gradient: column sums of an
 * outer x C matrix), 16 channels per work-item as one float16: contiguous loads
 * along a row instead of one column per item with a stride of C floats. Each
 * channel's sum is taken in the same order (n = 0, 1, ...) as channel_sum's. The
 * host launches ceil(C / 16) items; the last one finishes a tail one by one. */
__kernel void channel_sum_rows(__global const float *x, int x_off, __global float *y, int y_off, int outer, int C)
{
    int c0 = get_global_id(0) * 16;
    if (c0 >= C) return;
    x += x_off;
    y += y_off;
    if (c0 + 16 <= C) {
        float16 s = 0.0f;
        for (int n = 0; n < outer; n++) s += vload16(0, x + (size_t)n * C + c0);
        vstore16(s, 0, y + c0);
        return;
    }
    for (int c = c0; c < C; c++) {
        float s = 0.0f;
        for (int n = 0; n < outer; n++) s += x[(size_t)n * C + c];
        y[c] = s;
    }
}

/* y[i] = (x ? x[i] : 0) + v[(i / inner) % C] */
__kernel void channel_add(__global const float *x, int x_off, __global const float *v, int v_off,
                          __global float *y, int y_off, int n, int C, int inner, int has_x)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float b = v[v_off + (i / inner) % C];
    y[y_off + i] = has_x ? x[x_off + i] + b : b;
}
