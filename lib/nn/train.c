/* The training loop: shuffled mini-batches replayed through one compiled plan,
 * a loss read every few steps, validation, the learning-rate schedule and early
 * stopping after each epoch, checkpoints and resuming; evaluation. */
#include "nn/train.h"
#include "nn/batches.h"
#include "rt/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- schedules and the monitor ------------------------------------------------ */

aecl_status aecl_schedule_parse(aecl_ctx *ctx, const char *text, aecl_schedule *out)
{
    memset(out, 0, sizeof *out);
    int n = 0, every = 0;
    double f = 0;
    if (!strcmp(text, "none")) return AECL_OK;
    if (!strcmp(text, "cosine")) { out->kind = AECL_SCHED_COSINE; return AECL_OK; }
    int step = !strncmp(text, "step:", 5), plateau = !strncmp(text, "plateau:", 8);
    if ((step || plateau) && sscanf(text + (step ? 5 : 8), "%d:%lf%n", &every, &f, &n) == 2 && !text[(step ? 5 : 8) + n]
        && every > 0 && f > 0 && f <= 1) {
        *out = (aecl_schedule){step ? AECL_SCHED_STEP : AECL_SCHED_PLATEAU, every, f};
        return AECL_OK;
    }
    return aecl_fail(ctx, AECL_ERR_INVALID_ARG,
                     "schedule '%s': expected none, step:EVERY:GAMMA, cosine or plateau:PATIENCE:FACTOR "
                     "(EVERY and PATIENCE whole epochs >= 1, GAMMA and FACTOR in (0, 1])", text);
}

double aecl_schedule_lr(const aecl_schedule *s, double base, int epoch, int epochs)
{
    if (s->kind == AECL_SCHED_STEP) return base * pow(s->factor, (double)(epoch / s->every));
    if (s->kind == AECL_SCHED_COSINE && epochs > 0) return base * 0.5 * (1.0 + cos(3.14159265358979323846 * epoch / epochs));
    return base;
}

aecl_train_monitor aecl_monitor_init(double base_lr)
{
    return (aecl_train_monitor){.best = INFINITY, .lr = base_lr};
}

int aecl_monitor_update(aecl_train_monitor *m, const aecl_schedule *s, int patience, double loss)
{
    if (loss < m->best - 1e-4 * fabs(m->best) || (isinf(m->best) && isfinite(loss))) {
        m->best = loss;
        m->bad_epochs = m->plateau_bad = 0;
        return 0;
    }
    m->bad_epochs++;
    if (s->kind == AECL_SCHED_PLATEAU && ++m->plateau_bad >= s->every) {
        m->lr *= s->factor;
        m->plateau_bad = 0;
    }
    return patience > 0 && m->bad_epochs >= patience;
}

/* ---- the loop ------------------------------------------------------------------ */

/* Fisher-Yates with a per-epoch stream, so a run (or a resumed one) is reproducible. */
static void shuffle(size_t *idx, size_t n, uint64_t seed, int epoch)
{
    uint64_t s = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(epoch + 1));
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = n; i > 1; i--) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        size_t j = (size_t)(s % i);
        size_t t = idx[i - 1]; idx[i - 1] = idx[j]; idx[j] = t;
    }
}

static void gather(const aecl_dataset *d, const size_t *idx, size_t from, int rows, float *dst)
{
    for (int r = 0; r < rows; r++) memcpy(dst + (size_t)r * d->features, d->x + idx[from + r] * d->features,
                                          d->features * sizeof(float));
}

/* Double-buffered staging: an upload's host memory is reused only after the
 * upload two steps back has completed, so the host never waits on the current step. */
typedef struct staging {
    float *buf[2];
    cl_event ev[2];
} staging;

static aecl_status upload(aecl_net *n, staging *s, long step, const aecl_dataset *d, const size_t *idx, size_t from,
                          int rows)
{
    int k = (int)(step & 1);
    if (s->ev[k]) { clWaitForEvents(1, &s->ev[k]); clReleaseEvent(s->ev[k]); s->ev[k] = NULL; }
    gather(d, idx, from, rows, s->buf[k]);
    if (rows < n->batch) memset(s->buf[k] + (size_t)rows * d->features, 0, (size_t)(n->batch - rows) * d->features * sizeof(float));
    aecl_plan_set_valid_rows(n->plan, rows);
    return aecl_plan_write_event(n->plan, n->x, s->buf[k], &s->ev[k]);
}

static void staging_free(staging *s)
{
    for (int k = 0; k < 2; k++) {
        if (s->ev[k]) { clWaitForEvents(1, &s->ev[k]); clReleaseEvent(s->ev[k]); }
        free(s->buf[k]);
    }
}

