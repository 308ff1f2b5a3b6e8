/* Optimizer updates, run in place on the parameters and their state. The
 * learning rate is read from a 1-float device tensor (so a schedule can change it
 * between steps without recompiling); Adam's bias corrections for the plan's
 * step counter come from the host with each launch (lib/ops/optim.c).
 * Global-norm clipping: the optim_sumsq kernels add the squared gradients of
 * every parameter into one scalar, which the update turns into its scale. */
#ifndef OPT_WG
#define OPT_WG 256  /* >= the local size of the optim_sumsq kernels; a power of two */
#endif

/* The fused updates: work-group c updates chunk c, described by row c of the
 * table (8 ints as float bits: offsets of its first element in w, g and the two
 * state tensors, and its length). P holds parameters and state, G gradients.
 *
 * The configuration is kernel arguments, not build options, so that every
 * configuration shares one program (the common program, cl/common.cl): a
 * program costs PoCL a front end on a first run and a preprocessing on every
 * later one. Clipping, weight decay and AdamW's decoupled decay are written
 * without branches (a scale of 1 and decays of 0 leave the values exactly as
 * they were); SGD's momentum, which has state to read, is a uniform branch.
 *
 * Speed on CPUs (PoCL) rests on two things. `restrict`: the table row, the
 * rate and the scale are then known not to change under the stores to P, so
 * they are loaded once per group instead of per item, and the offsets are seen
 * as uniform: consecutive items access consecutive floats (vector loads; without
 * it every access is a gather/scatter, ~7x slower). P may share its buffer with
 * the table and the rate (all persistent), which is fine for restrict since this
 * kernel writes neither. And the full chunk's loop has a constant bound: under
 * a per-item `j < n` test PoCL falls back to gathers, so only the short last
 * chunk of a parameter takes that path. */
#ifndef OPT_CHUNK
#define OPT_CHUNK 256   /* the table's chunk length (CHUNK in optim.c) */
#endif
#define TAB_W 0
#define TAB_G 1
#define TAB_S0 2
#define TAB_S1 3
#define TAB_N 4
#define TAB_STRIDE 8

/* Runs STEP(j) for the chunk's elements j, items on consecutive elements. The
 * local size sits in a variable: with get_local_size(0) in the loop's step,
 * PoCL's vectoriser gives up (scalar code, 4x slower). */
#define OPT_FOR_CHUNK(n, STEP)                                                       \
    {                                                                                \
        int ls = get_local_size(0);                                                  \
        if ((n) == OPT_CHUNK) {                                                      \
            for (int j = get_local_id(0); j < OPT_CHUNK; j += ls) STEP(j);           \
        } else {                                                                     \
            for (int j = get_local_id(0); j < (n); j += ls) STEP(j);                 \
        }                                                                            \
    }

/* ---- global-norm clipping ---------------------------------------------------
 * Two launches whatever the number of parameters. optim_sumsq_parts: work-group
 * q sums the squares of OPT_SQ_K full 256-element chunks of the gradients (rows
 * qK.. of its table: a chunk's offset in G as float bits, and 1, or 0 for the
 * padding rows that fill the last group) into ss[1 + q]. optim_sumsq_total: one
 * work-group adds those and the parameters' short tails (table rows from
 * tail_start: offset, length) in a fixed order into ss[0] (deterministic, no
 * atomics). Only full chunks and a constant unrolled loop in the parts kernel:
 * each item then reads K floats at consecutive addresses across items (vector
 * loads on PoCL, coalesced on GPUs), and a group's reduction is paid per 4096
 * elements instead of per 256 (a barrier costs PoCL a pass over the group). */
#ifndef OPT_SQ_K
#define OPT_SQ_K 16  /* full chunks per work-group of optim_sumsq_parts (SQ_K in optim.c) */
#endif

/* Adds part[0..local size) into part[0]; every item of the group calls it. Two
 * levels (16 partial sums, then one) keep PoCL's barrier count at two. */
void opt_group_sum(__local float *part)
{
    int lid = get_local_id(0), ls = get_local_size(0);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid < 16) {
        float t = 0.0f;
        for (int i = lid + 16; i < ls; i += 16) t += part[i];
        part[lid] += t;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid == 0) {
        float t = 0.0f;
        for (int i = 1; i < min(16, ls); i++) t += part[i];
        part[0] += t;
    }
}

__kernel void optim_sumsq_parts(__global const float *restrict G, int g_unused, __global const float *restrict tab,
                                int tab_off, __global float *restrict ss, int ss_off)
{
    __local float part[OPT_WG];
    __global const float *rows = tab + tab_off + get_group_id(0) * (2 * OPT_SQ_K);
    int lid = get_local_id(0), ls = get_local_size(0);
    float s = 0.0f;
    for (int j = lid; j < OPT_CHUNK; j += ls) {
#pragma unroll
        for (int k = 0; k < OPT_SQ_K; k++) {
            float x = G[as_int(rows[2 * k]) + j];
            s += rows[2 * k + 1] != 0.0f ? x * x : 0.0f; /* not 0 * x * x: x may be inf */
        }
    }
    part[lid] = s;
    opt_group_sum(part);
    if (lid == 0) ss[ss_off + 1 + get_group_id(0)] = part[0];
}

