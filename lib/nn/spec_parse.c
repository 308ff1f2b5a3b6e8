/* The model-file parser: lines, sections, `key = value` pairs, then the checks that
 * need the whole file (required keys, options that belong to another kind,
 * dropout defaults), then shape inference. Format: docs/model-format.md. */
#include "nn/spec_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const section_names[SEC_COUNT] = {"top level", "encoder", "decoder", "train"};
static const char *const section_labels[SEC_COUNT] = {"the top level", "[encoder]", "[decoder]",
                                                      "[train]"};

static const struct key_def {
    const char *name;
    int section;
} key_defs[K_COUNT] = {
    [K_KIND] = {"kind", SEC_TOP},
    [K_INPUT] = {"input", SEC_TOP},
    [K_LATENT] = {"latent", SEC_TOP},
    [K_LOSS] = {"loss", SEC_TOP},
    [K_OUTPUT_ACT] = {"output_activation", SEC_TOP},
    [K_OPTIMIZER] = {"optimizer", SEC_TRAIN},
    [K_LR] = {"lr", SEC_TRAIN},
    [K_MOMENTUM] = {"momentum", SEC_TRAIN},
    [K_NESTEROV] = {"nesterov", SEC_TRAIN},
    [K_ADAM_BETA1] = {"adam_beta1", SEC_TRAIN},
    [K_ADAM_BETA2] = {"adam_beta2", SEC_TRAIN},
    [K_ADAM_EPS] = {"adam_eps", SEC_TRAIN},
    [K_BATCH] = {"batch", SEC_TRAIN},
    [K_EPOCHS] = {"epochs", SEC_TRAIN},
    [K_WEIGHT_DECAY] = {"weight_decay", SEC_TRAIN},
    [K_CLIP_NORM] = {"clip_norm", SEC_TRAIN},
    [K_DROPOUT] = {"dropout", SEC_TRAIN},
    [K_L1_ACTIVITY] = {"l1_activity", SEC_TRAIN},
    [K_BETA] = {"beta", SEC_TRAIN},
    [K_BETA_WARMUP] = {"beta_warmup", SEC_TRAIN},
    [K_NOISE] = {"noise", SEC_TRAIN},
    [K_NOISE_CLIP] = {"noise_clip", SEC_TRAIN},
    [K_SEED] = {"seed", SEC_TRAIN},
    [K_ANOMALY_SCORE] = {"anomaly_score", SEC_TRAIN},
};

#define MAX_TOKENS 16

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
    return s;
}

/* Splits s in place on blanks; returns the count, or -1 past MAX_TOKENS.
 * (Not strtok: parsing must be safe on several threads at once.) */
static int tokenize(char *s, char **tok)
{
    int n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t') s++;
        if (!*s) return n;
        if (n == MAX_TOKENS) return -1;
        tok[n++] = s;
        while (*s && *s != ' ' && *s != '\t') s++;
        if (*s) *s++ = 0;
    }
}

static aecl_status read_enum(const spec_parser *p, const char *what, const char *tok,
                             const char *const *names, int n, const char *expected, int *out)
{
    int i = aecl_spec_lookup(names, n, tok);
    if (i < 0) return aecl_spec_perr(p, p->line, "found `%s` for %s, expected %s", tok, what, expected);
    *out = i;
    return AECL_OK;
}

/* noise = gaussian SIGMA | mask P | saltpepper P */
static aecl_status read_noise(spec_parser *p, char *value)
{
    char *tok[MAX_TOKENS], copy[64];
    snprintf(copy, sizeof copy, "%s", value);
    int n = tokenize(value, tok);
    int kind = n >= 1 ? aecl_spec_lookup(aecl_spec_noise_names, 4, tok[0]) : -1;
    if (n != 2 || kind <= AECL_SPEC_NOISE_NONE)
        return aecl_spec_perr(p, p->line, "found noise `%s`, expected `gaussian SIGMA`, `mask P` or "
                         "`saltpepper P`", copy);
    aecl_spec_train *t = &p->spec->train;
    t->noise = (aecl_spec_noise)kind;
    if (kind == AECL_SPEC_NOISE_GAUSSIAN)
        return aecl_spec_read_real(p, "the gaussian noise sigma", tok[1], R_POSITIVE, &t->noise_level);
    return aecl_spec_read_real(p, "the noise probability", tok[1], R_OPEN_UNIT, &t->noise_level);
}

