/* Concatenation and slicing along one axis. A tensor is seen as [outer, c, inner]
 * around the axis; the kernels take row lengths c * inner ("spans") so one launch
 * handles any axis. Every buffer is (pointer, element offset); n is the number of
 * output elements, one work-item each. */

/* y = [a | b] per outer index: spans ca, cb. */
__kernel void concat2(__global const float *a, int a_off, __global const float *b, int b_off,
                      __global float *y, int y_off, int n, int ca, int cb)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int cy = ca + cb, o = i / cy, r = i - o * cy;
    y[y_off + i] = r < ca ? a[a_off + o * ca + r] : b[b_off + o * cb + (r - ca)];
}

/* y = x[:, start : start + len, :]: x span cx, the slice starts at `first`
 * (start * inner) and spans cy. */
__kernel void slice(__global const float *x, int x_off, __global float *y, int y_off, int n, int cx, int first,
                    int cy)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int o = i / cy, r = i - o * cy;
    y[y_off + i] = x[x_off + o * cx + first + r];
}

/* The slice's gradient: gx = gy inside the slice, 0 elsewhere (n = x's size). */
__kernel void slice_grad(__global const float *gy, int gy_off, __global float *gx, int gx_off, int n, int cx,
                         int first, int cy)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int o = i / cx, r = i - o * cx - first;
    gx[gx_off + i] = r >= 0 && r < cy ? gy[gy_off + o * cy + r] : 0.0f;
}
