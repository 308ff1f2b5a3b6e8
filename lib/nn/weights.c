/* Weights files: safetensors holding every parameter under its layer name, with
 * the model spec's canonical text and the data scaling in the metadata, so one
 * file is a whole model (docs/weights.md). */
#include "io/io.h"
#include "nn/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aecl_status aecl_weights_save(aecl_ctx *ctx, const char *path, const aecl_net *net, const float *weights)
{
    return aecl_weights_save_meta(ctx, path, net, weights, NULL, NULL, 0);
}

aecl_status aecl_weights_save_scaled(aecl_ctx *ctx, const char *path, const aecl_net *net, const float *weights,
                                     const aecl_scaling *scaling)
{
    return aecl_weights_save_meta(ctx, path, net, weights, scaling, NULL, 0);
}

void aecl_spec_noise_text(const aecl_model_spec *spec, char *buf, size_t cap)
{
    if (spec->kind != AECL_AE_DENOISING || spec->train.noise == AECL_SPEC_NOISE_NONE) { buf[0] = 0; return; }
    snprintf(buf, cap, "%s:%.9g", aecl_spec_noise_name(spec->train.noise), spec->train.noise_level);
}

enum { MAX_EXTRA = 32 };

aecl_status aecl_weights_save_meta(aecl_ctx *ctx, const char *path, const aecl_net *net, const float *weights,
                                   const aecl_scaling *scaling, const char *const *extra, size_t n_extra)
{
    AECL_RETURN_IF(n_extra > MAX_EXTRA, AECL_ERR_INVALID_ARG, ctx, "%s: %zu metadata pairs, at most %d", path, n_extra,
                   MAX_EXTRA);
    aecl_st_view v[AECL_NET_MAX_PARAMS];
    const float *p = weights;
    for (int i = 0; i < net->n_params; i++) {
        const aecl_tensor *t = net->params[i];
        AECL_TRY(aecl_check_tensor_finite(ctx, path, net->param_names[i], p, t->size));
        v[i] = (aecl_st_view){.name = net->param_names[i], .ndim = (unsigned)t->ndim, .data = p};
        for (int k = 0; k < t->ndim; k++) v[i].shape[k] = (size_t)t->shape[k];
        p += t->size;
    }
    char *text = NULL, *scale = NULL, noise[64];
    AECL_RETURN_IF(aecl_spec_print(net->spec, &text) != AECL_OK, AECL_ERR_HOST_MEMORY, ctx, "cannot print the model spec");
    aecl_status st = aecl_scaling_format(ctx, scaling, &scale);
    aecl_spec_noise_text(net->spec, noise, sizeof noise);
    const char *meta[2 * (4 + MAX_EXTRA)] = {"aecl.model", text, "aecl.scaling", scale, "aecl.version",
                                             AECL_VERSION_STRING};
    size_t n = 3;
    /* The noise the model was trained with: `aecl denoise` takes it as its default. */
    if (noise[0]) { meta[2 * n] = "aecl.noise"; meta[2 * n + 1] = noise; n++; }
    for (size_t i = 0; i < n_extra; i++, n++) { meta[2 * n] = extra[2 * i]; meta[2 * n + 1] = extra[2 * i + 1]; }
    if (st == AECL_OK) st = aecl_safetensors_write(ctx, path, v, (size_t)net->n_params, meta, n);
    free(text);
    free(scale);
    return st;
}

