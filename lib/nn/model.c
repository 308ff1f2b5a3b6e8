/* The public model API (aecl.h, "trained models"): a weights file on a context,
 * with networks built lazily per (mode, batch size) and kept. */
#include "nn/app.h"
#include "nn/app_scores.h"
#include "nn/batches.h"
#include "nn/train.h"
#include "ops/philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_MAX_NETS 8
#define MODEL_RNG_STREAM 16u   /* host draws of the model API (not a kernel stream) */

struct aecl_model {
    aecl_ctx *ctx;
    aecl_model_spec *spec;
    float *weights;              /* in layout order */
    aecl_scaling scaling;        /* of the training data (kind none for images) */
    aecl_meta meta;              /* the file's metadata (training noise, threshold, summary) */
    aecl_net_layout layout;
    uint64_t hash, seed;
    int max_batch;
    int n_nets, evict;           /* cache; evict = next slot to replace when full */
    aecl_net *nets[MODEL_MAX_NETS];
    aecl_normal_fit *normal;     /* aecl_model_fit_normal's, or NULL (model_scores.c) */
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* Hashes the model and sets its defaults; on failure frees m. */
static aecl_status model_finish(aecl_ctx *ctx, aecl_model *m, aecl_model **out)
{
    aecl_status st = aecl_net_layout_of(ctx, m->spec, &m->layout);
    char *text = NULL;
    if (st == AECL_OK && aecl_spec_print(m->spec, &text) != AECL_OK)
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "cannot print the model spec");
    if (st != AECL_OK) { aecl_model_free(m); return st; }
    m->hash = fnv1a(0xcbf29ce484222325ull, text, strlen(text));
    m->hash = fnv1a(m->hash, m->weights, m->layout.total * sizeof *m->weights);
    free(text);
    m->seed = m->spec->train.seed;
    *out = m;
    return AECL_OK;
}

