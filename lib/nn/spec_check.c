/* Shape inference for model specs, and the expansion of a `mirror` decoder.
 *
 * Walks encoder -> latent layer -> decoder from the input shape. Each layer gets
 * its input and output shape; anything that cannot work (empty conv output, dense
 * on a CxHxW tensor, a decoder that does not end at the input shape) fails with a
 * message that names the layer, its line and both shapes. */
#include "nn/spec_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct infer_ctx {
    aecl_ctx *ctx;
    const char *src;        /* file name for messages, or NULL */
    aecl_status st;         /* status of every failure */
    int mirror;             /* the decoder being walked was derived by mirror */
} infer_ctx;

static aecl_status fail_at(const infer_ctx *ic, int line, const char *fmt, ...) AECL_PRINTF(3, 4);
static aecl_status fail_at(const infer_ctx *ic, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ic->src) return aecl_fail(ic->ctx, ic->st, "%s:%d: %s", ic->src, line, msg);
    if (line > 0) return aecl_fail(ic->ctx, ic->st, "line %d: %s", line, msg);
    return aecl_fail(ic->ctx, ic->st, "%s", msg);
}

/* "encoder layer 2 `conv 64 3x3 stride=2 pad=1 relu`" into buf. */
static const char *layer_label(const infer_ctx *ic, const char *part, size_t idx,
                               const aecl_spec_layer *l, char *buf, size_t cap)
{
    char text[160];
    aecl_spec_layer_str(l, text, sizeof text);
    if (ic->mirror && part[0] == 'd')
        snprintf(buf, cap, "decoder layer %zu `%s` (made by mirror from line %d)", idx + 1, text,
                 l->line);
    else
        snprintf(buf, cap, "%s layer %zu `%s`", part, idx + 1, text);
    return buf;
}

/* A shape from 64-bit sizes, or 0 when it is empty or too large. */
static int make_shape(int rank, int64_t c, int64_t h, int64_t w, aecl_spec_shape *out)
{
    out->rank = rank;
    out->c = c < 1 || c > SPEC_MAX_NUMEL ? 0 : (int)c;
    out->h = h < 1 || h > SPEC_MAX_NUMEL ? 0 : (int)h;
    out->w = w < 1 || w > SPEC_MAX_NUMEL ? 0 : (int)w;
    if (!out->c || !out->h || !out->w) return 0;
    return c * h <= SPEC_MAX_NUMEL && c * h * w <= SPEC_MAX_NUMEL;
}

/* floor((n + 2p - k) / s) + 1, also for a negative numerator. */
static int64_t conv_size(int64_t n, int k, int s, int p)
{
    int64_t num = n + 2 * (int64_t)p - k;
    int64_t q = num >= 0 ? num / s : -((-num + s - 1) / s);
    return q + 1;
}

static aecl_status shape_of_spatial(const infer_ctx *ic, const char *label, aecl_spec_layer *l,
                                    aecl_spec_shape in)
{
    char a[48], b[48];
    int64_t c = l->units, h = 0, w = 0;
    switch (l->kind) {
    case AECL_LAYER_CONV:
        h = conv_size(in.h, l->kh, l->stride_h, l->pad_h);
        w = conv_size(in.w, l->kw, l->stride_w, l->pad_w);
        break;
    case AECL_LAYER_CONVT:
        h = (int64_t)(in.h - 1) * l->stride_h - 2 * (int64_t)l->pad_h + l->kh + l->outpad_h;
        w = (int64_t)(in.w - 1) * l->stride_w - 2 * (int64_t)l->pad_w + l->kw + l->outpad_w;
        break;
    case AECL_LAYER_MAXPOOL:
    case AECL_LAYER_AVGPOOL:
        c = in.c, h = in.h / l->factor, w = in.w / l->factor;
        break;
    case AECL_LAYER_UPSAMPLE:
        c = in.c, h = (int64_t)in.h * l->factor, w = (int64_t)in.w * l->factor;
        break;
    case AECL_LAYER_DENSE:
    case AECL_LAYER_FLATTEN:
    case AECL_LAYER_RESHAPE: break; /* not spatial: layer_shapes has them */
    }
    if (h < 1 || w < 1)
        return fail_at(ic, l->line, "%s: input %s gives output %lldx%lldx%lld; expected an output "
                       "height and width of at least 1 (larger input, smaller kernel or more padding)",
                       label, aecl_spec_shape_str(in, a, sizeof a), (long long)c, (long long)h,
                       (long long)w);
    if (!make_shape(3, c, h, w, &l->out))
        return fail_at(ic, l->line, "%s: input %s gives output %lldx%lldx%lld; expected at most "
                       "%lld elements", label, aecl_spec_shape_str(in, b, sizeof b), (long long)c,
                       (long long)h, (long long)w, SPEC_MAX_NUMEL);
    return AECL_OK;
}