static aecl_status set_top_key(spec_parser *p, int id, const char *v)
{
    aecl_model_spec *s = p->spec;
    int i = 0, is_act = 0;
    switch (id) {
    case K_KIND:
        AECL_TRY(read_enum(p, "kind", v, aecl_spec_kind_names, 4,
                           "vanilla, denoising, convolutional or variational", &i));
        s->kind = (aecl_ae_kind)i;
        return AECL_OK;
    case K_INPUT: return aecl_spec_read_shape(p, "input", v, &s->input);
    case K_LATENT: return aecl_spec_read_int(p, "latent", v, 1, SPEC_MAX_DIM, &s->latent);
    case K_LOSS:
        AECL_TRY(read_enum(p, "loss", v, aecl_spec_loss_names, 2, "mse or bce", &i));
        s->loss = (aecl_loss_kind)i;
        return AECL_OK;
    default: /* K_OUTPUT_ACT */
        AECL_TRY(aecl_spec_read_act(p, v, &s->output_act, &s->output_act_param, &is_act));
        if (!is_act)
            return aecl_spec_perr(p, p->line, "found `%s` for output_activation, expected %s", v,
                             SPEC_ACT_LIST);
        return AECL_OK;
    }
}

static aecl_status set_train_key(spec_parser *p, int id, const char *v)
{
    aecl_spec_train *t = &p->spec->train;
    int i = 0;
    const char *name = key_defs[id].name;
    switch (id) {
    case K_OPTIMIZER:
        AECL_TRY(read_enum(p, "optimizer", v, aecl_spec_optimizer_names, 3, "sgd, adam or adamw", &i));
        t->optimizer = (aecl_optimizer)i;
        return AECL_OK;
    case K_LR: return aecl_spec_read_real(p, name, v, R_POSITIVE, &t->lr);
    case K_MOMENTUM: return aecl_spec_read_real(p, name, v, R_UNIT, &t->momentum);
    case K_NESTEROV: return aecl_spec_read_bool(p, name, v, &t->nesterov);
    case K_ADAM_BETA1: return aecl_spec_read_real(p, name, v, R_UNIT, &t->adam_beta1);
    case K_ADAM_BETA2: return aecl_spec_read_real(p, name, v, R_UNIT, &t->adam_beta2);
    case K_ADAM_EPS: return aecl_spec_read_real(p, name, v, R_POSITIVE, &t->adam_eps);
    case K_BATCH: return aecl_spec_read_int(p, name, v, 1, SPEC_MAX_DIM, &t->batch);
    case K_EPOCHS: return aecl_spec_read_int(p, name, v, 1, 1000000, &t->epochs);
    case K_WEIGHT_DECAY: return aecl_spec_read_real(p, name, v, R_NONNEGATIVE, &t->weight_decay);
    case K_CLIP_NORM: return aecl_spec_read_real(p, name, v, R_NONNEGATIVE, &t->clip_norm);
    case K_DROPOUT: return aecl_spec_read_real(p, name, v, R_UNIT, &t->dropout);
    case K_L1_ACTIVITY: return aecl_spec_read_real(p, name, v, R_NONNEGATIVE, &t->l1_activity);
    case K_BETA: return aecl_spec_read_real(p, name, v, R_NONNEGATIVE, &t->beta);
    case K_BETA_WARMUP: return aecl_spec_read_int(p, name, v, 0, 1000000, &t->beta_warmup);
    case K_NOISE_CLIP: return aecl_spec_read_bool(p, name, v, &t->noise_clip);
    case K_ANOMALY_SCORE:
        for (int k = 0; aecl_score_name((aecl_score_kind)k); k++)
            if (!strcmp(v, aecl_score_name((aecl_score_kind)k))) { t->anomaly_score = (aecl_score_kind)k; return AECL_OK; }
        return aecl_spec_perr(p, p->line, "found `%s` for anomaly_score, expected mse, loss, elbo, ssim, mahalanobis "
                              "or combined", v);
    default: /* K_SEED */ return aecl_spec_read_u64(p, name, v, &t->seed);
    }
}