static double beta_at(const aecl_model_spec *spec, int epoch)
{
    double b = spec->train.beta;
    if (spec->train.beta_warmup > 0 && epoch < spec->train.beta_warmup) b *= (double)(epoch + 1) / (spec->train.beta_warmup + 1);
    return b;
}

/* One run's state: the loop position lives in `ck`, which is what a checkpoint saves. */
typedef struct run {
    aecl_ctx *ctx;
    const aecl_model_spec *spec;
    const aecl_dataset *train, *val;
    const aecl_train_opts *o;
    aecl_net *n;
    aecl_net *eval;            /* validation's net, built once per run (NULL without validation) */
    staging s;
    size_t *idx;
    float *w;
    double base_lr;
    long steps;                /* per epoch */
    aecl_checkpoint_info ck;   /* current position, monitor and running loss */
    char saved[96];            /* where the last good checkpoint stands ("" = none) */
    char ck_error[512];        /* why the last checkpoint write failed ("" = it did not) */
    aecl_train_progress pr;
} run;

/* A checkpoint that cannot be written (AECL_ERR_IO: a full disk, a folder that
 * went away) does not end the run: losing the whole training to a failed copy
 * of it is worse. The next report carries the reason; other errors stop. */
static aecl_status save_checkpoint(run *r)
{
    r->ck.plan_step = aecl_plan_step(r->n->plan);
    aecl_status st = aecl_checkpoint_save(r->n, r->o->checkpoint, &r->ck, r->o->scaling);
    if (st == AECL_ERR_IO) {
        snprintf(r->ck_error, sizeof r->ck_error, "%s", aecl_ctx_last_error(r->ctx));
        r->pr.checkpoint_error = r->ck_error;
        r->pr.checkpointed = 0;
        return AECL_OK;
    }
    AECL_TRY(st);
    /* Mid-epoch: ck.epoch is 0-based; at a boundary it counts completed epochs. */
    snprintf(r->saved, sizeof r->saved, "; the last good checkpoint holds epoch %d, step %ld",
             r->ck.epoch + (r->ck.step != 0), r->ck.step ? r->ck.step : r->steps);
    return AECL_OK;
}

/* Hands the progress to the caller; a checkpoint failure is told once. */
static void report(run *r)
{
    if (r->o->cb) r->o->cb(r->o->user, &r->pr);
    r->pr.checkpoint_error = NULL;
}

/* 1 when a step-count checkpoint falls after the step just run. */
static int checkpoint_due(const run *r)
{
    return r->o->checkpoint && r->o->checkpoint_every > 0 && aecl_plan_step(r->n->plan) % (uint64_t)r->o->checkpoint_every == 0;
}

static const char *nonfinite(double v)
{
    return isnan(v) ? "NaN" : v > 0 ? "infinite" : "-infinite";
}

/* Reads the loss (a host sync: the rate is measured after it). */
static aecl_status read_loss(run *r, int epoch, long st, size_t samples, double t0)
{
    float l;
    AECL_TRY(aecl_plan_read(r->n->plan, r->n->loss, &l));
    AECL_RETURN_IF(!isfinite(l), AECL_ERR_NUMERIC, r->ctx,
                   "the training loss became %s at epoch %d, step %ld: lower the learning rate%s", nonfinite(l), epoch + 1,
                   st + 1, r->saved);
    r->ck.loss_sum += l;
    r->ck.loss_reads++;
    r->pr.step = st + 1;
    r->pr.train_loss = r->ck.loss_sum / r->ck.loss_reads;
    r->pr.samples_per_s = (double)samples / (aecl_now_s() - t0);
    return AECL_OK;
}

static aecl_status run_epoch(run *r, int epoch, long first)
{
    aecl_net *n = r->n;
    const aecl_dataset *d = r->train;
    int every = r->o->report_every > 0 ? r->o->report_every : 10;
    double t0 = aecl_now_s();
    shuffle(r->idx, d->n, r->o->seed, epoch);
    for (long st = first; st < r->steps; st++) {
        size_t from = (size_t)st * (size_t)n->batch;
        int rows = (int)(d->n - from < (size_t)n->batch ? d->n - from : (size_t)n->batch);
        AECL_TRY(upload(n, &r->s, st, d, r->idx, from, rows));
        AECL_TRY(aecl_plan_run(n->plan));
        if ((st + 1) % every == 0 || st + 1 == r->steps) {
            AECL_TRY(read_loss(r, epoch, st, from + (size_t)rows - (size_t)first * (size_t)n->batch, t0));
            report(r);
        }
        /* A step checkpoint on an epoch's last step is written after validation. */
        if (st + 1 < r->steps && checkpoint_due(r)) {
            r->ck.epoch = epoch;
            r->ck.step = st + 1;
            AECL_TRY(save_checkpoint(r));
        }
    }
    return AECL_OK;
}

