/* Printing specs: the canonical model text (every key written, fixed order, so
 * parse(print(s)) equals s) and a readable layer table. */
#include "nn/spec_internal.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const score_names[] = {"mse", "loss", "elbo", "ssim", "mahalanobis", "combined"};

const char *aecl_score_name(aecl_score_kind kind)
{
    return (unsigned)kind < sizeof score_names / sizeof score_names[0] ? score_names[kind] : NULL;
}

static void put_real(aecl_strbuf *b, const char *key, double v)
{
    char num[32];
    aecl_spec_fmt_double(v, num);
    aecl_strbuf_printf(b, "%s = %s\n", key, num);
}

static void put_act(aecl_strbuf *b, const char *key, aecl_act a, double param)
{
    char num[32];
    aecl_strbuf_printf(b, "%s = %s", key, aecl_spec_act_name(a));
    if (a == AECL_ACT_LEAKY_RELU || a == AECL_ACT_ELU) {
        aecl_spec_fmt_double(param, num);
        aecl_strbuf_printf(b, "(%s)", num);
    }
    aecl_strbuf_printf(b, "\n");
}

/* Layers of one section. A hidden layer writes dropout= only where it differs from
 * the [train] default it would otherwise take; an output layer never has any. */
static void put_layers(aecl_strbuf *b, const aecl_model_spec *s, const aecl_spec_layer *ls, size_t n,
                       int has_output)
{
    size_t out = n;
    if (has_output)
        for (size_t i = 0; i < n; i++)
            if (aecl_spec_layer_has_weights(ls[i].kind)) out = i;
    for (size_t i = 0; i < n; i++) {
        int hidden = aecl_spec_layer_has_weights(ls[i].kind) && i != out;
        aecl_spec_layer_write(b, &ls[i], hidden && ls[i].dropout != s->train.dropout);
        aecl_strbuf_printf(b, "\n");
    }
}

static void put_train(aecl_strbuf *b, const aecl_model_spec *s)
{
    const aecl_spec_train *t = &s->train;
    aecl_strbuf_printf(b, "\n[train]\noptimizer = %s\n", aecl_spec_optimizer_name(t->optimizer));
    put_real(b, "lr", t->lr);
    if (t->optimizer == AECL_OPT_SGD) {
        put_real(b, "momentum", t->momentum);
        aecl_strbuf_printf(b, "nesterov = %s\n", t->nesterov ? "true" : "false");
    } else {
        put_real(b, "adam_beta1", t->adam_beta1);
        put_real(b, "adam_beta2", t->adam_beta2);
        put_real(b, "adam_eps", t->adam_eps);
    }
    aecl_strbuf_printf(b, "batch = %d\nepochs = %d\n", t->batch, t->epochs);
    put_real(b, "weight_decay", t->weight_decay);
    put_real(b, "clip_norm", t->clip_norm);
    put_real(b, "dropout", t->dropout);
    put_real(b, "l1_activity", t->l1_activity);
    aecl_strbuf_printf(b, "seed = %llu\n", (unsigned long long)t->seed);
    if (t->anomaly_score != AECL_SCORE_MSE)   /* the default is left out: older texts stay as they were */
        aecl_strbuf_printf(b, "anomaly_score = %s\n", aecl_score_name(t->anomaly_score));
    if (s->kind == AECL_AE_VARIATIONAL) {
        put_real(b, "beta", t->beta);
        aecl_strbuf_printf(b, "beta_warmup = %d\n", t->beta_warmup);
    }
    if (s->kind == AECL_AE_DENOISING) {
        char num[32];
        aecl_spec_fmt_double(t->noise_level, num);
        aecl_strbuf_printf(b, "noise = %s %s\nnoise_clip = %s\n", aecl_spec_noise_name(t->noise), num,
                        t->noise_clip ? "true" : "false");
    }
}

static aecl_status finish_text(aecl_strbuf *b, char **out_text, const char *what)
{
    if (b->failed || !b->s) {
        aecl_strbuf_free(b);
        return aecl_fail(NULL, AECL_ERR_HOST_MEMORY, "out of memory printing %s", what);
    }
    *out_text = b->s;
    return AECL_OK;
}

aecl_status aecl_spec_print(const aecl_model_spec *s, char **out_text)
{
    if (!s || !out_text) return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "aecl_spec_print: NULL argument");
    *out_text = NULL;
    aecl_strbuf b = {0};
    char shape[48];
    aecl_strbuf_printf(&b, "# aecl model (canonical form)\nkind = %s\ninput = %s\nlatent = %d\n"
                    "loss = %s\n", aecl_spec_kind_name(s->kind),
                    aecl_spec_shape_str(s->input, shape, sizeof shape), s->latent,
                    aecl_spec_loss_name(s->loss));
    if (s->decoder_mirror) put_act(&b, "output_activation", s->output_act, s->output_act_param);
    aecl_strbuf_printf(&b, "\n[encoder]\n");
    put_layers(&b, s, s->encoder, s->n_encoder, 0);
    aecl_strbuf_printf(&b, "\n[decoder]\n");
    if (s->decoder_mirror) aecl_strbuf_printf(&b, "mirror\n");
    else put_layers(&b, s, s->decoder, s->n_decoder, 1);
    put_train(&b, s);
    return finish_text(&b, out_text, "a model spec");
}

static void describe_row(aecl_strbuf *b, const char *part, const aecl_spec_layer *l, int64_t params)
{
    char text[160], shape[48];
    aecl_spec_layer_str(l, text, sizeof text);
    aecl_strbuf_printf(b, "  %-8s %-46s %-12s %lld\n", part, text,
                    aecl_spec_shape_str(l->out, shape, sizeof shape), (long long)params);
}

aecl_status aecl_spec_describe(const aecl_model_spec *s, char **out_text)
{
    if (!s || !out_text)
        return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "aecl_spec_describe: NULL argument");
    *out_text = NULL;
    aecl_strbuf b = {0};
    char shape[48];
    int vae = s->kind == AECL_AE_VARIATIONAL;
    aecl_strbuf_printf(&b, "%s autoencoder, loss %s, output activation %s%s\n",
                    aecl_spec_kind_name(s->kind), aecl_spec_loss_name(s->loss),
                    aecl_spec_act_name(s->output_act), s->decoder_mirror ? ", mirrored decoder" : "");
    aecl_strbuf_printf(&b, "  %-8s %-46s %-12s %s\n", "part", "layer", "output", "params");
    aecl_strbuf_printf(&b, "  %-8s %-46s %-12s\n", "input", "",
                    aecl_spec_shape_str(s->input, shape, sizeof shape));
    for (size_t i = 0; i < s->n_encoder; i++)
        describe_row(&b, "encoder", &s->encoder[i], aecl_spec_layer_params(&s->encoder[i]));
    describe_row(&b, vae ? "mu,lv" : "latent", &s->latent_layer,
                 aecl_spec_layer_params(&s->latent_layer) * (vae ? 2 : 1));
    for (size_t i = 0; i < s->n_decoder; i++)
        describe_row(&b, "decoder", &s->decoder[i], aecl_spec_layer_params(&s->decoder[i]));
    aecl_strbuf_printf(&b, "  total parameters: %lld\n", (long long)aecl_spec_param_count(s));
    return finish_text(&b, out_text, "a model description");
}
