/* Every op on every device-dependent kernel variant, in the spirit of ggml's
 * test-backend-ops: a table of op cases at small, awkward shapes (odd channels,
 * batch 1, rows of 1 to 7, K = 1, nothing a multiple of a tile or a vector),
 * each compared forward with a host reference (tests/ref_ops.c), its gradients
 * (ops with a backward rule) with an analytic host reference and with finite
 * differences (gc_gradcheck); and a list of variants of the device-decision
 * table (rt/tuning.h) walked for the cases: for each, aecl_ctx_tune(spec), then
 * fresh graphs and plans compiled with poison (dead and work regions NaN), so no
 * variant can pass on another's buffers. Pointwise cases are compiled fused and
 * with no_fuse. The optimizer updates are checked step by step against the host
 * formulas on each variant too. At the end the test walks the table of every op
 * (lib/ops/op_list.h): names unique, each op met in some case's graph, each op
 * with a backward rule differentiated under finite differences, and no op met
 * that the table lacks (skipped when AECL_BACKEND_OPS_CASE picks cases).
 *
 * A variant runs the cases whose kernels read one of its keys (conv_* the
 * convolutions, gemm* dense and matmul, rng_blocks the random ops, loss_* the
 * losses: the only readers of those fields; type, wg_max, simd and local_mem
 * every case). Finite differences run on the device's own variant and the two
 * type switches, the analytic gradients everywhere. Each variant also names
 * kernels its plans must (and must not) launch, so a key that stops taking
 * effect fails here instead of testing the default twice.
 *
 * It runs on whatever device AECL_DEVICE picks (test_ctx). Environment:
 *   AECL_BACKEND_OPS_VARIANTS=N   only the first N variants (1: the device's own)
 *   AECL_BACKEND_OPS_CASE=text    only the op cases whose name contains text
 *   AECL_BACKEND_OPS_FULL=1       every case on every variant, finite differences
 *                                 everywhere (Oclgrind: about 3 minutes)
 * The default takes a few seconds on PoCL and about a minute under Oclgrind
 * (with it the only platform; 1.7 minutes with its race and API checks):
 *   OCL_ICD_VENDORS=/tmp/oclg AECL_CACHE_DIR=/tmp/bo-cache ./build/tests/test_backend_ops */
#define _POSIX_C_SOURCE 200809L
#include "compile/compile.h"
#include "gradcheck.h"
#include "graph/plan.h"
#include "graph/plan_internal.h" /* the launches: which kernels a variant took */
#include "ops/op_list.h"
#include "ops/ops.h"
#include "ref_ops.h"
#include "rt/rt.h"
#include "rt/tuning.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEED 20240611u /* the plans' random streams */
#define STEP 3u        /* the step the plans run (random numbers depend on it) */

/* Op families: which variants concern a case. */
enum { F_GEMM = 1, F_CONV = 2, F_RNG = 4, F_LOSS = 8, F_MISC = 16, F_OPT = 32, F_ALL = 63 };

/* How an input is filled: uniform in [lo, hi); the same but |v| >= 0.1 (no
 * kink of |x| or an activation within a finite-difference step); distinct
 * values (no max-pool ties). */
enum { FILL_UNIFORM = 0, FILL_AWAY0, FILL_DISTINCT };

typedef struct bo_in {
    int ndim, shape[4];
    float lo, hi;
    int fill;
    int data;   /* data (targets, shapes): an input without a gradient */
} bo_in;

/* What references need besides the inputs: the random op's node id (its
 * stream), the plan's valid rows. */
typedef struct bo_env {
    uint32_t op;
    int valid;
} bo_env;

typedef struct bo_case bo_case;

/* Writes the output y from the inputs x and returns its element count; with r
 * (d loss / d y) also the gradient g[i] of every input that is not data
 * (zeroed by the caller). */
typedef size_t (*bo_ref_fn)(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r,
                            float *const *g);

struct bo_case {
    const char *name;
    unsigned family;
    gc_build_fn build;                              /* user: the case */
    bo_ref_fn ref;
    int (*inputs)(const bo_case *c, bo_in *in);     /* derives in[] (conv, pool); NULL: n_in, in */
    int n_in;
    bo_in in[4];
    int grad;      /* backward rule: gradients against the reference */
    int fd;        /* finite-difference points per input (0: none) */
    int fuse;      /* pointwise: compiled fused and with no_fuse */
    int valid;     /* the plan's valid rows (0: all) */
    float tol;     /* tolerance multiplier (0: 1) */
    aecl_act act;
    float slope;
    int which;     /* the builder's variant (binary op, RED_*, LOSS_*, RNG_*) */
    int trans_a, trans_b;           /* matmul */
    int axis, start, len;           /* concat, slice */
    float alpha, beta;              /* affine */
    float scale;                    /* l1 weight, masked_mean and loss_mean scale */
    aecl_loss_kind loss;
    aecl_noise_kind noise;
    int clip;
    float prob;                     /* dropout probability, noise parameter */
    ref_conv conv;
    ref_pool pool;
};

static size_t numel(const bo_in *in)
{
    size_t n = 1;
    for (int d = 0; d < in->ndim; d++) n *= (size_t)in->shape[d];
    return n;
}

/* Extents before and after an axis. */
static void around(const bo_in *in, int axis, size_t *outer, size_t *inner)
{
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= (size_t)in->shape[d];
    for (int d = axis + 1; d < in->ndim; d++) *inner *= (size_t)in->shape[d];
}

/* ---- dense / matmul --------------------------------------------------------------- */

static aecl_tensor *b_dense(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    return aecl_dense(g, x[0], x[1], c->n_in == 3 ? x[2] : NULL, c->act, c->slope);
}

static size_t r_dense(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r, float *const *g)
{
    int n = c->in[0].shape[0], in = (int)(numel(&c->in[0]) / (size_t)n), out = c->in[1].shape[0];
    ref_dense(x[0], x[1], c->n_in == 3 ? x[2] : NULL, y, n, in, out, c->act, c->slope);
    if (r) {
        float *dz = malloc((size_t)n * out * sizeof *dz);
        for (int i = 0; i < n * out; i++) dz[i] = r[i] * ref_act_grad(c->act, y[i], c->slope);
        ref_matmul(dz, x[1], g[0], n, in, out, 0, 0);   /* dx = dz W */
        ref_matmul(dz, x[0], g[1], out, in, n, 1, 0);   /* dW = dz^T x */
        for (int i = 0; c->n_in == 3 && i < n * out; i++) g[2][i % out] += dz[i];
        free(dz);
    }
    return (size_t)n * out;
}

/* Two dense layers without bias, y = act(x W1^T) W2^T: the hidden layer's
 * gradient is a matmul times act'(h), which the GEMM-epilogue pass folds into
 * one matmul_act_grad node. */
static aecl_tensor *b_dense2(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    return aecl_dense(g, aecl_dense(g, x[0], x[1], NULL, c->act, c->slope), x[2], NULL, AECL_ACT_NONE, 0);
}

static size_t r_dense2(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r, float *const *g)
{
    int n = c->in[0].shape[0], in = c->in[0].shape[1], hid = c->in[1].shape[0], out = c->in[2].shape[0];
    float *h = malloc((size_t)n * hid * sizeof *h);
    ref_dense(x[0], x[1], NULL, h, n, in, hid, c->act, c->slope);
    ref_dense(h, x[2], NULL, y, n, hid, out, AECL_ACT_NONE, 0);
    if (r) {
        float *dz = malloc((size_t)n * hid * sizeof *dz);
        ref_matmul(r, x[2], dz, n, hid, out, 0, 0);     /* dh = r W2 */
        ref_matmul(r, h, g[2], out, hid, n, 1, 0);      /* dW2 = r^T h */
        for (int i = 0; i < n * hid; i++) dz[i] *= ref_act_grad(c->act, h[i], c->slope);
        ref_matmul(dz, x[1], g[0], n, in, hid, 0, 0);   /* dx = dz W1 */
        ref_matmul(dz, x[0], g[1], hid, in, n, 1, 0);   /* dW1 = dz^T x */
        free(dz);
    }
    free(h);
    return (size_t)n * out;
}

static aecl_tensor *b_matmul(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    return aecl_matmul(g, x[0], x[1], c->trans_a, c->trans_b);
}

