/* Ops that draw random numbers: dropout, input noise, reparameterisation.
 * Kernels in cl/random.cl; the generator and the stream layout in cl/philox.cl.
 * Each node's stream is (plan seed, op kind, plan step, op id) with op id = the
 * forward node's id, kept in the node's `stream` parameter; backward nodes carry
 * the forward's id so their kernels regenerate the very numbers the forward
 * pass used. */
#include "graph/op.h"
#include "ops/common_kernels.h"
#include "ops/op_list.h"
#include "ops/ops.h"
#include "ops/philox.h"
#include "ops/random.h"
#include "rt/tuning.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Kernels index elements as int in blocks of four. */
static int size_ok(aecl_graph *g, const char *op, const aecl_tensor *x)
{
    if (x->size <= (size_t)INT_MAX - 4) return 1;
    char s[64];
    aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: %s has too many elements (%zu)", op, aecl_shape_str(x, s, sizeof s),
                    x->size);
    return 0;
}

/* Philox blocks per work-item (RNG_K in cl/philox.cl): the device table's
 * rng_blocks (a block per SIMD lane on CPUs, one per item on GPUs). */
static int rng_blocks(aecl_ctx *ctx) { return aecl_ctx_tuning(ctx)->rng_blocks; }

/* One work-item per RNG_K Philox blocks of four elements; one block more for a
 * row offset that shifts the elements within blocks (cl/random.cl). */
static aecl_status launch_blocks(aecl_plan *p, cl_kernel k, const aecl_tensor *t)
{
    size_t blocks = (t->size + 3) / 4 + 1, per = (size_t)rng_blocks(aecl_plan_ctx(p));
    return aecl_plan_launch_1d(p, k, (blocks + per - 1) / per, t->op->name);
}

/* ---- dropout ------------------------------------------------------------------ */

typedef struct dropout_params {
    int stream;             /* the forward node's id */
    float p;                /* drop probability */
} dropout_params;
AECL_OP_PARAMS(dropout_p, dropout_params)

/* The forward node and its backward node share this: y = mask * scale * in[0]. */
static aecl_status emit_dropout(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    const dropout_params *dp = dropout_p(t);
    double prob = dp->p, scale = 1.0f / (1.0f - dp->p);
    AECL_TRY(aecl_common_kernel(p, "dropout", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiffRuSuOi", t->in[0], t, (int)t->size, prob, scale,
                            (unsigned)AECL_RNG_STREAM_DROPOUT, (unsigned)dp->stream, aecl_cols(t)));
    return launch_blocks(p, k, t);
}

const aecl_op_def aecl_op_dropout_grad = {.name = "dropout_grad", .emit = emit_dropout, .inplace_ok = 1};

/* Dropout is linear in x for a fixed mask: dx = the same masking of dy. */
static void backward_dropout(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *gy = t->grad;
    aecl_tensor *gx = aecl_node(g, &aecl_op_dropout_grad, NULL, gy->ndim, gy->shape, 1, &gy);
    if (gx) {
        *dropout_p(gx) = *dropout_p(t);
        gx->flags &= ~(unsigned)AECL_T_GRAD;
    }
    aecl_grad_add(g, t->in[0], gx);
}

const aecl_op_def aecl_op_dropout = {.name = "dropout", .emit = emit_dropout, .backward = backward_dropout,
                                     .inplace_ok = 1};

aecl_tensor *aecl_dropout(aecl_graph *g, aecl_tensor *x, float p)
{
    if (!x) return NULL;
    if (!(p >= 0.0f && p < 1.0f))
        return aecl_graph_fail(g, AECL_ERR_INVALID_ARG, "dropout: probability %g is outside [0, 1)", (double)p);
    if (p == 0.0f) return x;
    if (!size_ok(g, "dropout", x)) return NULL;
    aecl_tensor *t = aecl_node(g, &aecl_op_dropout, NULL, x->ndim, x->shape, 1, &x);
    if (t) *dropout_p(t) = (dropout_params){.stream = t->id, .p = p};
    return t;
}

/* ---- noise ----------------------------------------------------------------------- */

typedef struct noise_params {
    int stream;             /* the forward node's id */
    aecl_noise_kind kind;
    int clip;               /* clamp to [0, 1] */
    float param;            /* sigma or probability */
} noise_params;
AECL_OP_PARAMS(noise_p, noise_params)

static aecl_status emit_noise(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    const noise_params *np = noise_p(t);
    AECL_TRY(aecl_common_kernel(p, "noise", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiifiRuSuOi", t->in[0], t, (int)t->size, (int)np->kind, (double)np->param,
                            np->clip, (unsigned)AECL_RNG_STREAM_NOISE, (unsigned)np->stream, aecl_cols(t)));
    return launch_blocks(p, k, t);
}

/* in: [0] dy, [1] the forward's x (for the clip test) */
static aecl_status emit_noise_grad(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    const noise_params *np = noise_p(t);
    AECL_TRY(aecl_common_kernel(p, "noise_grad", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiifiRuSuOi", t->in[0], t->in[1], t, (int)t->size, (int)np->kind,
                            (double)np->param, np->clip, (unsigned)AECL_RNG_STREAM_NOISE, (unsigned)np->stream,
                            aecl_cols(t)));
    return launch_blocks(p, k, t);
}

