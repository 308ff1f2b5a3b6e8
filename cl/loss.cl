//@require vec.cl
//@require act.cl
/* Per-sample losses (a work-group per sample, summing over its features) and
 * their gradients. BCE is computed from logits, stably:
 *   l(z, t) = max(z, 0) - z t + log(1 + exp(-|z|)),  dl/dz = sigmoid(z) - t.
 *
 * Every kernel works on LOSS_VW consecutive floats at a time (vload/vstore, any
 * element offset), with a scalar tail for what is left of a row or tensor.
 * CPUs (PoCL) take their SIMD width: PoCL vectorises scalar exp/log1p calls
 * across work-items poorly (BCE cost 20 ns per element), while log1p(exp()) on a
 * float16 runs as one vector math call (BCE at batch 128: 2 ms -> 0.15 ms). GPUs
 * take 4: 16-byte loads, little register pressure. */
#define LOSS_MSE 0
#define LOSS_BCE 1

#ifndef LOSS_VW
#define LOSS_VW 4 /* 1, 2, 4, 8 or 16 */
#endif
#ifndef LOSS_WG
#define LOSS_WG 64 /* >= the local size of the per-row kernels; a power of two */
#endif

#if LOSS_VW == 1
#define lossv float
#define lossi int
#define loss_vload(c, p) ((p)[c])
#define loss_vstore(v, c, p) ((p)[c] = (v))
#define LOSS_LANES 0
#else
#define lossv VEC_CAT(float, LOSS_VW)
#define lossi VEC_CAT(int, LOSS_VW)
#define loss_vload VEC_CAT(vload, LOSS_VW)
#define loss_vstore VEC_CAT(vstore, LOSS_VW)
#endif
#if LOSS_VW == 2
#define LOSS_LANES (int2)(0, 1)
#elif LOSS_VW == 4
#define LOSS_LANES (int4)(0, 1, 2, 3)
#elif LOSS_VW == 8
#define LOSS_LANES (int8)(0, 1, 2, 3, 4, 5, 6, 7)
#elif LOSS_VW == 16
#define LOSS_LANES (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#elif LOSS_VW != 1
#error "LOSS_VW must be 1, 2, 4, 8 or 16"
#endif

float loss_term(int kind, float z, float t)
{
    if (kind == LOSS_BCE) return fmax(z, 0.0f) - z * t + log1p(exp(-fabs(z)));
    float d = z - t;
    return d * d;
}

lossv loss_term_v(int kind, lossv z, lossv t)
{
    if (kind == LOSS_BCE) return fmax(z, 0.0f) - z * t + log1p(exp(-fabs(z)));
    lossv d = z - t;
    return d * d;
}

float loss_dterm(int kind, float z, float t)
{
    if (kind == LOSS_BCE) return 1.0f / (1.0f + exp(-z)) - t;
    return 2.0f * (z - t);
}

lossv loss_dterm_v(int kind, lossv z, lossv t)
{
    if (kind == LOSS_BCE) return 1.0f / (1.0f + exp(-z)) - t;
    return 2.0f * (z - t);
}

/* 1 + lv - mu^2 - exp(lv): the KL term of one latent unit, times -1/2 later. */
float kl_term(float m, float l) { return 1.0f + l - m * m - exp(l); }
lossv kl_term_v(lossv m, lossv l) { return 1.0f + l - m * m - exp(l); }

