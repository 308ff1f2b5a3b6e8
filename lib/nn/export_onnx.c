/* ONNX export (docs/interchange.md): the encoder, the decoder or the whole model
 * of a weights file as one graph of standard operators (opset 13), the weights as
 * initializers under their aecl names, the batch dimension dynamic.
 *
 * Inputs and outputs are in the data's units: a model trained on scaled data
 * (aecl.scaling) scales its input, x' = (x - offset) * scale, and unscales its
 * reconstruction, y = y' / scale + offset, inside the graph, exactly as aecl's
 * model API does on the host. */
#include "nn/export.h"
#include "nn/onnx_proto.h"

#include <stdio.h>
#include <stdlib.h>

#define EXPORT_OPSET 13

/* The sample shape of a spec shape (dims of a [N, ...] tensor after N). */
static int sample_dims(aecl_spec_shape s, int *dims)
{
    if (s.rank == 1) { dims[0] = s.c; return 1; }
    dims[0] = s.c;
    dims[1] = s.h;
    dims[2] = s.w;
    return 3;
}

static const char *init_of(aecl_onnx *o, const aecl_st_tensor *t)
{
    int64_t dims[AECL_ST_MAX_DIMS];
    for (unsigned k = 0; k < t->ndim; k++) dims[k] = (int64_t)t->shape[k];
    return aecl_onnx_init_f32(o, t->name, (int)t->ndim, dims, t->data);
}

/* The activation node after a layer's op (act is not none). */
static const char *activation(aecl_onnx *o, const aecl_export_layer *L, const char *x, const char *out)
{
    static const char *const ops[] = {
        [AECL_ACT_RELU] = "Relu", [AECL_ACT_LEAKY_RELU] = "LeakyRelu", [AECL_ACT_SIGMOID] = "Sigmoid",
        [AECL_ACT_TANH] = "Tanh", [AECL_ACT_ELU] = "Elu",               [AECL_ACT_SOFTPLUS] = "Softplus"};
    const char *y = aecl_onnx_node(o, ops[L->act], out, 1, &x);
    if (L->act == AECL_ACT_LEAKY_RELU || L->act == AECL_ACT_ELU) aecl_onnx_attr_float(o, "alpha", (float)L->l->act_param);
    return y;
}

static void conv_attrs(aecl_onnx *o, const aecl_spec_layer *l)
{
    int64_t k[2] = {l->kh, l->kw}, s[2] = {l->stride_h, l->stride_w}, p[4] = {l->pad_h, l->pad_w, l->pad_h, l->pad_w};
    aecl_onnx_attr_ints(o, "kernel_shape", 2, k);
    aecl_onnx_attr_ints(o, "strides", 2, s);
    aecl_onnx_attr_ints(o, "pads", 4, p);
    if (l->kind != AECL_LAYER_CONVT) return;
    int64_t op[2] = {l->outpad_h, l->outpad_w};
    aecl_onnx_attr_ints(o, "output_padding", 2, op);
}

/* Resize by an integer factor: nearest copies input (oh / f, ow / f); bilinear
 * samples at (o + 0.5) / f - 0.5, PyTorch's align_corners=False (cl/pool.cl). */
static const char *upsample(aecl_onnx *o, const aecl_export_layer *L, const char *x, const char *out)
{
    char name[64];
    float f = (float)L->l->factor, scales[4] = {1.0f, 1.0f, f, f};
    snprintf(name, sizeof name, "%s.scales", L->name);
    const char *in[3] = {x, "", aecl_onnx_const_f32(o, name, 4, scales)};
    const char *y = aecl_onnx_node(o, "Resize", out, 3, in);
    if (L->l->mode == AECL_UPSAMPLE_BILINEAR) {
        aecl_onnx_attr_str(o, "mode", "linear");
        aecl_onnx_attr_str(o, "coordinate_transformation_mode", "half_pixel");
    } else {
        aecl_onnx_attr_str(o, "mode", "nearest");
        aecl_onnx_attr_str(o, "coordinate_transformation_mode", "asymmetric");
        aecl_onnx_attr_str(o, "nearest_mode", "floor");
    }
    return y;
}