aecl_status aecl_weights_set_meta(aecl_ctx *ctx, const char *path, const char *const *pairs, size_t n)
{
    aecl_safetensors st;
    AECL_TRY(aecl_safetensors_read(ctx, path, &st));
    aecl_status r = AECL_OK;
    if (!aecl_safetensors_meta(&st, "aecl.model"))
        r = aecl_fail(ctx, AECL_ERR_FORMAT, "%s: no aecl.model metadata: not an aecl weights file", path);
    else if (aecl_safetensors_meta(&st, "aecl.checkpoint"))
        r = aecl_fail(ctx, AECL_ERR_INVALID_ARG, "%s: a checkpoint, not a weights file", path);
    size_t nm = st.n_meta + n;
    const char **meta = r == AECL_OK ? malloc(2 * nm * sizeof *meta) : NULL;
    aecl_st_view *v = r == AECL_OK ? calloc(st.n_tensors ? st.n_tensors : 1, sizeof *v) : NULL;
    if (r == AECL_OK && (!meta || !v)) r = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    size_t k = 0;
    for (size_t i = 0; r == AECL_OK && i < st.n_meta; i++) {
        int replaced = 0;
        for (size_t j = 0; j < n; j++) replaced |= !strcmp(st.meta_keys[i], pairs[2 * j]);
        if (replaced) continue;
        meta[2 * k] = st.meta_keys[i];
        meta[2 * k++ + 1] = st.meta_values[i];
    }
    for (size_t j = 0; r == AECL_OK && j < n; j++, k++) { meta[2 * k] = pairs[2 * j]; meta[2 * k + 1] = pairs[2 * j + 1]; }
    for (size_t i = 0; r == AECL_OK && i < st.n_tensors; i++) {
        const aecl_st_tensor *t = &st.tensors[i];
        v[i] = (aecl_st_view){.name = t->name, .ndim = t->ndim, .data = t->data};
        memcpy(v[i].shape, t->shape, sizeof v[i].shape);
    }
    if (r == AECL_OK) r = aecl_safetensors_write(ctx, path, v, st.n_tensors, meta, k);
    free(meta);
    free(v);
    aecl_safetensors_free(&st);
    return r;
}

const char *aecl_meta_get(const aecl_meta *m, const char *key)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (!strcmp(m->keys[i], key)) return m->values[i];
    return NULL;
}

void aecl_meta_free(aecl_meta *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) { free(m->keys[i]); free(m->values[i]); }
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}

