/* Value readers of the model-file parser: whole numbers, reals with a range,
 * booleans, shapes, KxK pairs and activations. Each takes one whole token; a token
 * with anything left over ("3x", "1e-3q") is an error naming what was found. */
#include "io/io.h"
#include "nn/spec_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aecl_status aecl_spec_perr(const spec_parser *p, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* The message quotes the file's own text: its control characters as \xNN,
     * never raw to a terminal. */
    char shown[2048];
    return aecl_fail(p->ctx, AECL_ERR_FORMAT, "%s:%d: %s", p->name, line > 0 ? line : 1,
                     aecl_io_escape(msg, shown, sizeof shown));
}

/* Decimal digits with an optional leading '-' (so "-3" reads, then fails its range
 * with a clear message); no '+', spaces, hex or octal. */
static int is_decimal(const char *s)
{
    if (*s == '-') s++;
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

aecl_status aecl_spec_read_int(const spec_parser *p, const char *what, const char *tok, long long lo,
                          long long hi, int *out)
{
    errno = 0;
    long long v = is_decimal(tok) ? strtoll(tok, NULL, 10) : 0;
    if (!is_decimal(tok) || errno == ERANGE || v < lo || v > hi)
        return aecl_spec_perr(p, p->line, "found `%s` for %s, expected a whole number from %lld to %lld",
                         tok, what, lo, hi);
    *out = (int)v;
    return AECL_OK;
}

aecl_status aecl_spec_read_u64(const spec_parser *p, const char *what, const char *tok, uint64_t *out)
{
    errno = 0;
    int ok = is_decimal(tok) && tok[0] != '-';
    unsigned long long v = ok ? strtoull(tok, NULL, 10) : 0;
    if (!ok || errno == ERANGE)
        return aecl_spec_perr(p, p->line, "found `%s` for %s, expected a whole number from 0 to "
                         "18446744073709551615", tok, what);
    *out = (uint64_t)v;
    return AECL_OK;
}

static const char *range_text(enum spec_range r)
{
    switch (r) {
    case R_POSITIVE: return "a number > 0";
    case R_NONNEGATIVE: return "a number >= 0";
    case R_UNIT: return "a number in [0, 1)";
    case R_OPEN_UNIT: return "a number in (0, 1)";
    }
    return "a number";
}

static int in_range(double v, enum spec_range r)
{
    switch (r) {
    case R_POSITIVE: return v > 0;
    case R_NONNEGATIVE: return v >= 0;
    case R_UNIT: return v >= 0 && v < 1;
    case R_OPEN_UNIT: return v > 0 && v < 1;
    }
    return 0;
}

/* Plain decimal notation only: strtod would also take "nan", "inf" and hex floats. */
static int is_real(const char *s)
{
    int digits = 0;
    if (*s == '-' || *s == '+') s++;
    for (; *s >= '0' && *s <= '9'; s++) digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++) digits++;
    if (!digits) return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+') s++;
        if (*s < '0' || *s > '9') return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == 0;
}

aecl_status aecl_spec_read_real(const spec_parser *p, const char *what, const char *tok,
                           enum spec_range r, double *out)
{
    double v = is_real(tok) ? strtod(tok, NULL) : NAN;
    if (!isfinite(v) || !in_range(v, r))
        return aecl_spec_perr(p, p->line, "found `%s` for %s, expected %s", tok, what, range_text(r));
    *out = v == 0 ? 0.0 : v; /* "-0" prints back as "0" */
    return AECL_OK;
}

aecl_status aecl_spec_read_bool(const spec_parser *p, const char *what, const char *tok, int *out)
{
    if (strcmp(tok, "true") == 0) *out = 1;
    else if (strcmp(tok, "false") == 0) *out = 0;
    else return aecl_spec_perr(p, p->line, "found `%s` for %s, expected true or false", tok, what);
    return AECL_OK;
}

/* Splits "AxBxC" into at most `max` numbers; returns their count, or 0 on any
 * character that does not belong. */
