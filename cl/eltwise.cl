//@require act.cl
/* Elementwise kernels: binary ops, activations and their gradients, broadcasts.
 * Every buffer is (pointer, element offset); n is the element count. */
/* op: 0 add, 1 sub, 2 mul.  y = a (op) b, scaled: y = alpha * (a op b) */
__kernel void elt_binary(__global const float *a, int a_off, __global const float *b, int b_off,
                         __global float *y, int y_off, int n, int op, float alpha)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float u = a[a_off + i], v = b[b_off + i];
    float r = op == 0 ? u + v : op == 1 ? u - v : u * v;
    y[y_off + i] = alpha * r;
}

/* y = alpha * x + beta */
__kernel void elt_affine(__global const float *x, int x_off, __global float *y, int y_off, int n,
                         float alpha, float beta)
{
    int i = get_global_id(0);
    if (i >= n) return;
    y[y_off + i] = alpha * x[x_off + i] + beta;
}

/* The activations go ELT_W elements per work-item, as vectors: act.cl's macros
 * take vectors, so exp, log and tanh run as SIMD calls on a CPU, where a scalar
 * switch per element kept PoCL from vectorising and sigmoid cost ~19 ns an
 * element. The last item finishes a tail shorter than ELT_W one by one. */
#define ELT_W 16
inline __attribute__((always_inline)) float16 act_apply16(int act, float16 x, float slope)
{
    ACT_APPLY_SWITCH(act, x, slope)
}
inline __attribute__((always_inline)) float16 act_grad16(int act, float16 y, float slope)
{
    ACT_DERIV_SWITCH(act, float16, y, slope)
}

/* y = act(x); the host launches ceil(n / ELT_W) items. */
__kernel void elt_act(__global const float *x, int x_off, __global float *y, int y_off, int n, int act,
                      float slope)
{
    int i = get_global_id(0) * ELT_W;
    if (i >= n) return;
    x += x_off;
    y += y_off;
    if (i + ELT_W <= n) {
        vstore16(act_apply16(act, vload16(0, x + i), slope), 0, y + i);
        return;
    }
    for (; i < n; i++) y[i] = act_apply(act, x[i], slope);
}

/* gx = gy * act'(y); ceil(n / ELT_W) items. */
__kernel void elt_act_grad(__global const float *y, int y_off, __global const float *gy, int gy_off,
                           __global float *gx, int gx_off, int n, int act, float slope)
{
    int i = get_global_id(0) * ELT_W;
    if (i >= n) return;
    y += y_off;
    gy += gy_off;
    gx += gx_off;
    if (i + ELT_W <= n) {
        vstore16(vload16(0, gy + i) * act_grad16(act, vload16(0, y + i), slope), 0, gx + i);
        return;
    }
    for (; i < n; i++) gx[i] = gy[i] * act_grad(act, y[i], slope);
}

/* y[i] = alpha * s[0]: the gradient of a sum (or mean) spread over its input. */
__kernel void elt_broadcast_scalar(__global const float *s, int s_off, __global float *y, int y_off, int n,
                                   float alpha)
{
    int i = get_global_id(0);
    if (i >= n) return;
    y[y_off + i] = alpha * s[s_off];
}