static void keys_of_section(int section, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < K_COUNT && len < cap; k++)
        if (key_defs[k].section == section)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", key_defs[k].name);
}

static aecl_status read_key_line(spec_parser *p, char *line)
{
    char *eq = strchr(line, '=');
    char keys[512];
    if (!eq)
        return aecl_spec_perr(p, p->line, "found `%s`, expected `key = value`%s", line,
                         p->section == SEC_TOP ? " (layers go in [encoder] and [decoder])" : "");
    *eq = 0;
    char *key = trim(line), *value = trim(eq + 1);
    int id = -1;
    for (int k = 0; k < K_COUNT; k++)
        if (strcmp(key_defs[k].name, key) == 0) id = k;
    keys_of_section(p->section, keys, sizeof keys);
    if (id < 0)
        return aecl_spec_perr(p, p->line, "found unknown key `%s` in %s, expected one of: %s", key,
                         section_labels[p->section], keys);
    if (key_defs[id].section != p->section)
        return aecl_spec_perr(p, p->line, "found key `%s` in %s, expected it %s", key,
                         section_labels[p->section],
                         key_defs[id].section == SEC_TOP ? "at the top, before the first section"
                                                         : "in [train]");
    if (p->key_line[id])
        return aecl_spec_perr(p, p->line, "found duplicate key `%s` (first set on line %d), expected "
                         "each key once", key, p->key_line[id]);
    if (!*value)
        return aecl_spec_perr(p, p->line, "found `%s =` with no value, expected a value", key);
    p->key_line[id] = p->line;
    if (id == K_NOISE) return read_noise(p, value);
    if (strpbrk(value, " \t"))
        return aecl_spec_perr(p, p->line, "found `%s` for %s, expected a single value", value, key);
    return p->section == SEC_TOP ? set_top_key(p, id, value) : set_train_key(p, id, value);
}

static aecl_status read_section(spec_parser *p, char *line)
{
    size_t len = strlen(line);
    if (line[len - 1] != ']')
        return aecl_spec_perr(p, p->line, "found `%s`, expected a section header `[name]`", line);
    line[len - 1] = 0;
    char *name = trim(line + 1);
    int sec = -1;
    for (int i = SEC_ENCODER; i < SEC_COUNT; i++)
        if (strcmp(section_names[i], name) == 0) sec = i;
    if (sec < 0)
        return aecl_spec_perr(p, p->line, "found unknown section [%s], expected [encoder], [decoder] "
                         "or [train]", name);
    if (p->section_line[sec])
        return aecl_spec_perr(p, p->line, "found [%s] a second time (first on line %d), expected each "
                         "section once", name, p->section_line[sec]);
    p->section_line[sec] = p->line;
    p->section = sec;
    return AECL_OK;
}

static aecl_status append_layer(spec_parser *p, const aecl_spec_layer *l)
{
    int enc = p->section == SEC_ENCODER;
    aecl_spec_layer **list = enc ? &p->spec->encoder : &p->spec->decoder;
    size_t *n = enc ? &p->spec->n_encoder : &p->spec->n_decoder;
    size_t *cap = enc ? &p->cap_encoder : &p->cap_decoder;
    if (*n == SPEC_MAX_LAYERS)
        return aecl_spec_perr(p, p->line, "found layer %d of %s, expected at most %d layers",
                         SPEC_MAX_LAYERS + 1, section_labels[p->section], SPEC_MAX_LAYERS);
    if (!aecl_grow((void **)list, cap, *n + 1, sizeof **list, 8))
        return aecl_fail(p->ctx, AECL_ERR_HOST_MEMORY, "out of memory reading layers");
    (*list)[(*n)++] = *l;
    return AECL_OK;
}

static aecl_status read_layer_line(spec_parser *p, char *line)
{
    char *tok[MAX_TOKENS];
    char copy[64];
    snprintf(copy, sizeof copy, "%s", line);
    int n = tokenize(line, tok);
    if (n < 0)
        return aecl_spec_perr(p, p->line, "found more than %d words in `%s...`, expected one layer",
                         MAX_TOKENS, copy);
    if (p->section == SEC_DECODER && strcmp(tok[0], "mirror") == 0) {
        if (n != 1) return aecl_spec_perr(p, p->line, "found `mirror %s`, expected `mirror` alone", tok[1]);
        if (p->spec->n_decoder || p->mirror_line)
            return aecl_spec_perr(p, p->line, "found `mirror` after other decoder lines, expected "
                             "either `mirror` alone or explicit layers");
        p->mirror_line = p->line;
        return AECL_OK;
    }
    if (p->mirror_line && p->section == SEC_DECODER)
        return aecl_spec_perr(p, p->line, "found a layer after `mirror` (line %d), expected either "
                         "`mirror` alone or explicit layers", p->mirror_line);
    aecl_spec_layer l;
    AECL_TRY(aecl_spec_read_layer(p, tok, n, &l));
    return append_layer(p, &l);
}