/* g (stored [cols, rows] when trans) from t [rows, cols]. */
static void store_maybe_transposed(const float *t, float *g, int rows, int cols, int trans)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) g[trans ? j * rows + i : i * cols + j] = t[i * cols + j];
}

static size_t r_matmul(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r,
                       float *const *g)
{
    int ta = c->trans_a, tb = c->trans_b;
    int M = c->in[0].shape[ta], K = c->in[0].shape[!ta], N = c->in[1].shape[!tb];
    ref_matmul(x[0], x[1], y, M, N, K, ta, tb);
    if (r) {
        float *t = malloc((size_t)K * (M > N ? M : N) * sizeof *t);
        ref_matmul(r, x[1], t, M, K, N, 0, !tb);   /* d op(A) = dC op(B)^T */
        store_maybe_transposed(t, g[0], M, K, ta);
        ref_matmul(x[0], r, t, K, N, M, !ta, 0);   /* d op(B) = op(A)^T dC */
        store_maybe_transposed(t, g[1], K, N, tb);
        free(t);
    }
    return (size_t)M * N;
}

/* ---- conv2d / conv_transpose2d ------------------------------------------------------ */

static int conv_inputs(const bo_case *c, bo_in *in)
{
    const ref_conv *v = &c->conv;
    in[0] = (bo_in){4, {v->N, v->C, v->H, v->W}, -1, 1, FILL_UNIFORM, 0};
    in[1] = (bo_in){4, {v->transposed ? v->C : v->K, v->transposed ? v->K : v->C, v->kh, v->kw}, -0.5f, 0.5f,
                    FILL_UNIFORM, 0};
    in[2] = (bo_in){1, {v->K}, -0.5f, 0.5f, FILL_UNIFORM, 0};
    return v->bias ? 3 : 2;
}

static aecl_tensor *b_conv(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    const ref_conv *v = &c->conv;
    aecl_tensor *b = v->bias ? x[2] : NULL;
    if (v->transposed)
        return aecl_conv_transpose2d(g, x[0], x[1], b, v->stride, v->pad, v->out_pad, v->act, c->slope);
    return aecl_conv2d(g, x[0], x[1], b, v->stride, v->pad, v->act, c->slope);
}

static size_t r_conv(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r, float *const *g)
{
    const ref_conv *v = &c->conv;
    ref_conv_forward(v, x[0], x[1], v->bias ? x[2] : NULL, c->slope, y);
    if (r) ref_conv_backward(v, x[0], x[1], v->bias ? x[2] : NULL, c->slope, r, g[0], g[1], v->bias ? g[2] : NULL);
    return ref_conv_ysize(v);
}

/* ---- pooling / upsampling ------------------------------------------------------------ */

static int pool_inputs(const bo_case *c, bo_in *in)
{
    const ref_pool *v = &c->pool;
    in[0] = (bo_in){4, {v->N, v->C, v->H, v->W}, 0, 0, FILL_DISTINCT, 0};
    return 1;
}

static aecl_tensor *b_pool(aecl_graph *g, aecl_tensor **x, void *u)
{
    const ref_pool *v = &((const bo_case *)u)->pool;
    switch (v->op) {
    case REF_MAXPOOL: return aecl_maxpool2d(g, x[0], v->k, v->stride);
    case REF_AVGPOOL: return aecl_avgpool2d(g, x[0], v->k, v->stride);
    case REF_NEAREST: return aecl_upsample2d(g, x[0], v->k, AECL_UPSAMPLE_NEAREST);
    default: return aecl_upsample2d(g, x[0], v->k, AECL_UPSAMPLE_BILINEAR);
    }
}

static size_t r_pool(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r, float *const *g)
{
    int Ho, Wo;
    ref_pool_out_hw(&c->pool, &Ho, &Wo);
    ref_pool_apply(&c->pool, x[0], y, r, r ? g[0] : NULL);
    return (size_t)c->pool.N * c->pool.C * Ho * Wo;
}

/* ---- concat / slice -------------------------------------------------------------------- */

/* outer rows of len floats: dst[o * dst_row + dst_off + i] = src[o * src_row + src_off + i]. */
static void copy_rows(size_t outer, size_t len, const float *src, size_t src_row, size_t src_off, float *dst,
                      size_t dst_row, size_t dst_off)
{
    for (size_t o = 0; o < outer; o++) memcpy(dst + o * dst_row + dst_off, src + o * src_row + src_off, len * 4);
}

static aecl_tensor *b_concat(aecl_graph *g, aecl_tensor **x, void *u)
{
    return aecl_concat(g, x[0], x[1], ((const bo_case *)u)->axis);
}

static size_t r_concat(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r,
                       float *const *g)
{
    int axis = c->axis;
    size_t outer, inner;
    around(&c->in[0], axis, &outer, &inner);
    size_t ra = (size_t)c->in[0].shape[axis] * inner, rb = (size_t)c->in[1].shape[axis] * inner;
    copy_rows(outer, ra, x[0], ra, 0, y, ra + rb, 0);
    copy_rows(outer, rb, x[1], rb, 0, y, ra + rb, ra);
    if (r) {
        copy_rows(outer, ra, r, ra + rb, 0, g[0], ra, 0);
        copy_rows(outer, rb, r, ra + rb, ra, g[1], rb, 0);
    }
    return outer * (ra + rb);
}

static aecl_tensor *b_slice(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    return aecl_slice(g, x[0], c->axis, c->start, c->len);
}

static size_t r_slice(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r,
                      float *const *g)
{
    int axis = c->axis;
    size_t outer, inner, row = (size_t)c->in[0].shape[axis];
    around(&c->in[0], axis, &outer, &inner);
    size_t start = (size_t)c->start * inner, len = (size_t)c->len * inner;
    copy_rows(outer, len, x[0], row * inner, start, y, len, 0);
    if (r) copy_rows(outer, len, r, len, 0, g[0], row * inner, start);
    return outer * len;
}

/* A view of a view: [2, 3, 2] -> [2, 1, 3, 2] -> [2, 6] (no launch; the output
 * aliases the parameter). */
static aecl_tensor *b_view(aecl_graph *g, aecl_tensor **x, void *u)
{
    const int shape[4] = {2, 1, 3, 2};
    return aecl_flatten(g, aecl_reshape(g, x[0], 4, shape));
}

static size_t r_view(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r, float *const *g)
{
    size_t n = numel(&c->in[0]);
    memcpy(y, x[0], n * sizeof *y);
    if (r) memcpy(g[0], r, n * sizeof *r);
    return n;
}

/* ---- elementwise -------------------------------------------------------------------------- */

enum { BIN_ADD, BIN_SUB, BIN_MUL };

static aecl_tensor *b_binary(aecl_graph *g, aecl_tensor **x, void *u)
{
    int op = ((const bo_case *)u)->which;
    return op == BIN_ADD ? aecl_add(g, x[0], x[1]) : op == BIN_SUB ? aecl_sub(g, x[0], x[1]) : aecl_mul(g, x[0], x[1]);
}

static size_t r_binary(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r,
                       float *const *g)
{
    size_t n = numel(&c->in[0]);
    int op = c->which;
    for (size_t i = 0; i < n; i++) {
        y[i] = op == BIN_ADD ? x[0][i] + x[1][i] : op == BIN_SUB ? x[0][i] - x[1][i] : x[0][i] * x[1][i];
        if (!r) continue;
        g[0][i] = op == BIN_MUL ? r[i] * x[1][i] : r[i];
        g[1][i] = op == BIN_MUL ? r[i] * x[0][i] : op == BIN_SUB ? -r[i] : r[i];
    }
    return n;
}

static aecl_tensor *b_affine(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    return aecl_affine(g, x[0], c->alpha, c->beta);
}

static size_t r_affine(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r,
                       float *const *g)
{
    size_t n = numel(&c->in[0]);
    for (size_t i = 0; i < n; i++) {
        y[i] = c->alpha * x[0][i] + c->beta;
        if (r) g[0][i] = c->alpha * r[i];
    }
    return n;
}

static aecl_tensor *b_act(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    return aecl_activation(g, x[0], c->act, c->slope);
}

static size_t r_act(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r, float *const *g)
{
    size_t n = numel(&c->in[0]);
    for (size_t i = 0; i < n; i++) {
        y[i] = ref_act(c->act, x[0][i], c->slope);
        if (r) g[0][i] = r[i] * ref_act_grad(c->act, y[i], c->slope);
    }
    return n;
}

