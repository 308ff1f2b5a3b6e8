/* Model specs: name tables, defaults, small shape helpers, equality, free. */
#include "nn/spec_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const aecl_spec_kind_names[4] = {"vanilla", "denoising", "convolutional", "variational"};
const char *const aecl_spec_loss_names[2] = {"mse", "bce"};
/* In the order of aecl_act (ops/act.h). */
const char *const aecl_spec_act_names[7] = {"none", "relu", "leaky_relu", "sigmoid",
                                       "tanh", "elu", "softplus"};
#define LAYER_NAME(kind, word, ...) [AECL_LAYER_##kind] = word,
const char *const aecl_spec_layer_names[AECL_LAYER_COUNT] = {AECL_LAYER_LIST(LAYER_NAME)};
#undef LAYER_NAME
#define LAYER_DEF(kind, word, weights, spatial, args, options, usage) \
    [AECL_LAYER_##kind] = {weights, spatial, args, options, usage},
const aecl_spec_layer_def aecl_spec_layer_defs[AECL_LAYER_COUNT] = {AECL_LAYER_LIST(LAYER_DEF)};
#undef LAYER_DEF
const char *const aecl_spec_upsample_names[2] = {"nearest", "bilinear"};
const char *const aecl_spec_optimizer_names[3] = {"sgd", "adam", "adamw"};
const char *const aecl_spec_noise_names[4] = {"none", "gaussian", "mask", "saltpepper"};

#define NAME_OF(table, i) \
    ((unsigned)(i) < sizeof(table) / sizeof(table[0]) ? table[(unsigned)(i)] : "?")

const char *aecl_spec_kind_name(aecl_ae_kind k) { return NAME_OF(aecl_spec_kind_names, k); }
const char *aecl_spec_loss_name(aecl_loss_kind k) { return NAME_OF(aecl_spec_loss_names, k); }
const char *aecl_spec_act_name(aecl_act a) { return NAME_OF(aecl_spec_act_names, a); }
const char *aecl_spec_layer_name(aecl_layer_kind k) { return NAME_OF(aecl_spec_layer_names, k); }
const char *aecl_spec_optimizer_name(aecl_optimizer o) { return NAME_OF(aecl_spec_optimizer_names, o); }
const char *aecl_spec_noise_name(aecl_spec_noise n) { return NAME_OF(aecl_spec_noise_names, n); }

int aecl_spec_word_in(const char *list, const char *name, size_t n)
{
    for (const char *s = list; *s;) {
        size_t len = strcspn(s, " ");
        if (len == n && strncmp(s, name, n) == 0) return 1;
        s += len;
        while (*s == ' ') s++;
    }
    return 0;
}

int aecl_spec_lookup(const char *const *names, int n, const char *word)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], word) == 0) return i;
    return -1;
}