/* Parameters a parsed layer always has right; a spec built in code may not. */
static int layer_params_ok(const aecl_spec_layer *l)
{
    switch (l->kind) {
    case AECL_LAYER_DENSE: return l->units >= 1;
    case AECL_LAYER_CONV:
    case AECL_LAYER_CONVT:
        return l->units >= 1 && l->kh >= 1 && l->kw >= 1 && l->stride_h >= 1 &&
               l->stride_w >= 1 && l->pad_h >= 0 && l->pad_w >= 0 && l->outpad_h >= 0 &&
               l->outpad_w >= 0 && l->outpad_h < l->stride_h && l->outpad_w < l->stride_w &&
               (l->kind == AECL_LAYER_CONVT || (l->outpad_h == 0 && l->outpad_w == 0));
    case AECL_LAYER_MAXPOOL:
    case AECL_LAYER_AVGPOOL:
    case AECL_LAYER_UPSAMPLE: return l->factor >= 1;
    case AECL_LAYER_FLATTEN: return 1;
    case AECL_LAYER_RESHAPE:
        return (l->shape.rank == 1 || l->shape.rank == 3) && l->shape.c >= 1 && l->shape.h >= 1 &&
               l->shape.w >= 1 && (l->shape.rank == 3 || (l->shape.h == 1 && l->shape.w == 1));
    }
    return 0;
}

/* Sets l->in and l->out, or fails naming the layer and both shapes. */
static aecl_status layer_shapes(const infer_ctx *ic, const char *part, size_t idx,
                                aecl_spec_layer *l, aecl_spec_shape in)
{
    char label[256], a[48], b[48];
    layer_label(ic, part, idx, l, label, sizeof label);
    aecl_spec_shape_str(in, a, sizeof a);
    l->in = in;
    if (!layer_params_ok(l))
        return fail_at(ic, l->line, "%s: found a size, kernel, stride, padding or factor out of "
                       "range; expected positive sizes and 0 <= outpad < stride", label);
    switch (l->kind) {
    case AECL_LAYER_DENSE:
        if (in.rank != 1)
            return fail_at(ic, l->line, "%s: found input %s, expected a flat input (put `flatten` "
                           "before it)", label, a);
        make_shape(1, l->units, 1, 1, &l->out);
        return AECL_OK;
    case AECL_LAYER_FLATTEN:
        if (in.rank != 3)
            return fail_at(ic, l->line, "%s: found input %s, already flat; expected a CxHxW input",
                           label, a);
        make_shape(1, (int64_t)aecl_spec_shape_numel(in), 1, 1, &l->out);
        return AECL_OK;
    case AECL_LAYER_RESHAPE:
        if (aecl_spec_shape_numel(in) != aecl_spec_shape_numel(l->shape))
            return fail_at(ic, l->line, "%s: input %s has %zu elements, the target %s has %zu; "
                           "expected the same count", label, a, aecl_spec_shape_numel(in),
                           aecl_spec_shape_str(l->shape, b, sizeof b),
                           aecl_spec_shape_numel(l->shape));
        l->out = l->shape;
        return AECL_OK;
    case AECL_LAYER_CONV:
    case AECL_LAYER_CONVT:
    case AECL_LAYER_MAXPOOL:
    case AECL_LAYER_AVGPOOL:
    case AECL_LAYER_UPSAMPLE:
        if (in.rank != 3)
            return fail_at(ic, l->line, "%s: found flat input %s, expected a CxHxW input (put "
                           "`reshape CxHxW` before it)", label, a);
        return shape_of_spatial(ic, label, l, in);
    }
    return AECL_OK; /* not reached: layer_params_ok knows every kind */
}

static aecl_status walk(const infer_ctx *ic, const char *part, aecl_spec_layer *ls, size_t n,
                        aecl_spec_shape *shape)
{
    for (size_t i = 0; i < n; i++) {
        AECL_TRY(layer_shapes(ic, part, i, &ls[i], *shape));
        *shape = ls[i].out;
    }
    return AECL_OK;
}

/* ---- mirror ------------------------------------------------------------- */

/* The activation (and dropout) that a mirror layer rebuilding the input of encoder
 * layer i gets: that of the nearest encoder layer with weights before i, which made
 * that tensor; the model's output activation when there is none (the output layer). */