/* gx = gy * act'(y): the activation's backward as an op of its own. */
static aecl_tensor *b_act_grad(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    return aecl_activation_grad(g, x[0], x[1], c->act, c->slope);
}

static size_t r_act_grad(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r,
                         float *const *g)
{
    size_t n = numel(&c->in[0]);
    for (size_t i = 0; i < n; i++) y[i] = x[1][i] * ref_act_grad(c->act, x[0][i], c->slope);
    return n;
}

/* y = (2 tanh(x0 x1 + x2) - 1 - x3) * fill(0.5): six pointwise nodes and a
 * constant, one generated kernel when fused (and its backward chains). */
static aecl_tensor *b_chain(aecl_graph *g, aecl_tensor **x, void *u)
{
    aecl_tensor *t = aecl_add(g, aecl_mul(g, x[0], x[1]), x[2]);
    t = aecl_sub(g, aecl_affine(g, aecl_activation(g, t, AECL_ACT_TANH, 0), 2.0f, -1.0f), x[3]);
    return aecl_mul(g, t, aecl_fill(g, x[0]->ndim, x[0]->shape, 0.5f));
}

static size_t r_chain(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r,
                      float *const *g)
{
    size_t n = numel(&c->in[0]);
    for (size_t i = 0; i < n; i++) {
        double th = tanh((double)x[0][i] * x[1][i] + x[2][i]);
        y[i] = (float)((2 * th - 1 - x[3][i]) * 0.5);
        if (!r) continue;
        double du = r[i] * (1 - th * th); /* d/du of 0.5 * 2 tanh(u) */
        g[0][i] = (float)(du * x[1][i]);
        g[1][i] = (float)(du * x[0][i]);
        g[2][i] = (float)du;
        g[3][i] = -0.5f * r[i];
    }
    return n;
}

/* ---- reductions ------------------------------------------------------------------------------- */

enum { RED_SUM, RED_MEAN, RED_CHANNEL_SUM, RED_ADD_CHANNEL, RED_BROADCAST, RED_L1, RED_MASKED };

static aecl_tensor *b_reduce(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    switch (c->which) {
    case RED_SUM: return aecl_sum(g, x[0]);
    case RED_MEAN: return aecl_mean(g, x[0]);
    case RED_CHANNEL_SUM: return aecl_channel_sum(g, x[0]);
    case RED_ADD_CHANNEL: return aecl_add_channel(g, x[0], x[1]);
    case RED_BROADCAST: return aecl_channel_broadcast(g, x[0], x[1]);
    case RED_L1: return aecl_l1_activity(g, x[0], c->scale);
    default: return aecl_masked_mean(g, x[0], c->scale);
    }
}

static size_t r_reduce(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r,
                       float *const *g)
{
    const bo_in *shaped = c->which == RED_BROADCAST ? &c->in[1] : &c->in[0];
    size_t n = numel(shaped), outer, inner;
    around(shaped, 1, &outer, &inner);
    int C = shaped->ndim > 1 ? shaped->shape[1] : 1;
    int rows = shaped->shape[0], valid = e->valid < rows ? e->valid : rows;
    size_t counted = (size_t)valid * (n / (size_t)rows);
    double s = 0;
    switch (c->which) {
    case RED_SUM:
    case RED_MEAN: {
        double f = c->which == RED_MEAN ? 1.0 / (double)n : 1.0;
        for (size_t i = 0; i < n; i++) s += x[0][i];
        y[0] = (float)(s * f);
        for (size_t i = 0; r && i < n; i++) g[0][i] = (float)(r[0] * f);
        return 1;
    }
    case RED_CHANNEL_SUM: {
        double acc[64] = {0}; /* the cases have at most 64 channels */
        for (size_t i = 0; i < n; i++) acc[(i / inner) % (size_t)C] += x[0][i];
        for (int k = 0; k < C; k++) y[k] = (float)acc[k];
        for (size_t i = 0; r && i < n; i++) g[0][i] = r[(i / inner) % (size_t)C];
        return (size_t)C;
    }
    case RED_ADD_CHANNEL:
    case RED_BROADCAST: {
        int has_x = c->which == RED_ADD_CHANNEL;
        const float *v = has_x ? x[1] : x[0];
        float *gv = has_x ? (r ? g[1] : NULL) : (r ? g[0] : NULL);
        for (size_t i = 0; i < n; i++) {
            size_t k = (i / inner) % (size_t)C;
            y[i] = (has_x ? x[0][i] : 0.0f) + v[k];
            if (!r) continue;
            if (has_x) g[0][i] = r[i];
            gv[k] += r[i];
        }
        return n;
    }
    case RED_L1:
        for (size_t i = 0; i < counted; i++) s += fabs(x[0][i]);
        y[0] = (float)(c->scale * s / valid);
        for (size_t i = 0; r && i < counted; i++)
            g[0][i] = (float)(r[0] * c->scale / valid * (x[0][i] > 0 ? 1 : x[0][i] < 0 ? -1 : 0));
        return 1;
    default:
        for (size_t i = 0; i < counted; i++) s += x[0][i];
        y[0] = (float)(c->scale * s / valid);
        for (size_t i = 0; r && i < counted; i++) g[0][i] = (float)(r[0] * c->scale / valid);
        return 1;
    }
}

/* ---- losses ------------------------------------------------------------------------------------ */

enum { LOSS_ROWS, LOSS_KL, LOSS_MEAN };

static aecl_tensor *b_loss(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    if (c->which == LOSS_KL) return aecl_kl_rows(g, x[0], x[1]);
    if (c->which == LOSS_ROWS) return aecl_loss_rows(g, c->loss, x[0], x[1]);
    return aecl_loss_mean(g, c->loss, x[0], x[1], c->scale, NULL);
}

static size_t r_loss(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r, float *const *g)
{
    int rows = c->in[0].shape[0], cols = (int)(numel(&c->in[0]) / (size_t)rows), kind = c->loss;
    int valid = e->valid < rows ? e->valid : rows, mean = c->which == LOSS_MEAN;
    double total = 0;
    for (int row = 0; row < rows; row++) {
        double s = 0;
        for (int k = row * cols; k < (row + 1) * cols; k++) {
            double a = x[0][k], b = x[1][k];
            s += c->which == LOSS_KL ? ref_kl_term(a, b) : ref_loss_term(kind, a, b);
            if (!r) continue;
            if (c->which == LOSS_KL) {
                g[0][k] = (float)(r[row] * ref_kl_dterm(0, a, b));
                g[1][k] = (float)(r[row] * ref_kl_dterm(1, a, b));
            } else if (!mean) {
                g[0][k] = (float)(r[row] * ref_loss_dterm(kind, a, b));
            } else if (row < valid) {
                g[0][k] = (float)(r[0] * c->scale / valid * ref_loss_dterm(kind, a, b));
            }
        }
        if (!mean) y[row] = (float)s;
        else if (row < valid) total += s;
    }
    if (mean) y[0] = (float)(c->scale * total / valid);
    return mean ? 1 : (size_t)rows;
}

/* ---- random ops --------------------------------------------------------------------------------- */

enum { RNG_DROPOUT, RNG_NOISE, RNG_REPARAM };

static aecl_tensor *b_random(aecl_graph *g, aecl_tensor **x, void *u)
{
    const bo_case *c = u;
    if (c->which == RNG_DROPOUT) return aecl_dropout(g, x[0], c->prob);
    if (c->which == RNG_NOISE) return aecl_noise(g, x[0], c->noise, c->prob, c->clip);
    return aecl_reparameterize(g, x[0], x[1], 1);
}

static size_t r_random(const bo_case *c, const bo_env *e, float *const *x, float *y, const float *r,
                       float *const *g)
{
    size_t n = numel(&c->in[0]);
    for (uint32_t i = 0; i < (uint32_t)n; i++) {
        if (c->which == RNG_DROPOUT) {
            y[i] = ref_dropout(x[0][i], c->prob, SEED, STEP, e->op, i);
            if (r) g[0][i] = ref_dropout(r[i], c->prob, SEED, STEP, e->op, i);
        } else if (c->which == RNG_NOISE) {
            float d;
            y[i] = ref_noise(c->noise, c->prob, c->clip, x[0][i], SEED, STEP, e->op, i, &d);
            if (r) g[0][i] = d * r[i];
        } else {
            double eps, sd;
            y[i] = (float)ref_reparam(x[0][i], x[1][i], SEED, STEP, e->op, i, &eps, &sd);
            if (!r) continue;
            g[0][i] = r[i];
            g[1][i] = (float)(0.5 * r[i] * eps * sd);
        }
    }
    return n;
}

