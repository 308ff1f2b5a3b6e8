/* Checkpoints: a training net's parameters and optimizer state (the graph's
 * AECL_T_STATE tensors, "<param>.m" etc.) under their graph names, with the
 * loop's position in the metadata, so a killed run resumes exactly. */
#include "nn/train.h"
#include "rt/error.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_CK_TENSORS = 5 * AECL_NET_MAX_PARAMS, N_KEYS = 15, N_META = N_KEYS + 4 };

/* Parameters first (in net order), then every state tensor in graph order. */
static int ck_tensors(const aecl_net *n, aecl_tensor **out)
{
    int k = 0;
    for (int i = 0; i < n->n_params; i++) out[k++] = n->params[i];
    for (int i = 0; i < n->g->n_nodes && k < MAX_CK_TENSORS - AECL_NET_MAX_PARAMS; i++)
        if (n->g->nodes[i]->flags & AECL_T_STATE) out[k++] = n->g->nodes[i];
    return k;
}

#define BEST_PREFIX "best."

/* The kept best weights (host floats in net order) as "best.<param>" views
 * after the nt views already in v; names are built in `names`. */
static int best_views(const aecl_net *n, const float *best, aecl_st_view *v, int nt, char (*names)[64])
{
    for (int i = 0; best && i < n->n_params; i++) {
        const aecl_tensor *t = n->params[i];
        snprintf(names[i], sizeof names[i], BEST_PREFIX "%s", n->param_names[i]);
        v[nt] = (aecl_st_view){.name = names[i], .ndim = (unsigned)t->ndim, .data = best};
        for (int d = 0; d < t->ndim; d++) v[nt].shape[d] = (size_t)t->shape[d];
        best += t->size;
        nt++;
    }
    return nt;
}

/* Host copies of the tensors, one block; views into it for the writer. */
static aecl_status read_all(aecl_net *n, const char *path, aecl_tensor **t, int nt, aecl_st_view *v, float **block)
{
    size_t total = 0;
    for (int i = 0; i < nt; i++) total += t[i]->size;
    float *b = *block = malloc((total ? total : 1) * sizeof *b);
    AECL_RETURN_IF(!b, AECL_ERR_HOST_MEMORY, n->ctx, "out of host memory");
    for (int i = 0; i < nt; i++) {
        AECL_TRY(aecl_plan_read(n->plan, t[i], b));
        AECL_TRY(aecl_check_tensor_finite(n->ctx, path, t[i]->name, b, t[i]->size));
        v[i] = (aecl_st_view){.name = t[i]->name, .ndim = (unsigned)t[i]->ndim, .data = b};
        for (int d = 0; d < t[i]->ndim; d++) v[i].shape[d] = (size_t)t[i]->shape[d];
        b += t[i]->size;
    }
    return AECL_OK;
}

typedef char meta_val[40];

/* The loop's position in the metadata, in this order (fill_meta, read_info). */
static const char *const keys[N_KEYS] = {"aecl.epoch", "aecl.step", "aecl.plan_step", "aecl.seed", "aecl.batch",
                                   "aecl.lr", "aecl.loss_sum", "aecl.loss_reads", "aecl.best", "aecl.bad_epochs",
                                   "aecl.plateau_bad", "aecl.plateau_lr", "aecl.best_epoch", "aecl.recon_sum",
                                   "aecl.kl_sum"};
/* Keys from index N_OLD_KEYS on came later: a checkpoint without them reads as 0. */
enum { N_OLD_KEYS = 12 };

static void fill_meta(const aecl_checkpoint_info *ci, const char **meta, meta_val *val)
{
    snprintf(val[0], sizeof val[0], "%d", ci->epoch);
    snprintf(val[1], sizeof val[0], "%ld", ci->step);
    snprintf(val[2], sizeof val[0], "%" PRIu64, ci->plan_step);
    snprintf(val[3], sizeof val[0], "%" PRIu64, ci->seed);
    snprintf(val[4], sizeof val[0], "%d", ci->batch);
    snprintf(val[5], sizeof val[0], "%.17g", ci->lr);
    snprintf(val[6], sizeof val[0], "%.17g", ci->loss_sum);
    snprintf(val[7], sizeof val[0], "%d", ci->loss_reads);
    snprintf(val[8], sizeof val[0], "%.17g", ci->monitor.best);
    snprintf(val[9], sizeof val[0], "%d", ci->monitor.bad_epochs);
    snprintf(val[10], sizeof val[0], "%d", ci->monitor.plateau_bad);
    snprintf(val[11], sizeof val[0], "%.17g", ci->monitor.lr);
    snprintf(val[12], sizeof val[0], "%d", ci->monitor.best_epoch);
    snprintf(val[13], sizeof val[0], "%.17g", ci->recon_sum);
    snprintf(val[14], sizeof val[0], "%.17g", ci->kl_sum);
    for (int i = 0; i < N_KEYS; i++) { meta[2 * i] = keys[i]; meta[2 * i + 1] = val[i]; }
}

