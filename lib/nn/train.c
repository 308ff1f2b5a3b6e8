/* The training loop: shuffled mini-batches replayed through one compiled plan,
 * a loss read every few steps, validation after each epoch. */
#include "io/io.h"
#include "nn/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

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

static aecl_status run_epoch(aecl_net *n, const aecl_dataset *d, const aecl_train_opts *o, int epoch, size_t *idx,
                             staging *s, aecl_train_progress *pr)
{
    long steps = (long)((d->n + (size_t)n->batch - 1) / (size_t)n->batch);
    double sum = 0, t0 = now_s();
    int reads = 0;
    shuffle(idx, d->n, o->seed, epoch);
    for (long st = 0; st < steps; st++) {
        size_t from = (size_t)st * (size_t)n->batch;
        int rows = (int)(d->n - from < (size_t)n->batch ? d->n - from : (size_t)n->batch);
        AECL_TRY(upload(n, s, st, d, idx, from, rows));
        AECL_TRY(aecl_plan_run(n->plan));
        if ((st + 1) % o->report_every == 0 || st + 1 == steps) {
            float l;
            AECL_TRY(aecl_plan_read(n->plan, n->loss, &l));
            AECL_RETURN_IF(!isfinite(l), AECL_ERR_NUMERIC, n->ctx,
                           "the training loss became %g at epoch %d, step %ld: lower the learning rate", l, epoch + 1, st + 1);
            sum += l;
            reads++;
            pr->step = st + 1;
            pr->train_loss = sum / reads;
            pr->samples_per_s = (double)(from + (size_t)rows) / (now_s() - t0);
            if (o->cb) o->cb(o->user, pr);
        }
    }
    return AECL_OK;
}

aecl_status aecl_train(aecl_ctx *ctx, const aecl_model_spec *spec, const aecl_dataset *train, const aecl_dataset *val,
                       const aecl_train_opts *o, float **weights)
{
    *weights = NULL;
    AECL_RETURN_IF(train->features != aecl_spec_shape_numel(spec->input), AECL_ERR_SHAPE, ctx,
                   "the data has %zu features per sample, the model's input takes %zu", train->features,
                   aecl_spec_shape_numel(spec->input));
    AECL_RETURN_IF(train->n == 0, AECL_ERR_INVALID_ARG, ctx, "the training set is empty");
    aecl_net *n = NULL;
    AECL_TRY(aecl_net_build(ctx, spec, o->batch, AECL_NET_TRAIN, (uint32_t)o->seed, &n));
    staging s = {{malloc((size_t)o->batch * train->features * sizeof(float)), malloc((size_t)o->batch * train->features * sizeof(float))}, {0}};
    size_t *idx = malloc(train->n * sizeof *idx);
    float *w = malloc(aecl_net_param_floats(n) * sizeof *w);
    aecl_status st = (!s.buf[0] || !s.buf[1] || !idx || !w) ? aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory") : AECL_OK;
    if (st == AECL_OK) st = aecl_net_init_params(n, o->seed);
    if (st == AECL_OK && o->lr > 0) { float lr = (float)o->lr; st = aecl_plan_write(n->plan, n->lr, &lr); }
    aecl_train_progress pr = {.epochs = o->epochs, .steps_per_epoch = (long)((train->n + (size_t)o->batch - 1) / (size_t)o->batch)};
    for (int e = 0; e < o->epochs && st == AECL_OK; e++) {
        pr.epoch = e + 1;
        pr.val_loss = NAN;
        pr.epoch_done = 0;
        if (n->beta) { float b = (float)beta_at(spec, e); st = aecl_plan_write(n->plan, n->beta, &b); }
        if (st == AECL_OK) st = run_epoch(n, train, o, e, idx, &s, &pr);
        if (st == AECL_OK) st = aecl_net_read_params(n, w);
        if (st == AECL_OK && val && val->n) {
            aecl_eval_result r;
            st = aecl_evaluate(ctx, spec, w, val, o->batch, NULL, &r);
            pr.val_loss = r.loss;
        }
        pr.epoch_done = 1;
        if (st == AECL_OK && o->cb) o->cb(o->user, &pr);
    }
    staging_free(&s);
    free(idx);
    aecl_net_free(n);
    if (st != AECL_OK) { free(w); return st; }
    *weights = w;
    return AECL_OK;
}

static void eval_batch(aecl_net *n, const aecl_dataset *d, size_t from, int rows, float *rec, float *kl, float *recon,
                       double *loss_sum, double *sq_sum)
{
    for (int r = 0; r < rows; r++) {
        double l = n->spec->loss == AECL_LOSS_MSE ? rec[r] / (double)d->features : rec[r];
        if (kl) l += kl[r];
        *loss_sum += l;
        const float *x = d->x + (from + (size_t)r) * d->features, *y = recon + (size_t)r * d->features;
        for (size_t k = 0; k < d->features; k++) *sq_sum += (double)(x[k] - y[k]) * (x[k] - y[k]);
    }
}