/* ---- the op cases ------------------------------------------------------------------------------------ */

#define IN2(a, b) 2, {a, b}
#define IN4(a, b, c, d) 4, {a, b, c, d}
#define U(lo, hi) lo, hi, FILL_UNIFORM, 0
#define AWAY0(lo, hi) lo, hi, FILL_AWAY0, 0
#define DATA(lo, hi) lo, hi, FILL_UNIFORM, 1
#define DENSE(nm, act_, sl, fdp, ...) \
    {.name = nm, .family = F_GEMM, .build = b_dense, .ref = r_dense, .grad = 1, .fd = fdp, .act = act_, \
     .slope = sl, __VA_ARGS__}
#define MATMUL(nm, ta, tb, M, K, N)                                                                      \
    {.name = nm, .family = F_GEMM, .build = b_matmul, .ref = r_matmul, .n_in = 2,                        \
     .in = {{IN2(ta ? K : M, ta ? M : K), U(-1, 1)}, {IN2(tb ? N : K, tb ? K : N), U(-1, 1)}}, .grad = 1, \
     .fd = 4, .trans_a = ta, .trans_b = tb}
#define CONV(nm, fdp, sl, ...)                                                                              \
    {.name = nm, .family = F_CONV, .build = b_conv, .ref = r_conv, .inputs = conv_inputs, .grad = 1, .fd = fdp, \
     .slope = sl, .conv = {__VA_ARGS__}}
#define POOL(nm, ...) \
    {.name = nm, .family = F_MISC, .build = b_pool, .ref = r_pool, .inputs = pool_inputs, .grad = 1, .fd = 4, \
     .pool = {__VA_ARGS__}}
#define ACT(nm, a, sl, fdp)                                                                                   \
    {.name = nm, .family = F_MISC, .build = b_act, .ref = r_act, .n_in = 1, .in = {{IN2(3, 5), AWAY0(-2, 2)}}, \
     .grad = 1, .fd = fdp, .fuse = 1, .act = a, .slope = sl}

