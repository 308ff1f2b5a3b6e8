/* Optimizer updates, run in place on the parameters and their state. The
 * learning rate is read from a 1-float device tensor (so a schedule can change it
 * between steps without recompiling); the Adam step comes from the plan's step
 * counter. Global-norm clipping: optim_sumsq adds the squared gradients of every
 * parameter into one scalar, which each update turns into its scale. */
#ifndef OPT_WG
#define OPT_WG 256  /* >= the local size of optim_sumsq; a power of two */
#endif

/* min(1, clip / ||g||) from the sum of squares; clip <= 0: no clipping. */
float opt_clip_scale(__global const float *ss, int ss_off, float clip)
{
    if (clip <= 0.0f) return 1.0f;
    float norm = sqrt(ss[ss_off]);
    return norm > clip ? clip / norm : 1.0f;
}

/* y = (has_prev ? prev : 0) + sum x[i]^2, in one work-group (deterministic).
 * prev and y may be the same float (the chain writes in place). */
__kernel void optim_sumsq(__global const float *prev, int prev_off, __global const float *x, int x_off,
                          __global float *y, int y_off, int n, int has_prev)
{
    __local float part[OPT_WG];
    int lid = get_local_id(0), ls = get_local_size(0);
    float s = 0.0f;
    for (int i = lid; i < n; i += ls) {
        float v = x[x_off + i];
        s += v * v;
    }
    part[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = ls / 2; w > 0; w /= 2) {
        if (lid < w) part[lid] += part[lid + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) y[y_off] = (has_prev ? prev[prev_off] : 0.0f) + part[0];
}

/* SGD: d = scale * g + wd * w; with momentum, buf = momentum * buf + d and the
 * step is buf (or d + momentum * buf for Nesterov); w -= lr * step. */
__kernel void optim_sgd(__global float *w, int w_off, __global const float *g, int g_off, __global float *buf,
                        int buf_off, __global const float *lr, int lr_off, __global const float *ss, int ss_off,
                        int n, float momentum, int nesterov, float weight_decay, float clip)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float wi = w[w_off + i];
    float d = opt_clip_scale(ss, ss_off, clip) * g[g_off + i] + weight_decay * wi;
    if (momentum > 0.0f) {
        float b = momentum * buf[buf_off + i] + d;
        buf[buf_off + i] = b;
        d = nesterov ? d + momentum * b : b;
    }
    w[w_off + i] = wi - lr[lr_off] * d;
}

/* Adam / AdamW at step t = step + 1. Bias corrections 1 - beta^t are computed as
 * -expm1(t * log(beta)) (log on the host in double): 1 - pow(beta, t) in float
 * loses most digits to cancellation when beta is near 1. decoupled: AdamW
 * (w -= lr * wd * w), else wd * w joins the gradient (L2). */
/* The bias corrections 1 - beta^t of this step, once per step for every Adam
 * update (one work-item): computing them in each update kernel cost a barrier
 * or a transcendental per element. */
__kernel void optim_adam_bc(__global float *bc, int bc_off, uint step, float log_beta1, float log_beta2)
{
    float t = (float)step + 1.0f;
    bc[bc_off] = -expm1(t * log_beta1);
    bc[bc_off + 1] = -expm1(t * log_beta2);
}

__kernel void optim_adam(__global float *w, int w_off, __global const float *g, int g_off, __global float *m,
                         int m_off, __global float *v, int v_off, __global const float *lr, int lr_off,
                         __global const float *ss, int ss_off, __global const float *bc, int bc_off, int n,
                         float beta1, float beta2, float eps, float weight_decay, int decoupled, float clip)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float bc1 = bc[bc_off], bc2 = bc[bc_off + 1];
    float rate = lr[lr_off];
    float wi = w[w_off + i];
    float d = opt_clip_scale(ss, ss_off, clip) * g[g_off + i];
    if (decoupled) wi -= rate * weight_decay * wi;
    else d += weight_decay * wi;
    float mi = beta1 * m[m_off + i] + (1.0f - beta1) * d;
    float vi = beta2 * v[v_off + i] + (1.0f - beta2) * d * d;
    m[m_off + i] = mi;
    v[v_off + i] = vi;
    w[w_off + i] = wi - rate * (mi / bc1) / (sqrt(vi / bc2) + eps);
}