static const char *reshape(aecl_onnx *o, const aecl_export_layer *L, const char *x, const char *out)
{
    char name[64];
    int dims[3] = {0}, nd = sample_dims(L->l->out, dims);
    int64_t shape[4] = {-1};
    for (int k = 0; k < nd; k++) shape[k + 1] = dims[k];
    snprintf(name, sizeof name, "%s.shape", L->name);
    const char *in[2] = {x, aecl_onnx_const_i64(o, name, (size_t)nd + 1, shape)};
    return aecl_onnx_node(o, "Reshape", out, 2, in);
}

/* One layer: its op, then its activation. Writes the tensor named `out` (the
 * op's output is "<out>.pre" when an activation follows). */
static const char *layer(aecl_onnx *o, const aecl_export_layer *L, const char *x, const char *out)
{
    const aecl_spec_layer *l = L->l;
    char pre[80];
    snprintf(pre, sizeof pre, "%s.pre", out);
    const char *target = L->act == AECL_ACT_NONE ? out : pre, *y = NULL;
    const char *in[3] = {x, NULL, NULL};
    if (L->w) {
        in[1] = init_of(o, L->w);
        in[2] = init_of(o, L->b);
    }
    int64_t f[2] = {l->factor, l->factor};
    switch (l->kind) {
    case AECL_LAYER_DENSE:
        y = aecl_onnx_node(o, "Gemm", target, 3, in);
        aecl_onnx_attr_int(o, "transB", 1);   /* the weight is [out, in] */
        break;
    case AECL_LAYER_CONV:
    case AECL_LAYER_CONVT:
        y = aecl_onnx_node(o, l->kind == AECL_LAYER_CONV ? "Conv" : "ConvTranspose", target, 3, in);
        conv_attrs(o, l);
        break;
    case AECL_LAYER_MAXPOOL:
    case AECL_LAYER_AVGPOOL:
        y = aecl_onnx_node(o, l->kind == AECL_LAYER_MAXPOOL ? "MaxPool" : "AveragePool", target, 1, in);
        aecl_onnx_attr_ints(o, "kernel_shape", 2, f);
        aecl_onnx_attr_ints(o, "strides", 2, f);
        break;
    case AECL_LAYER_UPSAMPLE: y = upsample(o, L, x, target); break;
    case AECL_LAYER_FLATTEN:
        y = aecl_onnx_node(o, "Flatten", target, 1, in);
        aecl_onnx_attr_int(o, "axis", 1);
        break;
    case AECL_LAYER_RESHAPE: y = reshape(o, L, x, target); break;
    }
    return y && L->act != AECL_ACT_NONE ? activation(o, L, y, out) : y;
}

static const char *scale_in(aecl_onnx *o, const aecl_export_src *src, const char *x, int64_t *dims, int nd)
{
    if (src->scaling.kind == AECL_SCALE_NONE) return x;
    const char *in[2] = {x, aecl_onnx_init_f32(o, "scaling.offset", nd, dims, src->scaling.offset)};
    x = aecl_onnx_node(o, "Sub", "input.centered", 2, in);
    const char *in2[2] = {x, aecl_onnx_init_f32(o, "scaling.scale", nd, dims, src->scaling.scale)};
    return aecl_onnx_node(o, "Mul", "input.scaled", 2, in2);
}

/* The reconstruction in the data's units, written as `out`. */
static const char *scale_out(aecl_onnx *o, const aecl_export_src *src, const char *y, int64_t *dims, int nd,
                             int initializers_made, const char *out)
{
    if (src->scaling.kind == AECL_SCALE_NONE) return y;
    const char *scale = initializers_made ? "scaling.scale" : aecl_onnx_init_f32(o, "scaling.scale", nd, dims, src->scaling.scale);
    const char *offset = initializers_made ? "scaling.offset" : aecl_onnx_init_f32(o, "scaling.offset", nd, dims, src->scaling.offset);
    const char *in[2] = {y, scale};
    y = aecl_onnx_node(o, "Div", "reconstruction.unscaled", 2, in);
    const char *in2[2] = {y, offset};
    return aecl_onnx_node(o, "Add", out, 2, in2);
}