static const bo_case cases[] = {
    /* dense: every activation, bias and none, batch 1, K = 1, out 1, a 4-D input
     * (flattened), and K = 133 (gemm_dot; past a small gemm_packed KMAX) */
    DENSE("dense none bias 3x5->7", AECL_ACT_NONE, 0, 3, .n_in = 3,
          .in = {{IN2(3, 5), U(-1, 1)}, {IN2(7, 5), U(-1, 1)}, {1, {7}, U(-1, 1)}}),
    DENSE("dense relu bias 1x7->3", AECL_ACT_RELU, 0, 0, .n_in = 3,
          .in = {{IN2(1, 7), U(-1, 1)}, {IN2(3, 7), U(-1, 1)}, {1, {3}, U(-1, 1)}}),
    DENSE("dense leaky_relu bias 2x3x1x2->5", AECL_ACT_LEAKY_RELU, 0.1f, 0, .n_in = 3,
          .in = {{IN4(2, 3, 1, 2), U(-1, 1)}, {IN2(5, 6), U(-1, 1)}, {1, {5}, U(-1, 1)}}),
    DENSE("dense sigmoid bias 5x1->2 (K=1)", AECL_ACT_SIGMOID, 0, 3, .n_in = 3,
          .in = {{IN2(5, 1), U(-1, 1)}, {IN2(2, 1), U(-1, 1)}, {1, {2}, U(-1, 1)}}),
    DENSE("dense tanh 4x9->1", AECL_ACT_TANH, 0, 3, .n_in = 2, .in = {{IN2(4, 9), U(-1, 1)}, {IN2(1, 9), U(-1, 1)}}),
    DENSE("dense elu bias 2x17->3", AECL_ACT_ELU, 1.0f, 3, .n_in = 3,
          .in = {{IN2(2, 17), U(-1, 1)}, {IN2(3, 17), U(-1, 1)}, {1, {3}, U(-1, 1)}}),
    DENSE("dense softplus 6x4->5", AECL_ACT_SOFTPLUS, 0, 3, .n_in = 2,
          .in = {{IN2(6, 4), U(-1, 1)}, {IN2(5, 4), U(-1, 1)}}),
    DENSE("dense none bias 2x133->3", AECL_ACT_NONE, 0, 2, .n_in = 3,
          .in = {{IN2(2, 133), U(-1, 1)}, {IN2(3, 133), U(-1, 1)}, {1, {3}, U(-1, 1)}}),
    {.name = "dense x2 tanh 3x5->4->2 (matmul_act_grad)", .family = F_GEMM, .build = b_dense2, .ref = r_dense2,
     .n_in = 3, .in = {{IN2(3, 5), U(-1, 1)}, {IN2(4, 5), U(-1, 1)}, {IN2(2, 4), U(-1, 1)}}, .grad = 1, .fd = 3,
     .act = AECL_ACT_TANH},
    /* matmul: op(A) [M, K] op(B) [K, N] for every transpose pair */
    MATMUL("matmul nn 3x7x5", 0, 0, 3, 7, 5),
    MATMUL("matmul tn 3x7x5", 1, 0, 3, 7, 5),
    MATMUL("matmul nt 3x7x5", 0, 1, 3, 7, 5),
    MATMUL("matmul tt 3x7x5", 1, 1, 3, 7, 5),
    MATMUL("matmul nt 2x1x3 (K=1)", 0, 1, 2, 1, 3),
    MATMUL("matmul tn 1x6x2 (M=1)", 1, 0, 1, 6, 2),
    /* conv2d {transposed, N, C, H, W, K, kh, kw, stride, pad, out_pad, bias, act}:
     * one input channel (PX kind where vectors are 4+ wide), few output channels
     * (DOT), 9 of both (VEC), strides 1-3, 1x1 and 2x3 kernels */
    CONV("conv C1 K5 3x3 s1 p1 relu", 0, 0, 0, 1, 1, 7, 6, 5, 3, 3, 1, 1, 0, 1, AECL_ACT_RELU),
    CONV("conv C3 K1 2x3 s2 sigmoid", 3, 0, 0, 2, 3, 5, 7, 1, 2, 3, 2, 0, 0, 1, AECL_ACT_SIGMOID),
    CONV("conv C5 K9 1x1 s3 nobias", 3, 0, 0, 1, 5, 6, 5, 9, 1, 1, 3, 0, 0, 0, AECL_ACT_NONE),
    CONV("conv C2 K3 3x3 s2 p1 tanh", 3, 0, 0, 2, 2, 4, 9, 3, 3, 3, 2, 1, 0, 1, AECL_ACT_TANH),
    CONV("conv C9 K2 3x2 s1 p1 leaky", 0, 0.1f, 0, 1, 9, 3, 4, 2, 3, 2, 1, 1, 0, 1, AECL_ACT_LEAKY_RELU),
    CONV("conv C1 K7 3x3 s2 p1 elu", 2, 1.0f, 0, 1, 1, 9, 11, 7, 3, 3, 2, 1, 0, 1, AECL_ACT_ELU),
    CONV("convT C3 K2 3x3 s2 p1 op1 relu", 0, 0, 1, 1, 3, 3, 4, 2, 3, 3, 2, 1, 1, 1, AECL_ACT_RELU),
    CONV("convT C1 K5 2x3 s3 op2 nobias", 3, 0, 1, 2, 1, 2, 3, 5, 2, 3, 3, 0, 2, 0, AECL_ACT_NONE),
    CONV("convT C4 K1 1x1 s1 sigmoid", 3, 0, 1, 1, 4, 3, 3, 1, 1, 1, 1, 0, 0, 1, AECL_ACT_SIGMOID),
    CONV("convT C2 K9 3x3 s1 p1 softplus", 2, 0, 1, 1, 2, 2, 3, 9, 3, 3, 1, 1, 0, 1, AECL_ACT_SOFTPLUS),
    CONV("convT C7 K3 2x2 s2 op1 tanh", 2, 0, 1, 2, 7, 2, 1, 3, 2, 2, 2, 0, 1, 1, AECL_ACT_TANH),
    /* pooling {op, N, C, H, W, k, stride} and upsampling (k: the factor) */
    POOL("maxpool 2/2 3x5x7", REF_MAXPOOL, 1, 3, 5, 7, 2, 2),
    POOL("maxpool 3/1 overlapping", REF_MAXPOOL, 2, 1, 4, 5, 3, 1),
    POOL("avgpool 2/1 2x3x5", REF_AVGPOOL, 1, 2, 3, 5, 2, 1),
    POOL("avgpool 3/2 7x5", REF_AVGPOOL, 2, 1, 7, 5, 3, 2),
    POOL("upsample nearest x2 3x1", REF_NEAREST, 1, 2, 3, 1, 2, 0),
    POOL("upsample nearest x3 1x2", REF_NEAREST, 2, 1, 1, 2, 3, 0),
    POOL("upsample bilinear x2 2x3", REF_BILINEAR, 1, 3, 2, 3, 2, 0),
    POOL("upsample bilinear x3 3x1", REF_BILINEAR, 1, 1, 3, 1, 3, 0),
    /* concat / slice */
    {.name = "concat axis 1 [2,3]+[2,5]", .family = F_MISC, .build = b_concat, .ref = r_concat, .n_in = 2,
     .in = {{IN2(2, 3), U(-1, 1)}, {IN2(2, 5), U(-1, 1)}}, .grad = 1, .fd = 3, .axis = 1},
    {.name = "concat axis 0 4-D", .family = F_MISC, .build = b_concat, .ref = r_concat, .n_in = 2,
     .in = {{IN4(1, 3, 2, 1), U(-1, 1)}, {IN4(2, 3, 2, 1), U(-1, 1)}}, .grad = 1, .fd = 3, .axis = 0},
    {.name = "concat axis 3 4-D", .family = F_MISC, .build = b_concat, .ref = r_concat, .n_in = 2,
     .in = {{IN4(2, 1, 3, 2), U(-1, 1)}, {IN4(2, 1, 3, 1), U(-1, 1)}}, .grad = 1, .fd = 3, .axis = 3},
    {.name = "slice axis 1 [3,7] 2+3", .family = F_MISC, .build = b_slice, .ref = r_slice, .n_in = 1,
     .in = {{IN2(3, 7), U(-1, 1)}}, .grad = 1, .fd = 3, .axis = 1, .start = 2, .len = 3},
    {.name = "slice axis 2 4-D 4+1", .family = F_MISC, .build = b_slice, .ref = r_slice, .n_in = 1,
     .in = {{IN4(2, 3, 5, 1), U(-1, 1)}}, .grad = 1, .fd = 3, .axis = 2, .start = 4, .len = 1},
    {.name = "reshape+flatten 2x3x2", .family = F_MISC, .build = b_view, .ref = r_view, .n_in = 1,
     .in = {{3, {2, 3, 2}, U(-1, 1)}}, .grad = 1, .fd = 2, .fuse = 1},
    /* elementwise, fused and not */
    {.name = "add 3x5", .family = F_MISC, .build = b_binary, .ref = r_binary, .n_in = 2,
     .in = {{IN2(3, 5), U(-1, 1)}, {IN2(3, 5), U(-1, 1)}}, .grad = 1, .fd = 2, .fuse = 1, .which = BIN_ADD},
    {.name = "sub 1x7", .family = F_MISC, .build = b_binary, .ref = r_binary, .n_in = 2,
     .in = {{IN2(1, 7), U(-1, 1)}, {IN2(1, 7), U(-1, 1)}}, .grad = 1, .fd = 2, .fuse = 1, .which = BIN_SUB},
    {.name = "mul 2x3x1x3", .family = F_MISC, .build = b_binary, .ref = r_binary, .n_in = 2,
     .in = {{IN4(2, 3, 1, 3), U(-1, 1)}, {IN4(2, 3, 1, 3), U(-1, 1)}}, .grad = 1, .fd = 2, .fuse = 1, .which = BIN_MUL},
    {.name = "affine 5x3", .family = F_MISC, .build = b_affine, .ref = r_affine, .n_in = 1,
     .in = {{IN2(5, 3), U(-1, 1)}}, .grad = 1, .fd = 2, .fuse = 1, .alpha = -1.5f, .beta = 0.25f},
    ACT("activation relu", AECL_ACT_RELU, 0, 2),
    ACT("activation leaky_relu", AECL_ACT_LEAKY_RELU, 0.1f, 2),
    ACT("activation sigmoid", AECL_ACT_SIGMOID, 0, 2),
    ACT("activation tanh", AECL_ACT_TANH, 0, 2),
    ACT("activation elu", AECL_ACT_ELU, 1.0f, 2),
    ACT("activation softplus", AECL_ACT_SOFTPLUS, 0, 2),
    {.name = "activation_grad elu", .family = F_MISC, .build = b_act_grad, .ref = r_act_grad, .n_in = 2,
     .in = {{IN2(3, 7), DATA(-0.9f, 2)}, {IN2(3, 7), DATA(-1, 1)}}, .fuse = 1, .act = AECL_ACT_ELU, .slope = 1.0f},
    {.name = "chain tanh(x0 x1 + x2)", .family = F_MISC, .build = b_chain, .ref = r_chain, .n_in = 4,
     .in = {{IN2(3, 5), U(-1, 1)}, {IN2(3, 5), U(-1, 1)}, {IN2(3, 5), U(-1, 1)}, {IN2(3, 5), U(-1, 1)}},
     .grad = 1, .fd = 2, .fuse = 1},
    /* reductions */
    {.name = "sum 3x5", .family = F_MISC, .build = b_reduce, .ref = r_reduce, .n_in = 1,
     .in = {{IN2(3, 5), U(-1, 1)}}, .grad = 1, .fd = 2, .which = RED_SUM},
    {.name = "mean 2x3x1x2", .family = F_MISC, .build = b_reduce, .ref = r_reduce, .n_in = 1,
     .in = {{IN4(2, 3, 1, 2), U(-1, 1)}}, .grad = 1, .fd = 2, .which = RED_MEAN},
    {.name = "channel_sum 2x3x2x2", .family = F_MISC, .build = b_reduce, .ref = r_reduce, .n_in = 1,
     .in = {{IN4(2, 3, 2, 2), U(-1, 1)}}, .grad = 1, .fd = 2, .which = RED_CHANNEL_SUM},
    /* a bias gradient: 16 channels per item (channel_sum_rows), two full vectors and a tail of 5 */
    {.name = "channel_sum rows 3x37", .family = F_MISC, .build = b_reduce, .ref = r_reduce, .n_in = 1,
     .in = {{IN2(3, 37), U(-1, 1)}}, .grad = 1, .fd = 2, .which = RED_CHANNEL_SUM},
    {.name = "add_channel 2x3x1x2", .family = F_MISC, .build = b_reduce, .ref = r_reduce, .n_in = 2,
     .in = {{IN4(2, 3, 1, 2), U(-1, 1)}, {1, {3}, U(-1, 1)}}, .grad = 1, .fd = 2, .which = RED_ADD_CHANNEL},
    {.name = "channel_broadcast 5 -> 1x5x3", .family = F_MISC, .build = b_reduce, .ref = r_reduce, .n_in = 2,
     .in = {{1, {5}, U(-1, 1)}, {IN4(1, 5, 3, 1), DATA(0, 1)}}, .grad = 1, .fd = 2, .which = RED_BROADCAST},
    {.name = "l1_activity 4x3 valid 3", .family = F_MISC, .build = b_reduce, .ref = r_reduce, .n_in = 1,
     .in = {{IN2(4, 3), AWAY0(-1, 1)}}, .grad = 1, .fd = 2, .valid = 3, .which = RED_L1, .scale = 0.3f},
    {.name = "masked_mean 5 valid 3", .family = F_MISC, .build = b_reduce, .ref = r_reduce, .n_in = 1,
     .in = {{1, {5}, U(-1, 1)}}, .grad = 1, .fd = 2, .valid = 3, .which = RED_MASKED, .scale = 0.7f},
    /* losses: rows of 1 to 17 elements */
    {.name = "loss_rows mse 3x7", .family = F_LOSS, .build = b_loss, .ref = r_loss, .n_in = 2,
     .in = {{IN2(3, 7), U(-1, 1)}, {IN2(3, 7), DATA(-1, 1)}}, .grad = 1, .fd = 3, .which = LOSS_ROWS,
     .loss = AECL_LOSS_MSE},
    {.name = "loss_rows mse 2x17", .family = F_LOSS, .build = b_loss, .ref = r_loss, .n_in = 2,
     .in = {{IN2(2, 17), U(-1, 1)}, {IN2(2, 17), DATA(-1, 1)}}, .grad = 1, .fd = 2, .which = LOSS_ROWS,
     .loss = AECL_LOSS_MSE},
    {.name = "loss_rows bce 2x9", .family = F_LOSS, .build = b_loss, .ref = r_loss, .n_in = 2,
     .in = {{IN2(2, 9), U(-6, 6)}, {IN2(2, 9), DATA(0, 1)}}, .grad = 1, .fd = 3, .which = LOSS_ROWS,
     .loss = AECL_LOSS_BCE},
    {.name = "loss_rows bce 5x1", .family = F_LOSS, .build = b_loss, .ref = r_loss, .n_in = 2,
     .in = {{IN2(5, 1), U(-6, 6)}, {IN2(5, 1), DATA(0, 1)}}, .grad = 1, .fd = 2, .which = LOSS_ROWS,
     .loss = AECL_LOSS_BCE},
    {.name = "kl_rows 3x5", .family = F_LOSS, .build = b_loss, .ref = r_loss, .n_in = 2,
     .in = {{IN2(3, 5), U(-1, 1)}, {IN2(3, 5), U(-2, 1)}}, .grad = 1, .fd = 2, .which = LOSS_KL},
    {.name = "loss_mean mse 4x3 valid 3", .family = F_LOSS, .build = b_loss, .ref = r_loss, .n_in = 2,
     .in = {{IN2(4, 3), U(-1, 1)}, {IN2(4, 3), DATA(-1, 1)}}, .grad = 1, .fd = 3, .valid = 3,
     .which = LOSS_MEAN, .loss = AECL_LOSS_MSE, .scale = 0.5f},
    {.name = "loss_mean bce 1x6", .family = F_LOSS, .build = b_loss, .ref = r_loss, .n_in = 2,
     .in = {{IN2(1, 6), U(-4, 4)}, {IN2(1, 6), DATA(0, 1)}}, .grad = 1, .fd = 3, .which = LOSS_MEAN,
     .loss = AECL_LOSS_BCE, .scale = 1.25f},
    /* random ops: 69 elements, past 16 Philox blocks of 4 */
    {.name = "dropout 0.3 3x23", .family = F_RNG, .build = b_random, .ref = r_random, .n_in = 1,
     .in = {{IN2(3, 23), U(-1, 1)}}, .grad = 1, .fd = 3, .which = RNG_DROPOUT, .prob = 0.3f},
    {.name = "noise gaussian 0.3 3x23", .family = F_RNG, .build = b_random, .ref = r_random, .n_in = 1,
     .in = {{IN2(3, 23), U(0.1f, 0.9f)}}, .grad = 1, .fd = 3, .which = RNG_NOISE, .noise = AECL_NOISE_GAUSSIAN,
     .clip = 0, .prob = 0.3f},
    {.name = "noise mask 0.4 clip 3x23", .family = F_RNG, .build = b_random, .ref = r_random, .n_in = 1,
     .in = {{IN2(3, 23), U(0.1f, 0.9f)}}, .grad = 1, .fd = 3, .which = RNG_NOISE, .noise = AECL_NOISE_MASK,
     .clip = 1, .prob = 0.4f},
    {.name = "noise salt_pepper 0.2 clip 3x23", .family = F_RNG, .build = b_random, .ref = r_random, .n_in = 1,
     .in = {{IN2(3, 23), U(0.1f, 0.9f)}}, .grad = 1, .fd = 3, .which = RNG_NOISE, .noise = AECL_NOISE_SALT_PEPPER,
     .clip = 1,
     .prob = 0.2f},
    {.name = "reparameterize 3x23", .family = F_RNG, .build = b_random, .ref = r_random, .n_in = 2,
     .in = {{IN2(3, 23), U(-2, 2)}, {IN2(3, 23), U(-3, 1.5f)}}, .grad = 1, .fd = 3, .which = RNG_REPARAM},
};
enum { N_CASES = sizeof cases / sizeof cases[0] };