static aecl_status read_line(spec_parser *p, char *line)
{
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    line = trim(line);
    if (!*line) return AECL_OK;
    if (*line == '[') return read_section(p, line);
    if (p->section == SEC_TOP || p->section == SEC_TRAIN) return read_key_line(p, line);
    return read_layer_line(p, line);
}

/* ---- whole-file checks -------------------------------------------------- */

static aecl_status check_required(const spec_parser *p, int last)
{
    static const struct { int key; const char *example; } req[] = {
        {K_KIND, "kind = vanilla"}, {K_INPUT, "input = 1x28x28"}, {K_LATENT, "latent = 32"}};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (!p->key_line[req[i].key])
            return aecl_spec_perr(p, last, "found end of file without key `%s`, expected it at the "
                             "top (e.g. `%s`)", key_defs[req[i].key].name, req[i].example);
    if (!p->section_line[SEC_ENCODER])
        return aecl_spec_perr(p, last, "found end of file without an [encoder] section, expected one "
                         "(it may be empty)");
    if (!p->section_line[SEC_DECODER])
        return aecl_spec_perr(p, last, "found end of file without a [decoder] section, expected one "
                         "with `mirror` or layers");
    if (!p->mirror_line && p->spec->n_decoder == 0)
        return aecl_spec_perr(p, p->section_line[SEC_DECODER], "found an empty [decoder], expected "
                         "`mirror` or layers");
    return AECL_OK;
}

/* A key that is set but means nothing for this model is an error, not silently
 * ignored: it is almost always a slip (wrong kind, wrong optimizer). */
static aecl_status check_misplaced(const spec_parser *p)
{
    const aecl_model_spec *s = p->spec;
    const char *kind = aecl_spec_kind_names[s->kind];
    const char *opt = aecl_spec_optimizer_names[s->train.optimizer];
    static const int denoise_keys[] = {K_NOISE, K_NOISE_CLIP}, vae_keys[] = {K_BETA, K_BETA_WARMUP};
    static const int sgd_keys[] = {K_MOMENTUM, K_NESTEROV};
    static const int adam_keys[] = {K_ADAM_BETA1, K_ADAM_BETA2, K_ADAM_EPS};
    for (int i = 0; i < 2; i++) {
        int k = denoise_keys[i], v = vae_keys[i], g = sgd_keys[i];
        if (p->key_line[k] && s->kind != AECL_AE_DENOISING)
            return aecl_spec_perr(p, p->key_line[k], "found `%s` in a %s model, expected it only with "
                             "kind = denoising", key_defs[k].name, kind);
        if (p->key_line[v] && s->kind != AECL_AE_VARIATIONAL)
            return aecl_spec_perr(p, p->key_line[v], "found `%s` in a %s model, expected it only with "
                             "kind = variational", key_defs[v].name, kind);
        if (p->key_line[g] && s->train.optimizer != AECL_OPT_SGD)
            return aecl_spec_perr(p, p->key_line[g], "found `%s` with optimizer %s, expected it only "
                             "with optimizer = sgd", key_defs[g].name, opt);
    }
    for (int i = 0; i < 3; i++)
        if (p->key_line[adam_keys[i]] && s->train.optimizer == AECL_OPT_SGD)
            return aecl_spec_perr(p, p->key_line[adam_keys[i]], "found `%s` with optimizer sgd, "
                             "expected it only with adam or adamw", key_defs[adam_keys[i]].name);
    if (s->train.anomaly_score == AECL_SCORE_ELBO && s->kind != AECL_AE_VARIATIONAL)
        return aecl_spec_perr(p, p->key_line[K_ANOMALY_SCORE], "found anomaly_score = elbo in a %s model, expected "
                              "it only with kind = variational", kind);
    if (s->train.nesterov && s->train.momentum == 0)
        return aecl_spec_perr(p, p->key_line[K_NESTEROV], "found nesterov = true with momentum 0, "
                         "expected a momentum > 0");
    if (s->kind == AECL_AE_DENOISING && !p->key_line[K_NOISE])
        return aecl_spec_perr(p, p->key_line[K_KIND], "found kind = denoising without `noise`, "
                         "expected e.g. `noise = gaussian 0.5` in [train]");
    return AECL_OK;
}