/* G and ss share the work arena: no restrict here. */
__kernel void optim_sumsq_total(__global float *ss, int ss_off, int n_parts, __global const float *tab, int tab_off,
                                int tail_start, int n_tails, __global const float *G, int g_unused)
{
    __local float part[OPT_WG];
    int lid = get_local_id(0), ls = get_local_size(0);
    float s = 0.0f;
    for (int i = lid; i < n_parts; i += ls) s += ss[ss_off + 1 + i];
    __global const float *tails = tab + tab_off + tail_start;
    for (int t = 0; t < n_tails; t++) {
        int g0 = as_int(tails[2 * t]), n = as_int(tails[2 * t + 1]);
        for (int j = lid; j < n; j += ls) s += G[g0 + j] * G[g0 + j];
    }
    part[lid] = s;
    opt_group_sum(part);
    if (lid == 0) ss[ss_off] = part[0];
}

/* min(1, clip / ||g||) from the sum of squares; clip <= 0: no clipping. */
float opt_clip_scale(__global const float *ss, int ss_off, float clip)
{
    if (clip <= 0.0f) return 1.0f;
    float norm = sqrt(ss[ss_off]);
    return norm > clip ? clip / norm : 1.0f;
}

/* SGD: d = scale * g + wd * w; with momentum, buf = momentum * buf + d and the
 * step is buf (or d + momentum * buf for Nesterov); w -= lr * step. */
#define SGD_STEP(j) sgd_one(P, w0 + (j), G[g0 + (j)], s0 + (j), rate, scale, momentum, nesterov, weight_decay)

void sgd_one(__global float *restrict P, int w, float g, int s, float rate, float scale, float momentum, int nesterov,
             float weight_decay)
{
    float wi = P[w], d = scale * g + weight_decay * wi;
    if (momentum > 0.0f) {
        float b = momentum * P[s] + d;
        P[s] = b;
        d = nesterov ? d + momentum * b : b;
    }
    P[w] = wi - rate * d;
}

__kernel void optim_sgd_all(__global float *restrict P, int p_unused, __global const float *restrict G, int g_unused,
                            __global const float *restrict tab, int tab_off, __global const float *restrict lr,
                            int lr_off, __global const float *restrict ss, int ss_off, float momentum, int nesterov,
                            float weight_decay, float clip)
{
    __global const float *row = tab + tab_off + get_group_id(0) * TAB_STRIDE;
    int w0 = as_int(row[TAB_W]), g0 = as_int(row[TAB_G]), s0 = as_int(row[TAB_S0]), n = as_int(row[TAB_N]);
    float rate = lr[lr_off], scale = opt_clip_scale(ss, ss_off, clip);
    OPT_FOR_CHUNK(n, SGD_STEP)
}

/* Adam / AdamW at step t with the step's bias corrections bc1 = 1 - beta1^t,
 * bc2 = 1 - beta2^t: w -= lr * (m / bc1) / (sqrt(v / bc2) + eps), computed as
 * w -= a * m / (sqrt(v) + e) with a = lr * corr_a, e = eps * corr_e, where the
 * host passes corr_a = sqrt(bc2) / bc1 and corr_e = sqrt(bc2) for each step (the
 * same value; one division and one root per element instead of three divisions
 * and a root, and nothing that depends on t). Weight decay: wd_l2 * w joins the
 * gradient (Adam's L2), w -= lr * wd_decoupled * w (AdamW); the host passes 0
 * for the other. */
#define ADAM_STEP(j) adam_one(P, w0 + (j), G[g0 + (j)], m0 + (j), v0 + (j), rate, a, e, scale, beta1, beta2, wd_l2, wd_dec)

void adam_one(__global float *restrict P, int w, float g, int m, int v, float rate, float a, float e, float scale,
              float beta1, float beta2, float wd_l2, float wd_dec)
{
    float wi = P[w], d = scale * g + wd_l2 * wi;
    wi -= rate * wd_dec * wi;
    float mi = beta1 * P[m] + (1.0f - beta1) * d;
    float vi = beta2 * P[v] + (1.0f - beta2) * d * d;
    P[m] = mi;
    P[v] = vi;
    P[w] = wi - a * mi / (sqrt(vi) + e);
}

__kernel void optim_adam_all(__global float *restrict P, int p_unused, __global const float *restrict G, int g_unused,
                             __global const float *restrict tab, int tab_off, __global const float *restrict lr,
                             int lr_off, __global const float *restrict ss, int ss_off,
                             float corr_a, float corr_e, float beta1, float beta2, float eps, float wd_l2,
                             float wd_dec, float clip)
{
    __global const float *row = tab + tab_off + get_group_id(0) * TAB_STRIDE;
    int w0 = as_int(row[TAB_W]), g0 = as_int(row[TAB_G]), m0 = as_int(row[TAB_S0]), v0 = as_int(row[TAB_S1]);
    int n = as_int(row[TAB_N]);
    float rate = lr[lr_off], scale = opt_clip_scale(ss, ss_off, clip);
    float a = rate * corr_a, e = eps * corr_e;
    OPT_FOR_CHUNK(n, ADAM_STEP)
}