/* ---- the variants ------------------------------------------------------------------------------------ */

typedef struct bo_variant {
    const char *spec;
    unsigned family;    /* the cases it concerns */
    int fd;             /* finite differences here */
    const char *takes;  /* kernels (or host launches: clblast) its plans must launch, and
                           with a '!' must not: proof that the keys took effect on any device */
} bo_variant;

#define CONV_KINDS "conv_fwd conv_fwd_px conv_fwd_dot conv_tr_fwd conv_tr_fwd_dot"
static const bo_variant variants[] = {
    {"", F_ALL, 1, "poison"},
    {"type=gpu", F_ALL, 1, CONV_KINDS},
    {"type=gpu,wg_max=32", F_ALL, 0, ""},
    {"type=cpu,simd=8", F_ALL, 1, ""},
    {"type=cpu,simd=4", F_ALL, 0, ""},
    {"wg_max=1", F_ALL, 0, ""},
    {"conv_vw=4,conv_p=4,conv_kv=1,conv_wj=4", F_CONV, 0, CONV_KINDS},
    {"type=cpu,conv_vw=4,conv_p=4,conv_kv=1,conv_wj=4", F_CONV, 0, CONV_KINDS},
    {"type=gpu,conv_vw=16,conv_p=8,conv_kv=2,conv_wj=8", F_CONV, 0, CONV_KINDS},
    {"conv_vw=8,conv_p=7,conv_kv=2,conv_wj=9", F_CONV, 0, CONV_KINDS},
    {"conv_vw=1,conv_p=1,conv_kv=1,conv_wj=1", F_CONV, 0, "conv_fwd conv_tr_fwd !conv_fwd_px !conv_fwd_dot"},
    {"conv_vw=16,conv_p=3,conv_kv=3,conv_wj=5", F_CONV, 0, CONV_KINDS},
    {"gemm=own,gemm_kernel=outer", F_GEMM, 0, "gemm_outer !gemm_packed !gemm_dot !clblast"},
    {"gemm=own,gemm_kernel=packed", F_GEMM, 0, "gemm_packed !clblast"},
    {"gemm=own,gemm_kernel=dot", F_GEMM, 0, "gemm_dot !gemm_packed !clblast"},
    {"gemm=own,gemm_kernel=portable", F_GEMM, 0, "gemm_outer gemm_dot !gemm_packed !clblast"},
    {"type=cpu,gemm=own,gemm_vw=16", F_GEMM, 0, "gemm_packed gemm_outer !clblast"},
    /* gemm_packed's KMAX shrinks to 16 (CPU) or 128 (GPU blocks): K = 133 takes gemm_dot */
    {"gemm=own,gemm_kernel=packed,local_mem=4096", F_GEMM, 0, "gemm_packed gemm_dot !clblast"},
    {"gemm=clblast", F_GEMM, 0, "clblast gemm_epilogue !gemm_outer !gemm_packed !gemm_dot"},
    {"rng_blocks=1", F_RNG, 0, "dropout noise reparam"},
    {"rng_blocks=4", F_RNG, 0, "dropout noise reparam"},
    {"rng_blocks=16", F_RNG, 0, "dropout noise reparam"},
    {"loss_vw=1,loss_wg=16", F_LOSS, 0, "loss_rows kl_rows loss_mean_grad"},
    {"loss_vw=4,loss_wg=1", F_LOSS, 0, "loss_rows kl_rows loss_mean_grad"},
};
enum { N_VARIANTS = sizeof variants / sizeof variants[0] };

/* ---- running a case ------------------------------------------------------------------------------------ */

static int case_inputs(const bo_case *c, bo_in *in)
{
    if (c->inputs) return c->inputs(c, in);
    memcpy(in, c->in, sizeof c->in);
    return c->n_in;
}

