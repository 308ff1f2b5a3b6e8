/* Data sets: IDX images, CSV rows and .npy arrays as float samples (labels from
 * IDX or .npy files), validation splits. */
#include "base/bigmem.h"
#include "io/io.h"
#include "nn/train.h"
#include "rt/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aecl_status aecl_dataset_load_idx(aecl_ctx *ctx, const char *images_path, const char *labels_path, size_t limit,
                                  size_t expect, aecl_dataset *out)
{
    memset(out, 0, sizeof *out);
    aecl_idx img, lab;
    /* The shape from the header alone: a wrong file is refused before its body is decoded. */
    AECL_TRY(aecl_idx_read_header(ctx, images_path, limit, &img));
    AECL_RETURN_IF(expect && img.item_elems != expect, AECL_ERR_SHAPE, ctx,
                   "%s: samples of %zu values, the model's input takes %zu", images_path, img.item_elems, expect);
    AECL_TRY(aecl_idx_read(ctx, images_path, limit, AECL_IDX_SCALE01, &img));
    out->x = img.data;
    out->n = img.dims[0];
    out->features = img.item_elems;
    img.data = NULL;
    aecl_idx_free(&img);
    if (!labels_path) return AECL_OK;
    aecl_status st = aecl_idx_read(ctx, labels_path, limit, AECL_IDX_RAW_U8, &lab);
    if (st == AECL_OK && lab.dims[0] != out->n)
        st = aecl_fail(ctx, AECL_ERR_FORMAT, "%s: %zu labels for %zu images", labels_path, lab.dims[0], out->n);
    if (st == AECL_OK && !(out->labels = malloc(out->n * sizeof *out->labels)))
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; st == AECL_OK && i < out->n; i++) out->labels[i] = lab.u8[i];
    aecl_idx_free(&lab);
    if (st != AECL_OK) aecl_dataset_free(out);
    return st;
}

aecl_status aecl_dataset_load_csv(aecl_ctx *ctx, const char *path, const aecl_csv_opts *opts, size_t limit,
                                  size_t expect, aecl_dataset *out)
{
    memset(out, 0, sizeof *out);
    aecl_csv c;
    AECL_TRY(aecl_csv_read(ctx, path, opts, &c));
    aecl_status st = AECL_OK;
    if (expect && c.cols != expect)
        st = aecl_fail(ctx, AECL_ERR_SHAPE, "%s: rows of %zu values%s, the model's input takes %zu", path, c.cols,
                       c.labels ? " (label column left out)" : "", expect);
    if (st == AECL_OK) {
        out->n = limit && limit < c.rows ? limit : c.rows;
        out->features = c.cols;
        out->x = c.data;
        out->labels = c.label_ints;
        c.data = NULL;
        c.label_ints = NULL;
    }
    aecl_csv_free(&c);
    return st;
}

aecl_status aecl_dataset_load_npy(aecl_ctx *ctx, const char *path, size_t limit, size_t expect, aecl_dataset *out)
{
    memset(out, 0, sizeof *out);
    aecl_npy a;
    AECL_TRY(aecl_npy_read(ctx, path, &a));
    size_t n = a.ndim ? a.shape[0] : 0, f = n ? a.count / n : 0;
    aecl_status st = AECL_OK;
    if (n == 0) st = aecl_fail(ctx, AECL_ERR_FORMAT, "%s: no samples (shape of %u dims, %zu values)", path, a.ndim,
                               a.count);
    else if (expect && f != expect)
        st = aecl_fail(ctx, AECL_ERR_SHAPE, "%s: samples of %zu values, the model's input takes %zu", path, f, expect);
    if (st == AECL_OK) {
        out->x = a.data;
        out->n = limit && limit < n ? limit : n;
        out->features = f;
        a.data = NULL;
    }
    aecl_npy_free(&a);
    return st;
}

/* The first d->n labels of a .npy (any integer dtype, or whole floats). */
static aecl_status npy_labels(aecl_ctx *ctx, const char *path, aecl_dataset *d)
{
    size_t n;
    int32_t *lab;
    AECL_TRY(aecl_npy_read_labels(ctx, path, &lab, &n));
    if (n < d->n) {
        free(lab);
        return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: %zu labels for %zu samples", path, n, d->n);
    }
    d->labels = lab;
    return AECL_OK;
}

aecl_status aecl_dataset_load_labels(aecl_ctx *ctx, const char *path, aecl_dataset *d)
{
    free(d->labels);
    d->labels = NULL;
    if (aecl_io_is_npy(path)) return npy_labels(ctx, path, d);
    aecl_idx lab;
    AECL_TRY(aecl_idx_read(ctx, path, d->n, AECL_IDX_RAW_U8, &lab));
    aecl_status st = AECL_OK;
    if (lab.dims[0] != d->n) st = aecl_fail(ctx, AECL_ERR_FORMAT, "%s: %zu labels for %zu samples", path, lab.dims[0], d->n);
    else if (d->n && !(d->labels = malloc(d->n * sizeof *d->labels))) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; st == AECL_OK && i < d->n; i++) d->labels[i] = lab.u8[i];
    aecl_idx_free(&lab);
    return st;
}