const aecl_op_def aecl_op_noise_grad = {.name = "noise_grad", .emit = emit_noise_grad, .inplace_ok = 1};

static void backward_noise(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *in[2] = {t->grad, t->in[0]};
    aecl_tensor *gx = aecl_node(g, &aecl_op_noise_grad, NULL, t->ndim, t->shape, 2, in);
    if (gx) {
        *noise_p(gx) = *noise_p(t);
        gx->flags &= ~(unsigned)AECL_T_GRAD;
    }
    aecl_grad_add(g, t->in[0], gx);
}

const aecl_op_def aecl_op_noise = {.name = "noise", .emit = emit_noise, .backward = backward_noise, .inplace_ok = 1};

static const char *noise_name(aecl_noise_kind kind)
{
    return kind == AECL_NOISE_GAUSSIAN ? "gaussian_noise" : kind == AECL_NOISE_MASK ? "mask_noise" : "salt_pepper";
}

aecl_tensor *aecl_noise(aecl_graph *g, aecl_tensor *x, aecl_noise_kind kind, float param, int clip)
{
    if (!x) return NULL;
    if (kind != AECL_NOISE_GAUSSIAN && kind != AECL_NOISE_MASK && kind != AECL_NOISE_SALT_PEPPER)
        return aecl_graph_fail(g, AECL_ERR_INVALID_ARG, "noise: unknown kind %d", (int)kind);
    if (kind == AECL_NOISE_GAUSSIAN && !(param >= 0.0f && isfinite(param)))
        return aecl_graph_fail(g, AECL_ERR_INVALID_ARG, "noise: gaussian sigma %g must be finite and >= 0",
                               (double)param);
    if (kind != AECL_NOISE_GAUSSIAN && !(param >= 0.0f && param <= 1.0f))
        return aecl_graph_fail(g, AECL_ERR_INVALID_ARG, "noise: %s probability %g is outside [0, 1]",
                               noise_name(kind), (double)param);
    if (param == 0.0f && !clip) return x;
    if (!size_ok(g, "noise", x)) return NULL;
    aecl_tensor *t = aecl_node(g, &aecl_op_noise, noise_name(kind), x->ndim, x->shape, 1, &x);
    if (t) *noise_p(t) = (noise_params){.stream = t->id, .kind = kind, .clip = clip != 0, .param = param};
    return t;
}

/* ---- reparameterize ------------------------------------------------------------------ */

typedef struct reparam_params { int stream; } reparam_params;   /* the forward node's id */
AECL_OP_PARAMS(reparam_p, reparam_params)

static aecl_status emit_reparam(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "reparam", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiRuSuOi", t->in[0], t->in[1], t, (int)t->size,
                            (unsigned)AECL_RNG_STREAM_REPARAM, (unsigned)reparam_p(t)->stream, aecl_cols(t)));
    return launch_blocks(p, k, t);
}

/* in: [0] dz, [1] logvar */
static aecl_status emit_reparam_grad(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_common_kernel(p, "reparam_grad", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTTiRuSuOi", t->in[0], t->in[1], t, (int)t->size,
                            (unsigned)AECL_RNG_STREAM_REPARAM, (unsigned)reparam_p(t)->stream, aecl_cols(t)));
    return launch_blocks(p, k, t);
}

const aecl_op_def aecl_op_reparam_grad = {.name = "reparam_grad", .emit = emit_reparam_grad, .inplace_ok = 1};

static void backward_reparam(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *lv = t->in[1];
    aecl_grad_add(g, t->in[0], t->grad);
    if (!(lv->flags & AECL_T_GRAD)) return;
    aecl_tensor *in[2] = {t->grad, lv};
    aecl_tensor *glv = aecl_node(g, &aecl_op_reparam_grad, NULL, lv->ndim, lv->shape, 2, in);
    if (glv) {
        *reparam_p(glv) = *reparam_p(t);
        glv->flags &= ~(unsigned)AECL_T_GRAD;
    }
    aecl_grad_add(g, lv, glv);
}

/* In place over mu is safe: z[i] is written after mu[i] and logvar[i] are read. */
const aecl_op_def aecl_op_reparameterize = {.name = "reparameterize", .emit = emit_reparam,
                                            .backward = backward_reparam, .inplace_ok = 1};

aecl_tensor *aecl_reparameterize(aecl_graph *g, aecl_tensor *mu, aecl_tensor *logvar, int sample)
{
    if (!mu || !logvar) return NULL;
    if (!aecl_same_shape(mu, logvar)) {
        char a[64], b[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "reparameterize: mu %s and logvar %s differ",
                               aecl_shape_str(mu, a, sizeof a), aecl_shape_str(logvar, b, sizeof b));
    }
    if (!sample) return mu;
    if (!size_ok(g, "reparameterize", mu)) return NULL;
    aecl_tensor *in[2] = {mu, logvar};
    aecl_tensor *t = aecl_node(g, &aecl_op_reparameterize, "z", mu->ndim, mu->shape, 2, in);
    if (t) reparam_p(t)->stream = t->id;
    return t;
}
