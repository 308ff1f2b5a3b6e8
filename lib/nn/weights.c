/* Weights files: safetensors holding every parameter under its layer name, with
 * the model spec's canonical text and the data scaling in the metadata, so one
 * file is a whole model (docs/weights.md). */
#include "io/io.h"
#include "nn/train.h"

#include <stdlib.h>
#include <string.h>

aecl_status aecl_weights_save(aecl_ctx *ctx, const char *path, const aecl_net *net, const float *weights)
{
    return aecl_weights_save_scaled(ctx, path, net, weights, NULL);
}

aecl_status aecl_weights_save_scaled(aecl_ctx *ctx, const char *path, const aecl_net *net, const float *weights,
                                     const aecl_scaling *scaling)
{
    aecl_st_view v[AECL_NET_MAX_PARAMS];
    const float *p = weights;
    for (int i = 0; i < net->n_params; i++) {
        const aecl_tensor *t = net->params[i];
        AECL_TRY(aecl_check_tensor_finite(ctx, path, net->param_names[i], p, t->size));
        v[i] = (aecl_st_view){.name = net->param_names[i], .ndim = (unsigned)t->ndim, .data = p};
        for (int k = 0; k < t->ndim; k++) v[i].shape[k] = (size_t)t->shape[k];
        p += t->size;
    }
    char *text = NULL, *scale = NULL;
    AECL_RETURN_IF(aecl_spec_print(net->spec, &text) != AECL_OK, AECL_ERR_HOST_MEMORY, ctx, "cannot print the model spec");
    aecl_status st = aecl_scaling_format(ctx, scaling, &scale);
    const char *meta[6] = {"aecl.model", text, "aecl.scaling", scale, "aecl.version", AECL_VERSION_STRING};
    if (st == AECL_OK) st = aecl_safetensors_write(ctx, path, v, (size_t)net->n_params, meta, 3);
    free(text);
    free(scale);
    return st;
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
    aecl_net_free(n);
    aecl_safetensors_free(&st);
    if (r != AECL_OK) { if (scaling) aecl_scaling_free(scaling); free(w); aecl_spec_free(*spec); *spec = NULL; return r; }
    *weights = w;
    return AECL_OK;
}
