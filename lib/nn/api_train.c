/* The public training calls (aecl.h "training"): options resolved against the
 * model text, an init or resume file read, the data scaled (on copies), the
 * internal loop (train.c) run with a progress bridge that keeps the history and
 * turns a callback's nonzero return into a cancel, and the result saved or
 * handed over as a model. */
#include "base/bigmem.h"
#include "nn/api.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAINING_MAX_META 24   /* aecl_weights_save_meta takes 32 pairs; the run adds at most 11 */

struct aecl_training {
    aecl_ctx *ctx;
    aecl_model_spec *spec;          /* its own copy */
    const aecl_data *train_src, *val_src;
    aecl_dataset train_copy, val_copy; /* scaled copies (a scaling other than none) */
    const aecl_dataset *train, *val;   /* what the loop reads: the sources or the copies */
    aecl_scaling scaling;
    float *init_w;                  /* init's parameters, or NULL */
    char *strs[5];                  /* copies of checkpoint, checkpoint_best, resume, init, schedule */
    aecl_train_opts o;
    aecl_training_info info;
    aecl_training_progress_fn progress;
    void *user;
    volatile int cancel;
    int ran;                        /* 1 after a run began (one per handle) */
    float *w;                       /* the result, after a successful run */
    aecl_train_summary sm;
    aecl_training_epoch *hist;
    size_t n_hist, cap_hist;
    int n_meta;
    char *meta[2 * TRAINING_MAX_META];
};

/* ---- options -------------------------------------------------------------------------- */

static aecl_status check_options(aecl_ctx *ctx, const aecl_training_options *p, const aecl_data *val)
{
    AECL_RETURN_IF(p->init && p->resume, AECL_ERR_INVALID_ARG, ctx,
                   "init and resume exclude each other: resume continues a checkpoint's run, init starts a new run "
                   "from weights");
    AECL_RETURN_IF((p->checkpoint_every || p->checkpoint_epochs) && !p->checkpoint && !p->resume, AECL_ERR_INVALID_ARG,
                   ctx, "a checkpoint interval needs a checkpoint file");
    AECL_RETURN_IF(p->checkpoint_every && p->checkpoint_epochs, AECL_ERR_INVALID_ARG, ctx,
                   "checkpoint_every and checkpoint_epochs exclude each other");
    AECL_RETURN_IF(p->checkpoint_every < 0 || p->checkpoint_epochs < 0 || p->patience < 0, AECL_ERR_INVALID_ARG, ctx,
                   "checkpoint intervals and patience must be >= 0");
    AECL_RETURN_IF(p->checkpoint_best && !(val && val->d.n), AECL_ERR_INVALID_ARG, ctx,
                   "a best-weights file keeps the best validation loss's weights: it needs validation data");
    return AECL_OK;
}

/* The option strings, copied: the caller's may go away before the run. */
static aecl_status copy_strings(aecl_training *t, const aecl_training_options *p)
{
    const char *src[5] = {p->checkpoint ? p->checkpoint : p->resume, p->checkpoint_best, p->resume, p->init,
                          p->schedule ? p->schedule : "none"};
    for (int i = 0; i < 5; i++) {
        if (!src[i]) continue;
        t->strs[i] = strdup(src[i]);
        AECL_RETURN_IF(!t->strs[i], AECL_ERR_HOST_MEMORY, t->ctx, "out of host memory");
    }
    return AECL_OK;
}

/* The internal options from the public ones (defaults from the model text). */
static aecl_status resolve(aecl_training *t, const aecl_training_options *p)
{
    aecl_schedule schedule;
    AECL_TRY(aecl_schedule_parse(t->ctx, t->strs[4], &schedule));
    t->o = (aecl_train_opts){.epochs = p->epochs > 0 ? p->epochs : t->spec->train.epochs,
                             .batch = p->batch > 0 ? p->batch : t->spec->train.batch,
                             .lr = p->lr > 0 ? p->lr : -1,
                             .seed = p->use_seed ? p->seed : t->spec->train.seed,
                             .report_every = p->report_every, .schedule = schedule, .patience = p->patience,
                             .min_delta = p->min_delta, .keep_last = p->keep_last != 0, .checkpoint = t->strs[0],
                             .checkpoint_every = p->checkpoint_every, .checkpoint_epochs = p->checkpoint_epochs,
                             .checkpoint_best = t->strs[1], .resume = t->strs[2], .init = t->init_w,
                             .scaling = &t->scaling, .comm = p->comm, .cancel = &t->cancel};
    t->progress = p->progress;
    t->user = p->user;
    return AECL_OK;
}

