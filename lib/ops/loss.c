/* Losses per sample: reconstruction (MSE, BCE from logits) and the VAE's KL term.
 * A per-sample vector [N] is both the anomaly score and, through masked_mean,
 * the training loss. */
#include "graph/op.h"
#include "ops/common_kernels.h"
#include "ops/op_list.h"
#include "ops/ops.h"
#include "rt/tuning.h"

#include <stdio.h>
#include <string.h>

/* ---- kernels and launches ---------------------------------------------------------- */

/* Floats per vector in cl/loss.cl (LOSS_VW, the common program's option): the device table's loss_vw. */
static int loss_vw(aecl_ctx *ctx) { return aecl_ctx_tuning(ctx)->loss_vw; }

/* A work-group per row: a power of two up to the table's loss_wg (at most the
 * kernel's LOSS_WG, 64), and no more items than the row has vectors. */
static aecl_status launch_rows(aecl_plan *p, cl_kernel k, int rows, int cols, const char *label)
{
    aecl_ctx *ctx = aecl_plan_ctx(p);
    size_t vw = (size_t)loss_vw(ctx), vectors = ((size_t)cols + vw - 1) / vw;
    size_t wg = aecl_kernel_max_wg(ctx, k), cap = (size_t)aecl_ctx_tuning(ctx)->loss_wg, local = 1;
    if (cap > 64) cap = 64; /* LOSS_WG: the kernels' local arrays */
    while (local * 2 <= wg && local * 2 <= cap && local * 2 <= vectors) local *= 2;
    size_t global = (size_t)rows * local;
    return aecl_plan_launch(p, k, 1, &global, &local, label, 0);
}

/* Element-wise kernels: an item per LOSS_VW elements. */
static aecl_status launch_elements(aecl_plan *p, cl_kernel k, size_t n, const char *label)
{
    size_t vw = (size_t)loss_vw(aecl_plan_ctx(p));
    return aecl_plan_launch_1d(p, k, (n + vw - 1) / vw, label);
}

/* ---- reconstruction ------------------------------------------------------------- */

/* Of loss_rows, loss_grad, loss_mean and loss_mean_grad nodes. */
typedef struct loss_params {
    aecl_loss_kind kind;
    float scale;            /* loss_mean: the mean's factor */
    aecl_act grad_act;      /* loss_mean_grad: also times act'(prediction) (NONE: not) */
    float grad_slope;
} loss_params;
AECL_OP_PARAMS(loss_p, loss_params)

static aecl_status emit_loss_rows(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *z = t->in[0];
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "loss_rows", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiii", z, t->in[1], t, aecl_rows(z), aecl_cols(z),
                            (int)loss_p(t)->kind));
    return launch_rows(p, k, aecl_rows(z), aecl_cols(z), "loss");
}

static aecl_status emit_loss_grad(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "loss_rows_grad", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTTiii", t->in[0], t->in[1], t->in[2], t, (int)t->size, aecl_cols(t),
                            (int)loss_p(t)->kind));
    return launch_elements(p, k, t->size, "loss_grad");
}

const aecl_op_def aecl_op_loss_grad = {.name = "loss_grad", .emit = emit_loss_grad};

/* The target is data: it gets no gradient. */
static void backward_loss_rows(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *z = t->in[0];
    aecl_tensor *in[3] = {z, t->in[1], t->grad};
    aecl_tensor *gz = aecl_node(g, &aecl_op_loss_grad, NULL, z->ndim, z->shape, 3, in);
    if (gz) {
        *loss_p(gz) = *loss_p(t);
        gz->flags &= ~(unsigned)AECL_T_GRAD;
    }
    aecl_grad_add(g, z, gz);
}

const aecl_op_def aecl_op_loss_rows = {.name = "loss", .emit = emit_loss_rows, .backward = backward_loss_rows};

aecl_tensor *aecl_loss_rows(aecl_graph *g, aecl_loss_kind kind, aecl_tensor *pred, aecl_tensor *target)
{
    if (!pred || !target) return NULL;
    if (pred->size != target->size || pred->shape[0] != target->shape[0]) {
        char a[64], b[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "loss: prediction %s and target %s differ",
                               aecl_shape_str(pred, a, sizeof a), aecl_shape_str(target, b, sizeof b));
    }
    aecl_tensor *in[2] = {pred, target};
    int n = pred->shape[0];
    aecl_tensor *t = aecl_node(g, &aecl_op_loss_rows, kind == AECL_LOSS_BCE ? "bce" : "mse", 1, &n, 2, in);
    if (t) loss_p(t)->kind = kind;
    return t;
}

/* ---- KL ---------------------------------------------------------------------------- */

/* A KL gradient node: d/dmu (0) or d/dlogvar (1). */
typedef struct kl_grad_params { int which; } kl_grad_params;
AECL_OP_PARAMS(kl_grad_p, kl_grad_params)

static aecl_status emit_kl_rows(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *mu = t->in[0];
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "kl_rows", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTii", mu, t->in[1], t, aecl_rows(mu), aecl_cols(mu)));
    return launch_rows(p, k, aecl_rows(mu), aecl_cols(mu), "kl");
}

static aecl_status emit_kl_grad(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "kl_rows_grad", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTTiii", t->in[0], t->in[1], t->in[2], t, (int)t->size, aecl_cols(t),
                            kl_grad_p(t)->which));
    return launch_elements(p, k, t->size, "kl_grad");
}