aecl_status aecl_checkpoint_save(aecl_net *n, const char *path, const aecl_checkpoint_info *ci,
                                 const aecl_scaling *scaling)
{
    AECL_RETURN_IF(n->mode != AECL_NET_TRAIN, AECL_ERR_INVALID_ARG, n->ctx, "checkpoints are of training nets");
    aecl_tensor *t[MAX_CK_TENSORS];
    aecl_st_view v[MAX_CK_TENSORS];
    char best_names[AECL_NET_MAX_PARAMS][64];
    int nt = ck_tensors(n, t);
    float *block = NULL;
    char *model = NULL, *scale = NULL;
    aecl_status st = read_all(n, path, t, nt, v, &block);
    if (st == AECL_OK && aecl_spec_print(n->spec, &model) != AECL_OK)
        st = aecl_fail(n->ctx, AECL_ERR_HOST_MEMORY, "cannot print the model spec");
    if (st == AECL_OK) st = aecl_scaling_format(n->ctx, scaling, &scale);
    if (st == AECL_OK) {
        const char *meta[2 * N_META];
        meta_val val[N_KEYS];
        fill_meta(ci, meta, val);
        const char *fixed[] = {"aecl.model", model, "aecl.scaling", scale, "aecl.checkpoint", "1",
                               "aecl.version", AECL_VERSION_STRING};
        memcpy(meta + 2 * N_KEYS, fixed, sizeof fixed);
        int all = best_views(n, ci->best, v, nt, best_names);
        st = aecl_safetensors_write(n->ctx, path, v, (size_t)all, meta, N_META);
    }
    free(block);
    free(model);
    free(scale);
    return st;
}

/* Checkpoint metadata is checked before it steers a resumed run: each field
 * for its type and range, the message naming the field and the value. */
static aecl_status bad_meta(aecl_ctx *ctx, const char *path, const char *key, const char *v, const char *expected)
{
    char esc[64];
    if (!v) return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: checkpoint metadata %s is missing", path, key);
    return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: checkpoint metadata %s is '%s', expected %s", path, key,
                     aecl_io_escape(v, esc, sizeof esc), expected);
}

/* A whole number in [0, max], written as plain digits (as fill_meta writes it). */
static aecl_status meta_whole(aecl_ctx *ctx, const aecl_safetensors *s, const char *path, const char *key,
                              uint64_t min, uint64_t max, uint64_t *out)
{
    const char *v = aecl_safetensors_meta(s, key);
    char *end = NULL, expected[80];
    int digits = v && *v >= '0' && *v <= '9';
    errno = 0;
    uint64_t x = digits ? strtoull(v, &end, 10) : 0;
    if (digits && !*end && errno != ERANGE && x >= min && x <= max) { *out = x; return AECL_OK; }
    snprintf(expected, sizeof expected, "a whole number from %" PRIu64 " to %" PRIu64, min, max);
    return bad_meta(ctx, path, key, v, expected);
}

enum { REAL_ANY, REAL_POSITIVE, REAL_BEST };

/* A finite number (REAL_POSITIVE: > 0 and a float's range, as rates are used in
 * float; REAL_BEST: finite or +inf, the monitor's "nothing yet"). */
static aecl_status meta_real(aecl_ctx *ctx, const aecl_safetensors *s, const char *path, const char *key, int kind,
                             double *out)
{
    static const char *const expected[] = {"a finite number", "a positive number below 3.4e38",
                                           "a finite number or inf"};
    const char *v = aecl_safetensors_meta(s, key);
    char *end = NULL;
    double x = v ? strtod(v, &end) : NAN;
    int ok = v && end != v && !*end && (isfinite(x) || (kind == REAL_BEST && x == INFINITY));
    if (kind == REAL_POSITIVE) ok = ok && x > 0 && x <= FLT_MAX;
    if (ok) { *out = x; return AECL_OK; }
    return bad_meta(ctx, path, key, v, expected[kind]);
}

static aecl_status read_info(aecl_ctx *ctx, const aecl_safetensors *s, const char *path, aecl_checkpoint_info *ci)
{
    uint64_t w[N_KEYS] = {0};
    double r[N_KEYS] = {0};
    /* Counts the loop keeps in an int (long for the step) stop there. */
    static const uint64_t min[N_KEYS] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint64_t max[N_KEYS] = {INT_MAX, LONG_MAX, UINT64_MAX, UINT64_MAX, INT_MAX, 0, 0, INT_MAX, 0,
                                         INT_MAX, INT_MAX, 0, INT_MAX, 0, 0};
    static const int real[N_KEYS] = {-1, -1, -1, -1, -1, REAL_POSITIVE, REAL_ANY, -1, REAL_BEST, -1, -1,
                                     REAL_POSITIVE, -1, REAL_ANY, REAL_ANY};
    for (int i = 0; i < N_KEYS; i++) {
        if (i >= N_OLD_KEYS && !aecl_safetensors_meta(s, keys[i])) continue;
        AECL_TRY(real[i] < 0 ? meta_whole(ctx, s, path, keys[i], min[i], max[i], &w[i])
                             : meta_real(ctx, s, path, keys[i], real[i], &r[i]));
    }
    AECL_RETURN_IF(w[7] == 0 && r[6] != 0, AECL_ERR_FORMAT, ctx,
                   "%s: checkpoint metadata aecl.loss_sum is %g with aecl.loss_reads 0", path, r[6]);
    *ci = (aecl_checkpoint_info){.epoch = (int)w[0], .step = (long)w[1], .plan_step = w[2], .seed = w[3],
                                 .batch = (int)w[4], .lr = r[5], .loss_sum = r[6], .loss_reads = (int)w[7],
                                 .recon_sum = r[13], .kl_sum = r[14],
                                 .monitor = {.best = r[8], .bad_epochs = (int)w[9], .plateau_bad = (int)w[10],
                                             .lr = r[11], .best_epoch = (int)w[12]}};
    return AECL_OK;
}