aecl_status aecl_evaluate(aecl_ctx *ctx, const aecl_model_spec *spec, const float *weights, const aecl_dataset *d,
                          int batch, float *recon_out, aecl_eval_result *out)
{
    AECL_RETURN_IF(d->features != aecl_spec_shape_numel(spec->input), AECL_ERR_SHAPE, ctx,
                   "the data has %zu features per sample, the model's input takes %zu", d->features,
                   aecl_spec_shape_numel(spec->input));
    aecl_net *n = NULL;
    AECL_TRY(aecl_net_build(ctx, spec, batch, AECL_NET_EVAL, (uint32_t)spec->train.seed, &n));
    float *xb = calloc((size_t)batch * d->features, sizeof *xb), *recon = malloc((size_t)batch * d->features * sizeof *recon);
    float *rec = malloc((size_t)batch * sizeof *rec), *kl = n->kl_rows ? malloc((size_t)batch * sizeof *kl) : NULL;
    aecl_status st = (!xb || !recon || !rec || (n->kl_rows && !kl)) ? aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory") : AECL_OK;
    if (st == AECL_OK) st = aecl_net_write_params(n, weights);
    if (st == AECL_OK && n->beta) { float b = (float)spec->train.beta; st = aecl_plan_write(n->plan, n->beta, &b); }
    double loss_sum = 0, sq_sum = 0;
    for (size_t from = 0; from < d->n && st == AECL_OK; from += (size_t)batch) {
        int rows = (int)(d->n - from < (size_t)batch ? d->n - from : (size_t)batch);
        memcpy(xb, d->x + from * d->features, (size_t)rows * d->features * sizeof *xb);
        memset(xb + (size_t)rows * d->features, 0, (size_t)(batch - rows) * d->features * sizeof *xb);
        aecl_plan_set_valid_rows(n->plan, rows);
        st = aecl_plan_write(n->plan, n->x, xb);
        if (st == AECL_OK) st = aecl_plan_run(n->plan);
        if (st == AECL_OK) st = aecl_plan_read(n->plan, n->rec_rows, rec);
        if (st == AECL_OK && kl) st = aecl_plan_read(n->plan, n->kl_rows, kl);
        if (st == AECL_OK) st = aecl_plan_read(n->plan, n->recon, recon);
        if (st != AECL_OK) break;
        eval_batch(n, d, from, rows, rec, kl, recon, &loss_sum, &sq_sum);
        if (recon_out) memcpy(recon_out + from * d->features, recon, (size_t)rows * d->features * sizeof *recon);
    }
    if (st == AECL_OK) {
        out->loss = loss_sum / (double)d->n;
        out->mse = sq_sum / ((double)d->n * (double)d->features);
        out->psnr = 10.0 * log10(1.0 / out->mse);
    }
    free(xb); free(recon); free(rec); free(kl);
    aecl_net_free(n);
    return st;
}

aecl_status aecl_dataset_load_idx(aecl_ctx *ctx, const char *images_path, const char *labels_path, size_t limit,
                                  size_t expect, aecl_dataset *out)
{
    memset(out, 0, sizeof *out);
    aecl_idx img, lab;
    AECL_TRY(aecl_idx_read(ctx, images_path, limit, AECL_IDX_SCALE01, &img));
    if (expect && img.item_elems != expect) {
        aecl_idx_free(&img);
        return aecl_fail(ctx, AECL_ERR_SHAPE, "%s: samples of %zu values, the model's input takes %zu", images_path,
                         img.item_elems, expect);
    }
    out->x = img.data;
    out->n = img.dims[0];
    out->features = img.item_elems;
    img.data = NULL;
    aecl_idx_free(&img);
    if (!labels_path) return AECL_OK;
    aecl_status st = aecl_idx_read(ctx, labels_path, limit, AECL_IDX_RAW_U8, &lab);
    if (st == AECL_OK && lab.dims[0] != out->n)
        st = aecl_fail(ctx, AECL_ERR_FORMAT, "%s: %zu labels for %zu images", labels_path, lab.dims[0], out->n);
    if (st == AECL_OK && !(out->labels = malloc(out->n * sizeof *out->labels)))
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; st == AECL_OK && i < out->n; i++) out->labels[i] = lab.u8[i];
    aecl_idx_free(&lab);
    if (st != AECL_OK) aecl_dataset_free(out);
    return st;
}

void aecl_dataset_free(aecl_dataset *d)
{
    if (!d) return;
    free(d->x);
    free(d->labels);
    memset(d, 0, sizeof *d);
}