static void mirror_act(const aecl_model_spec *spec, size_t i, aecl_spec_layer *m)
{
    while (i-- > 0) {
        const aecl_spec_layer *e = &spec->encoder[i];
        if (aecl_spec_layer_has_weights(e->kind)) {
            m->act = e->act, m->act_param = e->act_param, m->dropout = e->dropout;
            return;
        }
    }
    m->act = spec->output_act, m->act_param = spec->output_act_param, m->dropout = 0;
}

/* The decoder layer that undoes encoder layer e (whose shapes are known). */
static aecl_status mirror_one(const infer_ctx *ic, const aecl_model_spec *spec, size_t i,
                              aecl_spec_layer *m)
{
    const aecl_spec_layer *e = &spec->encoder[i];
    char label[256], a[48], b[48];
    *m = (aecl_spec_layer){.line = e->line};
    switch (e->kind) {
    case AECL_LAYER_DENSE:
        m->kind = AECL_LAYER_DENSE, m->units = e->in.c;
        break;
    case AECL_LAYER_CONV:
    case AECL_LAYER_CONVT:
        m->kind = e->kind == AECL_LAYER_CONV ? AECL_LAYER_CONVT : AECL_LAYER_CONV;
        m->units = e->in.c, m->kh = e->kh, m->kw = e->kw;
        m->stride_h = e->stride_h, m->stride_w = e->stride_w;
        m->pad_h = e->pad_h, m->pad_w = e->pad_w;
        if (m->kind == AECL_LAYER_CONVT) {
            /* The rows the conv's floor division dropped; always in [0, stride). */
            m->outpad_h = (int)(e->in.h - ((int64_t)(e->out.h - 1) * e->stride_h - 2 * (int64_t)e->pad_h + e->kh));
            m->outpad_w = (int)(e->in.w - ((int64_t)(e->out.w - 1) * e->stride_w - 2 * (int64_t)e->pad_w + e->kw));
        }
        break;
    case AECL_LAYER_MAXPOOL:
    case AECL_LAYER_AVGPOOL:
        if (e->in.h % e->factor || e->in.w % e->factor)
            return fail_at(ic, e->line, "%s: input %s becomes %s and loses its last rows or "
                           "columns, which a mirror decoder cannot restore; expected a height and "
                           "width divisible by %d, or an explicit [decoder]",
                           layer_label(ic, "encoder", i, e, label, sizeof label),
                           aecl_spec_shape_str(e->in, a, sizeof a),
                           aecl_spec_shape_str(e->out, b, sizeof b), e->factor);
        m->kind = AECL_LAYER_UPSAMPLE, m->factor = e->factor, m->mode = AECL_UPSAMPLE_NEAREST;
        return AECL_OK;
    case AECL_LAYER_UPSAMPLE:
        m->kind = AECL_LAYER_AVGPOOL, m->factor = e->factor;
        return AECL_OK;
    case AECL_LAYER_FLATTEN:
        m->kind = AECL_LAYER_RESHAPE, m->shape = e->in;
        return AECL_OK;
    case AECL_LAYER_RESHAPE:
        if (e->in.rank == 1 && e->out.rank == 3) m->kind = AECL_LAYER_FLATTEN;
        else m->kind = AECL_LAYER_RESHAPE, m->shape = e->in;
        return AECL_OK;
    }
    mirror_act(spec, i, m);
    return AECL_OK;
}

static aecl_status expand_mirror(const infer_ctx *ic, aecl_model_spec *spec)
{
    size_t n = spec->n_encoder + 1;
    aecl_spec_layer *d = calloc(n, sizeof *d);
    if (!d) return aecl_fail(ic->ctx, AECL_ERR_HOST_MEMORY, "out of memory expanding mirror");
    /* First the mirror of the latent layer: back to the encoder's last shape. */
    d[0] = (aecl_spec_layer){.kind = AECL_LAYER_DENSE, .line = spec->latent_layer.line,
                             .units = (int)aecl_spec_shape_numel(spec->latent_layer.in)};
    mirror_act(spec, spec->n_encoder, &d[0]);
    for (size_t k = 1; k < n; k++) {
        aecl_status st = mirror_one(ic, spec, spec->n_encoder - k, &d[k]);
        if (st != AECL_OK) {
            free(d);
            return st;
        }
    }
    free(spec->decoder);
    spec->decoder = d;
    spec->n_decoder = n;
    return AECL_OK;
}

/* ---- the whole model ---------------------------------------------------- */

