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

__kernel void elt_act(__global const float *x, int x_off, __global float *y, int y_off, int n, int act,
                      float slope)
{
    int i = get_global_id(0);
    if (i >= n) return;
    y[y_off + i] = act_apply(act, x[x_off + i], slope);
}

/* gx = gy * act'(y) */
__kernel void elt_act_grad(__global const float *y, int y_off, __global const float *gy, int gy_off,
                           __global float *gx, int gx_off, int n, int act, float slope)
{
    int i = get_global_id(0);
    if (i >= n) return;
    gx[gx_off + i] = gy[gy_off + i] * act_grad(act, y[y_off + i], slope);
}

/* y[i] = alpha * s[0]: the gradient of a sum (or mean) spread over its input. */
__kernel void elt_broadcast_scalar(__global const float *s, int s_off, __global float *y, int y_off, int n,
                                   float alpha)
{
    int i = get_global_id(0);
    if (i >= n) return;
    y[y_off + i] = alpha * s[s_off];
}