static aecl_status copy_meta(aecl_ctx *ctx, const aecl_safetensors *st, aecl_meta *m)
{
    memset(m, 0, sizeof *m);
    m->keys = calloc(st->n_meta + 1, sizeof *m->keys);
    m->values = calloc(st->n_meta + 1, sizeof *m->values);
    AECL_RETURN_IF(!m->keys || !m->values, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    for (size_t i = 0; i < st->n_meta; i++, m->n++) {
        m->keys[i] = strdup(st->meta_keys[i]);
        m->values[i] = strdup(st->meta_values[i]);
        if (!m->keys[i] || !m->values[i]) { m->n++; return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory"); }
    }
    return AECL_OK;
}

/* Every tensor the model needs is in the file with the right number of values
 * (and, in a weights file, no other): checked against the model's layout, a graph
 * without device memory, before a net is built, so a small file declaring a huge
 * model fails at once instead of allocating for it. Exact shapes follow in
 * copy_tensor, once the net (now as small as the file) is built. */
static aecl_status check_tensors(aecl_ctx *ctx, const char *path, const aecl_safetensors *st,
                                 const aecl_model_spec *spec)
{
    aecl_net_layout lay;
    AECL_TRY(aecl_net_layout_of(ctx, spec, &lay));
    for (int i = 0; i < lay.n; i++) {
        const aecl_st_tensor *f = aecl_safetensors_find(st, lay.names[i]);
        AECL_RETURN_IF(!f, AECL_ERR_FORMAT, ctx, "%s: tensor '%s' is missing (the model needs %zu values there)", path,
                       lay.names[i], lay.size[i]);
        AECL_RETURN_IF(f->count != lay.size[i], AECL_ERR_FORMAT, ctx,
                       "%s: tensor '%s' holds %zu values, the model needs %zu", path, lay.names[i], f->count,
                       lay.size[i]);
    }
    /* A checkpoint also holds the optimizer state: only its parameters are read. */
    int ck = aecl_safetensors_meta(st, "aecl.checkpoint") != NULL;
    AECL_RETURN_IF(!ck && st->n_tensors != (size_t)lay.n, AECL_ERR_FORMAT, ctx, "%s: %zu tensors, the model has %d",
                   path, st->n_tensors, lay.n);
    return AECL_OK;
}

static aecl_status copy_tensor(aecl_ctx *ctx, const char *path, const aecl_safetensors *st, const aecl_net *n, int i,
                               float *dst)
{
    const aecl_tensor *t = n->params[i];
    const aecl_st_tensor *f = aecl_safetensors_find(st, n->param_names[i]);
    AECL_RETURN_IF(!f, AECL_ERR_FORMAT, ctx, "%s: tensor '%s' is missing", path, n->param_names[i]);
    int same = f->ndim == (unsigned)t->ndim;
    for (int k = 0; same && k < t->ndim; k++) same = f->shape[k] == (size_t)t->shape[k];
    char s[64];
    AECL_RETURN_IF(!same, AECL_ERR_FORMAT, ctx, "%s: tensor '%s' has the wrong shape (the model needs %s)", path,
                   n->param_names[i], aecl_shape_str(t, s, sizeof s));
    memcpy(dst, f->data, t->size * sizeof *dst);
    return AECL_OK;
}

aecl_status aecl_weights_load(aecl_ctx *ctx, const char *path, aecl_model_spec **spec, float **weights)
{
    return aecl_weights_load_scaled(ctx, path, spec, weights, NULL);
}

aecl_status aecl_weights_load_scaled(aecl_ctx *ctx, const char *path, aecl_model_spec **spec, float **weights,
                                     aecl_scaling *scaling)
{
    return aecl_weights_load_meta(ctx, path, spec, weights, scaling, NULL);
}

aecl_status aecl_weights_load_meta(aecl_ctx *ctx, const char *path, aecl_model_spec **spec, float **weights,
                                   aecl_scaling *scaling, aecl_meta *meta)
{
    if (meta) memset(meta, 0, sizeof *meta);
    if (scaling) memset(scaling, 0, sizeof *scaling);
    *spec = NULL;
    *weights = NULL;
    aecl_safetensors st;
    AECL_TRY(aecl_safetensors_read(ctx, path, &st));
    const char *text = aecl_safetensors_meta(&st, "aecl.model");
    aecl_status r = text ? aecl_spec_parse_string(ctx, text, path, spec)
                         : aecl_fail(ctx, AECL_ERR_FORMAT, "%s: no aecl.model metadata: not an aecl weights file", path);
    aecl_net *n = NULL;
    if (r == AECL_OK) r = check_tensors(ctx, path, &st, *spec);
    if (r == AECL_OK) r = aecl_net_build(ctx, *spec, 1, AECL_NET_EVAL, 1, &n);
    float *w = r == AECL_OK ? malloc(aecl_net_param_floats(n) * sizeof *w) : NULL;
    if (r == AECL_OK && !w) r = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    float *p = w;
    for (int i = 0; r == AECL_OK && i < n->n_params; i++) {
        r = copy_tensor(ctx, path, &st, n, i, p);
        p += n->params[i]->size;
    }
    if (r == AECL_OK && scaling) r = aecl_scaling_from_meta(ctx, &st, path, scaling);
    if (r == AECL_OK && scaling && scaling->kind != AECL_SCALE_NONE && scaling->features != n->features)
        r = aecl_fail(ctx, AECL_ERR_FORMAT, "%s: a scaling of %zu features for a model input of %zu", path,
                      scaling->features, n->features);
    if (r == AECL_OK && meta) r = copy_meta(ctx, &st, meta);
    aecl_net_free(n);
    aecl_safetensors_free(&st);
    if (r != AECL_OK) { aecl_meta_free(meta); if (scaling) aecl_scaling_free(scaling); free(w); aecl_spec_free(*spec); *spec = NULL; return r; }
    *weights = w;
    return AECL_OK;
}