static int split_dims(const char *tok, long long *v, int max)
{
    int n = 0;
    const char *s = tok;
    for (;;) {
        if (*s < '0' || *s > '9' || n == max) return 0;
        errno = 0;
        char *end;
        v[n++] = strtoll(s, &end, 10);
        if (errno == ERANGE) return 0;
        s = end;
        if (*s == 0) return n;
        if (*s != 'x') return 0;
        s++;
    }
}

aecl_status aecl_spec_read_shape(const spec_parser *p, const char *what, const char *tok,
                            aecl_spec_shape *out)
{
    long long v[3];
    int n = split_dims(tok, v, 3);
    long long prod = 1;
    for (int i = 0; i < n; i++) {
        if (v[i] < 1 || v[i] > SPEC_MAX_NUMEL) n = 0;
        else prod *= v[i];
        if (prod > SPEC_MAX_NUMEL) n = 0;
    }
    if (n != 1 && n != 3)
        return aecl_spec_perr(p, p->line, "found `%s` for %s, expected a feature count N or CxHxW "
                         "(e.g. 784 or 1x28x28), each >= 1 and at most %lld elements in all", tok,
                         what, SPEC_MAX_NUMEL);
    if (n == 1) *out = (aecl_spec_shape){1, (int)v[0], 1, 1};
    else *out = (aecl_spec_shape){3, (int)v[0], (int)v[1], (int)v[2]};
    return AECL_OK;
}

aecl_status aecl_spec_read_pair(const spec_parser *p, const char *what, const char *tok, int lo, int hi,
                           int *h, int *w)
{
    long long v[2];
    int n = split_dims(tok, v, 2);
    for (int i = 0; i < n; i++)
        if (v[i] < lo || v[i] > hi) n = 0;
    if (n == 0)
        return aecl_spec_perr(p, p->line, "found `%s` for %s, expected N or HxW with each from %d to %d",
                         tok, what, lo, hi);
    *h = (int)v[0];
    *w = (int)(n == 2 ? v[1] : v[0]);
    return AECL_OK;
}

static aecl_status read_act_param(const spec_parser *p, const char *tok, const char *open,
                                  aecl_act act, double *param)
{
    size_t len = strlen(open);
    char num[64];
    if (len < 3 || open[len - 1] != ')' || len - 2 >= sizeof num)
        return aecl_spec_perr(p, p->line, "found `%s`, expected NAME(NUMBER) such as leaky_relu(0.2)",
                         tok);
    memcpy(num, open + 1, len - 2);
    num[len - 2] = 0;
    const char *what = act == AECL_ACT_LEAKY_RELU ? "the leaky_relu slope" : "the elu alpha";
    return aecl_spec_read_real(p, what, num, act == AECL_ACT_LEAKY_RELU ? R_NONNEGATIVE : R_POSITIVE,
                          param);
}

aecl_status aecl_spec_read_act(const spec_parser *p, const char *tok, aecl_act *act, double *param,
                          int *is_act)
{
    char name[32];
    const char *open = strchr(tok, '(');
    size_t n = open ? (size_t)(open - tok) : strlen(tok);
    *is_act = 0;
    if (n >= sizeof name) return AECL_OK;
    memcpy(name, tok, n);
    name[n] = 0;
    int i = aecl_spec_lookup(aecl_spec_act_names, 7, name);
    if (i < 0) return AECL_OK;
    *is_act = 1;
    *act = (aecl_act)i;
    *param = i == AECL_ACT_LEAKY_RELU ? 0.01 : i == AECL_ACT_ELU ? 1.0 : 0.0;
    if (!open) return AECL_OK;
    if (i != AECL_ACT_LEAKY_RELU && i != AECL_ACT_ELU)
        return aecl_spec_perr(p, p->line, "found `%s`, expected `%s` without a parameter (only "
                         "leaky_relu and elu take one)", tok, name);
    return read_act_param(p, tok, open, *act, param);
}