static aecl_status infer_latent(const infer_ctx *ic, aecl_model_spec *spec, aecl_spec_shape in)
{
    aecl_spec_layer *l = &spec->latent_layer;
    char a[48];
    int line = l->line;
    *l = (aecl_spec_layer){.kind = AECL_LAYER_DENSE, .units = spec->latent, .line = line};
    l->in = in;
    make_shape(1, spec->latent, 1, 1, &l->out);
    if (in.rank != 1)
        return fail_at(ic, line, "the latent layer (implied `dense %d` to the code) found the "
                       "encoder's output %s, expected a flat input; end [encoder] with `flatten`",
                       spec->latent, aecl_spec_shape_str(in, a, sizeof a));
    return AECL_OK;
}

/* In an explicit decoder the last layer with weights is the output layer. */
static aecl_status take_output_act(const infer_ctx *ic, aecl_model_spec *spec)
{
    for (size_t i = spec->n_decoder; i-- > 0;) {
        const aecl_spec_layer *l = &spec->decoder[i];
        if (aecl_spec_layer_has_weights(l->kind)) {
            spec->output_act = l->act, spec->output_act_param = l->act_param;
            return AECL_OK;
        }
    }
    int line = spec->n_decoder ? spec->decoder[spec->n_decoder - 1].line : 0;
    return fail_at(ic, line, "[decoder] has no dense, conv or convT layer; expected an output "
                   "layer that produces the input shape");
}

static aecl_status check_params(const infer_ctx *ic, const char *part, aecl_spec_layer *ls,
                                size_t n)
{
    char label[256];
    for (size_t i = 0; i < n; i++) {
        const aecl_spec_layer *l = &ls[i];
        double p = (double)l->in.c * l->units * (l->kh ? l->kh * (double)l->kw : 1.0);
        if (aecl_spec_layer_has_weights(l->kind) && p > 1e12)
            return fail_at(ic, l->line, "%s: input %zu values and %d outputs need %.3g weights; "
                           "expected at most 1e12", layer_label(ic, part, i, l, label, sizeof label),
                           aecl_spec_shape_numel(l->in), l->units, p);
    }
    return AECL_OK;
}

aecl_status aecl_spec_infer(aecl_ctx *ctx, aecl_model_spec *spec, const char *src, aecl_status st)
{
    infer_ctx ic = {ctx, src, st, 0};
    char a[48], b[48];
    aecl_spec_shape shape = spec->input;
    AECL_TRY(walk(&ic, "encoder", spec->encoder, spec->n_encoder, &shape));
    AECL_TRY(infer_latent(&ic, spec, shape));
    AECL_TRY(check_params(&ic, "encoder", spec->encoder, spec->n_encoder));
    AECL_TRY(check_params(&ic, "latent", &spec->latent_layer, 1));
    if (spec->decoder_mirror) AECL_TRY(expand_mirror(&ic, spec));
    else AECL_TRY(take_output_act(&ic, spec));
    ic.mirror = spec->decoder_mirror;
    shape = spec->latent_layer.out;
    AECL_TRY(walk(&ic, "decoder", spec->decoder, spec->n_decoder, &shape));
    AECL_TRY(check_params(&ic, "decoder", spec->decoder, spec->n_decoder));
    if (!aecl_spec_shape_equal(shape, spec->input)) {
        const aecl_spec_layer *last = &spec->decoder[spec->n_decoder - 1];
        return fail_at(&ic, last->line, "the decoder ends at %s (after its last layer `%s`); "
                       "expected the input shape %s", aecl_spec_shape_str(shape, a, sizeof a),
                       aecl_spec_layer_str(last, (char[160]){0}, 160),
                       aecl_spec_shape_str(spec->input, b, sizeof b));
    }
    spec->n_params = aecl_spec_param_count(spec);
    return AECL_OK;
}

aecl_status aecl_spec_infer_shapes(aecl_ctx *ctx, aecl_model_spec *spec)
{
    if (!spec) return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_spec_infer_shapes: spec is NULL");
    aecl_spec_shape in = spec->input, chk;
    if ((in.rank != 1 && in.rank != 3) || (in.rank == 1 && (in.h != 1 || in.w != 1)) ||
        !make_shape(in.rank, in.c, in.h, in.w, &chk) || spec->latent < 1 ||
        spec->latent > SPEC_MAX_DIM)
        return aecl_fail(ctx, AECL_ERR_SHAPE, "the spec's input shape or latent size is out of "
                         "range (rank %d, %dx%dx%d, latent %d)", in.rank, in.c, in.h, in.w,
                         spec->latent);
    if (!spec->decoder_mirror && spec->n_decoder == 0)
        return aecl_fail(ctx, AECL_ERR_SHAPE, "the spec has no decoder layers and no mirror");
    return aecl_spec_infer(ctx, spec, NULL, AECL_ERR_SHAPE);
}