/* vanilla means dense layers only; convolutional means at least one conv. */
static aecl_status check_kind_layers(const spec_parser *p)
{
    const aecl_model_spec *s = p->spec;
    char text[160];
    int has_conv = 0;
    for (int part = 0; part < 2; part++) {
        const aecl_spec_layer *ls = part ? s->decoder : s->encoder;
        size_t n = part ? s->n_decoder : s->n_encoder;
        for (size_t i = 0; i < n; i++) {
            if (!aecl_spec_layer_is_spatial(ls[i].kind)) continue;
            if (s->kind == AECL_AE_VANILLA)
                return aecl_spec_perr(p, ls[i].line, "found `%s` in a vanilla model (line %d), expected "
                                 "dense layers only, or kind = convolutional",
                                 aecl_spec_layer_str(&ls[i], text, sizeof text), p->key_line[K_KIND]);
            if (aecl_spec_layer_has_weights(ls[i].kind)) has_conv = 1; /* spatial with weights: conv, convT */
        }
    }
    if (s->kind == AECL_AE_CONVOLUTIONAL && !has_conv)
        return aecl_spec_perr(p, p->key_line[K_KIND], "found kind = convolutional with no conv or convT "
                         "layer, expected one in [encoder] (or kind = vanilla)");
    return AECL_OK;
}

/* Unset per-layer dropout takes the [train] default; the output layer has none. */
static aecl_status resolve_dropout(const spec_parser *p, aecl_spec_layer *ls, size_t n, int output)
{
    double d = p->spec->train.dropout;
    size_t last = n;
    if (output)
        for (size_t i = 0; i < n; i++)
            if (aecl_spec_layer_has_weights(ls[i].kind)) last = i;
    for (size_t i = 0; i < n; i++) {
        if (!aecl_spec_layer_has_weights(ls[i].kind)) continue;
        if (i == last && ls[i].dropout > 0)
            return aecl_spec_perr(p, ls[i].line, "found dropout=%g on the output layer, expected no "
                             "dropout there", ls[i].dropout);
        if (i == last) ls[i].dropout = 0;
        else if (ls[i].dropout < 0) ls[i].dropout = d;
    }
    return AECL_OK;
}

static aecl_status check_output(spec_parser *p)
{
    aecl_model_spec *s = p->spec;
    char text[160];
    if (p->mirror_line) {
        if (!p->key_line[K_OUTPUT_ACT] && s->loss == AECL_LOSS_BCE) s->output_act = AECL_ACT_SIGMOID;
        if (s->loss == AECL_LOSS_BCE && s->output_act != AECL_ACT_SIGMOID)
            return aecl_spec_perr(p, p->key_line[K_OUTPUT_ACT], "found output_activation = %s with loss "
                             "= bce, expected sigmoid", aecl_spec_act_names[s->output_act]);
        return AECL_OK;
    }
    if (p->key_line[K_OUTPUT_ACT])
        return aecl_spec_perr(p, p->key_line[K_OUTPUT_ACT], "found output_activation with an explicit "
                         "[decoder], expected the activation on the decoder's last layer instead");
    for (size_t i = s->n_decoder; i-- > 0;) {
        const aecl_spec_layer *l = &s->decoder[i];
        if (!aecl_spec_layer_has_weights(l->kind)) continue;
        if (s->loss == AECL_LOSS_BCE && l->act != AECL_ACT_SIGMOID)
            return aecl_spec_perr(p, l->line, "found output layer `%s` with loss = bce, expected the "
                             "activation sigmoid", aecl_spec_layer_str(l, text, sizeof text));
        return AECL_OK;
    }
    return aecl_spec_perr(p, p->section_line[SEC_DECODER], "found no dense, conv or convT layer in "
                     "[decoder], expected an output layer that gives the input shape");
}