void aecl_spec_fmt_double(double v, char buf[32])
{
    /* The first precision that reads back exactly keeps files short ("0.001", not
     * "0.0010000000000000000208") and printing round-trips. */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

void aecl_spec_set_defaults(aecl_model_spec *spec)
{
    aecl_spec_train *t = &spec->train;
    spec->loss = AECL_LOSS_MSE;
    spec->output_act = AECL_ACT_NONE;
    t->optimizer = AECL_OPT_ADAM;
    t->lr = 1e-3;
    t->momentum = 0;
    t->nesterov = 0;
    t->adam_beta1 = 0.9;
    t->adam_beta2 = 0.999;
    t->adam_eps = 1e-8;
    t->batch = 128;
    t->epochs = 10;
    t->weight_decay = 0;
    t->clip_norm = 0;
    t->dropout = 0;
    t->l1_activity = 0;
    t->beta = 1;
    t->beta_warmup = 0;
    t->noise = AECL_SPEC_NOISE_NONE;
    t->noise_level = 0;
    t->noise_clip = 1;
    t->seed = 1;
    t->anomaly_score = AECL_SCORE_MSE;
}

/* ---- shapes and layers -------------------------------------------------- */

size_t aecl_spec_shape_numel(aecl_spec_shape s)
{
    return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

int aecl_spec_shape_equal(aecl_spec_shape a, aecl_spec_shape b)
{
    return a.rank == b.rank && a.c == b.c && a.h == b.h && a.w == b.w;
}

char *aecl_spec_shape_str(aecl_spec_shape s, char *buf, size_t cap)
{
    if (s.rank == 3) snprintf(buf, cap, "%dx%dx%d", s.c, s.h, s.w);
    else snprintf(buf, cap, "%d", s.c);
    return buf;
}

static void pair_str(aecl_strbuf *b, const char *key, int h, int w, int omit_if)
{
    if (h == omit_if && w == omit_if) return;
    if (h == w) aecl_strbuf_printf(b, " %s=%d", key, h);
    else aecl_strbuf_printf(b, " %s=%dx%d", key, h, w);
}

static void act_str(aecl_strbuf *b, aecl_act a, double param)
{
    char num[32];
    aecl_strbuf_printf(b, " %s", aecl_spec_act_name(a));
    if (a == AECL_ACT_LEAKY_RELU || a == AECL_ACT_ELU) {
        aecl_spec_fmt_double(param, num);
        aecl_strbuf_printf(b, "(%s)", num);
    }
}

/* A positional argument by its letter in AECL_LAYER_LIST (spec_layer.c reads them). */
static void arg_str(aecl_strbuf *b, char code, const aecl_spec_layer *l)
{
    char num[32];
    switch (code) {
    case 'U':
    case 'C': aecl_strbuf_printf(b, " %d", l->units); break;
    case 'K': aecl_strbuf_printf(b, " %dx%d", l->kh, l->kw); break;
    case 'P':
    case 'F': aecl_strbuf_printf(b, " %d", l->factor); break;
    case 'S': aecl_strbuf_printf(b, " %s", aecl_spec_shape_str(l->shape, num, sizeof num)); break;
    }
}

static int has_option(const aecl_spec_layer_def *d, const char *name)
{
    return aecl_spec_word_in(d->options, name, strlen(name));
}

void aecl_spec_layer_write(aecl_strbuf *b, const aecl_spec_layer *l, int with_dropout)
{
    char num[32];
    if ((unsigned)l->kind >= AECL_LAYER_COUNT) {
        aecl_strbuf_printf(b, "?");
        return;
    }
    const aecl_spec_layer_def *d = &aecl_spec_layer_defs[l->kind];
    aecl_strbuf_printf(b, "%s", aecl_spec_layer_name(l->kind));
    for (const char *a = d->args; *a; a++) arg_str(b, *a, l);
    if (l->kind == AECL_LAYER_UPSAMPLE) aecl_strbuf_printf(b, " %s", NAME_OF(aecl_spec_upsample_names, l->mode));
    /* the pair options, each left out at its default */
    if (has_option(d, "stride")) pair_str(b, "stride", l->stride_h, l->stride_w, 1);
    if (has_option(d, "pad")) pair_str(b, "pad", l->pad_h, l->pad_w, 0);
    if (has_option(d, "outpad")) pair_str(b, "outpad", l->outpad_h, l->outpad_w, 0);
    if (d->weights) act_str(b, l->act, l->act_param);
    if (with_dropout) {
        aecl_spec_fmt_double(l->dropout, num);
        aecl_strbuf_printf(b, " dropout=%s", num);
    }
}

char *aecl_spec_layer_str(const aecl_spec_layer *l, char *buf, size_t cap)
{
    aecl_strbuf b = {0};
    aecl_spec_layer_write(&b, l, l->dropout > 0); /* < 0: not resolved yet */
    snprintf(buf, cap, "%s", b.s && !b.failed ? b.s : "?");
    aecl_strbuf_free(&b);
    return buf;
}

int aecl_spec_layer_has_weights(aecl_layer_kind k)
{
    return (unsigned)k < AECL_LAYER_COUNT && aecl_spec_layer_defs[k].weights;
}

size_t aecl_spec_output_layer(const aecl_model_spec *s)
{
    size_t last = 0;
    for (size_t i = 0; i < s->n_decoder; i++)
        if (aecl_spec_layer_has_weights(s->decoder[i].kind)) last = i;
    return last;
}

int aecl_spec_layer_is_spatial(aecl_layer_kind k)
{
    return (unsigned)k < AECL_LAYER_COUNT && aecl_spec_layer_defs[k].spatial;
}

int64_t aecl_spec_layer_params(const aecl_spec_layer *l)
{
    int64_t in = (int64_t)l->in.c, out = l->units;
    switch (l->kind) {
    case AECL_LAYER_DENSE: return in * out + out;
    case AECL_LAYER_CONV:
    case AECL_LAYER_CONVT: return in * out * l->kh * l->kw + out;
    case AECL_LAYER_MAXPOOL:
    case AECL_LAYER_AVGPOOL:
    case AECL_LAYER_UPSAMPLE:
    case AECL_LAYER_FLATTEN:
    case AECL_LAYER_RESHAPE: break;
    }
    return 0;
}

int64_t aecl_spec_param_count(const aecl_model_spec *spec)
{
    int64_t n = aecl_spec_layer_params(&spec->latent_layer);
    if (spec->kind == AECL_AE_VARIATIONAL) n *= 2; /* mu and logvar heads */
    for (size_t i = 0; i < spec->n_encoder; i++) n += aecl_spec_layer_params(&spec->encoder[i]);
    for (size_t i = 0; i < spec->n_decoder; i++) n += aecl_spec_layer_params(&spec->decoder[i]);
    return n;
}

int aecl_spec_flatten_shape(const aecl_model_spec *spec, aecl_spec_shape *out)
{
    for (size_t i = spec->n_encoder; i-- > 0;) {
        if (spec->encoder[i].kind == AECL_LAYER_FLATTEN) {
            *out = spec->encoder[i].in;
            return 1;
        }
    }
    return 0;
}

/* ---- equality and free -------------------------------------------------- */

static int layer_equal(const aecl_spec_layer *a, const aecl_spec_layer *b)
{
    return a->kind == b->kind && a->units == b->units && a->kh == b->kh && a->kw == b->kw &&
           a->stride_h == b->stride_h && a->stride_w == b->stride_w && a->pad_h == b->pad_h &&
           a->pad_w == b->pad_w && a->outpad_h == b->outpad_h && a->outpad_w == b->outpad_w &&
           a->factor == b->factor && a->mode == b->mode &&
           aecl_spec_shape_equal(a->shape, b->shape) && a->act == b->act &&
           a->act_param == b->act_param && a->dropout == b->dropout &&
           aecl_spec_shape_equal(a->in, b->in) && aecl_spec_shape_equal(a->out, b->out);
}

static int layers_equal(const aecl_spec_layer *a, size_t na, const aecl_spec_layer *b, size_t nb)
{
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (!layer_equal(&a[i], &b[i])) return 0;
    return 1;
}

static int train_equal(const aecl_spec_train *a, const aecl_spec_train *b)
{
    return a->optimizer == b->optimizer && a->lr == b->lr && a->momentum == b->momentum &&
           a->nesterov == b->nesterov && a->adam_beta1 == b->adam_beta1 &&
           a->adam_beta2 == b->adam_beta2 && a->adam_eps == b->adam_eps &&
           a->batch == b->batch && a->epochs == b->epochs &&
           a->weight_decay == b->weight_decay && a->clip_norm == b->clip_norm &&
           a->dropout == b->dropout && a->l1_activity == b->l1_activity && a->beta == b->beta &&
           a->beta_warmup == b->beta_warmup && a->noise == b->noise &&
           a->noise_level == b->noise_level && a->noise_clip == b->noise_clip &&
           a->seed == b->seed && a->anomaly_score == b->anomaly_score;
}

int aecl_spec_equal(const aecl_model_spec *a, const aecl_model_spec *b)
{
    if (!a || !b) return a == b;
    return a->kind == b->kind && aecl_spec_shape_equal(a->input, b->input) &&
           a->latent == b->latent && a->loss == b->loss && a->output_act == b->output_act &&
           a->output_act_param == b->output_act_param &&
           a->decoder_mirror == b->decoder_mirror &&
           layers_equal(a->encoder, a->n_encoder, b->encoder, b->n_encoder) &&
           layer_equal(&a->latent_layer, &b->latent_layer) &&
           layers_equal(a->decoder, a->n_decoder, b->decoder, b->n_decoder) &&
           train_equal(&a->train, &b->train) && a->n_params == b->n_params;
}

void aecl_spec_free(aecl_model_spec *spec)
{
    if (!spec) return;
    free(spec->encoder);
    free(spec->decoder);
    free(spec);
}
