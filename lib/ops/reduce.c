/* Reductions: sum/mean to a scalar, per-channel sums, channel broadcasts, the L1
 * activity penalty, and the masked batch mean of per-sample losses. */
#include "graph/op.h"
#include "ops/common_kernels.h"
#include "ops/op_list.h"
#include "ops/ops.h"

enum { MODE_PLAIN = 0, MODE_ABS = 1, MODE_SQUARE = 2 };
typedef struct reduce_params {
    int mode;               /* MODE_*: what is summed */
    int row_len;
    int per_row_mean;
    int masked;             /* only the plan's valid rows (dynamic) */
    float alpha;            /* the sum's factor */
} reduce_params;
AECL_OP_PARAMS(reduce_p, reduce_params)

static aecl_status emit_reduce(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    const aecl_tensor *x = t->in[0];
    const reduce_params *rp = reduce_p(t);
    AECL_TRY(aecl_common_kernel(p, "reduce_sum", &k));
    if (rp->masked)
        AECL_TRY(aecl_plan_args(p, k, "TTiiVifii", x, t, (int)x->size, rp->row_len, rp->mode, (double)rp->alpha,
                                rp->per_row_mean, 0));
    else
        AECL_TRY(aecl_plan_args(p, k, "TTiiiifii", x, t, (int)x->size, rp->row_len, 0x7fffffff, rp->mode,
                                (double)rp->alpha, rp->per_row_mean, 0));
    size_t wg = aecl_kernel_max_wg(aecl_plan_ctx(p), k), local = 1;
    while (local * 2 <= wg && local * 2 <= 256) local *= 2;
    return aecl_plan_launch(p, k, 1, &local, &local, "reduce", 0);
}

/* in: [0] the gradient of the sum, [1] the forward input x (only for the modes
 * whose derivative depends on x); parameters: the forward reduce's. */
static aecl_status emit_reduce_grad(aecl_plan *p, aecl_tensor *t)
{
    const reduce_params *rp = reduce_p(t);
    /* A plain sum's kernel reads no x: it gets the gradient's buffer in its place. */
    aecl_tensor *x = t->n_in > 1 ? t->in[1] : t->in[0];
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "reduce_sum_grad", &k));
    if (rp->masked)
        AECL_TRY(aecl_plan_args(p, k, "TTTiiVifi", t->in[0], x, t, (int)t->size, rp->row_len, rp->mode,
                                (double)rp->alpha, rp->per_row_mean));
    else
        AECL_TRY(aecl_plan_args(p, k, "TTTiiiifi", t->in[0], x, t, (int)t->size, rp->row_len, 0x7fffffff,
                                rp->mode, (double)rp->alpha, rp->per_row_mean));
    return aecl_plan_launch_1d(p, k, t->size, "reduce_grad");
}

const aecl_op_def aecl_op_reduce_grad = {.name = "reduce_grad", .emit = emit_reduce_grad};

/* The gradient reads x only where the derivative depends on it (|x|, x^2): a
 * plain sum's or mean's does not keep x, or the nodes computing it, needed (a
 * training step's loss terms are then computed only when reported, plan.h). */
static void backward_reduce(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *x = t->in[0];
    aecl_tensor *in[2] = {t->grad, x};
    int n_in = reduce_p(t)->mode == MODE_PLAIN ? 1 : 2;
    aecl_tensor *gx = aecl_node(g, &aecl_op_reduce_grad, NULL, x->ndim, x->shape, n_in, in);
    if (gx) {
        gx->flags &= ~(unsigned)AECL_T_GRAD;
        *reduce_p(gx) = *reduce_p(t);
    }
    aecl_grad_add(g, x, gx);
}

const aecl_op_def aecl_op_reduce = {.name = "reduce", .emit = emit_reduce, .backward = backward_reduce};

static aecl_tensor *reduce(aecl_graph *g, aecl_tensor *x, int mode, int row_len, int per_row_mean, int masked,
                           float alpha)
{
    if (!x) return NULL;
    int one = 1;
    aecl_tensor *t = aecl_node(g, &aecl_op_reduce, NULL, 1, &one, 1, &x);
    if (t)
        *reduce_p(t) = (reduce_params){.mode = mode, .row_len = row_len, .per_row_mean = per_row_mean,
                                       .masked = masked, .alpha = alpha};
    return t;
}

aecl_tensor *aecl_sum(aecl_graph *g, aecl_tensor *x) { return reduce(g, x, MODE_PLAIN, 1, 0, 0, 1.0f); }

aecl_tensor *aecl_mean(aecl_graph *g, aecl_tensor *x)
{
    return x ? reduce(g, x, MODE_PLAIN, 1, 0, 0, 1.0f / (float)x->size) : NULL;
}

aecl_tensor *aecl_masked_mean(aecl_graph *g, aecl_tensor *rows, float scale)
{
    if (rows && rows->ndim != 1) {
        char s[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "masked_mean: expects per-sample values [N], got %s",
                               aecl_shape_str(rows, s, sizeof s));
    }
    return reduce(g, rows, MODE_PLAIN, 1, 1, 1, scale);
}

aecl_tensor *aecl_l1_activity(aecl_graph *g, aecl_tensor *x, float weight)
{
    return x ? reduce(g, x, MODE_ABS, aecl_cols(x), 1, 1, weight) : NULL;
}

