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
    /* A checkpoint also holds the optimizer state: only its parameters are read.
     * In a weights file another tensor is a mistake (a file of another model, a
     * PyTorch buffer): named, as a missing one is. */
    if (aecl_safetensors_meta(st, "aecl.checkpoint")) return AECL_OK;
    for (size_t i = 0; i < st->n_tensors; i++) {
        int k = 0;
        while (k < lay.n && strcmp(lay.names[k], st->tensors[i].name)) k++;
        AECL_RETURN_IF(k == lay.n, AECL_ERR_FORMAT, ctx, "%s: tensor '%s' is not one of the model's %d tensors", path,
                       st->tensors[i].name, lay.n);
    }
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
    char s[64], fs[64] = "";
    for (unsigned k = 0; !same && k < f->ndim; k++)
        snprintf(fs + strlen(fs), sizeof fs - strlen(fs), "%s%zu", k ? "x" : "", f->shape[k]);
    AECL_RETURN_IF(!same, AECL_ERR_FORMAT, ctx, "%s: tensor '%s' has the wrong shape %s (the model needs %s)", path,
                   n->param_names[i], fs[0] ? fs : "[]", aecl_shape_str(t, s, sizeof s));
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

/* The model's parameters from the file, in layout order, every shape checked (and
 * every value finite, when `finite`); *out is malloc'd. */
static aecl_status read_params(aecl_ctx *ctx, const char *path, const aecl_safetensors *st,
                               const aecl_model_spec *spec, int finite, float **out)
{
    *out = NULL;
    AECL_TRY(check_tensors(ctx, path, st, spec));
    aecl_net *n = NULL;
    AECL_TRY(aecl_net_build_graph(ctx, spec, 1, AECL_NET_EVAL, &n));
    float *w = malloc(aecl_net_param_floats(n) * sizeof *w);
    aecl_status r = w ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    float *p = w;
    for (int i = 0; r == AECL_OK && i < n->n_params; i++) {
        r = copy_tensor(ctx, path, st, n, i, p);
        if (r == AECL_OK && finite) r = aecl_check_tensor_finite(ctx, path, n->param_names[i], p, n->params[i]->size);
        p += n->params[i]->size;
    }
    aecl_net_free(n);
    if (r != AECL_OK) { free(w); return r; }
    *out = w;
    return AECL_OK;
}

/* The file's scaling (kind none when it has none), which must cover the model's input. */
static aecl_status read_scaling(aecl_ctx *ctx, const char *path, const aecl_safetensors *st,
                                const aecl_model_spec *spec, aecl_scaling *scaling)
{
    AECL_TRY(aecl_scaling_from_meta(ctx, st, path, scaling));
    size_t features = aecl_spec_shape_numel(spec->input);
    size_t has = scaling->features;
    if (scaling->kind == AECL_SCALE_NONE || has == features) return AECL_OK;
    aecl_scaling_free(scaling);
    return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: a scaling of %zu features for a model input of %zu", path, has,
                     features);
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
    float *w = NULL;
    if (r == AECL_OK) r = read_params(ctx, path, &st, *spec, 0, &w);
    if (r == AECL_OK && scaling) r = read_scaling(ctx, path, &st, *spec, scaling);
    if (r == AECL_OK && meta) r = copy_meta(ctx, &st, meta);
    aecl_safetensors_free(&st);
    if (r != AECL_OK) { aecl_meta_free(meta); if (scaling) aecl_scaling_free(scaling); free(w); aecl_spec_free(*spec); *spec = NULL; return r; }
    *weights = w;
    return AECL_OK;
}

/* ---- weights to start training from (aecl train --init) ----------------------- */

/* A layer as text without its dropout rate: a training setting, not the network's. */
static void layer_text(const aecl_spec_layer *l, char *buf, size_t cap)
{
    aecl_spec_layer c = *l;
    c.dropout = 0;
    aecl_spec_layer_str(&c, buf, cap);
}

