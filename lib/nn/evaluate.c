/* Evaluation: the mean objective, MSE and PSNR of a data set (validation's net
 * and aecl_evaluate), and the per-sample MSE scores of anomaly thresholds. */
#include "nn/train.h"
#include "nn/batches.h"
#include "rt/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Adds one chunk's per-sample losses (rec_rows, kl_rows) and, when the
 * reconstruction is read, its squared errors. */
typedef struct eval_sums {
    const aecl_net *n;
    const aecl_dataset *d;
    int kl, recon;            /* output 1 is kl_rows; the last output is recon */
    double loss_sum, sq_sum;
} eval_sums;

static aecl_status eval_chunk(void *user, const aecl_batches *b, size_t from, int rows)
{
    eval_sums *s = user;
    const float *rec = b->out[0].chunk, *kl = s->kl ? b->out[1].chunk : NULL;
    size_t f = s->d->features;
    for (int r = 0; r < rows; r++) {
        double l = s->n->spec->loss == AECL_LOSS_MSE ? rec[r] / (double)f : rec[r];
        if (kl) l += kl[r];
        s->loss_sum += l;
    }
    const float *recon = s->recon ? b->out[b->n_out - 1].chunk : NULL;
    for (int r = 0; recon && r < rows; r++) {
        const float *x = s->d->x + (from + (size_t)r) * f, *y = recon + (size_t)r * f;
        for (size_t k = 0; k < f; k++) s->sq_sum += (double)(x[k] - y[k]) * (x[k] - y[k]);
    }
    return AECL_OK;
}

/* with_recon = 0 reads only the per-sample losses back (validation needs no more):
 * out->mse and out->psnr are then NaN. */
static aecl_status eval_run(aecl_net *n, const aecl_dataset *d, int with_recon, float *recon_out,
                            aecl_eval_result *out)
{
    AECL_RETURN_IF(d->features != n->features, AECL_ERR_SHAPE, n->ctx,
                   "the data has %zu features per sample, the model's input takes %zu", d->features, n->features);
    /* Random streams (a VAE's z) restart with each evaluation, as in a fresh net. */
    aecl_plan_set_step(n->plan, 0);
    eval_sums s = {n, d, n->kl_rows != NULL, with_recon, 0, 0};
    aecl_batches b = {.batch = n->batch, .rows = d->n, .n_stages = 1, .stage = {{n->plan, n->x, NULL}},
                      .in = {.host = d->x}, .on_chunk = eval_chunk, .user = &s};
    b.out[b.n_out++] = (aecl_batches_out){.t = n->rec_rows};
    if (n->kl_rows) b.out[b.n_out++] = (aecl_batches_out){.t = n->kl_rows};
    if (with_recon) b.out[b.n_out++] = (aecl_batches_out){.t = n->recon, .host = recon_out};
    /* An empty set runs nothing and gives NaN figures. */
    if (d->n) AECL_TRY(aecl_batches_run(&b));
    out->loss = s.loss_sum / (double)d->n;
    out->mse = with_recon ? s.sq_sum / ((double)d->n * (double)d->features) : NAN;
    out->psnr = 10.0 * log10(1.0 / out->mse);
    return AECL_OK;
}

aecl_status aecl_eval_net_build_mode(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net_mode mode,
                                     aecl_net **out)
{
    AECL_TRY(aecl_net_build(ctx, spec, batch, mode, (uint32_t)spec->train.seed, out));
    if (!(*out)->beta) return AECL_OK;
    float b = (float)spec->train.beta;
    aecl_status st = aecl_plan_write((*out)->plan, (*out)->beta, &b);
    if (st != AECL_OK) { aecl_net_free(*out); *out = NULL; }
    return st;
}

aecl_status aecl_eval_net_build(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net **out)
{
    return aecl_eval_net_build_mode(ctx, spec, batch, AECL_NET_EVAL, out);
}

aecl_status aecl_evaluate_net(aecl_net *n, const aecl_dataset *d, float *recon_out, aecl_eval_result *out)
{
    return eval_run(n, d, 1, recon_out, out);
}

aecl_status aecl_evaluate_net_loss(aecl_net *n, const aecl_dataset *d, double *loss)
{
    aecl_eval_result r;
    AECL_TRY(eval_run(n, d, 0, NULL, &r));
    *loss = r.loss;
    return AECL_OK;
}

aecl_status aecl_evaluate(aecl_ctx *ctx, const aecl_model_spec *spec, const float *weights, const aecl_dataset *d,
                          int batch, float *recon_out, aecl_eval_result *out)
{
    AECL_RETURN_IF(d->features != aecl_spec_shape_numel(spec->input), AECL_ERR_SHAPE, ctx,
                   "the data has %zu features per sample, the model's input takes %zu", d->features,
                   aecl_spec_shape_numel(spec->input));
    aecl_net *n = NULL;
    AECL_TRY(aecl_eval_net_build(ctx, spec, batch, &n));
    aecl_status st = aecl_net_write_params(n, weights);
    if (st == AECL_OK) st = aecl_evaluate_net(n, d, recon_out, out);
    aecl_net_free(n);
    return st;
}

/* Collects the mse_rows of each chunk. */
static aecl_status score_chunk(void *user, const aecl_batches *b, size_t from, int rows)
{
    float *scores = user;
    memcpy(scores + from, b->out[0].chunk, (size_t)rows * sizeof *scores);
    return AECL_OK;
}

aecl_status aecl_mse_scores(aecl_ctx *ctx, const aecl_model_spec *spec, const float *weights, const aecl_dataset *d,
                            int batch, float *scores)
{
    AECL_RETURN_IF(d->features != aecl_spec_shape_numel(spec->input), AECL_ERR_SHAPE, ctx,
                   "the data has %zu features per sample, the model's input takes %zu", d->features,
                   aecl_spec_shape_numel(spec->input));
    AECL_RETURN_IF(d->n == 0, AECL_ERR_INVALID_ARG, ctx, "no samples to score");
    aecl_net *n = NULL;
    AECL_TRY(aecl_eval_net_build_mode(ctx, spec, batch, AECL_NET_INFER, &n));
    aecl_status st = aecl_net_write_params(n, weights);
    aecl_batches b = {.batch = n->batch, .rows = d->n, .n_stages = 1, .stage = {{n->plan, n->x, NULL}},
                      .in = {.host = d->x}, .n_out = 1, .out = {{.t = n->mse_rows}}, .on_chunk = score_chunk,
                      .user = scores};
    if (st == AECL_OK) st = aecl_batches_run(&b);
    aecl_net_free(n);
    return st;
}
