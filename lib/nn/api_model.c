/* The public calls that save a model and read or set its metadata, and the
 * model of a training's result (aecl_training_model) built without a file. */
#include "nn/api.h"

#include <stdlib.h>
#include <string.h>

/* Keys a weights file writes from the model itself (aecl_weights_save_meta). */
int aecl_meta_key_is_models(const char *key)
{
    return !strcmp(key, "aecl.model") || !strcmp(key, "aecl.scaling") || !strcmp(key, "aecl.version") ||
           !strcmp(key, "aecl.noise");
}

static aecl_status meta_add(aecl_ctx *ctx, aecl_meta *m, const char *key, const char *value)
{
    size_t i = 0;
    while (i < m->n && strcmp(m->keys[i], key)) i++;
    char *v = strdup(value);
    AECL_RETURN_IF(!v, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    if (i < m->n) {
        free(m->values[i]);
        m->values[i] = v;
        return AECL_OK;
    }
    char **k = realloc(m->keys, (m->n + 1) * sizeof *k);
    if (k) m->keys = k;
    char **vs = k ? realloc(m->values, (m->n + 1) * sizeof *vs) : NULL;
    if (vs) m->values = vs;
    char *kc = vs ? strdup(key) : NULL;
    if (!kc) { free(v); return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory"); }
    m->keys[m->n] = kc;
    m->values[m->n++] = v;
    return AECL_OK;
}

/* The metadata aecl_model_load would read from a file aecl_weights_save_meta wrote. */
static aecl_status result_meta(aecl_ctx *ctx, const aecl_model_spec *spec, const aecl_scaling *scaling,
                               const char *const *extra, size_t n_extra, aecl_meta *m)
{
    char *text = NULL, *scale = NULL, noise[64];
    AECL_RETURN_IF(aecl_spec_print(spec, &text) != AECL_OK, AECL_ERR_HOST_MEMORY, ctx, "cannot print the model spec");
    aecl_status st = aecl_scaling_format(ctx, scaling, &scale);
    aecl_spec_noise_text(spec, noise, sizeof noise);
    if (st == AECL_OK) st = meta_add(ctx, m, "aecl.model", text);
    if (st == AECL_OK) st = meta_add(ctx, m, "aecl.scaling", scale);
    if (st == AECL_OK) st = meta_add(ctx, m, "aecl.version", AECL_VERSION_STRING);
    if (st == AECL_OK && noise[0]) st = meta_add(ctx, m, "aecl.noise", noise);
    for (size_t i = 0; st == AECL_OK && i < n_extra; i++) st = meta_add(ctx, m, extra[2 * i], extra[2 * i + 1]);
    free(text);
    free(scale);
    return st;
}

static aecl_status copy_scaling(aecl_ctx *ctx, const aecl_scaling *s, aecl_scaling *out)
{
    *out = (aecl_scaling){.kind = s->kind, .features = s->features};
    if (s->kind == AECL_SCALE_NONE) return AECL_OK;
    out->offset = malloc(s->features * sizeof *out->offset);
    out->scale = malloc(s->features * sizeof *out->scale);
    if (!out->offset || !out->scale) {
        aecl_scaling_free(out);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    memcpy(out->offset, s->offset, s->features * sizeof *out->offset);
    memcpy(out->scale, s->scale, s->features * sizeof *out->scale);
    return AECL_OK;
}

aecl_status aecl_model_from_result(aecl_ctx *ctx, const aecl_model_spec *spec, const float *weights,
                                   const aecl_scaling *scaling, const char *const *extra, size_t n_extra,
                                   aecl_model **out)
{
    aecl_meta meta = {0};
    aecl_scaling sc = {0};
    aecl_model_spec *sp = NULL;
    float *w = NULL;
    aecl_net_layout lay;
    char *text = NULL;
    aecl_status st = aecl_net_layout_of(ctx, spec, &lay);
    if (st == AECL_OK && aecl_spec_print(spec, &text) != AECL_OK)
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "cannot print the model spec");
    if (st == AECL_OK) st = aecl_spec_parse_string(ctx, text, "<model text>", &sp);
    free(text);
    if (st == AECL_OK && !(w = malloc(lay.total * sizeof *w))) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) memcpy(w, weights, lay.total * sizeof *w);
    if (st == AECL_OK) st = copy_scaling(ctx, scaling, &sc);
    if (st == AECL_OK) st = result_meta(ctx, spec, scaling, extra, n_extra, &meta);
    if (st == AECL_OK) return aecl_model_adopt(ctx, sp, w, &sc, &meta, out);
    aecl_spec_free(sp);
    free(w);
    aecl_scaling_free(&sc);
    aecl_meta_free(&meta);
    return st;
}

aecl_status aecl_model_save(aecl_model *model, const char *path)
{
    AECL_RETURN_IF(!model || !path, AECL_ERR_INVALID_ARG, model ? aecl_model_ctx(model) : NULL,
                   "aecl_model_save: NULL model or path");
    aecl_ctx *ctx = aecl_model_ctx(model);
    float *w;
    aecl_scaling *sc;
    aecl_meta *m;
    aecl_model_parts(model, &w, &sc, &m);
    const char **extra = malloc((2 * m->n + 1) * sizeof *extra);
    AECL_RETURN_IF(!extra, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++)
        if (!aecl_meta_key_is_models(m->keys[i])) { extra[2 * n] = m->keys[i]; extra[2 * n + 1] = m->values[i]; n++; }
    aecl_net *net = NULL;
    aecl_status st = aecl_net_build_graph(ctx, aecl_model_spec_of(model), 1, AECL_NET_EVAL, &net);
    if (st == AECL_OK) st = aecl_weights_save_meta(ctx, path, net, w, sc, extra, n);
    aecl_net_free(net);
    free(extra);
    return st;
}

const char *aecl_model_get_meta(const aecl_model *model, const char *key)
{
    return model && key ? aecl_model_meta(model, key) : NULL;
}

aecl_status aecl_model_set_meta(aecl_model *model, const char *key, const char *value)
{
    AECL_RETURN_IF(!model || !key || !value, AECL_ERR_INVALID_ARG, model ? aecl_model_ctx(model) : NULL,
                   "aecl_model_set_meta: NULL model, key or value");
    aecl_ctx *ctx = aecl_model_ctx(model);
    AECL_RETURN_IF(aecl_meta_key_is_models(key), AECL_ERR_INVALID_ARG, ctx,
                   "metadata '%s' is the model's own: it cannot be set", key);
    float *w;
    aecl_scaling *sc;
    aecl_meta *m;
    aecl_model_parts(model, &w, &sc, &m);
    return meta_add(ctx, m, key, value);
}