/* A seeded choice of n_val of n samples (Floyd's algorithm, xorshift64 stream):
 * the split does not depend on the file's order. */
static void pick(unsigned char *is_val, size_t n, size_t n_val, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
    memset(is_val, 0, n);
    for (size_t j = n - n_val; j < n; j++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        size_t t = (size_t)(s % (j + 1));
        if (is_val[t]) t = j;
        is_val[t] = 1;
    }
}

static aecl_status alloc_part(aecl_ctx *ctx, const aecl_dataset *all, size_t n, aecl_dataset *d)
{
    d->features = all->features;
    d->x = aecl_malloc_big(n * all->features * sizeof *d->x);
    d->labels = all->labels ? malloc(n * sizeof *d->labels) : NULL;
    AECL_RETURN_IF(!d->x || (all->labels && !d->labels), AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    return AECL_OK;
}

/* Sample i of `from` becomes sample `to` of d (d may be `from` itself, to <= i). */
static void put_row(aecl_dataset *d, size_t to, const aecl_dataset *from, size_t i)
{
    if (d == from && to == i) return;
    memcpy(d->x + to * d->features, from->x + i * from->features, from->features * sizeof *d->x);
    if (d->labels) d->labels[to] = from->labels[i];
}

/* The validation samples are copied out; the training samples move down in
 * place, so the training part keeps all's memory (and its unused tail): copying
 * 90% of a 60,000-image set into new memory took 0.6 s, nearly all page faults. */
aecl_status aecl_dataset_split(aecl_ctx *ctx, aecl_dataset *all, double fraction, uint64_t seed, aecl_dataset *train,
                               aecl_dataset *val)
{
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    AECL_RETURN_IF(!(fraction > 0 && fraction < 1), AECL_ERR_INVALID_ARG, ctx,
                   "validation fraction %g: must lie between 0 and 1", fraction);
    size_t n_val = (size_t)(fraction * (double)all->n + 0.5);
    if (n_val == 0) n_val = 1;
    AECL_RETURN_IF(n_val >= all->n, AECL_ERR_INVALID_ARG, ctx,
                   "a validation fraction of %g leaves no training samples out of %zu", fraction, all->n);
    unsigned char *is_val = malloc(all->n);
    AECL_RETURN_IF(!is_val, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    pick(is_val, all->n, n_val, seed);
    aecl_status st = alloc_part(ctx, all, n_val, val);
    if (st != AECL_OK) {
        free(is_val);
        aecl_dataset_free(val);
        return st;
    }
    size_t nt = 0;
    for (size_t i = 0; i < all->n; i++) {
        if (is_val[i]) put_row(val, val->n++, all, i);
        else put_row(all, nt++, all, i);
    }
    free(is_val);
    *train = *all;
    train->n = nt;
    memset(all, 0, sizeof *all);
    return AECL_OK;
}

void aecl_dataset_free(aecl_dataset *d)
{
    if (!d) return;
    free(d->x);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

/* ---- scaling ------------------------------------------------------------------ */

static const char *const scale_names[] = {"none", "minmax", "standard"};

const char *aecl_scale_name(aecl_scale_kind k)
{
    return (unsigned)k < 3 ? scale_names[k] : "?";
}

aecl_status aecl_scale_parse(aecl_ctx *ctx, const char *name, aecl_scale_kind *out)
{
    for (int k = 0; k < 3; k++)
        if (!strcmp(name, scale_names[k])) { *out = (aecl_scale_kind)k; return AECL_OK; }
    return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "scaling '%s': expected none, minmax or standard", name);
}

static aecl_status scaling_alloc(aecl_ctx *ctx, aecl_scale_kind kind, size_t features, aecl_scaling *out)
{
    memset(out, 0, sizeof *out);
    if (kind == AECL_SCALE_NONE) return AECL_OK;
    out->kind = kind;
    out->features = features;
    out->offset = malloc(features * sizeof *out->offset);
    out->scale = malloc(features * sizeof *out->scale);
    if (out->offset && out->scale) return AECL_OK;
    aecl_scaling_free(out);
    return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
}

/* The scale of a spread: 1 for none, or for one too small to invert in float
 * (1 / 1e-40 is infinite there), as for a constant feature. */
static float inverse_or_one(double spread)
{
    float s = spread > 0 ? (float)(1.0 / spread) : 1.0f;
    return isfinite(s) ? s : 1.0f;
}

/* Statistics in double over all rows; a constant feature keeps scale 1. */
static void fit_feature(aecl_scale_kind kind, const float *x, size_t n, size_t features, size_t f, float *off,
                        float *scale)
{
    double lo = x[f], hi = x[f], sum = 0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i * features + f];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
    }
    if (kind == AECL_SCALE_MINMAX) {
        *off = (float)lo;
        *scale = inverse_or_one(hi - lo);
        return;
    }
    double mean = sum / (double)n, ss = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i * features + f] - mean;
        ss += d * d;
    }
    double sd = sqrt(ss / (double)n);
    *off = (float)mean;
    *scale = inverse_or_one(sd);
}