static void fill_input(const bo_in *in, float *x, unsigned *state)
{
    size_t n = numel(in);
    if (in->fill == FILL_DISTINCT) {
        ref_fill_distinct(x, n, state);
        return;
    }
    test_fill_uniform(x, n, in->lo, in->hi, state);
    for (size_t i = 0; in->fill == FILL_AWAY0 && i < n; i++)
        if (fabsf(x[i]) < 0.1f) x[i] += x[i] < 0 ? -0.1f : 0.1f;
}

/* got against want (n floats): the worst error and the first element over the
 * tolerance in the message. */
static void compare(const char *what, const char *label, const float *got, const float *want, size_t n, double atol,
                    double rtol)
{
    double worst = test_rel_err(got, want, n, atol, rtol);
    size_t bad = 0;
    while (bad < n && fabs((double)got[bad] - want[bad]) <= atol + rtol * fabs((double)want[bad])) bad++;
    CHECK_MSG(worst <= 1, "%s: %s: worst error %.3g of the tolerance; element %zu of %zu: got %.8g, expected %.8g",
              label, what, worst, bad, n, bad < n ? (double)got[bad] : 0.0, bad < n ? (double)want[bad] : 0.0);
}

/* The kernels the current variant's plans launched, and their host-side
 * launches: "poison" fills and "clblast" (CLBlast calls, the only other kind
 * besides Adam's update; the op relabels those launches). */
static char seen[96][40];
static int n_seen;

static void note(const char *name)
{
    int k = 0;
    while (k < n_seen && strcmp(seen[k], name)) k++;
    if (k == n_seen && n_seen < 96) snprintf(seen[n_seen++], sizeof seen[0], "%s", name);
}

/* A kernel's name without the suffix "_vN" that a variant sharing a program
 * with others carries (lib/rt/variants.c). */
static void strip_variant(char *name)
{
    char *u = strrchr(name, '_');
    if (u && u[1] == 'v' && u[2] && strspn(u + 2, "0123456789") == strlen(u + 2)) *u = 0;
}

static void note_kernels(const aecl_plan *p)
{
    for (int i = 0; p && i < p->n_launches; i++) {
        const aecl_launch *l = &p->launches[i];
        char name[40];
        int named = l->kernel &&
                    clGetKernelInfo(l->kernel, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL) == CL_SUCCESS;
        /* Adam's update is a host-side launch too: it sets its step's bias corrections */
        int adam = named && !strcmp(name, "optim_adam_all");
        if (l->fn && !adam) note(l->label && !strcmp(l->label, "poison") ? "poison" : "clblast");
        if (named) strip_variant(name);
        if (named) note(name);
    }
}

static int was_seen(const char *name)
{
    for (int k = 0; k < n_seen; k++)
        if (!strcmp(seen[k], name)) return 1;
    return 0;
}

/* Every kernel of `takes` launched, none of its !kernels. */
static void check_takes(const bo_variant *V)
{
    char list[256], *save = NULL;
    snprintf(list, sizeof list, "%s", V->takes);
    for (char *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        int neg = *w == '!';
        CHECK_MSG(was_seen(w + neg) != neg, "[%s]: %s%s launched", V->spec, w + neg, neg ? "" : " never");
    }
}

/* ---- the op table ---------------------------------------------------------------------------------------
 *
 * Every op of lib/ops/op_list.h must appear in some case's graph (its forward,
 * backward or fused form), and every op with a backward rule must be
 * differentiated in a graph whose gradients the finite differences checked:
 * an op added to the table without a case fails here, as does an op whose
 * nodes no table lists. */

static int op_seen[128], op_fd_checked[128], n_unlisted;
static char unlisted[8][40];

static int op_index(const aecl_op_def *op)
{
    for (int k = 0; k < aecl_op_table_size; k++)
        if (aecl_op_table[k] == op) return k;
    return -1;
}

/* Notes the ops of g (nodes and the nodes fusion folded away); with fd (the
 * graph's gradients go to finite differences), the differentiated ones too. */
static void note_ops(const aecl_graph *g, int fd)
{
    for (int i = 0; g && i < g->n_nodes + g->n_fused_away; i++) {
        const aecl_tensor *t = i < g->n_nodes ? g->nodes[i] : g->fused_away[i - g->n_nodes];
        if (!t->op) continue;
        int k = op_index(t->op);
        if (k < 0) {
            int known = 0;
            for (int u = 0; u < n_unlisted; u++) known |= !strcmp(unlisted[u], t->op->name);
            if (!known && n_unlisted < 8) snprintf(unlisted[n_unlisted++], sizeof unlisted[0], "%s", t->op->name);
            continue;
        }
        op_seen[k] = 1;
        if (fd && t->op->backward && t->grad) op_fd_checked[k] = 1;
    }
}

static void check_op_table(void)
{
    CHECK_MSG(aecl_op_table_size <= (int)(sizeof op_seen / sizeof op_seen[0]), "%d ops: grow op_seen",
              aecl_op_table_size);
    for (int k = 0; k < aecl_op_table_size; k++) {
        const aecl_op_def *op = aecl_op_table[k];
        CHECK_MSG(op->name && *op->name, "op %d of the table has no name", k);
        for (int j = 0; j < k; j++)
            CHECK_MSG(strcmp(op->name, aecl_op_table[j]->name), "two ops are named %s", op->name);
        CHECK_MSG(op->emit || op->is_view, "op %s neither launches nor is a view", op->name);
        CHECK_MSG(op_seen[k], "op %s is in no case (add one to cases[] or opt_cases[])", op->name);
        if (op->backward)
            CHECK_MSG(op_fd_checked[k], "op %s has a backward rule that no finite-difference check differentiates",
                      op->name);
    }
    for (int u = 0; u < n_unlisted; u++)
        CHECK_MSG(0, "op %s ran in a case but is not in lib/ops/op_list.h", unlisted[u]);
    printf("op table: %d ops checked\n", aecl_op_table_size);
}

/* ---- one case on one variant --------------------------------------------------------------------------- */

static void run_case(aecl_ctx *ctx, int ci, const char *variant, int no_fuse, int fd)
{
    const bo_case *c = &cases[ci];
    bo_in in[4];
    int n_in = case_inputs(c, in);
    char label[200];
    snprintf(label, sizeof label, "%s [%s%s]", c->name, *variant ? variant : "device", no_fuse ? ", unfused" : "");
    float *x[4] = {0}, *gx[4] = {0}, *gr[4] = {0};
    gc_input gi[4];
    unsigned state = 1000u + 7919u * (unsigned)ci; /* the same data on every variant */
    for (int i = 0; i < n_in; i++) {
        size_t n = numel(&in[i]);
        x[i] = malloc(n * sizeof *x[i]);
        gx[i] = calloc(n, sizeof *gx[i]);
        gr[i] = calloc(n, sizeof *gr[i]);
        fill_input(&in[i], x[i], &state);
        gi[i] = (gc_input){in[i].ndim, {0}, x[i], !c->grad || in[i].data};
        memcpy(gi[i].shape, in[i].shape, sizeof gi[i].shape);
    }
    int run_fd = fd && c->fd && !no_fuse;
    /* the case's graph with the backward of sum(y * r) for gradient cases,
     * compiled fresh with poison */
    aecl_plan_options opt = {.seed = SEED, .poison = 1, .no_fuse = no_fuse};
    gc_graph R;
    if (gc_graph_build(ctx, label, n_in, gi, c->build, (void *)c, c->grad, &opt, &R) == 0) {
        note_kernels(R.p);
        note_ops(R.g, run_fd);
        size_t ny = R.y->size;
        float *y = malloc(ny * sizeof *y), *yr = calloc(ny, sizeof *yr), *r = NULL;
        aecl_status st = AECL_OK;
        if (R.r) {
            r = malloc(ny * sizeof *r);
            test_fill_uniform(r, ny, -1, 1, &state);
            st = aecl_plan_write(R.p, R.r, r);
        }
        aecl_plan_set_step(R.p, STEP);
        if (c->valid) aecl_plan_set_valid_rows(R.p, c->valid);
        if (st == AECL_OK) st = aecl_plan_run(R.p);
        if (st == AECL_OK) st = aecl_plan_read(R.p, R.y, y);
        for (int i = 0; i < n_in && R.r && st == AECL_OK; i++)
            if (!gi[i].no_grad) st = aecl_plan_read(R.p, R.x[i]->grad, gx[i]);
        CHECK_MSG(st == AECL_OK, "%s: run: %s", label, aecl_ctx_last_error(ctx));
        bo_env env = {(uint32_t)R.y->id, c->valid ? c->valid : 0x7fffffff};
        size_t nr = c->ref(c, &env, x, yr, r, gr);
        CHECK_MSG(nr == ny, "%s: output of %zu elements, the reference has %zu", label, ny, nr);
        double m = c->tol > 0 ? c->tol : 1.0;
        if (st == AECL_OK && nr == ny) {
            compare("forward", label, y, yr, ny, 1e-5 * m, 1e-4 * m);
            for (int i = 0; i < n_in && R.r; i++) {
                char what[32];
                snprintf(what, sizeof what, "gradient of x%d", i);
                if (!gi[i].no_grad) compare(what, label, gx[i], gr[i], numel(&in[i]), 1e-4 * m, 1e-4 * m);
            }
        }
        free(y), free(yr), free(r);
    }
    gc_graph_free(&R);
    if (run_fd) gc_gradcheck(ctx, label, n_in, gi, c->build, (void *)c, 1e-3f, 1e-2, c->fd);
    for (int i = 0; i < n_in; i++) free(x[i]), free(gx[i]), free(gr[i]);
}