static aecl_status finish(spec_parser *p, int last)
{
    aecl_model_spec *s = p->spec;
    AECL_TRY(check_required(p, last));
    AECL_TRY(check_misplaced(p));
    AECL_TRY(resolve_dropout(p, s->encoder, s->n_encoder, 0));
    AECL_TRY(resolve_dropout(p, s->decoder, s->n_decoder, 1));
    AECL_TRY(check_kind_layers(p));
    AECL_TRY(check_output(p));
    s->decoder_mirror = p->mirror_line != 0;
    s->latent_layer.line = p->key_line[K_LATENT];
    return aecl_spec_infer(p->ctx, s, p->name, AECL_ERR_FORMAT);
}

/* ---- entry points ------------------------------------------------------- */

static aecl_status parse_text(spec_parser *p, char *text)
{
    char *s = text;
    if ((unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
        s += 3; /* a UTF-8 byte-order mark some editors write */
    p->line = 0;
    while (*s) {
        char *nl = strchr(s, '\n');
        if (nl) *nl = 0;
        p->line++;
        AECL_TRY(read_line(p, s));
        if (!nl) break;
        s = nl + 1;
    }
    return finish(p, p->line);
}

aecl_status aecl_spec_parse_string(aecl_ctx *ctx, const char *text, const char *name_for_messages,
                                   aecl_model_spec **out)
{
    if (!out) return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_spec_parse_string: out is NULL");
    *out = NULL;
    if (!text) return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_spec_parse_string: text is NULL");
    const char *name = name_for_messages ? name_for_messages : "<string>";
    size_t len = strlen(text);
    if (len > SPEC_MAX_FILE)
        return aecl_fail(ctx, AECL_ERR_FORMAT, "%s:1: found %zu bytes, expected a model text of "
                         "at most %d bytes", name, len, SPEC_MAX_FILE);
    spec_parser p = {.ctx = ctx, .name = name};
    char *copy = malloc(len + 1);
    p.spec = calloc(1, sizeof *p.spec);
    if (!copy || !p.spec) {
        free(copy);
        free(p.spec);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of memory parsing %s", name);
    }
    memcpy(copy, text, len + 1);
    aecl_spec_set_defaults(p.spec);
    aecl_status st = parse_text(&p, copy);
    free(copy);
    if (st != AECL_OK) {
        aecl_spec_free(p.spec);
        return st;
    }
    *out = p.spec;
    return AECL_OK;
}

/* Reads a whole (small) file; a NUL byte in it is a format error at its line. */
static aecl_status read_file(aecl_ctx *ctx, const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return aecl_fail(ctx, AECL_ERR_IO, "cannot open model file %s: %s", path, strerror(errno));
    char *buf = malloc(SPEC_MAX_FILE + 2);
    if (!buf) {
        fclose(f);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of memory reading %s", path);
    }
    size_t n = fread(buf, 1, SPEC_MAX_FILE + 1, f);
    int err = ferror(f);
    fclose(f);
    buf[n] = 0;
    aecl_status st = AECL_OK;
    if (err) st = aecl_fail(ctx, AECL_ERR_IO, "cannot read model file %s", path);
    else if (n > SPEC_MAX_FILE)
        st = aecl_fail(ctx, AECL_ERR_FORMAT, "%s:1: found a file over %d bytes, expected a small "
                       "model text", path, SPEC_MAX_FILE);
    else if (strlen(buf) != n) {
        int line = 1;
        for (const char *c = buf; *c; c++) line += *c == '\n';
        st = aecl_fail(ctx, AECL_ERR_FORMAT, "%s:%d: found a NUL byte, expected text", path, line);
    }
    if (st != AECL_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return AECL_OK;
}

aecl_status aecl_spec_parse_file(aecl_ctx *ctx, const char *path, aecl_model_spec **out)
{
    if (!out) return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_spec_parse_file: out is NULL");
    *out = NULL;
    if (!path) return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_spec_parse_file: path is NULL");
    char *text = NULL;
    AECL_TRY(read_file(ctx, path, &text));
    aecl_status st = aecl_spec_parse_string(ctx, text, path, out);
    free(text);
    return st;
}
