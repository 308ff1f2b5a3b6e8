/* The training loop: shuffled mini-batches replayed through one compiled plan,
 * a loss read every few steps, validation, the learning-rate schedule and early
 * stopping after each epoch, checkpoints and resuming; evaluation.
 *
 * Data-parallel (opts->comm): every rank runs this loop over the same shuffled
 * data; a step's rows are split between the ranks (train_dist.c sums the
 * gradients); rank 0 alone validates, reads the checkpoint to resume and writes
 * files, and shares the outcome, so every rank takes the same decisions. */
#include "nn/train.h"
#include "nn/batches.h"
#include "nn/train_dist.h"
#include "rt/error.h"
#include "rt/tuning.h"

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

int aecl_monitor_update(aecl_train_monitor *m, const aecl_schedule *s, int patience, int epoch, double loss)
{
    double delta = fmax(m->min_delta, 1e-4 * fabs(m->best));
    if (loss < m->best - delta || (isinf(m->best) && isfinite(loss))) {
        m->best = loss;
        m->best_epoch = epoch;
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
    aecl_plan_set_valid_rows(n->plan, rows);
    if (rows == 0) return AECL_OK; /* a rank past the end of a short last batch: the plan does not run */
    int k = (int)(step & 1);
    if (s->ev[k]) { clWaitForEvents(1, &s->ev[k]); clReleaseEvent(s->ev[k]); s->ev[k] = NULL; }
    gather(d, idx, from, rows, s->buf[k]);
    if (rows < n->batch) memset(s->buf[k] + (size_t)rows * d->features, 0, (size_t)(n->batch - rows) * d->features * sizeof(float));
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
    aecl_net *eval;            /* validation's net, built once per run (NULL without validation,
                                  and on ranks other than 0) */
    aecl_dist *dist;           /* data-parallel: this rank's collectives (NULL: one process) */
    int validating;
    staging s;
    size_t *idx;
    float *w;
    float *rows_buf;           /* batch floats: a step's per-sample loss terms, read back */
    int keep_best;             /* the best epoch's weights are handed back */
    int best_held;             /* ck.best holds the weights of epoch ck.monitor.best_epoch */
    int stepped;               /* a step has run (the first builds the kernels) */
    double base_lr;
    long steps;                /* per epoch */
    aecl_checkpoint_info ck;   /* current position, monitor, running loss and best weights */
    char saved[96];            /* where the last good checkpoint stands ("" = none) */
    char ck_error[512];        /* why the last checkpoint write failed ("" = it did not) */
    aecl_train_progress pr;
} run;

/* A checkpoint that cannot be written (AECL_ERR_IO: a full disk, a folder that
 * went away) does not end the run: losing the whole training to a failed copy
 * of it is worse. The next report carries the reason; other errors stop. The
 * same holds for the best-weights file. */
static aecl_status write_failed(run *r, aecl_status st)
{
    if (st != AECL_ERR_IO) return st;
    snprintf(r->ck_error, sizeof r->ck_error, "%s", aecl_ctx_last_error(r->ctx));
    r->pr.checkpoint_error = r->ck_error;
    return AECL_OK;
}

static aecl_status write_checkpoint(run *r);

static int root(const run *r) { return !r->dist || aecl_dist_rank(r->dist) == 0; }

/* Rank 0 wrote a file with status st (a failed write it goes on from is AECL_OK
 * with the reason in ck_error): every rank takes the same outcome. */
static aecl_status share_write(run *r, aecl_status st)
{
    if (!r->dist) return st;
    struct {
        int checkpointed, best_written, failed;
        char ck_error[sizeof r->ck_error], saved[sizeof r->saved];
    } o;
    memset(&o, 0, sizeof o);
    o.checkpointed = r->pr.checkpointed;
    o.best_written = r->pr.best_written;
    o.failed = r->pr.checkpoint_error != NULL;
    memcpy(o.ck_error, r->ck_error, sizeof o.ck_error);
    memcpy(o.saved, r->saved, sizeof o.saved);
    AECL_TRY(aecl_dist_bcast(r->dist, &o, sizeof o, st));
    r->pr.checkpointed = o.checkpointed;
    r->pr.best_written = o.best_written;
    memcpy(r->ck_error, o.ck_error, sizeof o.ck_error);
    memcpy(r->saved, o.saved, sizeof o.saved);
    r->pr.checkpoint_error = o.failed ? r->ck_error : NULL;
    return AECL_OK;
}

static aecl_status save_checkpoint(run *r)
{
    aecl_status st = AECL_OK;
    if (root(r)) st = write_checkpoint(r);
    return share_write(r, st);
}

static aecl_status write_checkpoint(run *r)
{
    r->ck.plan_step = aecl_plan_step(r->n->plan);
    aecl_checkpoint_info ci = r->ck;
    if (!r->best_held) ci.best = NULL;
    aecl_status st = aecl_checkpoint_save(r->n, r->o->checkpoint, &ci, r->o->scaling);
    if (st == AECL_ERR_IO) {
        r->pr.checkpointed = 0;
        return write_failed(r, st);
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

/* The first step's kernel compiles, one report per kind of kernel run. */
static void on_first_kernels(void *user, int done, int total)
{
    run *r = user;
    r->pr.building = 1, r->pr.kernels_done = done, r->pr.kernels_total = total;
    report(r);
    r->pr.building = r->pr.kernels_done = r->pr.kernels_total = 0;
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

/* The sum of a step's per-sample rows of t over its valid rows. */
static aecl_status row_sum(run *r, const aecl_tensor *t, int rows, double *out)
{
    AECL_TRY(aecl_plan_read(r->n->plan, t, r->rows_buf));
    double s = 0;
    for (int i = 0; i < rows; i++) s += r->rows_buf[i];
    *out = s;
    return AECL_OK;
}

/* This rank's loss times its rows, and the sums of its rows' loss terms. */
static aecl_status loss_sums(run *r, int rows, double v[3])
{
    v[0] = v[1] = v[2] = 0;
    if (rows == 0) return AECL_OK;
    float l;
    AECL_TRY(aecl_plan_read(r->n->plan, r->n->loss, &l));
    v[0] = (double)l * rows;
    AECL_TRY(row_sum(r, r->n->rec_rows, rows, &v[1]));
    if (r->n->kl_rows) AECL_TRY(row_sum(r, r->n->kl_rows, rows, &v[2]));
    return AECL_OK;
}

/* Reads the loss and its terms (a host sync: the rate is measured after it):
 * the mean over the step's `total` rows, summed over the ranks. */
static aecl_status read_loss(run *r, int epoch, long st, int rows, int total, size_t samples, double t0)
{
    double v[3];
    aecl_status got = loss_sums(r, rows, v);
    if (r->dist) AECL_TRY(aecl_dist_sum(r->dist, v, 3, got));
    else AECL_TRY(got);
    double l = v[0] / total, rec = v[1] / total, kl = v[2] / total;
    AECL_RETURN_IF(!isfinite(l), AECL_ERR_NUMERIC, r->ctx,
                   "the training loss became %s at epoch %d, step %ld: lower the learning rate%s", nonfinite(l), epoch + 1,
                   st + 1, r->saved);
    if (r->spec->loss == AECL_LOSS_MSE) rec /= (double)r->n->features;
    r->ck.loss_sum += l;
    r->ck.recon_sum += rec;
    r->ck.kl_sum += kl;
    r->ck.loss_reads++;
    r->pr.step = st + 1;
    r->pr.train_loss = r->ck.loss_sum / r->ck.loss_reads;
    r->pr.train_recon = r->ck.recon_sum / r->ck.loss_reads;
    r->pr.train_kl = r->n->kl_rows ? r->ck.kl_sum / r->ck.loss_reads : NAN;
    r->pr.samples_per_s = samples ? (double)samples / (aecl_now_s() - t0) : NAN;
    return AECL_OK;
}

/* One step over the global batch's `total` rows from `from`: this rank's share
 * of them with the data-parallel collectives, else all of them. */
static aecl_status run_step(run *r, long st, size_t from, int total, int *rows)
{
    int first = 0;
    *rows = r->dist ? aecl_dist_rows(r->dist, total, &first) : total;
    aecl_status got = AECL_OK;
    if (r->o->cancel && *r->o->cancel)
        got = aecl_fail(r->ctx, AECL_ERR_CANCELED, "training canceled before epoch %d, step %ld%s", r->pr.epoch, st + 1,
                        r->saved);
    if (got == AECL_OK) got = upload(r->n, &r->s, st, r->train, r->idx, from + (size_t)first, *rows);
    if (r->dist) return aecl_dist_step(r->dist, *rows, total, got);
    AECL_TRY(got);
    return aecl_plan_run(r->n->plan);
}

/* Whether step st's loss is read: every report_every-th step, and the epoch's
 * first and last, so progress shows from the start (a resumed mid-epoch run reads
 * where the uninterrupted one did). Only those steps compute the loss terms
 * (aecl_plan_set_reporting): the gradients do not need them. */
static int reads_loss(const run *r, long st)
{
    int every = r->o->report_every > 0 ? r->o->report_every : 10;
    return st == 0 || (st + 1) % every == 0 || st + 1 == r->steps;
}

static aecl_status run_epoch(run *r, int epoch, long first)
{
    const aecl_dataset *d = r->train;
    size_t batch = (size_t)r->o->batch; /* the global batch */
    double t0 = aecl_now_s();
    size_t rate_from = (size_t)first * batch; /* the samples before the rate's start */
    shuffle(r->idx, d->n, r->o->seed, epoch);
    for (long st = first; st < r->steps; st++) {
        size_t from = (size_t)st * batch;
        int total = (int)(d->n - from < batch ? d->n - from : batch), rows;
        int reads = reads_loss(r, st);
        /* The run's first step is where a driver such as PoCL compiles the
         * kernels (seconds on a first run): the rate, and the time left with
         * it, start after it (NaN until then), unless it is the epoch's only
         * step. The epoch's seconds still count it. */
        int building = !r->stepped && st + 1 < r->steps;
        r->stepped = 1;
        aecl_plan_set_reporting(r->n->plan, reads);
        AECL_TRY(run_step(r, st, from, total, &rows));
        if (reads) {
            AECL_TRY(read_loss(r, epoch, st, rows, total, building ? 0 : from + (size_t)total - rate_from, t0));
            report(r);
        }
        if (building) {
            t0 = aecl_now_s();
            rate_from = from + (size_t)total;
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

/* The validation loss of the weights the training net holds now (rank 0's,
 * shared: the ranks' weights are the same). */
static aecl_status validate(run *r, double *loss)
{
    double t0 = aecl_now_s();
    aecl_status st = AECL_OK;
    if (r->eval) {
        st = copy_params(r->eval, r->n);
        if (st == AECL_OK) st = aecl_evaluate_net_loss(r->eval, r->val, loss);
    }
    if (r->dist) st = aecl_dist_bcast(r->dist, loss, sizeof *loss, st);
    AECL_TRY(st);
    r->pr.val_seconds = aecl_now_s() - t0;
    return AECL_OK;
}

/* After an improvement: the weights are kept (a host copy, read once per
 * improving epoch) and the best-weights file is written. */
static aecl_status keep_best(run *r)
{
    if (!r->ck.best) return AECL_OK;
    AECL_TRY(aecl_net_read_params(r->n, r->ck.best));
    r->best_held = 1;
    if (!r->o->checkpoint_best) return AECL_OK;
    aecl_status st = AECL_OK;
    if (root(r)) {
        st = aecl_weights_save_meta(r->ctx, r->o->checkpoint_best, r->n, r->ck.best, r->o->scaling, r->o->best_meta,
                                    r->o->n_best_meta);
        r->pr.best_written = st == AECL_OK;
        if (st == AECL_ERR_IO) st = write_failed(r, st);
    }
    return share_write(r, st);
}

/* Validation and the monitor after epoch e; *stop when early stopping ends the run. */
static aecl_status end_epoch(run *r, int e, double t0, int *stop)
{
    double monitored = r->pr.train_loss;
    r->pr.val_loss = NAN;
    if (r->validating) {
        double loss;
        AECL_TRY(validate(r, &loss));
        AECL_RETURN_IF(!isfinite(loss), AECL_ERR_NUMERIC, r->ctx,
                       "the validation loss became %s after epoch %d: lower the learning rate%s", nonfinite(loss), e + 1,
                       r->saved);
        monitored = r->pr.val_loss = loss;
    }
    double best = r->ck.monitor.best;
    *stop = aecl_monitor_update(&r->ck.monitor, &r->o->schedule, r->o->patience, e + 1, monitored);
    r->pr.improved = r->ck.monitor.best != best;
    r->pr.stopping = *stop;
    if (r->pr.improved && r->validating) AECL_TRY(keep_best(r));
    r->ck.epoch = e + 1;
    r->ck.step = 0;
    r->ck.loss_sum = r->ck.recon_sum = r->ck.kl_sum = 0;
    r->ck.loss_reads = 0;
    int per = r->o->checkpoint_epochs > 1 ? r->o->checkpoint_epochs : 1;
    r->pr.checkpointed = r->o->checkpoint && (r->o->checkpoint_every ? checkpoint_due(r) : (e + 1) % per == 0);
    if (r->pr.checkpointed) AECL_TRY(save_checkpoint(r));
    r->pr.epoch_done = 1;
    r->pr.epoch_seconds = aecl_now_s() - t0;
    report(r);
    return AECL_OK;
}

static aecl_status resume(run *r)
{
    aecl_checkpoint_info ci;
    AECL_TRY(aecl_checkpoint_load(r->n, r->o->resume, &ci));
    float *best = ci.best;
    aecl_status st = AECL_OK;
    if (ci.batch != r->o->batch || ci.seed != r->o->seed)
        st = aecl_fail(r->ctx, AECL_ERR_INVALID_ARG,
                       "%s: the checkpoint was made with batch %d and seed %llu, this run has batch %d and seed %llu",
                       r->o->resume, ci.batch, (unsigned long long)ci.seed, r->o->batch, (unsigned long long)r->o->seed);
    else if (ci.step < 0 || ci.step >= r->steps || ci.epoch < 0)
        st = aecl_fail(r->ctx, AECL_ERR_INVALID_ARG,
                       "%s: the checkpoint stands at step %ld of an epoch of %ld steps (another data set?)", r->o->resume,
                       ci.step, r->steps);
    if (st != AECL_OK) { free(best); return st; }
    /* The best weights so far come back with the run (a checkpoint written
     * before a best was kept has none: the next improvement sets them). */
    if (best && r->ck.best) memcpy(r->ck.best, best, aecl_net_param_floats(r->n) * sizeof *best);
    float *keep = r->ck.best;
    r->best_held = best && keep;
    free(best);
    r->ck = ci;
    r->ck.best = keep;
    return AECL_OK;
}

/* The starting point: the seed's weights, opts->init or the checkpoint. */
static aecl_status start(run *r)
{
    /* Given weights replace the seed's; the optimizer state starts fresh either way. */
    if (r->o->init) AECL_TRY(aecl_net_write_params(r->n, r->o->init));
    else AECL_TRY(aecl_net_init_params(r->n, r->o->seed));
    return r->o->resume ? resume(r) : AECL_OK;
}

/* Data-parallel: rank 0's start (status st) goes to every rank: the loop's
 * position, the plan's step, the parameters and optimizer state, the best
 * weights kept so far. */
static aecl_status share_start(run *r, aecl_status st)
{
    struct {
        aecl_checkpoint_info ck;
        uint64_t plan_step;
        int best_held;
        char saved[sizeof r->saved];
    } o;
    memset(&o, 0, sizeof o);
    o.ck = r->ck;
    o.plan_step = aecl_plan_step(r->n->plan);
    o.best_held = r->best_held;
    memcpy(o.saved, r->saved, sizeof o.saved);
    AECL_TRY(aecl_dist_bcast(r->dist, &o, sizeof o, st));
    float *best = r->ck.best;
    r->ck = o.ck;
    r->ck.best = best;
    r->best_held = o.best_held && best;
    memcpy(r->saved, o.saved, sizeof o.saved);
    aecl_plan_set_step(r->n->plan, o.plan_step);
    const aecl_tensor *t[2 * AECL_NET_MAX_PARAMS + AECL_NET_MAX_PARAMS];
    int n = 0;
    for (int i = 0; i < r->n->n_params; i++) t[n++] = r->n->params[i];
    for (int i = 0; i < r->n->g->n_nodes && n < (int)(sizeof t / sizeof t[0]); i++)
        if (r->n->g->nodes[i]->flags & AECL_T_STATE) t[n++] = r->n->g->nodes[i];
    AECL_TRY(aecl_dist_bcast_tensors(r->dist, t, n));
    if (!o.best_held) return AECL_OK;
    /* Every rank that keeps best weights has the buffer (the same options). */
    return aecl_dist_bcast(r->dist, best, aecl_net_param_floats(r->n) * sizeof *best, AECL_OK);
}

static aecl_status train_loop(run *r)
{
    int stop = 0;
    float *best = r->ck.best;
    r->ck = (aecl_checkpoint_info){.seed = r->o->seed, .batch = r->o->batch, .monitor = aecl_monitor_init(r->base_lr),
                                   .best = best};
    aecl_status st = root(r) ? start(r) : AECL_OK;
    if (r->dist) st = share_start(r, st);
    AECL_TRY(st);
    /* A run that early stopping had ended stays ended. */
    if (r->o->resume) stop = r->o->patience > 0 && r->ck.monitor.bad_epochs >= r->o->patience;
    r->ck.monitor.min_delta = r->o->min_delta;
    for (int e = r->ck.epoch; e < r->o->epochs && !stop; e++) {
        double t0 = aecl_now_s();
        r->pr.epoch = e + 1;
        r->pr.val_loss = NAN;
        r->pr.epoch_done = r->pr.improved = r->pr.stopping = r->pr.checkpointed = r->pr.best_written = 0;
        r->pr.train_loss = r->ck.loss_reads ? r->ck.loss_sum / r->ck.loss_reads : NAN;
        AECL_TRY(set_rates(r, e));
        AECL_TRY(run_epoch(r, e, r->ck.step));
        AECL_TRY(end_epoch(r, e, t0, &stop));
    }
    r->pr.stopping = stop;
    return aecl_net_read_params(r->n, r->w);
}

/* The weights handed back: the best epoch's when they were kept. */
static void finish(run *r, double t0)
{
    int best = r->keep_best && r->best_held;
    if (best) memcpy(r->w, r->ck.best, aecl_net_param_floats(r->n) * sizeof *r->w);
    if (!r->o->summary) return;
    *r->o->summary = (aecl_train_summary){.epochs_run = r->ck.epoch, .stopped_early = r->pr.stopping,
                                          .validated = r->validating, .best_loss = r->ck.monitor.best,
                                          .best_epoch = r->ck.monitor.best_epoch,
                                          .weights_epoch = best ? r->ck.monitor.best_epoch : r->ck.epoch,
                                          .seconds = aecl_now_s() - t0};
}

static aecl_status check_opts(aecl_ctx *ctx, const aecl_model_spec *spec, const aecl_dataset *train,
                              const aecl_train_opts *o)
{
    AECL_RETURN_IF(train->features != aecl_spec_shape_numel(spec->input), AECL_ERR_SHAPE, ctx,
                   "the data has %zu features per sample, the model's input takes %zu", train->features,
                   aecl_spec_shape_numel(spec->input));
    AECL_RETURN_IF(train->n == 0, AECL_ERR_INVALID_ARG, ctx, "the training set is empty");
    AECL_RETURN_IF(o->batch < 1 || o->epochs < 1, AECL_ERR_INVALID_ARG, ctx, "batch %d, epochs %d: both must be >= 1",
                   o->batch, o->epochs);
    AECL_RETURN_IF(o->init && o->resume, AECL_ERR_INVALID_ARG, ctx,
                   "initial weights and a checkpoint to resume exclude each other (%s holds the run's weights)",
                   o->resume);
    AECL_RETURN_IF(o->checkpoint_every < 0, AECL_ERR_INVALID_ARG, ctx, "checkpoint interval %ld: must be >= 0",
                   o->checkpoint_every);
    AECL_RETURN_IF(!(o->min_delta >= 0) || !isfinite(o->min_delta), AECL_ERR_INVALID_ARG, ctx,
                   "min_delta %g: must be a finite number >= 0", o->min_delta);
    return o->comm ? aecl_dist_check(ctx, o->comm, o->batch) : AECL_OK;
}

aecl_status aecl_train(aecl_ctx *ctx, const aecl_model_spec *spec, const aecl_dataset *train, const aecl_dataset *val,
                       const aecl_train_opts *o, float **weights)
{
    *weights = NULL;
    AECL_TRY(check_opts(ctx, spec, train, o));
    double t0 = aecl_now_s();
    int validating = val && val->n, share = o->comm ? o->batch / o->comm->size : o->batch;
    run r = {.ctx = ctx, .spec = spec, .train = train, .val = val, .o = o, .validating = validating,
             .base_lr = o->lr > 0 ? o->lr : spec->train.lr, .keep_best = validating && !o->keep_last,
             .steps = (long)((train->n + (size_t)o->batch - 1) / (size_t)o->batch)};
    r.pr = (aecl_train_progress){.building = 1, .epochs = o->epochs, .steps_per_epoch = r.steps, .batch = o->batch,
                                 .val_loss = NAN, .val_rows = validating ? val->n : 0, .val_seconds = NAN,
                                 .train_kl = NAN};
    /* Building and compiling the kernels takes seconds the first time: say so. */
    report(&r);
    r.pr.building = 0;
    /* Each rank's net takes its share of the global batch; its random numbers
     * are those of its rows in the global batch. */
    if (o->comm) AECL_TRY(aecl_dist_open(ctx, o->comm, share, aecl_ctx_tuning(ctx)->dist_overlap, &r.dist));
    aecl_status st = aecl_net_build(ctx, spec, share, AECL_NET_TRAIN, (uint32_t)o->seed, &r.n);
    if (r.dist) st = aecl_dist_set_plan(r.dist, st == AECL_OK ? r.n->plan : NULL, st);
    if (st != AECL_OK) { aecl_dist_close(r.dist); aecl_net_free(r.n); return st; }
    if (r.dist) aecl_plan_set_row_offset(r.n->plan, (uint32_t)(o->comm->rank * share));
    size_t stage = (size_t)share * train->features * sizeof(float), nw = aecl_net_param_floats(r.n);
    r.s = (staging){{malloc(stage), malloc(stage)}, {0}};
    r.idx = malloc(train->n * sizeof *r.idx);
    r.w = malloc(nw * sizeof *r.w);
    r.rows_buf = malloc((size_t)share * sizeof *r.rows_buf);
    int best = r.keep_best || (validating && o->checkpoint_best);
    r.ck.best = best ? malloc(nw * sizeof *r.ck.best) : NULL;
    if (!r.s.buf[0] || !r.s.buf[1] || !r.idx || !r.w || !r.rows_buf || (best && !r.ck.best))
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    /* Validation's net lives as long as the run: no plan compiled per epoch. */
    if (st == AECL_OK && validating && root(&r))
        st = aecl_eval_net_build_mode(ctx, spec, o->batch, AECL_NET_VALIDATE, &r.eval);
    if (st == AECL_OK && o->resume) snprintf(r.saved, sizeof r.saved, "; %s is unchanged", o->resume);
    /* The first step compiles what the driver compiles on first use: tell as it goes. */
    if (st == AECL_OK && o->cb) st = aecl_plan_watch_first_launches(r.n->plan, on_first_kernels, &r);
    if (r.dist) st = aecl_dist_sum(r.dist, NULL, 0, st); /* every rank is ready, or none starts */
    if (st == AECL_OK) st = train_loop(&r);
    if (st == AECL_OK) finish(&r, t0);
    staging_free(&r.s);
    free(r.idx);
    free(r.rows_buf);
    free(r.ck.best);
    aecl_net_free(r.eval);
    aecl_dist_close(r.dist); /* before the plan its last write goes to */
    aecl_net_free(r.n);
    if (st != AECL_OK) { free(r.w); return st; }
    *weights = r.w;
    return AECL_OK;
}