static aecl_status same_model(aecl_net *n, const aecl_safetensors *s, const char *path)
{
    const char *text = aecl_safetensors_meta(s, "aecl.model");
    AECL_RETURN_IF(!aecl_safetensors_meta(s, "aecl.checkpoint") || !text, AECL_ERR_FORMAT, n->ctx,
                   "%s: not an aecl checkpoint (no aecl.checkpoint metadata)", path);
    aecl_model_spec *spec = NULL;
    AECL_TRY(aecl_spec_parse_string(n->ctx, text, path, &spec));
    int same = aecl_spec_equal(spec, n->spec);
    aecl_spec_free(spec);
    AECL_RETURN_IF(!same, AECL_ERR_INVALID_ARG, n->ctx, "%s: the checkpoint is of a different model", path);
    return AECL_OK;
}

static aecl_status load_tensor(aecl_net *n, const aecl_safetensors *s, const char *path, const aecl_tensor *t)
{
    const aecl_st_tensor *f = aecl_safetensors_find(s, t->name);
    AECL_RETURN_IF(!f, AECL_ERR_FORMAT, n->ctx, "%s: tensor '%s' is missing", path, t->name);
    int same = f->ndim == (unsigned)t->ndim;
    for (int k = 0; same && k < t->ndim; k++) same = f->shape[k] == (size_t)t->shape[k];
    char buf[64];
    AECL_RETURN_IF(!same, AECL_ERR_FORMAT, n->ctx, "%s: tensor '%s' has the wrong shape (the model needs %s)", path,
                   t->name, aecl_shape_str(t, buf, sizeof buf));
    return aecl_plan_write(n->plan, t, f->data);
}

/* The kept best weights, when the checkpoint has them (all or none). */
static aecl_status load_best(aecl_net *n, const aecl_safetensors *s, const char *path, aecl_checkpoint_info *ci,
                             int *count)
{
    char name[64];
    *count = 0;
    snprintf(name, sizeof name, BEST_PREFIX "%s", n->param_names[0]);
    if (!aecl_safetensors_find(s, name)) return AECL_OK;
    float *b = ci->best = malloc(aecl_net_param_floats(n) * sizeof *b);
    AECL_RETURN_IF(!b, AECL_ERR_HOST_MEMORY, n->ctx, "out of host memory");
    for (int i = 0; i < n->n_params; i++) {
        const aecl_tensor *t = n->params[i];
        snprintf(name, sizeof name, BEST_PREFIX "%s", n->param_names[i]);
        const aecl_st_tensor *f = aecl_safetensors_find(s, name);
        AECL_RETURN_IF(!f || f->count != t->size, AECL_ERR_FORMAT, n->ctx,
                       "%s: tensor '%s' is %s (the model needs %zu values there)", path, name,
                       f ? "misshapen" : "missing", t->size);
        memcpy(b, f->data, t->size * sizeof *b);
        b += t->size;
    }
    *count = n->n_params;
    return AECL_OK;
}

aecl_status aecl_checkpoint_load(aecl_net *n, const char *path, aecl_checkpoint_info *ci)
{
    ci->best = NULL;
    AECL_RETURN_IF(n->mode != AECL_NET_TRAIN, AECL_ERR_INVALID_ARG, n->ctx, "checkpoints are of training nets");
    aecl_safetensors s;
    AECL_TRY(aecl_safetensors_read(n->ctx, path, &s));
    aecl_tensor *t[MAX_CK_TENSORS];
    int nt = ck_tensors(n, t);
    aecl_status st = same_model(n, &s, path);
    if (st == AECL_OK) st = read_info(n->ctx, &s, path, ci);
    for (int i = 0; st == AECL_OK && i < nt; i++) st = load_tensor(n, &s, path, t[i]);
    int n_best = 0;
    if (st == AECL_OK) st = load_best(n, &s, path, ci, &n_best);
    if (st == AECL_OK && s.n_tensors != (size_t)(nt + n_best))
        st = aecl_fail(n->ctx, AECL_ERR_FORMAT, "%s: %zu tensors, the training net has %d (another optimizer?)", path,
                       s.n_tensors, nt);
    if (st == AECL_OK) aecl_plan_set_step(n->plan, ci->plan_step);
    if (st != AECL_OK) { free(ci->best); ci->best = NULL; }
    aecl_safetensors_free(&s);
    return st;
}
