/* Per-sample losses (one work-item per sample, summing over its features) and
 * their gradients. BCE is computed from logits, stably:
 *   l(z, t) = max(z, 0) - z t + log(1 + exp(-|z|)),  dl/dz = sigmoid(z) - t. */
#define LOSS_MSE 0
#define LOSS_BCE 1

float loss_term(int kind, float z, float t)
{
    if (kind == LOSS_BCE) return fmax(z, 0.0f) - z * t + log1p(exp(-fabs(z)));
    float d = z - t;
    return d * d;
}

float loss_dterm(int kind, float z, float t)
{
    if (kind == LOSS_BCE) return 1.0f / (1.0f + exp(-z)) - t;
    return 2.0f * (z - t);
}

#ifndef LOSS_WG
#define LOSS_WG 64  /* >= the local size; a power of two */
#endif

/* One work-group per sample: its items stride over the features and a local
 * tree sums them (a row per item left most of a wide device idle). */
__kernel void loss_rows(__global const float *z, int z_off, __global const float *t, int t_off,
                        __global float *out, int out_off, int rows, int cols, int kind)
{
    __local float part[LOSS_WG];
    int r = get_group_id(0), lid = get_local_id(0), ls = get_local_size(0);
    size_t base = (size_t)r * cols;
    float s = 0.0f;
    for (int c = lid; c < cols; c += ls) s += loss_term(kind, z[z_off + base + c], t[t_off + base + c]);
    part[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = ls / 2; w > 0; w /= 2) {
        if (lid < w) part[lid] += part[lid + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0 && r < rows) out[out_off + r] = part[0];
}

/* gz[r, c] = grow[r] * dl/dz */
__kernel void loss_rows_grad(__global const float *z, int z_off, __global const float *t, int t_off,
                             __global const float *grow, int grow_off, __global float *gz, int gz_off, int n,
                             int cols, int kind)
{
    int i = get_global_id(0);
    if (i >= n) return;
    gz[gz_off + i] = grow[grow_off + i / cols] * loss_dterm(kind, z[z_off + i], t[t_off + i]);
}

/* KL(N(mu, exp(lv)) || N(0, 1)) summed over the latent: -1/2 sum(1 + lv - mu^2 - exp(lv)) */
__kernel void kl_rows(__global const float *mu, int mu_off, __global const float *lv, int lv_off,
                      __global float *out, int out_off, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows) return;
    size_t base = (size_t)r * cols;
    float s = 0.0f;
    for (int c = 0; c < cols; c++) {
        float m = mu[mu_off + base + c], l = lv[lv_off + base + c];
        s += 1.0f + l - m * m - exp(l);
    }
    out[out_off + r] = -0.5f * s;
}

/* which 0: d/dmu = mu;  which 1: d/dlv = (exp(lv) - 1) / 2; times grow[r]. */
__kernel void kl_rows_grad(__global const float *mu, int mu_off, __global const float *lv, int lv_off,
                           __global const float *grow, int grow_off, __global float *g, int g_off, int n, int cols,
                           int which)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float d = which == 0 ? mu[mu_off + i] : 0.5f * (exp(lv[lv_off + i]) - 1.0f);
    g[g_off + i] = grow[grow_off + i / cols] * d;
}

/* The fused gradient of mean_rows(loss rows) with respect to z: the batch mean's
 * gradient (g * scale / valid rows, 0 past them) and the loss's own in one pass. */
__kernel void loss_mean_grad(__global const float *z, int z_off, __global const float *t, int t_off,
                             __global const float *g, int g_off, __global float *gz, int gz_off, int n, int cols,
                             int rows, int valid, int kind, float scale)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int used = min(rows, valid);
    float f = g[g_off] * scale / (float)max(1, used);
    gz[gz_off + i] = i / cols < used ? f * loss_dterm(kind, z[z_off + i], t[t_off + i]) : 0.0f;
}