/* The work-group's sum of s (every item calls it; item 0 gets the total). */
float loss_group_sum(float s, __local float *part)
{
    int lid = get_local_id(0);
    part[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = get_local_size(0) / 2; w > 0; w /= 2) {
        if (lid < w) part[lid] += part[lid + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return part[0];
}

/* One work-group per sample: its items stride over the row's vectors, then a
 * local tree sums them (a row per item left most of a wide device idle). */
__kernel void loss_rows(__global const float *z, int z_off, __global const float *t, int t_off,
                        __global float *out, int out_off, int rows, int cols, int kind)
{
    __local float part[LOSS_WG];
    int r = get_group_id(0), lid = get_local_id(0), ls = get_local_size(0);
    float s = 0.0f;
    if (r < rows) {
        __global const float *zr = z + z_off + (size_t)r * cols, *tr = t + t_off + (size_t)r * cols;
        int chunks = cols / LOSS_VW;
        for (int c = lid; c < chunks; c += ls)
            s += VEC_SUM(LOSS_VW, loss_term_v(kind, loss_vload(c, zr), loss_vload(c, tr)));
        for (int c = chunks * LOSS_VW + lid; c < cols; c += ls) s += loss_term(kind, zr[c], tr[c]);
    }
    s = loss_group_sum(s, part);
    if (lid == 0 && r < rows) out[out_off + r] = s;
}

/* KL(N(mu, exp(lv)) || N(0, 1)) summed over the latent: -1/2 sum(1 + lv - mu^2 - exp(lv)).
 * A work-group per sample, as loss_rows. */
__kernel void kl_rows(__global const float *mu, int mu_off, __global const float *lv, int lv_off,
                      __global float *out, int out_off, int rows, int cols)
{
    __local float part[LOSS_WG];
    int r = get_group_id(0), lid = get_local_id(0), ls = get_local_size(0);
    float s = 0.0f;
    if (r < rows) {
        __global const float *mr = mu + mu_off + (size_t)r * cols, *lr = lv + lv_off + (size_t)r * cols;
        int chunks = cols / LOSS_VW;
        for (int c = lid; c < chunks; c += ls)
            s += VEC_SUM(LOSS_VW, kl_term_v(loss_vload(c, mr), loss_vload(c, lr)));
        for (int c = chunks * LOSS_VW + lid; c < cols; c += ls) s += kl_term(mr[c], lr[c]);
    }
    s = loss_group_sum(s, part);
    if (lid == 0 && r < rows) out[out_off + r] = -0.5f * s;
}

/* ---- gradients: item c covers elements c * LOSS_VW .. + LOSS_VW - 1 of n ---------- */

/* Item c's place: 1 when its elements are all below n, 0 for the scalar tail
 * (the last item), -1 past the end. */
int loss_item(int c, int n)
{
    return c < n / LOSS_VW ? 1 : c <= (n - 1) / LOSS_VW ? 0 : -1;
}

/* grow[row of each element] for the vector of elements from i0 on. */
lossv loss_row_scale(__global const float *grow, int i0, int cols)
{
    int r0 = i0 / cols;
    if ((i0 + LOSS_VW - 1) / cols == r0) return (lossv)(grow[r0]);
    float g[LOSS_VW];
    for (int j = 0; j < LOSS_VW; j++) g[j] = grow[(i0 + j) / cols];
    return loss_vload(0, g);
}

/* gz[r, c] = grow[r] * dl/dz */
__kernel void loss_rows_grad(__global const float *z, int z_off, __global const float *t, int t_off,
                             __global const float *grow, int grow_off, __global float *gz, int gz_off, int n,
                             int cols, int kind)
{
    int c = get_global_id(0), i0 = c * LOSS_VW;
    z += z_off;
    t += t_off;
    grow += grow_off;
    gz += gz_off;
    int place = loss_item(c, n);
    if (place < 0) return;
    if (place) {
        lossv d = loss_dterm_v(kind, loss_vload(c, z), loss_vload(c, t));
        loss_vstore(loss_row_scale(grow, i0, cols) * d, c, gz);
        return;
    }
    for (int i = i0; i < n && i < i0 + LOSS_VW; i++) gz[i] = grow[i / cols] * loss_dterm(kind, z[i], t[i]);
}

/* which 0: d/dmu = mu;  which 1: d/dlv = (exp(lv) - 1) / 2; times grow[r]. */
__kernel void kl_rows_grad(__global const float *mu, int mu_off, __global const float *lv, int lv_off,
                           __global const float *grow, int grow_off, __global float *g, int g_off, int n, int cols,
                           int which)
{
    int c = get_global_id(0), i0 = c * LOSS_VW;
    mu += mu_off;
    lv += lv_off;
    grow += grow_off;
    g += g_off;
    int place = loss_item(c, n);
    if (place < 0) return;
    if (place) {
        lossv d = which == 0 ? loss_vload(c, mu) : 0.5f * (exp(loss_vload(c, lv)) - 1.0f);
        loss_vstore(loss_row_scale(grow, i0, cols) * d, c, g);
        return;
    }
    for (int i = i0; i < n && i < i0 + LOSS_VW; i++)
        g[i] = grow[i / cols] * (which == 0 ? mu[i] : 0.5f * (exp(lv[i]) - 1.0f));
}

/* act'(y) on a vector of LOSS_VW outputs (act.cl's codes; elu: alpha = slope). */
inline lossv loss_act_grad_v(int act, lossv y, float slope) { ACT_DERIV_SWITCH(act, lossv, y, slope) }

/* The fused gradient of mean_rows(loss rows) with respect to z: the batch mean's
 * gradient (g * scale / valid rows, 0 past them) and the loss's own in one pass.
 * Element i lies in a valid row when i < used rows * cols. gact (0: none): also
 * times act'(z) for that activation code with slope gslope, the output layer's
 * activation gradient when z is that activation's output (lib/compile/fuse_gemm.c),
 * which saves its launch and a pass over the gradient. */
__kernel void loss_mean_grad(__global const float *z, int z_off, __global const float *t, int t_off,
                             __global const float *g, int g_off, __global float *gz, int gz_off, int n, int cols,
                             int rows, int valid, int kind, float scale, int gact, float gslope)
{
    int c = get_global_id(0), i0 = c * LOSS_VW;
    int used = min(rows, valid), lim = used * cols;
    float f = g[g_off] * scale / (float)max(1, used);
    z += z_off;
    t += t_off;
    gz += gz_off;
    int place = loss_item(c, n);
    if (place < 0) return;
    if (place) {
        lossv zv = loss_vload(c, z), d = f * loss_dterm_v(kind, zv, loss_vload(c, t));
        if (gact) d *= loss_act_grad_v(gact, zv, gslope);
        loss_vstore(select((lossv)(0.0f), d, (lossi)(i0) + LOSS_LANES < lim), c, gz);
        return;
    }
    for (int i = i0; i < n && i < i0 + LOSS_VW; i++) {
        float d = f * loss_dterm(kind, z[i], t[i]);
        if (gact) d *= act_grad(gact, z[i], gslope);
        gz[i] = i < lim ? d : 0.0f;
    }
}
