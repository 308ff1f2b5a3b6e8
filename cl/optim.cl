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

/* The fused updates run over the concatenation of all parameters: item i finds
 * its parameter in the table (8 ints per parameter, float bits: w, g, s0, s1
 * offsets, first item, count) by binary search. P holds parameters and state,
 * G the gradients. */
#define TAB_W 0
#define TAB_G 1
#define TAB_S0 2
#define TAB_S1 3
#define TAB_START 4
#define TAB_STRIDE 8

int opt_find(__global const float *tab, int n_params, int i)
{
    int lo = 0, hi = n_params - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (as_int(tab[mid * TAB_STRIDE + TAB_START]) <= i) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* SGD: d = scale * g + wd * w; with momentum, buf = momentum * buf + d and the
 * step is buf (or d + momentum * buf for Nesterov); w -= lr * step. */
__kernel void optim_sgd_all(__global float *P, int p_unused, __global const float *G, int g_unused,
                            __global const float *tab, int tab_off, int n_params, int total,
                            __global const float *lr, int lr_off, __global const float *ss, int ss_off,
                            float momentum, int nesterov, float weight_decay, float clip)
{
    int i = get_global_id(0);
    if (i >= total) return;
    tab += tab_off;
    __global const float *row = tab + opt_find(tab, n_params, i) * TAB_STRIDE;
    int j = i - as_int(row[TAB_START]);
    int w = as_int(row[TAB_W]) + j;
    float wi = P[w];
    float d = opt_clip_scale(ss, ss_off, clip) * G[as_int(row[TAB_G]) + j] + weight_decay * wi;
    if (momentum > 0.0f) {
        int s = as_int(row[TAB_S0]) + j;
        float b = momentum * P[s] + d;
        P[s] = b;
        d = nesterov ? d + momentum * b : b;
    }
    P[w] = wi - lr[lr_off] * d;
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
                             __global const float *tab, int tab_off, int n_params, int total,
                             __global const float *lr, int lr_off, __global const float *ss, int ss_off,
                             __global const float *bc, int bc_off, float beta1, float beta2, float eps,
                             float weight_decay, int decoupled, float clip)
{
    int i = get_global_id(0);
    if (i >= total) return;
    tab += tab_off;
    __global const float *row = tab + opt_find(tab, n_params, i) * TAB_STRIDE;
    int j = i - as_int(row[TAB_START]);
    int w = as_int(row[TAB_W]) + j, m = as_int(row[TAB_S0]) + j, v = as_int(row[TAB_S1]) + j;
    float bc1 = bc[bc_off], bc2 = bc[bc_off + 1];
    float rate = lr[lr_off];
    float wi = P[w];
    float d = opt_clip_scale(ss, ss_off, clip) * G[as_int(row[TAB_G]) + j];
    if (decoupled) wi -= rate * weight_decay * wi;
    else d += weight_decay * wi;
    float mi = beta1 * P[m] + (1.0f - beta1) * d;
    float vi = beta2 * P[v] + (1.0f - beta2) * d * d;
    P[m] = mi;
    P[v] = vi;
    P[w] = wi - rate * (mi / bc1) / (sqrt(vi / bc2) + eps);
}