/* The first layer of a part (numbered as in the tensor names) that differs. */
static int layers_differ(const char *part, const aecl_spec_layer *f, size_t nf, const aecl_spec_layer *m, size_t nm,
                         char *msg, size_t cap)
{
    for (size_t i = 0; i < nf || i < nm; i++) {
        char a[160] = "(none)", b[160] = "(none)";
        if (i < nf) layer_text(&f[i], a, sizeof a);
        if (i < nm) layer_text(&m[i], b, sizeof b);
        if (strcmp(a, b)) {
            snprintf(msg, cap, "%s layer %zu is '%s' in the file, '%s' in the model", part, i, a, b);
            return 1;
        }
    }
    return 0;
}

/* The first difference between the networks of the file's spec f and the model m,
 * written to msg; 0 when they are the same network. The [train] settings, dropout
 * and a non-variational kind (vanilla, denoising, convolutional differ only in
 * training noise) do not count: they change how the weights are trained, not
 * which tensors there are or what the network computes with them. Mirrored
 * decoders are compared as derived, so `mirror` equals its layers written out. */
static int arch_differs(const aecl_model_spec *f, const aecl_model_spec *m, char *msg, size_t cap)
{
    char a[48], b[48];
    if ((f->kind == AECL_AE_VARIATIONAL) != (m->kind == AECL_AE_VARIATIONAL))
        return snprintf(msg, cap, "kind %s in the file, %s in the model", aecl_spec_kind_name(f->kind),
                        aecl_spec_kind_name(m->kind)), 1;
    if (!aecl_spec_shape_equal(f->input, m->input))
        return snprintf(msg, cap, "input %s in the file, %s in the model", aecl_spec_shape_str(f->input, a, sizeof a),
                        aecl_spec_shape_str(m->input, b, sizeof b)), 1;
    if (f->latent != m->latent)
        return snprintf(msg, cap, "latent %d in the file, %d in the model", f->latent, m->latent), 1;
    if (f->loss != m->loss)
        return snprintf(msg, cap, "loss %s in the file, %s in the model", aecl_spec_loss_name(f->loss),
                        aecl_spec_loss_name(m->loss)), 1;
    return layers_differ("encoder", f->encoder, f->n_encoder, m->encoder, m->n_encoder, msg, cap) ||
           layers_differ("decoder", f->decoder, f->n_decoder, m->decoder, m->n_decoder, msg, cap);
}

/* The model text of the file, when it has one, checked against *spec or taken as it. */
static aecl_status init_spec(aecl_ctx *ctx, const char *path, const aecl_safetensors *st, aecl_model_spec *given,
                             aecl_model_spec **file_spec)
{
    *file_spec = NULL;
    const char *text = aecl_safetensors_meta(st, "aecl.model");
    AECL_RETURN_IF(!text && !given, AECL_ERR_INVALID_ARG, ctx,
                   "%s has no model text (aecl.model metadata, as in a file written by another tool): give the "
                   "model file its tensors were made for", path);
    if (!text) return AECL_OK;
    AECL_TRY(aecl_spec_parse_string(ctx, text, path, file_spec));
    char msg[512];
    if (!given || !arch_differs(*file_spec, given, msg, sizeof msg)) return AECL_OK;
    aecl_spec_free(*file_spec);
    *file_spec = NULL;
    return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "%s holds the weights of another network than the model: %s", path, msg);
}

aecl_status aecl_weights_load_init(aecl_ctx *ctx, const char *path, aecl_model_spec **spec, float **weights,
                                   aecl_scaling *scaling, int *has_text)
{
    *weights = NULL;
    memset(scaling, 0, sizeof *scaling);
    if (has_text) *has_text = 0;
    aecl_safetensors st;
    AECL_TRY(aecl_safetensors_read(ctx, path, &st));
    if (has_text) *has_text = aecl_safetensors_meta(&st, "aecl.model") != NULL;
    aecl_model_spec *fs = NULL;
    aecl_status r = init_spec(ctx, path, &st, *spec, &fs);
    const aecl_model_spec *use = *spec ? *spec : fs;
    if (r == AECL_OK) r = read_params(ctx, path, &st, use, 1, weights);
    if (r == AECL_OK) r = read_scaling(ctx, path, &st, use, scaling);
    aecl_safetensors_free(&st);
    if (r != AECL_OK) { free(*weights); *weights = NULL; aecl_spec_free(fs); return r; }
    if (!*spec) *spec = fs;
    else aecl_spec_free(fs);
    return AECL_OK;
}
