/* Layer lines of [encoder] and [decoder]:
 *
 *   WORD POSITIONAL... [key=value...] [ACT] [mode]
 *
 * The positional arguments come right after the word in a fixed order; options
 * (`stride=2`), the activation and the upsample mode may follow in any order, each
 * at most once. */
#include "nn/spec_internal.h"

#include <stdio.h>
#include <string.h>

/* The layer words for messages: "dense, conv, ... or reshape". */
static const char *layer_words(char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int k = 0; k < AECL_LAYER_COUNT && n < cap; k++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", k == 0 ? "" : k + 1 < AECL_LAYER_COUNT ? ", " : " or ",
                              aecl_spec_layer_names[k]);
    return buf;
}

/* A positional argument by its letter in AECL_LAYER_LIST (spec.c writes them). */
static aecl_status read_arg(const spec_parser *p, char code, const char *tok, aecl_spec_layer *l)
{
    switch (code) {
    case 'U': return aecl_spec_read_int(p, "dense units", tok, 1, SPEC_MAX_DIM, &l->units);
    case 'C': return aecl_spec_read_int(p, "output channels", tok, 1, SPEC_MAX_DIM, &l->units);
    case 'K': return aecl_spec_read_pair(p, "the kernel size", tok, 1, SPEC_MAX_DIM, &l->kh, &l->kw);
    case 'P': return aecl_spec_read_int(p, "the pool size", tok, 1, SPEC_MAX_DIM, &l->factor);
    case 'F': return aecl_spec_read_int(p, "the upsample factor", tok, 1, SPEC_MAX_DIM, &l->factor);
    case 'S': return aecl_spec_read_shape(p, "the reshape target", tok, &l->shape);
    }
    return aecl_spec_perr(p, p->line, "layer argument '%c' unknown (internal)", code);
}

static aecl_status read_option(const spec_parser *p, const char *tok, const char *eq,
                               aecl_spec_layer *l, unsigned *seen)
{
    const aecl_spec_layer_def *d = &aecl_spec_layer_defs[l->kind];
    size_t n = (size_t)(eq - tok);
    static const char *const names[4] = {"stride", "pad", "outpad", "dropout"};
    int which = -1;
    for (int i = 0; i < 4; i++)
        if (strlen(names[i]) == n && strncmp(tok, names[i], n) == 0) which = i;
    if (which < 0 || !aecl_spec_word_in(d->options, tok, n))
        return aecl_spec_perr(p, p->line, "found option `%.*s` on %s, expected only the options of "
                         "`%s`", (int)n, tok, aecl_spec_layer_name(l->kind), d->usage);
    if (*seen & (1u << which))
        return aecl_spec_perr(p, p->line, "found `%s` a second time, expected each option once", tok);
    *seen |= 1u << which;
    const char *v = eq + 1;
    switch (which) {
    case 0: return aecl_spec_read_pair(p, "stride", v, 1, SPEC_MAX_DIM, &l->stride_h, &l->stride_w);
    case 1: return aecl_spec_read_pair(p, "pad", v, 0, SPEC_MAX_DIM, &l->pad_h, &l->pad_w);
    case 2: return aecl_spec_read_pair(p, "outpad", v, 0, SPEC_MAX_DIM, &l->outpad_h, &l->outpad_w);
    default: return aecl_spec_read_real(p, "dropout", v, R_UNIT, &l->dropout);
    }
}

/* A bare word after the positional arguments: the activation or the upsample mode. */
static aecl_status read_word(const spec_parser *p, const char *tok, aecl_spec_layer *l,
                             int *have_act, int *have_mode)
{
    const aecl_spec_layer_def *d = &aecl_spec_layer_defs[l->kind];
    if (l->kind == AECL_LAYER_UPSAMPLE) {
        int m = aecl_spec_lookup(aecl_spec_upsample_names, 2, tok);
        if (m < 0 || *have_mode)
            return aecl_spec_perr(p, p->line, "found `%s` after upsample, expected one mode, nearest "
                             "or bilinear (`%s`)", tok, d->usage);
        l->mode = (aecl_upsample_mode)m;
        *have_mode = 1;
        return AECL_OK;
    }
    if (!aecl_spec_layer_has_weights(l->kind))
        return aecl_spec_perr(p, p->line, "found `%s` after %s, expected nothing more (`%s`)", tok,
                         aecl_spec_layer_name(l->kind), d->usage);
    int is_act;
    aecl_act act;
    double param;
    AECL_TRY(aecl_spec_read_act(p, tok, &act, &param, &is_act));
    if (!is_act)
        return aecl_spec_perr(p, p->line, "found `%s` in a %s layer, expected an activation (%s)", tok,
                         aecl_spec_layer_name(l->kind), SPEC_ACT_LIST);
    if (*have_act)
        return aecl_spec_perr(p, p->line, "found a second activation `%s`, expected one per layer",
                         tok);
    l->act = act, l->act_param = param;
    *have_act = 1;
    return AECL_OK;
}

aecl_status aecl_spec_read_layer(const spec_parser *p, char **tok, int n, aecl_spec_layer *l)
{
    int kind = aecl_spec_lookup(aecl_spec_layer_names, AECL_LAYER_COUNT, tok[0]);
    if (kind < 0) {
        if (n > 1 && strcmp(tok[1], "=") == 0)
            return aecl_spec_perr(p, p->line, "found the key `%s` in a layer section, expected a layer "
                             "(keys go at the top or in [train])", tok[0]);
        char words[160];
        return aecl_spec_perr(p, p->line, "found `%s`, expected a layer: %s", tok[0],
                              layer_words(words, sizeof words));
    }
    const aecl_spec_layer_def *d = &aecl_spec_layer_defs[kind];
    *l = (aecl_spec_layer){.kind = (aecl_layer_kind)kind, .line = p->line};
    if (aecl_spec_layer_has_weights(l->kind)) l->dropout = -1; /* unset: [train] dropout */
    if (aecl_spec_word_in(d->options, "stride", 6)) l->stride_h = l->stride_w = 1;
    int npos = (int)strlen(d->args);
    if (n - 1 < npos)
        return aecl_spec_perr(p, p->line, "found %s with %d argument%s, expected `%s`", tok[0], n - 1,
                         n == 2 ? "" : "s", d->usage);
    for (int i = 0; i < npos; i++) AECL_TRY(read_arg(p, d->args[i], tok[1 + i], l));
    unsigned seen = 0;
    int have_act = 0, have_mode = 0;
    for (int i = npos + 1; i < n; i++) {
        const char *eq = strchr(tok[i], '=');
        if (eq) AECL_TRY(read_option(p, tok[i], eq, l, &seen));
        else AECL_TRY(read_word(p, tok[i], l, &have_act, &have_mode));
    }
    if (aecl_spec_layer_has_weights(l->kind) && !have_act)
        return aecl_spec_perr(p, p->line, "found no activation on %s, expected one of %s (`%s`)",
                         tok[0], SPEC_ACT_LIST, d->usage);
    if (kind == AECL_LAYER_CONVT && (l->outpad_h >= l->stride_h || l->outpad_w >= l->stride_w))
        return aecl_spec_perr(p, p->line, "found outpad=%dx%d with stride=%dx%d, expected outpad smaller "
                         "than the stride", l->outpad_h, l->outpad_w, l->stride_h, l->stride_w);
    return AECL_OK;
}
