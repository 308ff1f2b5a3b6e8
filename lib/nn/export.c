/* Opening a weights file for export: the spec, the scaling and the layer list
 * with each layer's tensors found and checked (nn/export.h). */
#include "nn/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *aecl_export_part_name(aecl_export_part p)
{
    return p == AECL_EXPORT_ENCODER ? "encoder" : p == AECL_EXPORT_DECODER ? "decoder" : "full";
}

/* The weight's shape in PyTorch's layout (docs/weights.md): dense [out, in],
 * conv [K, C, kh, kw], convT [C, K, kh, kw]. Returns the rank. */
static unsigned weight_shape(const aecl_spec_layer *l, size_t *s)
{
    if (l->kind == AECL_LAYER_DENSE) {
        s[0] = (size_t)l->units;
        s[1] = aecl_spec_shape_numel(l->in);
        return 2;
    }
    int conv = l->kind == AECL_LAYER_CONV;
    s[0] = (size_t)(conv ? l->units : l->in.c);
    s[1] = (size_t)(conv ? l->in.c : l->units);
    s[2] = (size_t)l->kh;
    s[3] = (size_t)l->kw;
    return 4;
}

/* The tensor `prefix.suffix`, which must have the given shape and finite values. */
static aecl_status find_tensor(aecl_ctx *ctx, const char *path, const aecl_safetensors *st, const char *prefix,
                               const char *suffix, unsigned ndim, const size_t *shape, const aecl_st_tensor **out)
{
    char name[48], want[96] = "", *p = want;
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    for (unsigned k = 0; k < ndim; k++) p += snprintf(p, sizeof want - (size_t)(p - want), k ? ", %zu" : "[%zu", shape[k]);
    snprintf(p, sizeof want - (size_t)(p - want), "]");
    const aecl_st_tensor *t = aecl_safetensors_find(st, name);
    AECL_RETURN_IF(!t, AECL_ERR_FORMAT, ctx, "%s: tensor '%s' is missing (the model needs %s there)", path, name, want);
    int same = t->ndim == ndim;
    for (unsigned k = 0; same && k < ndim; k++) same = t->shape[k] == shape[k];
    AECL_RETURN_IF(!same, AECL_ERR_FORMAT, ctx, "%s: tensor '%s' has the wrong shape (the model needs %s)", path, name,
                   want);
    size_t bad = aecl_first_nonfinite(t->data, t->count);
    AECL_RETURN_IF(bad < t->count, AECL_ERR_FORMAT, ctx, "%s: tensor '%s' holds a non-finite value (value %zu is %s)",
                   path, name, bad, aecl_nonfinite_name(t->data[bad]));
    *out = t;
    return AECL_OK;
}

/* Fills one layer: its name, activation and (for dense, conv, convT) tensors. */
static aecl_status make_layer(aecl_ctx *ctx, const char *path, const aecl_safetensors *st, const aecl_spec_layer *l,
                              const char *name, int logits, aecl_export_layer *out, size_t *used)
{
    out->l = l;
    snprintf(out->name, sizeof out->name, "%s", name);
    out->act = logits ? AECL_ACT_NONE : l->act;
    if (!aecl_spec_layer_has_weights(l->kind)) return AECL_OK;
    size_t shape[4], bias = (size_t)l->units;
    unsigned nd = weight_shape(l, shape);
    AECL_TRY(find_tensor(ctx, path, st, name, "weight", nd, shape, &out->w));
    AECL_TRY(find_tensor(ctx, path, st, name, "bias", 1, &bias, &out->b));
    *used += 2;
    return AECL_OK;
}

static aecl_status make_layers(aecl_ctx *ctx, const char *path, aecl_export_src *x)
{
    const aecl_model_spec *s = x->spec;
    size_t used = 0, out = aecl_spec_output_layer(s);
    char name[32];
    x->enc = calloc(s->n_encoder ? s->n_encoder : 1, sizeof *x->enc);
    x->dec = calloc(s->n_decoder ? s->n_decoder : 1, sizeof *x->dec);
    AECL_RETURN_IF(!x->enc || !x->dec, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    for (size_t i = 0; i < s->n_encoder; i++, x->n_enc++) {
        snprintf(name, sizeof name, "encoder.%zu", i);
        AECL_TRY(make_layer(ctx, path, &x->st, &s->encoder[i], name, 0, &x->enc[i], &used));
    }
    int vae = s->kind == AECL_AE_VARIATIONAL;
    AECL_TRY(make_layer(ctx, path, &x->st, &s->latent_layer, vae ? "mu" : "latent", 0, &x->latent, &used));
    if (vae) AECL_TRY(make_layer(ctx, path, &x->st, &s->latent_layer, "logvar", 0, &x->logvar, &used));
    x->sigmoid_out = s->loss == AECL_LOSS_BCE;
    for (size_t i = 0; i < s->n_decoder; i++, x->n_dec++) {
        snprintf(name, sizeof name, "decoder.%zu", i);
        AECL_TRY(make_layer(ctx, path, &x->st, &s->decoder[i], name, x->sigmoid_out && i == out, &x->dec[i], &used));
    }
    /* A checkpoint also holds the optimizer's state; a weights file holds the model only. */
    int ck = aecl_safetensors_meta(&x->st, "aecl.checkpoint") != NULL;
    AECL_RETURN_IF(!ck && x->st.n_tensors != used, AECL_ERR_FORMAT, ctx, "%s: %zu tensors, the model has %zu", path,
                   x->st.n_tensors, used);
    return AECL_OK;
}

aecl_status aecl_export_open(aecl_ctx *ctx, const char *path, aecl_export_src *out)
{
    memset(out, 0, sizeof *out);
    AECL_TRY(aecl_safetensors_read(ctx, path, &out->st));
    const char *text = aecl_safetensors_meta(&out->st, "aecl.model");
    aecl_status st = text ? aecl_spec_parse_string(ctx, text, path, &out->spec)
                          : aecl_fail(ctx, AECL_ERR_FORMAT, "%s: no aecl.model metadata: not an aecl weights file", path);
    if (st == AECL_OK) st = aecl_scaling_from_meta(ctx, &out->st, path, &out->scaling);
    size_t f = out->spec ? aecl_spec_shape_numel(out->spec->input) : 0;
    if (st == AECL_OK && out->scaling.kind != AECL_SCALE_NONE && out->scaling.features != f)
        st = aecl_fail(ctx, AECL_ERR_FORMAT, "%s: a scaling of %zu features for a model input of %zu", path,
                       out->scaling.features, f);
    if (st == AECL_OK) st = make_layers(ctx, path, out);
    if (st != AECL_OK) aecl_export_close(out);
    return st;
}

void aecl_export_close(aecl_export_src *x)
{
    if (!x) return;
    free(x->enc);
    free(x->dec);
    aecl_scaling_free(&x->scaling);
    aecl_spec_free(x->spec);
    aecl_safetensors_free(&x->st);
    memset(x, 0, sizeof *x);
}