/* For the fusion pass: input 2 (the row gradient) is one value per row. */
static int code_kl_grad(const aecl_tensor *t, const char *const *in, char *buf, size_t cap)
{
    int n = kl_grad_p(t)->which == 0 ? snprintf(buf, cap, "(%s * %s)", in[2], in[0])
                          : snprintf(buf, cap, "(%s * (0.5f * (exp(%s) - 1.0f)))", in[2], in[1]);
    return n > 0 && (size_t)n < cap;
}

const aecl_op_def aecl_op_kl_grad = {.name = "kl_grad", .emit = emit_kl_grad, .pointwise = code_kl_grad};

static void backward_kl_rows(aecl_graph *g, aecl_tensor *t)
{
    for (int which = 0; which < 2; which++) {
        aecl_tensor *x = t->in[which];
        if (!(x->flags & AECL_T_GRAD)) continue;
        aecl_tensor *in[3] = {t->in[0], t->in[1], t->grad};
        aecl_tensor *gx = aecl_node(g, &aecl_op_kl_grad, NULL, x->ndim, x->shape, 3, in);
        if (gx) {
            kl_grad_p(gx)->which = which;
            gx->flags &= ~(unsigned)AECL_T_GRAD;
        }
        aecl_grad_add(g, x, gx);
    }
}

const aecl_op_def aecl_op_kl_rows = {.name = "kl", .emit = emit_kl_rows, .backward = backward_kl_rows};

aecl_tensor *aecl_kl_rows(aecl_graph *g, aecl_tensor *mu, aecl_tensor *logvar)
{
    if (!mu || !logvar) return NULL;
    if (!aecl_same_shape(mu, logvar)) {
        char a[64], b[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "kl: mu %s and logvar %s differ", aecl_shape_str(mu, a, sizeof a),
                               aecl_shape_str(logvar, b, sizeof b));
    }
    aecl_tensor *in[2] = {mu, logvar};
    int n = mu->shape[0];
    return aecl_node(g, &aecl_op_kl_rows, NULL, 1, &n, 2, in);
}

/* ---- the batch loss, fused with its gradient ------------------------------------- */

/* A view of the scalar mean (no launch forward); backward goes straight from the
 * scalar's gradient to the prediction's in one kernel, skipping the per-sample
 * gradient vector. in: [0] mean (masked mean of the rows), [1] prediction,
 * [2] target; parameters loss_params. */
static aecl_status emit_loss_mean_grad(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *z = t->in[0];
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "loss_mean_grad", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTTiiiVifif", z, t->in[1], t->in[2], t, (int)t->size, aecl_cols(z),
                            aecl_rows(z), (int)loss_p(t)->kind, (double)loss_p(t)->scale, (int)loss_p(t)->grad_act,
                            (double)loss_p(t)->grad_slope));
    return launch_elements(p, k, t->size, "loss_grad");
}

const aecl_op_def aecl_op_loss_mean_grad = {.name = "loss_mean_grad", .emit = emit_loss_mean_grad};

int aecl_loss_grad_can_take_act_grad(const aecl_tensor *p, const aecl_tensor *y)
{
    /* views alias the whole of their base, in order: equal storage and sizes
     * mean element i of the prediction is element i of y */
    return p && y && p->op == &aecl_op_loss_mean_grad && loss_p(p)->grad_act == AECL_ACT_NONE &&
           aecl_storage_of(p->in[0]) == aecl_storage_of(y) && aecl_storage_of(y)->size == y->size &&
           p->in[0]->size == y->size && p->size == y->size;
}

void aecl_loss_grad_take_act_grad(aecl_tensor *r, const aecl_tensor *p, aecl_act act, float slope)
{
    r->op = &aecl_op_loss_mean_grad;
    r->n_in = 3;
    for (int k = 0; k < AECL_MAX_INPUTS; k++) r->in[k] = k < 3 ? p->in[k] : NULL;
    memset(&r->param, 0, sizeof r->param);
    *loss_p(r) = *loss_p(p);
    loss_p(r)->grad_act = act;
    loss_p(r)->grad_slope = slope;
}

static void backward_loss_mean(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *z = t->in[1];
    aecl_tensor *in[3] = {z, t->in[2], t->grad};
    aecl_tensor *gz = aecl_node(g, &aecl_op_loss_mean_grad, NULL, z->ndim, z->shape, 3, in);
    if (gz) {
        *loss_p(gz) = *loss_p(t);
        gz->flags &= ~(unsigned)AECL_T_GRAD;
    }
    aecl_grad_add(g, z, gz);
}

const aecl_op_def aecl_op_loss_mean = {.name = "loss_mean", .backward = backward_loss_mean, .is_view = 1};

aecl_tensor *aecl_loss_mean(aecl_graph *g, aecl_loss_kind kind, aecl_tensor *pred, aecl_tensor *target, float scale,
                            aecl_tensor **rows_out)
{
    aecl_tensor *rows = aecl_loss_rows(g, kind, pred, target);
    if (rows_out) *rows_out = rows;
    aecl_tensor *mean = aecl_masked_mean(g, rows, scale);
    if (!mean) return NULL;
    aecl_tensor *in[3] = {mean, pred, target};
    aecl_tensor *t = aecl_node(g, &aecl_op_loss_mean, "loss_mean", 1, mean->shape, 3, in);
    if (t) *loss_p(t) = (loss_params){.kind = kind, .scale = scale};
    return t;
}