static aecl_status set_rates(run *r, int e)
{
    const aecl_schedule *s = &r->o->schedule;
    r->ck.lr = s->kind == AECL_SCHED_PLATEAU ? r->ck.monitor.lr : aecl_schedule_lr(s, r->base_lr, e, r->o->epochs);
    float lr = (float)r->ck.lr;
    AECL_TRY(aecl_plan_write(r->n->plan, r->n->lr, &lr));
    r->pr.lr = r->ck.lr;
    if (!r->n->beta) return AECL_OK;
    float b = (float)beta_at(r->spec, e);
    return aecl_plan_write(r->n->plan, r->n->beta, &b);
}

/* Copies src's parameters into dst (a net of the same model) on the device. */
static aecl_status copy_params(aecl_net *dst, aecl_net *src)
{
    AECL_RETURN_IF(dst->n_params != src->n_params, AECL_ERR_STATE, dst->ctx,
                   "copying parameters between nets of different models (%d vs %d tensors)", src->n_params,
                   dst->n_params);
    for (int i = 0; i < dst->n_params; i++) {
        const aecl_tensor *a = src->params[i], *b = dst->params[i];
        AECL_RETURN_IF(a->size != b->size || strcmp(src->param_names[i], dst->param_names[i]), AECL_ERR_STATE,
                       dst->ctx, "copying parameters between nets of different models ('%s' vs '%s')",
                       src->param_names[i], dst->param_names[i]);
        cl_mem from, to;
        int from_off, to_off;
        aecl_plan_tensor_mem(src->plan, a, &from, &from_off);
        aecl_plan_tensor_mem(dst->plan, b, &to, &to_off);
        /* The queue is in order: the copy reads these weights before the next
         * training step changes them, and the evaluation runs after it. */
        AECL_CL_TRY(dst->ctx, clEnqueueCopyBuffer(aecl_ctx_cl_queue(dst->ctx), from, to,
                                                  (size_t)from_off * sizeof(float), (size_t)to_off * sizeof(float),
                                                  a->size * sizeof(float), 0, NULL, NULL));
    }
    return AECL_OK;
}

/* The validation loss of the weights the training net holds now. */
static aecl_status validate(run *r, double *loss)
{
    AECL_TRY(copy_params(r->eval, r->n));
    return aecl_evaluate_net_loss(r->eval, r->val, loss);
}

/* Validation and the monitor after epoch e; *stop when early stopping ends the run. */
static aecl_status end_epoch(run *r, int e, int *stop)
{
    double monitored = r->pr.train_loss;
    r->pr.val_loss = NAN;
    if (r->eval) {
        double loss;
        AECL_TRY(validate(r, &loss));
        AECL_RETURN_IF(!isfinite(loss), AECL_ERR_NUMERIC, r->ctx,
                       "the validation loss became %s after epoch %d: lower the learning rate%s", nonfinite(loss), e + 1,
                       r->saved);
        monitored = r->pr.val_loss = loss;
    }
    double best = r->ck.monitor.best;
    *stop = aecl_monitor_update(&r->ck.monitor, &r->o->schedule, r->o->patience, monitored);
    r->pr.improved = r->ck.monitor.best != best;
    r->pr.stopping = *stop;
    r->ck.epoch = e + 1;
    r->ck.step = 0;
    r->ck.loss_sum = 0;
    r->ck.loss_reads = 0;
    int per = r->o->checkpoint_epochs > 1 ? r->o->checkpoint_epochs : 1;
    r->pr.checkpointed = r->o->checkpoint && (r->o->checkpoint_every ? checkpoint_due(r) : (e + 1) % per == 0);
    if (r->pr.checkpointed) AECL_TRY(save_checkpoint(r));
    r->pr.epoch_done = 1;
    report(r);
    return AECL_OK;
}

static aecl_status resume(run *r)
{
    aecl_checkpoint_info ci;
    AECL_TRY(aecl_checkpoint_load(r->n, r->o->resume, &ci));
    AECL_RETURN_IF(ci.batch != r->o->batch || ci.seed != r->o->seed, AECL_ERR_INVALID_ARG, r->ctx,
                   "%s: the checkpoint was made with batch %d and seed %llu, this run has batch %d and seed %llu",
                   r->o->resume, ci.batch, (unsigned long long)ci.seed, r->o->batch, (unsigned long long)r->o->seed);
    AECL_RETURN_IF(ci.step < 0 || ci.step >= r->steps || ci.epoch < 0, AECL_ERR_INVALID_ARG, r->ctx,
                   "%s: the checkpoint stands at step %ld of an epoch of %ld steps (another data set?)", r->o->resume,
                   ci.step, r->steps);
    r->ck = ci;
    return AECL_OK;
}