/* ---- per-channel ---------------------------------------------------------------- */

static void channel_geometry(const aecl_tensor *x, int *outer, int *C, int *inner)
{
    *outer = x->shape[0];
    *C = x->ndim > 1 ? x->shape[1] : 1;
    *inner = (int)(x->size / ((size_t)*outer * (size_t)*C));
}

static aecl_status emit_channel_sum(aecl_plan *p, aecl_tensor *t)
{
    int outer, C, inner;
    channel_geometry(t->in[0], &outer, &C, &inner);
    cl_kernel k;
    if (inner == 1) { /* rows of C channels: 16 channels per item (cl/reduce.cl) */
        AECL_TRY(aecl_common_kernel(p, "channel_sum_rows", &k));
        AECL_TRY(aecl_plan_args(p, k, "TTii", t->in[0], t, outer, C));
        return aecl_plan_launch_1d(p, k, ((size_t)C + 15) / 16, "channel_sum");
    }
    AECL_TRY(aecl_common_kernel(p, "channel_sum", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiii", t->in[0], t, outer, C, inner));
    return aecl_plan_launch_1d(p, k, (size_t)C, "channel_sum");
}

static void backward_channel_sum(aecl_graph *g, aecl_tensor *t)
{
    aecl_grad_add(g, t->in[0], aecl_channel_broadcast(g, t->grad, t->in[0]));
}

const aecl_op_def aecl_op_channel_sum = {.name = "channel_sum", .emit = emit_channel_sum,
                                         .backward = backward_channel_sum};

/* A channel_sum whose value a GEMM writes (aecl_channel_sum_written_by): no
 * launch of its own. It keeps its place in the schedule, right after the GEMM,
 * so that whatever waits for the sum (the data-parallel gradient buckets) waits
 * for that GEMM. in: [0] the matrix, [1] the GEMM's second operand, [2] the
 * GEMM's output (read by nothing here: they keep the GEMM's operands alive up to
 * this node, so the memory plan cannot give their storage to this sum). */
static aecl_status emit_by_gemm(aecl_plan *p, aecl_tensor *t)
{
    (void)p;
    (void)t;
    return AECL_OK;
}

const aecl_op_def aecl_op_channel_sum_by_gemm = {.name = "channel_sum_by_gemm", .emit = emit_by_gemm};

int aecl_is_column_sum(const aecl_tensor *t)
{
    return t && t->op == &aecl_op_channel_sum && t->in[0]->ndim == 2 && t->ndim == 1 &&
           t->size == (size_t)t->in[0]->shape[1];
}

void aecl_channel_sum_written_by(aecl_tensor *t, aecl_tensor *by)
{
    t->op = &aecl_op_channel_sum_by_gemm;
    t->n_in = 3;
    t->in[1] = by->in[1];
    t->in[2] = by;
}

aecl_tensor *aecl_channel_sum(aecl_graph *g, aecl_tensor *x)
{
    if (!x) return NULL;
    int c = x->ndim > 1 ? x->shape[1] : 1;
    return aecl_node(g, &aecl_op_channel_sum, NULL, 1, &c, 1, &x);
}

/* in: [0] v, [1] x or absent (n_in == 1 + has_x) */
static aecl_status emit_channel_add(aecl_plan *p, aecl_tensor *t)
{
    int outer, C, inner;
    channel_geometry(t, &outer, &C, &inner);
    int has_x = t->n_in == 2;
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "channel_add", &k));
    AECL_TRY(aecl_plan_args(p, k, "_TTiiii", has_x ? t->in[1] : NULL, t->in[0], t, (int)t->size, C, inner, has_x));
    return aecl_plan_launch_1d(p, k, t->size, "channel_add");
}

static void backward_channel_add(aecl_graph *g, aecl_tensor *t)
{
    if (t->in[0]->flags & AECL_T_GRAD) aecl_grad_add(g, t->in[0], aecl_channel_sum(g, t->grad));
    if (t->n_in == 2) aecl_grad_add(g, t->in[1], t->grad);
}

const aecl_op_def aecl_op_channel_add = {.name = "channel_add", .emit = emit_channel_add,
                                         .backward = backward_channel_add};

static aecl_tensor *channel_add(aecl_graph *g, aecl_tensor *v, aecl_tensor *x, aecl_tensor *like)
{
    if (!v || !like) return NULL;
    int C = like->ndim > 1 ? like->shape[1] : 1;
    if (v->size != (size_t)C) {
        char sv[64], sl[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "channel add: vector %s does not match the %d channels of %s",
                               aecl_shape_str(v, sv, sizeof sv), C, aecl_shape_str(like, sl, sizeof sl));
    }
    aecl_tensor *in[2] = {v, x};
    return aecl_node(g, &aecl_op_channel_add, NULL, like->ndim, like->shape, x ? 2 : 1, in);
}

aecl_tensor *aecl_channel_broadcast(aecl_graph *g, aecl_tensor *v, aecl_tensor *like)
{
    return channel_add(g, v, NULL, like);
}

aecl_tensor *aecl_add_channel(aecl_graph *g, aecl_tensor *x, aecl_tensor *b)
{
    return x ? channel_add(g, b, x, x) : NULL;
}