/* ---- init, resume and the scaling ---------------------------------------------------- */

/* Reads the init file against the model (or takes its model text when there is
 * no model); a resume checkpoint is read the same way for its scaling alone. A
 * scaling in the file is kept: another `scale` is refused. */
static aecl_status load_start(aecl_training *t, const aecl_training_options *p, aecl_scale_kind kind,
                              aecl_scaling *file_sc)
{
    const char *path = t->strs[3] ? t->strs[3] : t->strs[2];
    int has_text = 0;
    AECL_TRY(aecl_weights_load_init(t->ctx, path, &t->spec, &t->init_w, file_sc, &has_text));
    if (!t->strs[3]) { free(t->init_w); t->init_w = NULL; }
    t->info.init_has_text = has_text;
    AECL_RETURN_IF(file_sc->kind != AECL_SCALE_NONE && p->scale && kind != file_sc->kind, AECL_ERR_INVALID_ARG, t->ctx,
                   "scale %s: the weights in %s were trained on %s-scaled data and %s keeps that scaling (leave the "
                   "scale unset)", p->scale, path, aecl_scale_name(file_sc->kind), t->strs[3] ? "init" : "resume");
    return AECL_OK;
}

static aecl_status copy_dataset(aecl_ctx *ctx, const aecl_dataset *src, aecl_dataset *dst)
{
    *dst = (aecl_dataset){.n = src->n, .features = src->features};
    dst->x = aecl_malloc_big(src->n * src->features * sizeof *dst->x);
    AECL_RETURN_IF(!dst->x, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    memcpy(dst->x, src->x, src->n * src->features * sizeof *dst->x);
    return AECL_OK;
}

/* aecl_scaling_apply reports to the thread's slot: its message goes into ctx. */
static aecl_status scaled_copy(aecl_training *t, const aecl_dataset *src, aecl_dataset *dst)
{
    AECL_TRY(copy_dataset(t->ctx, src, dst));
    aecl_status st = aecl_scaling_apply(&t->scaling, dst->x, dst->n, dst->features);
    return st == AECL_OK ? st : aecl_fail(t->ctx, st, "%s", aecl_ctx_last_error(NULL));
}

/* The file's scaling when it has one, else one of `kind` fitted on the training
 * rows; the loop then reads scaled copies (kind none: the caller's rows). */
static aecl_status prepare_data(aecl_training *t, aecl_scale_kind kind, aecl_scaling *file_sc)
{
    t->train = &t->train_src->d;
    t->val = t->val_src && t->val_src->d.n ? &t->val_src->d : NULL;
    if (file_sc->kind != AECL_SCALE_NONE) {
        t->scaling = *file_sc;
        memset(file_sc, 0, sizeof *file_sc);
    } else {
        AECL_TRY(aecl_scaling_fit(t->ctx, kind, t->train->x, t->train->n, t->train->features, &t->scaling));
    }
    if (t->scaling.kind == AECL_SCALE_NONE) return AECL_OK;
    AECL_TRY(scaled_copy(t, t->train, &t->train_copy));
    t->train = &t->train_copy;
    if (t->val) {
        AECL_TRY(scaled_copy(t, t->val, &t->val_copy));
        t->val = &t->val_copy;
    }
    return AECL_OK;
}

static void fill_info(aecl_training *t)
{
    aecl_training_info *i = &t->info;
    i->epochs = t->o.epochs;
    i->batch = t->o.batch;
    i->lr = t->o.lr > 0 ? t->o.lr : t->spec->train.lr;
    i->seed = t->o.seed;
    i->train_rows = t->train->n;
    i->val_rows = t->val ? t->val->n : 0;
    i->features = t->train->features;
    i->params = t->spec->n_params;
    i->kind = aecl_spec_kind_name(t->spec->kind);
    i->scale = aecl_scale_name(t->scaling.kind);
}

/* A copy of spec (print and parse: the canonical text describes it whole). */
static aecl_status copy_spec(aecl_ctx *ctx, const aecl_model_spec *spec, aecl_model_spec **out)
{
    char *text = NULL;
    AECL_RETURN_IF(aecl_spec_print(spec, &text) != AECL_OK, AECL_ERR_HOST_MEMORY, ctx, "cannot print the model spec");
    aecl_status st = aecl_spec_parse_string(ctx, text, "<model text>", out);
    free(text);
    return st;
}

static aecl_status check_features(aecl_training *t, const aecl_data *d, const char *what)
{
    size_t want = aecl_spec_shape_numel(t->spec->input);
    AECL_RETURN_IF(d && d->d.n && d->d.features != want, AECL_ERR_SHAPE, t->ctx,
                   "the %s data has %zu features per sample, the model's input takes %zu", what, d->d.features, want);
    return AECL_OK;
}

static aecl_status create(aecl_training *t, const aecl_model_spec *spec, const aecl_training_options *p)
{
    aecl_scale_kind kind;
    AECL_TRY(check_options(t->ctx, p, t->val_src));
    AECL_TRY(aecl_scale_parse(t->ctx, p->scale ? p->scale : "none", &kind));
    AECL_RETURN_IF(!spec && !p->init, AECL_ERR_INVALID_ARG, t->ctx, "no model: give a model text or an init file");
    AECL_TRY(copy_strings(t, p));
    if (spec) AECL_TRY(copy_spec(t->ctx, spec, &t->spec));
    aecl_scaling file_sc = {0};
    aecl_status st = p->init || p->resume ? load_start(t, p, kind, &file_sc) : AECL_OK;
    t->info.scale_from_file = file_sc.kind != AECL_SCALE_NONE;
    if (st == AECL_OK) st = resolve(t, p);
    if (st == AECL_OK) st = check_features(t, t->train_src, "training");
    if (st == AECL_OK) st = check_features(t, t->val_src, "validation");
    if (st == AECL_OK) st = prepare_data(t, kind, &file_sc);
    aecl_scaling_free(&file_sc);
    if (st == AECL_OK) fill_info(t);
    return st;
}

aecl_status aecl_training_create(aecl_ctx *ctx, const aecl_model_spec *spec, const aecl_data *train,
                                 const aecl_data *val, const aecl_training_options *opts, aecl_training **out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_training_create: out is NULL");
    *out = NULL;
    AECL_RETURN_IF(!ctx || !train, AECL_ERR_INVALID_ARG, ctx, "aecl_training_create: NULL context or training data");
    AECL_RETURN_IF(!train->d.n, AECL_ERR_INVALID_ARG, ctx, "the training set is empty");
    const aecl_training_options none = {0};
    aecl_training *t = calloc(1, sizeof *t);
    AECL_RETURN_IF(!t, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    t->ctx = ctx;
    t->train_src = train;
    t->val_src = val;
    aecl_status st = create(t, spec, opts ? opts : &none);
    if (st != AECL_OK) { aecl_training_free(t); return st; }
    *out = t;
    return AECL_OK;
}

void aecl_training_info_get(const aecl_training *t, aecl_training_info *out) { *out = t->info; }
const aecl_model_spec *aecl_training_spec(const aecl_training *t) { return t->spec; }

/* ---- the run ------------------------------------------------------------------------- */

static void add_epoch(aecl_training *t, const aecl_train_progress *p)
{
    if (t->n_hist == t->cap_hist) {
        size_t cap = t->cap_hist ? 2 * t->cap_hist : 32;
        aecl_training_epoch *h = realloc(t->hist, cap * sizeof *h);
        if (!h) return;   /* out of memory: the epoch is left out of the history, training goes on */
        t->hist = h;
        t->cap_hist = cap;
    }
    t->hist[t->n_hist++] = (aecl_training_epoch){p->epoch, p->train_loss, p->train_recon, p->train_kl, p->val_loss,
                                                 p->lr, p->samples_per_s, p->epoch_seconds, p->improved, {0}};
}

/* The loop's progress to the caller's callback; a nonzero return cancels. */
static void on_progress(void *user, const aecl_train_progress *p)
{
    aecl_training *t = user;
    if (p->epoch_done) add_epoch(t, p);
    if (!t->progress) return;
    aecl_training_progress q = {
        .building = p->building, .epoch = p->epoch, .epochs = p->epochs, .step = p->step,
        .steps_per_epoch = p->steps_per_epoch, .batch = p->batch, .train_loss = p->train_loss,
        .train_recon = p->train_recon, .train_kl = p->train_kl, .val_loss = p->val_loss, .val_rows = p->val_rows,
        .val_seconds = p->val_seconds, .samples_per_s = p->samples_per_s, .lr = p->lr,
        .epoch_seconds = p->epoch_seconds, .epoch_done = p->epoch_done, .improved = p->improved,
        .stopping = p->stopping, .checkpointed = p->checkpointed, .best_written = p->best_written,
        .checkpoint_error = p->checkpoint_error, .kernels_done = p->kernels_done,
        .kernels_total = p->kernels_total};
    if (t->progress(t->user, &q)) t->cancel = 1;
}

/* The training summary in the weights file's metadata (docs/weights.md). */
static aecl_status summary_meta(aecl_training *t)
{
    const aecl_train_summary *sm = &t->sm;
    char v[1024];
    snprintf(v, sizeof v, "%d of %d%s", sm->epochs_run, t->o.epochs, sm->stopped_early ? " (early stopping)" : "");
    AECL_TRY(aecl_training_set_meta(t, "aecl.train.epochs", v));
    snprintf(v, sizeof v, "%zu samples of %s", t->train->n, aecl_data_name(t->train_src));
    AECL_TRY(aecl_training_set_meta(t, "aecl.train.data", v));
    if (t->val) snprintf(v, sizeof v, "%zu samples of %s", t->val->n, aecl_data_name(t->val_src));
    AECL_TRY(aecl_training_set_meta(t, "aecl.train.validation", t->val ? v : "none"));
    if (t->o.init) AECL_TRY(aecl_training_set_meta(t, "aecl.train.init", t->strs[3]));
    if (sm->validated) {
        snprintf(v, sizeof v, "%.9g", sm->best_loss);
        AECL_TRY(aecl_training_set_meta(t, "aecl.train.best_val_loss", v));
        snprintf(v, sizeof v, "%d", sm->best_epoch);
        AECL_TRY(aecl_training_set_meta(t, "aecl.train.best_epoch", v));
    }
    snprintf(v, sizeof v, "%d (%s)", sm->weights_epoch,
             sm->weights_epoch == sm->best_epoch && sm->validated ? "the best" : "the last");
    return aecl_training_set_meta(t, "aecl.train.weights_epoch", v);
}

aecl_status aecl_training_run(aecl_training *t)
{
    AECL_RETURN_IF(!t, AECL_ERR_INVALID_ARG, NULL, "aecl_training_run: NULL training");
    AECL_RETURN_IF(t->ran, AECL_ERR_STATE, t->ctx, "aecl_training_run: this training has run (create another)");
    t->ran = 1;
    t->o.cb = on_progress;
    t->o.user = t;
    t->o.summary = &t->sm;
    aecl_status st = aecl_train(t->ctx, t->spec, t->train, t->val, &t->o, &t->w);
    /* A cancel at the last report still cancels: the caller asked for no result. */
    if (st == AECL_OK && t->cancel)
        st = aecl_fail(t->ctx, AECL_ERR_CANCELED, "training canceled at its end (after epoch %d)", t->sm.epochs_run);
    if (st == AECL_OK) st = summary_meta(t);
    if (st != AECL_OK) { free(t->w); t->w = NULL; }
    return st;
}

static aecl_status need_result(const aecl_training *t, const char *call)
{
    AECL_RETURN_IF(!t, AECL_ERR_INVALID_ARG, NULL, "%s: NULL training", call);
    AECL_RETURN_IF(!t->w, AECL_ERR_STATE, t->ctx, "%s: no result: the training has not run to its end", call);
    return AECL_OK;
}

void aecl_training_summary_get(const aecl_training *t, aecl_training_summary *out)
{
    *out = (aecl_training_summary){.epochs_run = t->sm.epochs_run, .stopped_early = t->sm.stopped_early,
                                   .validated = t->sm.validated, .best_epoch = t->sm.best_epoch,
                                   .weights_epoch = t->sm.weights_epoch, .best_loss = t->sm.best_loss,
                                   .seconds = t->sm.seconds};
}

const aecl_training_epoch *aecl_training_history(const aecl_training *t, size_t *n)
{
    *n = t->n_hist;
    return t->hist;
}

/* ---- metadata, threshold, result ------------------------------------------------------ */

aecl_status aecl_training_set_meta(aecl_training *t, const char *key, const char *value)
{
    AECL_RETURN_IF(!t || !key || !value, AECL_ERR_INVALID_ARG, t ? t->ctx : NULL,
                   "aecl_training_set_meta: NULL training, key or value");
    AECL_RETURN_IF(aecl_meta_key_is_models(key), AECL_ERR_INVALID_ARG, t->ctx,
                   "metadata '%s' is the model's own: it cannot be set", key);
    int i = 0;
    while (i < t->n_meta && strcmp(t->meta[2 * i], key)) i++;
    AECL_RETURN_IF(i == TRAINING_MAX_META, AECL_ERR_INVALID_ARG, t->ctx, "at most %d metadata pairs", TRAINING_MAX_META);
    char *v = strdup(value), *k = i < t->n_meta ? t->meta[2 * i] : strdup(key);
    if (!v || !k) {
        free(v);
        if (i == t->n_meta) free(k);
        return aecl_fail(t->ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    if (i < t->n_meta) free(t->meta[2 * i + 1]);
    else t->n_meta++;
    t->meta[2 * i] = k;
    t->meta[2 * i + 1] = v;
    return AECL_OK;
}

static aecl_status set_metaf(aecl_training *t, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static aecl_status set_metaf(aecl_training *t, const char *key, const char *fmt, ...)
{
    char v[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    return aecl_training_set_meta(t, key, v);
}

aecl_status aecl_training_fit_threshold(aecl_training *t, double contamination, double *threshold, float *scores,
                                        size_t *flagged)
{
    AECL_TRY(need_result(t, "aecl_training_fit_threshold"));
    AECL_RETURN_IF(!(contamination > 0 && contamination < 1) || !threshold, AECL_ERR_INVALID_ARG, t->ctx,
                   "contamination %g: must lie between 0 and 1 (and threshold not NULL)", contamination);
    size_t n = t->train->n;
    float *s = scores ? scores : malloc(n * sizeof *s);
    AECL_RETURN_IF(!s, AECL_ERR_HOST_MEMORY, t->ctx, "out of host memory");
    aecl_status st = aecl_mse_scores(t->ctx, t->spec, t->w, t->train, t->o.batch, s);
    if (st == AECL_OK) {
        double thr = aecl_quantile(s, n, 1.0 - contamination);
        size_t above = 0;
        for (size_t i = 0; i < n; i++) above += s[i] > thr;
        *threshold = thr;
        if (flagged) *flagged = above;
        st = set_metaf(t, "aecl.anomaly.threshold", "%.9g", thr);
        if (st == AECL_OK) st = aecl_training_set_meta(t, "aecl.anomaly.score", "mse");
        if (st == AECL_OK) st = set_metaf(t, "aecl.anomaly.contamination", "%.9g", contamination);
        if (st == AECL_OK)
            st = set_metaf(t, "aecl.anomaly.fitted_on", "%zu training samples of %s", n, aecl_data_name(t->train_src));
    }
    if (s != scores) free(s);
    return st;
}

aecl_status aecl_training_save(aecl_training *t, const char *path)
{
    AECL_TRY(need_result(t, "aecl_training_save"));
    AECL_RETURN_IF(!path, AECL_ERR_INVALID_ARG, t->ctx, "aecl_training_save: path is NULL");
    aecl_net *n = NULL;
    AECL_TRY(aecl_net_build_graph(t->ctx, t->spec, 1, AECL_NET_EVAL, &n));
    aecl_status st = aecl_weights_save_meta(t->ctx, path, n, t->w, &t->scaling, (const char *const *)t->meta,
                                            (size_t)t->n_meta);
    aecl_net_free(n);
    return st;
}

aecl_status aecl_training_model(aecl_training *t, aecl_model **out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, t ? t->ctx : NULL, "aecl_training_model: out is NULL");
    *out = NULL;
    AECL_TRY(need_result(t, "aecl_training_model"));
    return aecl_model_from_result(t->ctx, t->spec, t->w, &t->scaling, (const char *const *)t->meta,
                                  (size_t)t->n_meta, out);
}

void aecl_training_free(aecl_training *t)
{
    if (!t) return;
    aecl_spec_free(t->spec);
    aecl_dataset_free(&t->train_copy);
    aecl_dataset_free(&t->val_copy);
    aecl_scaling_free(&t->scaling);
    free(t->init_w);
    for (size_t i = 0; i < sizeof t->strs / sizeof t->strs[0]; i++) free(t->strs[i]);
    free(t->w);
    free(t->hist);
    for (int i = 0; i < 2 * t->n_meta; i++) free(t->meta[i]);
    free(t);
}