aecl_status aecl_model_load(aecl_ctx *ctx, const char *path, aecl_model **out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_model_load: out is NULL");
    *out = NULL;
    AECL_RETURN_IF(!ctx || !path, AECL_ERR_INVALID_ARG, ctx, "aecl_model_load: NULL context or path");
    aecl_model *m = calloc(1, sizeof *m);
    AECL_RETURN_IF(!m, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    m->ctx = ctx;
    m->max_batch = 128;
    aecl_status st = aecl_weights_load_meta(ctx, path, &m->spec, &m->weights, &m->scaling, &m->meta);
    if (st == AECL_OK && m->scaling.kind != AECL_SCALE_NONE && m->scaling.features != aecl_spec_shape_numel(m->spec->input))
        st = aecl_fail(ctx, AECL_ERR_FORMAT, "%s: the scaling covers %zu features, the model takes %zu", path,
                       m->scaling.features, aecl_spec_shape_numel(m->spec->input));
    if (st != AECL_OK) { aecl_model_free(m); return st; }
    return model_finish(ctx, m, out);
}

aecl_status aecl_model_adopt(aecl_ctx *ctx, aecl_model_spec *spec, float *weights, aecl_scaling *scaling,
                             aecl_meta *meta, aecl_model **out)
{
    *out = NULL;
    aecl_model *m = calloc(1, sizeof *m);
    if (!m) {
        aecl_spec_free(spec);
        free(weights);
        aecl_scaling_free(scaling);
        aecl_meta_free(meta);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    *m = (aecl_model){.ctx = ctx, .spec = spec, .weights = weights, .scaling = *scaling, .meta = *meta,
                      .max_batch = 128};
    memset(scaling, 0, sizeof *scaling);
    memset(meta, 0, sizeof *meta);
    return model_finish(ctx, m, out);
}

void aecl_model_parts(aecl_model *m, float **weights, aecl_scaling **scaling, aecl_meta **meta)
{
    *weights = m->weights;
    *scaling = &m->scaling;
    *meta = &m->meta;
}

void aecl_model_free(aecl_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_nets; i++) aecl_net_free(m->nets[i]);
    free(m->weights);
    aecl_scaling_free(&m->scaling);
    aecl_meta_free(&m->meta);
    aecl_spec_free(m->spec);
    aecl_normal_fit_free(m->normal);
    free(m);
}

aecl_model_kind aecl_model_get_kind(const aecl_model *m) { return (aecl_model_kind)m->spec->kind; }
const char *aecl_model_kind_name(const aecl_model *m) { return aecl_spec_kind_name(m->spec->kind); }
size_t aecl_model_input_size(const aecl_model *m) { return aecl_spec_shape_numel(m->spec->input); }
size_t aecl_model_latent_size(const aecl_model *m) { return (size_t)m->spec->latent; }
uint64_t aecl_model_hash(const aecl_model *m) { return m->hash; }
void aecl_model_set_seed(aecl_model *m, uint64_t seed) { m->seed = seed; }
const aecl_model_spec *aecl_model_spec_of(const aecl_model *m) { return m->spec; }
aecl_ctx *aecl_model_ctx(const aecl_model *m) { return m->ctx; }
const char *aecl_model_meta(const aecl_model *m, const char *key) { return aecl_meta_get(&m->meta, key); }
aecl_normal_fit **aecl_model_normal_slot(aecl_model *m) { return &m->normal; }

int aecl_model_input_shape(const aecl_model *m, int *c, int *h, int *w)
{
    if (c) *c = m->spec->input.c;
    if (h) *h = m->spec->input.h;
    if (w) *w = m->spec->input.w;
    return m->spec->input.rank;
}

aecl_status aecl_model_set_batch(aecl_model *m, int batch)
{
    AECL_RETURN_IF(batch < 1 || batch > 65536, AECL_ERR_INVALID_ARG, m->ctx, "batch %d: must be in 1..65536", batch);
    m->max_batch = batch;
    return AECL_OK;
}

/* The cached net of (mode, batch), built and loaded with the weights on first use. */
static aecl_status get_net(aecl_model *m, aecl_net_mode mode, int batch, aecl_net **out)
{
    for (int i = 0; i < m->n_nets; i++)
        if (m->nets[i]->mode == mode && m->nets[i]->batch == batch) { *out = m->nets[i]; return AECL_OK; }
    aecl_net *n = NULL;
    AECL_TRY(aecl_net_build(m->ctx, m->spec, batch, mode, (uint32_t)m->spec->train.seed, &n));
    aecl_status st = aecl_net_write_params_layout(n, &m->layout, m->weights);
    if (st == AECL_OK && n->beta) { float b = (float)m->spec->train.beta; st = aecl_plan_write(n->plan, n->beta, &b); }
    if (st != AECL_OK) { aecl_net_free(n); return st; }
    int slot;
    if (m->n_nets < MODEL_MAX_NETS) slot = m->n_nets++;
    else {
        /* Full: replace the oldest (no pass holds a net across get_net calls). */
        slot = m->evict;
        aecl_net_free(m->nets[slot]);
        m->evict = (slot + 1) % MODEL_MAX_NETS;
    }
    m->nets[slot] = n;
    *out = n;
    return AECL_OK;
}

/* What a pass reads back: each array, when not NULL, gets n rows. */
typedef struct pass_out {
    float *recon, *code, *logvar, *rec, *kl, *mse;
} pass_out;

static void want(aecl_batches *b, const aecl_tensor *t, float *dst)
{
    if (t && dst) b->out[b->n_out++] = (aecl_batches_out){.t = t, .host = dst};
}

/* Runs `in` (n rows) through the mode's net in batches of at most max_batch
 * rows; the last batch is padded with zeros and masked. */
static aecl_status run_pass(aecl_model *m, aecl_net_mode mode, const float *in, size_t n, const pass_out *o)
{
    int batch = n < (size_t)m->max_batch ? (int)n : m->max_batch;
    aecl_net *net = NULL;
    AECL_TRY(get_net(m, mode, batch, &net));
    /* Random streams (a VAE's z in EVAL mode) restart with each pass, as in a
     * fresh net: the same call gives the same numbers, those of aecl_evaluate. */
    aecl_plan_set_step(net->plan, 0);
    aecl_batches b = {.batch = batch, .rows = n, .n_stages = 1, .stage = {{net->plan, net->x, NULL}}, .in = {.host = in}};
    want(&b, net->recon, o->recon);
    want(&b, net->code, o->code);
    want(&b, net->logvar, o->logvar);
    want(&b, net->rec_rows, o->rec);
    want(&b, net->kl_rows, o->kl);
    want(&b, net->mse_rows, o->mse);
    return aecl_batches_run(&b);
}

static aecl_status check_args(aecl_model *m, const void *in, size_t n, const void *out, const char *call)
{
    AECL_RETURN_IF(!m, AECL_ERR_INVALID_ARG, NULL, "%s: model is NULL", call);
    AECL_RETURN_IF(!in || !out, AECL_ERR_INVALID_ARG, m->ctx, "%s: NULL buffer", call);
    AECL_RETURN_IF(n == 0, AECL_ERR_INVALID_ARG, m->ctx, "%s: n is 0", call);
    return AECL_OK;
}

static int is_vae(const aecl_model *m) { return m->spec->kind == AECL_AE_VARIATIONAL; }
static int scaled(const aecl_model *m) { return m->scaling.kind != AECL_SCALE_NONE; }

/* Inputs in the model's space: x itself, or a scaled copy in *copy (freed by the caller). */
static aecl_status to_model_space(aecl_model *m, const float *x, size_t n, float **copy, const float **out)
{
    *copy = NULL;
    *out = x;
    if (!scaled(m)) return AECL_OK;
    size_t f = aecl_model_input_size(m);
    *copy = malloc(n * f * sizeof **copy);
    AECL_RETURN_IF(!*copy, AECL_ERR_HOST_MEMORY, m->ctx, "out of host memory");
    memcpy(*copy, x, n * f * sizeof **copy);
    aecl_scaling_apply(&m->scaling, *copy, n, f);
    *out = *copy;
    return AECL_OK;
}

/* Outputs back in the data's units: x = x' / scale + offset. */
static void to_data_space(const aecl_model *m, float *y, size_t n)
{
    size_t f = m->scaling.features;
    for (size_t i = 0; scaled(m) && i < n; i++)
        for (size_t k = 0; k < f; k++) y[i * f + k] = y[i * f + k] / m->scaling.scale[k] + m->scaling.offset[k];
}

aecl_status aecl_model_encode(aecl_model *m, const float *x, size_t n, float *z, int sample)
{
    AECL_TRY(check_args(m, x, n, z, "aecl_model_encode"));
    AECL_RETURN_IF(sample && !is_vae(m), AECL_ERR_INVALID_ARG, m->ctx,
                   "aecl_model_encode: sampling needs a variational model (this one is %s)", aecl_model_kind_name(m));
    size_t L = (size_t)m->spec->latent;
    float *lv = sample ? malloc(n * L * sizeof *lv) : NULL;
    AECL_RETURN_IF(sample && !lv, AECL_ERR_HOST_MEMORY, m->ctx, "out of host memory");
    pass_out o = {.code = z, .logvar = lv};
    float *copy;
    const float *xs;
    aecl_status st = to_model_space(m, x, n, &copy, &xs);
    if (st == AECL_OK) st = run_pass(m, AECL_NET_ENCODE, xs, n, &o);
    free(copy);
    /* z = mu + exp(logvar / 2) eps, eps keyed by (seed, sample index, dimension). */
    for (size_t i = 0; st == AECL_OK && lv && i < n; i++)
        for (size_t k = 0; k < L; k++) {
            float eps = aecl_rng_normal((uint32_t)m->seed, MODEL_RNG_STREAM, (uint32_t)i, (uint32_t)(m->seed >> 32), (uint32_t)k);
            z[i * L + k] += expf(0.5f * lv[i * L + k]) * eps;
        }
    free(lv);
    return st;
}

aecl_status aecl_model_decode(aecl_model *m, const float *z, size_t n, float *x)
{
    AECL_TRY(check_args(m, z, n, x, "aecl_model_decode"));
    pass_out o = {.recon = x};
    AECL_TRY(run_pass(m, AECL_NET_DECODE, z, n, &o));
    to_data_space(m, x, n);
    return AECL_OK;
}

aecl_status aecl_model_reconstruct(aecl_model *m, const float *x, size_t n, float *y)
{
    AECL_TRY(check_args(m, x, n, y, "aecl_model_reconstruct"));
    return aecl_model_forward(m, x, n, y, NULL, NULL, NULL);
}

aecl_status aecl_model_forward(aecl_model *m, const float *x, size_t n, float *recon, float *mse, float *loss,
                               float *elbo)
{
    return aecl_model_forward_ex(m, x, n, 0, recon, mse, loss, elbo);
}

aecl_status aecl_model_forward_ex(aecl_model *m, const float *x, size_t n, int sample_z, float *recon, float *mse,
                                  float *loss, float *elbo)
{
    AECL_TRY(check_args(m, x, n, x, "aecl_model_forward"));
    AECL_RETURN_IF(elbo && !is_vae(m), AECL_ERR_INVALID_ARG, m->ctx,
                   "the negative ELBO needs a variational model (this one is %s)", aecl_model_kind_name(m));
    float *rec = loss || elbo ? malloc(n * sizeof *rec) : NULL, *kl = (loss || elbo) && is_vae(m) ? malloc(n * sizeof *kl) : NULL;
    aecl_status st = (loss || elbo) && (!rec || (is_vae(m) && !kl))
                         ? aecl_fail(m->ctx, AECL_ERR_HOST_MEMORY, "out of host memory") : AECL_OK;
    /* The MSE comes from the net (mse_rows), as in aecl_cl_model_scores. */
    pass_out o = {.recon = recon, .rec = rec, .kl = kl, .mse = mse};
    float *copy = NULL;
    const float *xs = x;
    if (st == AECL_OK) st = to_model_space(m, x, n, &copy, &xs);
    /* A caller who reads no scores gets the forward pass alone (no loss kernels). */
    aecl_net_mode mode = sample_z && is_vae(m) ? AECL_NET_EVAL : mse || rec ? AECL_NET_INFER : AECL_NET_RECON;
    if (st == AECL_OK) st = run_pass(m, mode, xs, n, &o);
    double beta = m->spec->train.beta, per = m->spec->loss == AECL_LOSS_MSE ? 1.0 / (double)aecl_model_input_size(m) : 1.0;
    for (size_t i = 0; st == AECL_OK && i < n; i++) {
        double k = kl ? kl[i] : 0.0;
        if (loss) loss[i] = (float)(rec[i] * per + (kl ? beta * k : 0.0));
        if (elbo) elbo[i] = (float)(rec[i] + k);
    }
    if (st == AECL_OK && recon) to_data_space(m, recon, n);
    free(copy);
    free(rec);
    free(kl);
    return st;
}

aecl_status aecl_model_scores(aecl_model *m, const float *x, size_t n, aecl_score_kind kind, float *scores)
{
    AECL_TRY(check_args(m, x, n, scores, "aecl_model_scores"));
    switch (kind) {
    case AECL_SCORE_MSE: return aecl_model_forward(m, x, n, NULL, scores, NULL, NULL);
    case AECL_SCORE_LOSS: return aecl_model_forward(m, x, n, NULL, NULL, scores, NULL);
    case AECL_SCORE_ELBO: return aecl_model_forward(m, x, n, NULL, NULL, NULL, scores);
    default: return aecl_model_host_scores(m, x, n, kind, scores);   /* computed from the outputs */
    }
}

aecl_status aecl_model_sample(aecl_model *m, size_t n, uint64_t seed, float *x)
{
    AECL_TRY(check_args(m, x, n, x, "aecl_model_sample"));
    AECL_RETURN_IF(!is_vae(m), AECL_ERR_INVALID_ARG, m->ctx,
                   "sampling needs a variational model (this one is %s)", aecl_model_kind_name(m));
    size_t L = (size_t)m->spec->latent;
    float *z = malloc(n * L * sizeof *z);
    AECL_RETURN_IF(!z, AECL_ERR_HOST_MEMORY, m->ctx, "out of host memory");
    /* Their own stream keeps these draws apart from aecl_model_encode's. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < L; k++)
            z[i * L + k] = aecl_rng_normal((uint32_t)seed, MODEL_RNG_STREAM + 1, (uint32_t)i, (uint32_t)(seed >> 32), (uint32_t)k);
    aecl_status st = aecl_model_decode(m, z, n, x);
    free(z);
    return st;
}
