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

/* The fused updates: work-group c updates chunk c, described by row c of the
 * table (8 ints as float bits: offsets of its first element in w, g and the two
 * state tensors, and its length). P holds parameters and state, G gradients. */
#define TAB_W 0
#define TAB_G 1
#define TAB_S0 2
#define TAB_S1 3
#define TAB_N 4
#define TAB_STRIDE 8

/* SGD: d = scale * g + wd * w; with momentum, buf = momentum * buf + d and the
 * step is buf (or d + momentum * buf for Nesterov); w -= lr * step. */
__kernel void optim_sgd_all(__global float *P, int p_unused, __global const float *G, int g_unused,
                            __global const float *tab, int tab_off, __global const float *lr, int lr_off,
                            __global const float *ss, int ss_off, float momentum, int nesterov,
                            float weight_decay, float clip)
{
    __global const float *row = tab + tab_off + get_group_id(0) * TAB_STRIDE;
    int w0 = as_int(row[TAB_W]), g0 = as_int(row[TAB_G]), s0 = as_int(row[TAB_S0]), n = as_int(row[TAB_N]);
    float rate = lr[lr_off], scale = opt_clip_scale(ss, ss_off, clip);
    for (int j = get_local_id(0); j < n; j += get_local_size(0)) {
        float wi = P[w0 + j];
        float d = scale * G[g0 + j] + weight_decay * wi;
        if (momentum > 0.0f) {
            float b = momentum * P[s0 + j] + d;
            P[s0 + j] = b;
            d = nesterov ? d + momentum * b : b;
        }
        P[w0 + j] = wi - rate * d;
    }
}

/* The bias corrections 1 - beta^t of this step, once per step for every Adam
 * update (one work-item): computing them in each update kernel cost a barrier
 * or a transcendental per element. */
__kernel void optim_adam_bc(__global float *bc, int bc_off, uint step, float log_beta1, float log_beta2)
{
    float t = (float)step + 1.0f;
    bc[bc_off] = -expm1(t * log_beta1);
    bc[bc_off + 1] = -expm1(t * log_beta2);
}

/* Adam / AdamW at step t = step + 1 with the step's bias corrections bc.
 * decoupled: AdamW (w -= lr * wd * w), else wd * w joins the gradient (L2). */
__kernel void optim_adam_all(__global float *P, int p_unused, __global const float *G, int g_unused,
                             __global const float *tab, int tab_off, __global const float *lr, int lr_off,
                             __global const float *ss, int ss_off, __global const float *bc, int bc_off,
                             float beta1, float beta2, float eps, float weight_decay, int decoupled, float clip)
{
    __global const float *row = tab + tab_off + get_group_id(0) * TAB_STRIDE;
    int w0 = as_int(row[TAB_W]), g0 = as_int(row[TAB_G]), m0 = as_int(row[TAB_S0]), v0 = as_int(row[TAB_S1]);
    int n = as_int(row[TAB_N]);
    float bc1 = bc[bc_off], bc2 = bc[bc_off + 1], rate = lr[lr_off], scale = opt_clip_scale(ss, ss_off, clip);
    for (int j = get_local_id(0); j < n; j += get_local_size(0)) {
        float wi = P[w0 + j];
        float d = scale * G[g0 + j];
        if (decoupled) wi -= rate * weight_decay * wi;
        else d += weight_decay * wi;
        float mi = beta1 * P[m0 + j] + (1.0f - beta1) * d;
        float vi = beta2 * P[v0 + j] + (1.0f - beta2) * d * d;
        P[m0 + j] = mi;
        P[v0 + j] = vi;
        P[w0 + j] = wi - rate * (mi / bc1) / (sqrt(vi / bc2) + eps);
    }
}