aecl_status aecl_scaling_fit(aecl_ctx *ctx, aecl_scale_kind kind, const float *x, size_t n, size_t features,
                             aecl_scaling *out)
{
    memset(out, 0, sizeof *out);
    AECL_RETURN_IF(kind != AECL_SCALE_NONE && (n == 0 || features == 0), AECL_ERR_INVALID_ARG, ctx,
                   "cannot fit a %s scaling to an empty data set", aecl_scale_name(kind));
    AECL_TRY(scaling_alloc(ctx, kind, features, out));
    for (size_t f = 0; kind != AECL_SCALE_NONE && f < features; f++)
        fit_feature(kind, x, n, features, f, &out->offset[f], &out->scale[f]);
    return AECL_OK;
}

aecl_status aecl_scaling_apply(const aecl_scaling *s, float *x, size_t n, size_t features)
{
    if (!s || s->kind == AECL_SCALE_NONE || n == 0) return AECL_OK;   /* an empty set has nothing to scale */
    AECL_RETURN_IF(features != s->features, AECL_ERR_SHAPE, NULL,
                   "the data has %zu features, the scaling was fitted to %zu", features, s->features);
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < features; f++) x[i * features + f] = (x[i * features + f] - s->offset[f]) * s->scale[f];
    return AECL_OK;
}

aecl_status aecl_scaling_format(aecl_ctx *ctx, const aecl_scaling *s, char **text)
{
    *text = NULL;
    size_t nf = s && s->kind != AECL_SCALE_NONE ? s->features : 0;
    size_t cap = 32 + nf * 2 * 18; /* "%.9g," fits in 17 */
    char *t = malloc(cap);
    AECL_RETURN_IF(!t, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    if (!nf) {
        strcpy(t, "none");
        *text = t;
        return AECL_OK;
    }
    size_t len = (size_t)snprintf(t, cap, "%s %zu", aecl_scale_name(s->kind), nf);
    for (int part = 0; part < 2; part++) {
        const float *v = part ? s->scale : s->offset;
        for (size_t f = 0; f < nf; f++)
            len += (size_t)snprintf(t + len, cap - len, "%s%.9g", f ? "," : " ", (double)v[f]);
    }
    *text = t;
    return AECL_OK;
}

/* n comma-separated floats from *p; advances *p past them. */
static int parse_floats(const char **p, float *v, size_t n)
{
    for (size_t f = 0; f < n; f++) {
        char *end;
        double d = strtod(*p, &end);
        /* Finite as a float too: 1e39 would scale every value to infinity. */
        if (end == *p || !isfinite((float)d) || (f + 1 < n ? *end != ',' : (*end != ' ' && *end))) return 0;
        v[f] = (float)d;
        *p = end + (*end ? 1 : 0);
    }
    return 1;
}

aecl_status aecl_scaling_parse(aecl_ctx *ctx, const char *text, const char *where, aecl_scaling *out)
{
    memset(out, 0, sizeof *out);
    char kind[16];
    int used = 0;
    unsigned long long nf = 0;
    aecl_scale_kind k = AECL_SCALE_NONE;
    if (!strcmp(text, "none")) return AECL_OK;
    if (sscanf(text, "%15s %llu %n", kind, &nf, &used) < 2 || aecl_scale_parse(NULL, kind, &k) != AECL_OK ||
        k == AECL_SCALE_NONE || nf == 0 || nf > (1ull << 28))
        return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: aecl.scaling: expected 'none' or 'minmax|standard N offsets scales'", where);
    AECL_TRY(scaling_alloc(ctx, k, (size_t)nf, out));
    const char *p = text + used;
    if (parse_floats(&p, out->offset, out->features) && parse_floats(&p, out->scale, out->features) && !*p)
        return AECL_OK;
    aecl_scaling_free(out);
    return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: aecl.scaling: expected %llu offsets and %llu scales, each a finite float",
                     where, nf, nf);
}

aecl_status aecl_scaling_from_meta(aecl_ctx *ctx, const aecl_safetensors *st, const char *path, aecl_scaling *out)
{
    const char *text = aecl_safetensors_meta(st, "aecl.scaling");
    if (!text) { memset(out, 0, sizeof *out); return AECL_OK; }
    return aecl_scaling_parse(ctx, text, path, out);
}

void aecl_scaling_free(aecl_scaling *s)
{
    if (!s) return;
    free(s->offset);
    free(s->scale);
    memset(s, 0, sizeof *s);
}

aecl_status aecl_dataset_keep_label(aecl_ctx *ctx, aecl_dataset *d, int32_t label)
{
    AECL_RETURN_IF(!d->labels, AECL_ERR_INVALID_ARG, ctx, "selecting class %d needs labels, and this data set has none",
                   (int)label);
    size_t kept = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->labels[i] == label) {
            if (kept != i) memmove(d->x + kept * d->features, d->x + i * d->features, d->features * sizeof *d->x);
            d->labels[kept++] = label;
        }
    AECL_RETURN_IF(!kept, AECL_ERR_INVALID_ARG, ctx, "no sample has label %d", (int)label);
    d->n = kept;
    return AECL_OK;
}
