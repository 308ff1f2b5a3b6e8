/* Elementwise kernels: binary ops, activations and their gradients, broadcasts.
 * Every buffer is (pointer, element offset); n is the element count. */
#ifndef ELT_VEC
#define ELT_VEC 1   /* reserved for a vectorised variant */
#endif

#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_LEAKY 2
#define ACT_SIGMOID 3
#define ACT_TANH 4
#define ACT_ELU 5
#define ACT_SOFTPLUS 6

float act_apply(int act, float x, float slope)
{
    switch (act) {
    case ACT_RELU: return fmax(x, 0.0f);
    case ACT_LEAKY: return x > 0.0f ? x : slope * x;
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
    case ACT_TANH: return tanh(x);
    case ACT_ELU: return x > 0.0f ? x : slope * (exp(x) - 1.0f);
    case ACT_SOFTPLUS: return fmax(x, 0.0f) + log1p(exp(-fabs(x)));
    default: return x;
    }
}

/* dy/dx from the output y (elu: alpha = slope). softplus: sigmoid(x) = 1 - exp(-y). */
float act_grad(int act, float y, float slope)
{
    switch (act) {
    case ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case ACT_LEAKY: return y > 0.0f ? 1.0f : slope;
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    case ACT_ELU: return y > 0.0f ? 1.0f : y + slope;
    case ACT_SOFTPLUS: return -expm1(-y);
    default: return 1.0f;
    }
}

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