static aecl_status train_loop(run *r)
{
    int stop = 0;
    r->ck = (aecl_checkpoint_info){.seed = r->o->seed, .batch = r->o->batch, .monitor = aecl_monitor_init(r->base_lr)};
    AECL_TRY(aecl_net_init_params(r->n, r->o->seed));
    if (r->o->resume) {
        AECL_TRY(resume(r));
        /* A run that early stopping had ended stays ended. */
        stop = r->o->patience > 0 && r->ck.monitor.bad_epochs >= r->o->patience;
    }
    for (int e = r->ck.epoch; e < r->o->epochs && !stop; e++) {
        r->pr.epoch = e + 1;
        r->pr.val_loss = NAN;
        r->pr.epoch_done = r->pr.improved = r->pr.stopping = r->pr.checkpointed = 0;
        r->pr.train_loss = r->ck.loss_reads ? r->ck.loss_sum / r->ck.loss_reads : NAN;
        AECL_TRY(set_rates(r, e));
        AECL_TRY(run_epoch(r, e, r->ck.step));
        AECL_TRY(end_epoch(r, e, &stop));
    }
    return aecl_net_read_params(r->n, r->w);
}

aecl_status aecl_train(aecl_ctx *ctx, const aecl_model_spec *spec, const aecl_dataset *train, const aecl_dataset *val,
                       const aecl_train_opts *o, float **weights)
{
    *weights = NULL;
    AECL_RETURN_IF(train->features != aecl_spec_shape_numel(spec->input), AECL_ERR_SHAPE, ctx,
                   "the data has %zu features per sample, the model's input takes %zu", train->features,
                   aecl_spec_shape_numel(spec->input));
    AECL_RETURN_IF(train->n == 0, AECL_ERR_INVALID_ARG, ctx, "the training set is empty");
    AECL_RETURN_IF(o->batch < 1 || o->epochs < 1, AECL_ERR_INVALID_ARG, ctx, "batch %d, epochs %d: both must be >= 1",
                   o->batch, o->epochs);
    AECL_RETURN_IF(o->checkpoint_every < 0, AECL_ERR_INVALID_ARG, ctx, "checkpoint interval %ld: must be >= 0",
                   o->checkpoint_every);
    run r = {.ctx = ctx, .spec = spec, .train = train, .val = val, .o = o,
             .base_lr = o->lr > 0 ? o->lr : spec->train.lr,
             .steps = (long)((train->n + (size_t)o->batch - 1) / (size_t)o->batch)};
    r.pr = (aecl_train_progress){.epochs = o->epochs, .steps_per_epoch = r.steps, .batch = o->batch, .val_loss = NAN};
    aecl_status st = aecl_net_build(ctx, spec, o->batch, AECL_NET_TRAIN, (uint32_t)o->seed, &r.n);
    if (st != AECL_OK) return st;
    size_t stage = (size_t)o->batch * train->features * sizeof(float);
    r.s = (staging){{malloc(stage), malloc(stage)}, {0}};
    r.idx = malloc(train->n * sizeof *r.idx);
    r.w = malloc(aecl_net_param_floats(r.n) * sizeof *r.w);
    if (!r.s.buf[0] || !r.s.buf[1] || !r.idx || !r.w) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    /* Validation's net lives as long as the run: no plan compiled per epoch. */
    if (st == AECL_OK && val && val->n) st = aecl_eval_net_build(ctx, spec, o->batch, &r.eval);
    if (st == AECL_OK && o->resume) snprintf(r.saved, sizeof r.saved, "; %s is unchanged", o->resume);
    if (st == AECL_OK) st = train_loop(&r);
    staging_free(&r.s);
    free(r.idx);
    aecl_net_free(r.eval);
    aecl_net_free(r.n);
    if (st != AECL_OK) { free(r.w); return st; }
    *weights = r.w;
    return AECL_OK;
}

/* ---- evaluation ------------------------------------------------------------------ */

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

aecl_status aecl_eval_net_build(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net **out)
{
    AECL_TRY(aecl_net_build(ctx, spec, batch, AECL_NET_EVAL, (uint32_t)spec->train.seed, out));
    if (!(*out)->beta) return AECL_OK;
    float b = (float)spec->train.beta;
    aecl_status st = aecl_plan_write((*out)->plan, (*out)->beta, &b);
    if (st != AECL_OK) { aecl_net_free(*out); *out = NULL; }
    return st;
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