/* Encoder layers and the latent head(s): x -> "code" (and a VAE's "logvar"). */
static const char *encoder(aecl_onnx *o, const aecl_export_src *src, const char *x, int want_logvar)
{
    for (size_t i = 0; x && i < src->n_enc; i++) x = layer(o, &src->enc[i], x, src->enc[i].name);
    if (!x) return NULL;
    if (want_logvar && src->logvar.l) layer(o, &src->logvar, x, "logvar");
    return layer(o, &src->latent, x, "code");
}

/* Decoder layers (+ the BCE sigmoid, + unscaling): z -> "reconstruction". */
static const char *decoder(aecl_onnx *o, const aecl_export_src *src, const char *z, int scaled_made)
{
    int dims[3] = {0}, nd = sample_dims(src->spec->input, dims);
    int64_t d64[3] = {dims[0], dims[1], dims[2]};
    int scaled = src->scaling.kind != AECL_SCALE_NONE;
    for (size_t i = 0; z && i < src->n_dec; i++) {
        int last = i + 1 == src->n_dec && !src->sigmoid_out && !scaled;
        z = layer(o, &src->dec[i], z, last ? "reconstruction" : src->dec[i].name);
    }
    if (z && src->sigmoid_out) z = aecl_onnx_node(o, "Sigmoid", scaled ? "reconstruction.model" : "reconstruction", 1, &z);
    return z ? scale_out(o, src, z, d64, nd, scaled_made, "reconstruction") : NULL;
}

static void build(aecl_onnx *o, const aecl_export_src *src, aecl_export_part part)
{
    const aecl_model_spec *s = src->spec;
    int dims[3] = {0}, nd = sample_dims(s->input, dims), L = s->latent;
    int64_t d64[3] = {dims[0], dims[1], dims[2]};
    if (part == AECL_EXPORT_DECODER) {
        aecl_onnx_input(o, "code", 2, &L);
        decoder(o, src, "code", 0);
        aecl_onnx_output(o, "reconstruction", nd + 1, dims);
        return;
    }
    aecl_onnx_input(o, "input", nd + 1, dims);
    const char *x = scale_in(o, src, "input", d64, nd);
    if (part == AECL_EXPORT_ENCODER) {
        encoder(o, src, x, 1);
        aecl_onnx_output(o, "code", 2, &L);
        if (src->logvar.l) aecl_onnx_output(o, "logvar", 2, &L);
        return;
    }
    /* The whole model at inference: a VAE decodes its mean code, as aecl
     * reconstruct does, so the output does not depend on random draws. */
    const char *z = encoder(o, src, x, 0);
    if (z) decoder(o, src, z, 1);
    aecl_onnx_output(o, "reconstruction", nd + 1, dims);
}

aecl_status aecl_export_onnx(aecl_ctx *ctx, const aecl_export_src *src, aecl_export_part part, const char *path)
{
    char name[64], doc[256];
    snprintf(name, sizeof name, "aecl_%s_%s", aecl_spec_kind_name(src->spec->kind), aecl_export_part_name(part));
    aecl_onnx *o;
    AECL_TRY(aecl_onnx_create(ctx, name, EXPORT_OPSET, &o));
    build(o, src, part);
    snprintf(doc, sizeof doc, "aecl %s model, %s. Inputs and outputs in the data's units (docs/interchange.md).",
             aecl_spec_kind_name(src->spec->kind), aecl_export_part_name(part));
    aecl_onnx_doc(o, doc);
    char *text = NULL;
    aecl_status st = aecl_spec_print(src->spec, &text);
    if (st == AECL_OK) {
        aecl_onnx_meta(o, "aecl.model", text);
        aecl_onnx_meta(o, "aecl.part", aecl_export_part_name(part));
        st = aecl_onnx_write(o, path);
    } else {
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "cannot print the model spec");
    }
    free(text);
    aecl_onnx_free(o);
    return st;
}