/* ---- optimizers ---------------------------------------------------------------------------------------- */

typedef struct bo_opt {
    const char *name;
    aecl_optimizer_config cfg;
} bo_opt;

/* eps must be set for every kind (the config check) */
#define ADAM_BETAS .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f
static const bo_opt opt_cases[] = {
    {"sgd momentum wd clip",
     {.kind = AECL_OPT_SGD, .lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.05f, .clip_norm = 1.0f, ADAM_BETAS}},
    {"sgd plain", {.kind = AECL_OPT_SGD, .lr = 0.2f, ADAM_BETAS}},
    {"sgd nesterov", {.kind = AECL_OPT_SGD, .lr = 0.1f, .momentum = 0.5f, .nesterov = 1, ADAM_BETAS}},
    {"adam wd clip", {.kind = AECL_OPT_ADAM, .lr = 0.05f, .weight_decay = 0.05f, .clip_norm = 1.0f, ADAM_BETAS}},
    {"adamw wd", {.kind = AECL_OPT_ADAMW, .lr = 0.05f, .beta1 = 0.8f, .beta2 = 0.99f, .eps = 1e-6f,
                  .weight_decay = 0.1f}},
};
enum { N_OPT = sizeof opt_cases / sizeof opt_cases[0], O1 = 7, O2R = 3, O2C = 5, O2 = O2R * O2C, OPT_STEPS = 3 };

/* loss = sum(w1 * c) + sum(0.5 * w2 * w2): gradients c (fixed) and w2 (changes
 * every step); three steps against the host update. */
static void run_opt(aecl_ctx *ctx, const bo_opt *o, const char *variant)
{
    char label[160];
    snprintf(label, sizeof label, "optimizer %s [%s]", o->name, *variant ? variant : "device");
    aecl_graph *g;
    aecl_plan *p = NULL;
    aecl_graph_create(ctx, &g);
    int s1 = O1, s2[2] = {O2R, O2C};
    aecl_tensor *w1 = aecl_param(g, "w1", 1, &s1), *c = aecl_input(g, "c", 1, &s1), *w2 = aecl_param(g, "w2", 2, s2);
    aecl_tensor *half_sq = aecl_scale(g, aecl_mul(g, w2, w2), 0.5f);
    aecl_tensor *loss = aecl_add(g, aecl_sum(g, aecl_mul(g, w1, c)), aecl_sum(g, half_sq));
    aecl_backward(g, loss);
    aecl_status st = aecl_optimizer_apply(g, &o->cfg, NULL);
    aecl_plan_options opt = {.seed = SEED, .poison = 1};
    if (st == AECL_OK) st = aecl_plan_compile(g, &opt, &p);
    CHECK_MSG(st == AECL_OK, "%s: graph or plan: %s", label, aecl_ctx_last_error(ctx));
    note_kernels(p);
    note_ops(g, 0);
    float v1[O1], cv[O1], v2[O2], d1[O1], d2[O2], g2[O2];
    unsigned state = 4242;
    test_fill_uniform(v1, O1, -1, 1, &state);
    test_fill_uniform(cv, O1, -1.5f, 1.5f, &state);
    test_fill_uniform(v2, O2, -1, 1, &state);
    ref_optim_param h1, h2;
    ref_optim_param_init(&h1, O1, v1);
    ref_optim_param_init(&h2, O2, v2);
    if (p) {
        aecl_plan_write(p, w1, v1);
        aecl_plan_write(p, c, cv);
        aecl_plan_write(p, w2, v2);
        aecl_plan_set_step(p, 0);
        int clipped = 0;
        for (int s = 0; s < OPT_STEPS && st == AECL_OK; s++) {
            memcpy(g2, h2.w, sizeof g2);
            double scale = ref_optim_clip_scale(o->cfg.clip_norm, cv, O1, g2, O2);
            clipped |= scale < 1;
            ref_optim_update(&o->cfg, &h1, cv, scale, s + 1, o->cfg.lr);
            ref_optim_update(&o->cfg, &h2, g2, scale, s + 1, o->cfg.lr);
            st = aecl_plan_run(p);
            if (st == AECL_OK) st = aecl_plan_read(p, w1, d1);
            if (st == AECL_OK) st = aecl_plan_read(p, w2, d2);
            CHECK_MSG(st == AECL_OK, "%s: run: %s", label, aecl_ctx_last_error(ctx));
            char what[32];
            snprintf(what, sizeof what, "w1 after step %d", s + 1);
            if (st == AECL_OK) compare(what, label, d1, h1.w, O1, 1e-6, 1e-5);
            snprintf(what, sizeof what, "w2 after step %d", s + 1);
            if (st == AECL_OK) compare(what, label, d2, h2.w, O2, 1e-6, 1e-5);
        }
        if (o->cfg.clip_norm > 0) CHECK_MSG(clipped, "%s: clipping never engaged (test too weak)", label);
    }
    ref_optim_param_free(&h1);
    ref_optim_param_free(&h2);
    aecl_plan_free(p);
    aecl_graph_free(g);
}

/* ---- main ------------------------------------------------------------------------------------------------ */

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    int n_variants = env_int("AECL_BACKEND_OPS_VARIANTS", N_VARIANTS), full = env_int("AECL_BACKEND_OPS_FULL", 0);
    const char *only = getenv("AECL_BACKEND_OPS_CASE");
    if (n_variants < 1 || n_variants > N_VARIANTS) n_variants = N_VARIANTS;
    printf("device: %s (%s)\n", aecl_ctx_device(ctx)->name, aecl_ctx_device(ctx)->platform_name);
    double t_all = aecl_now_s();
    for (int v = 0; v < n_variants; v++) {
        const bo_variant *V = &variants[v];
        int pass0 = check_passes, fail0 = check_failures, ran = 0;
        double t0 = aecl_now_s();
        n_seen = 0;
        CHECK_OK(ctx, aecl_ctx_tune(ctx, V->spec));
        char table[512];
        aecl_tuning_format(aecl_ctx_tuning(ctx), table, sizeof table);
        for (int ci = 0; ci < N_CASES; ci++) {
            const bo_case *c = &cases[ci];
            if (!full && !(V->family & c->family)) continue;
            if (only && !strstr(c->name, only)) continue;
            run_case(ctx, ci, V->spec, 0, full || V->fd);
            if (c->fuse) run_case(ctx, ci, V->spec, 1, 0);
            ran++;
        }
        for (int oi = 0; oi < N_OPT && (full || (V->family & F_OPT)); oi++)
            if (!only || strstr(opt_cases[oi].name, only) || !strcmp(only, "optimizer")) {
                run_opt(ctx, &opt_cases[oi], V->spec);
                ran++;
            }
        if (!only) check_takes(V);
        printf("variant %-52s %3d cases, %2d kernels: %4d passed, %d failed (%.1f s)\n    %s\n",
               *V->spec ? V->spec : "(device)", ran, n_seen, check_passes - pass0, check_failures - fail0,
               aecl_now_s() - t0, table);
        fflush(stdout);
    }
    CHECK_OK(ctx, aecl_ctx_tune(ctx, NULL));
    printf("%d variants in %.1f s\n", n_variants, aecl_now_s() - t_all);
    if (!only) check_op_table();
    return test_finish();
}
