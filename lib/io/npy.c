/* NumPy .npy writer (version 1.0, '<f4', C order) and reader (float32, float64,
 * uint8, int32 and int64 of either byte order, C or Fortran order, converted
 * once to row-major float32; or to int32 labels).
 *
 * Layout: "\x93NUMPY", major, minor, header length (u16 LE in 1.0, u32 LE in 2.0
 * and 3.0), then a Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (R, C), }
 * padded with spaces and ended by '\n' so that the data starts at a multiple of
 * 64 bytes (numpy's alignment), then the raw little-endian data. */
#define _POSIX_C_SOURCE 200809L

#include "io/io.h"
#include "base/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAGIC "\x93NUMPY"
#define MAX_HEADER (1u << 20)

/* ---- writing ------------------------------------------------------------------ */

/* The padded header after the 10-byte preamble; returns its length. */
static size_t make_header(char *h, size_t cap, unsigned ndim, const size_t *shape)
{
    size_t n = (size_t)snprintf(h, cap, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (unsigned d = 0; d < ndim; d++)
        n += (size_t)snprintf(h + n, cap - n, "%s%zu", d ? ", " : "", shape[d]);
    n += (size_t)snprintf(h + n, cap - n, "%s), }", ndim == 1 ? "," : "");
    while ((10 + n + 1) % 64) h[n++] = ' ';
    h[n++] = '\n';
    return n;
}

aecl_status aecl_npy_write(aecl_ctx *ctx, const char *path, const float *data, unsigned ndim,
                           const size_t *shape)
{
    AECL_RETURN_IF(!path || (ndim && !shape), AECL_ERR_INVALID_ARG, ctx,
                   "aecl_npy_write: NULL argument");
    AECL_RETURN_IF(ndim > AECL_NPY_MAX_DIMS, AECL_ERR_INVALID_ARG, ctx,
                   "npy '%s': %u dims (max %d)", path, ndim, AECL_NPY_MAX_DIMS);
    size_t count = 1;
    for (unsigned d = 0; d < ndim; d++)
        AECL_RETURN_IF(!aecl_mul_size(count, shape[d], &count) || count > SIZE_MAX / 4,
                       AECL_ERR_INVALID_ARG, ctx, "npy '%s': shape overflows", path);
    AECL_RETURN_IF(count && !data, AECL_ERR_INVALID_ARG, ctx, "npy '%s': data is NULL", path);
    char h[512];   /* 8 dims of 20 digits fit easily */
    size_t hn = make_header(h, sizeof h, ndim, shape);
    uint8_t pre[10];
    memcpy(pre, MAGIC, 6);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (uint8_t)(hn & 0xff);
    pre[9] = (uint8_t)(hn >> 8);
    aecl_atomic_file f;
    AECL_TRY(aecl_atomic_open(ctx, path, &f));
    aecl_status st = aecl_atomic_write(ctx, &f, pre, sizeof pre);
    if (st == AECL_OK) st = aecl_atomic_write(ctx, &f, h, hn);
    if (st == AECL_OK) st = aecl_atomic_write_f32le(ctx, &f, data, count);
    if (st != AECL_OK) {
        aecl_atomic_abort(&f);
        return st;
    }
    return aecl_atomic_commit(ctx, &f);
}

aecl_status aecl_npy_write_2d(aecl_ctx *ctx, const char *path, const float *data, size_t rows,
                              size_t cols)
{
    size_t shape[2] = {rows, cols};
    return aecl_npy_write(ctx, path, data, 2, shape);
}

/* ---- reading: a small parser for the header dict ------------------------------- */

typedef struct hdr {
    const char *s, *end;
    char descr[32];
    int fortran, have_descr, have_fortran, have_shape;
    unsigned ndim;
    size_t shape[AECL_NPY_MAX_DIMS];
} hdr;

static void skip_ws(hdr *h)
{
    while (h->s < h->end && isspace((unsigned char)*h->s)) h->s++;
}

static int eat(hdr *h, char c)
{
    skip_ws(h);
    if (h->s < h->end && *h->s == c) {
        h->s++;
        return 1;
    }
    return 0;
}

/* A '...' or "..." literal (no escapes: numpy never writes any here). */
static int str_lit(hdr *h, char *out, size_t cap)
{
    skip_ws(h);
    if (h->s >= h->end || (*h->s != '\'' && *h->s != '"')) return 0;
    char q = *h->s++;
    size_t n = 0;
    while (h->s < h->end && *h->s != q) {
        if (n + 1 < cap) out[n++] = *h->s;
        h->s++;
    }
    out[n] = 0;
    return eat(h, q);
}

static int word(hdr *h, const char *w)
{
    skip_ws(h);
    size_t n = strlen(w);
    if ((size_t)(h->end - h->s) < n || memcmp(h->s, w, n) != 0) return 0;
    h->s += n;
    return 1;
}

static int shape_tuple(hdr *h)
{
    if (!eat(h, '(')) return 0;
    h->ndim = 0;
    for (;;) {
        if (eat(h, ')')) return 1;
        skip_ws(h);
        if (h->s >= h->end || !isdigit((unsigned char)*h->s) || h->ndim >= AECL_NPY_MAX_DIMS)
            return 0;
        size_t v = 0;
        while (h->s < h->end && isdigit((unsigned char)*h->s)) {
            size_t d = (size_t)(*h->s++ - '0');
            if (v > (SIZE_MAX - d) / 10) return 0;
            v = v * 10 + d;
        }
        if (h->s < h->end && *h->s == 'L') h->s++;   /* Python 2 longs */
        h->shape[h->ndim++] = v;
        if (!eat(h, ',')) return eat(h, ')');
    }
}

/* Returns 0 or a short description of what is wrong. */
static const char *parse_dict(hdr *h)
{
    if (!eat(h, '{')) return "header does not start with '{'";
    for (;;) {
        char key[32];
        if (eat(h, '}')) break;
        if (!str_lit(h, key, sizeof key)) return "expected a quoted key";
        if (!eat(h, ':')) return "expected ':' after a key";
        if (strcmp(key, "descr") == 0) {
            if (!str_lit(h, h->descr, sizeof h->descr)) return "descr is not a string";
            h->have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (word(h, "True")) h->fortran = 1;
            else if (word(h, "False")) h->fortran = 0;
            else return "fortran_order is not True or False";
            h->have_fortran = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (!shape_tuple(h)) return "shape is not a tuple of at most 8 sizes";
            h->have_shape = 1;
        } else {
            return "unknown key in the header";
        }
        if (!eat(h, ',')) {
            if (!eat(h, '}')) return "expected ',' or '}'";
            break;
        }
    }
    if (!h->have_descr || !h->have_fortran || !h->have_shape)
        return "header lacks descr, fortran_order or shape";
    return NULL;
}

/* ---- reading: dtypes ------------------------------------------------------------ */

/* The element types aecl converts from, whatever the byte order. */
typedef struct npy_type {
    char kind;          /* 'f' float, 'u' unsigned, 'i' signed */
    unsigned size;      /* bytes per element */
    int big;            /* big-endian ('>') */
} npy_type;

#define READS "aecl reads float32, float64, uint8, int32, int64"

/* numpy's name of a descr like '<c8' ("complex64"), for messages; "" if unknown. */
static const char *type_name(const char *descr, char *buf, size_t cap)
{
    static const char kinds[] = "fciu";
    static const char *const names[] = {"float", "complex", "int", "uint"};
    buf[0] = 0;
    if (!descr[0] || !strchr("<>|=", descr[0]) || !descr[1]) return buf;
    if (!strcmp(descr + 1, "b1")) {
        snprintf(buf, cap, " (bool)");
        return buf;
    }
    const char *k = strchr(kinds, descr[1]);
    char *end;
    long size = strtol(descr + 2, &end, 10);
    if (k && isdigit((unsigned char)descr[2]) && !*end && size > 0 && size <= 32)
        snprintf(buf, cap, " (%s%ld)", names[k - kinds], size * 8);
    return buf;
}

/* '<f4' '<f8' '|u1' '<i4' '<i8', their '>' (big-endian) and '=' (native) forms. */
static aecl_status parse_type(aecl_ctx *ctx, const char *path, const char *descr, npy_type *t)
{
    static const char *const ok[] = {"f4", "f8", "u1", "i4", "i8"};
    char esc[64], name[32];
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
        if (!descr[0] || strcmp(descr + 1, ok[k]) != 0) continue;
        int one = ok[k][1] == '1';
        if (!(strchr("<>=", descr[0]) || (one && descr[0] == '|'))) break;
        static const union { uint16_t u; uint8_t b[2]; } host = {1};
        t->kind = ok[k][0];
        t->size = (unsigned)(ok[k][1] - '0');
        t->big = descr[0] == '>' || (descr[0] == '=' && host.b[0] == 0);
        return AECL_OK;
    }
    return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: dtype '%s'%s is not supported: " READS, path,
                     aecl_io_escape(descr, esc, sizeof esc), type_name(descr, name, sizeof name));
}

/* The element at p as stored, its bytes put in host order. */
static uint64_t elem_bits(const uint8_t *p, const npy_type *t)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < t->size; k++) v |= (uint64_t)p[t->big ? t->size - 1 - k : k] << (8 * k);
    return v;
}

static double elem_double(const uint8_t *p, const npy_type *t)
{
    uint64_t v = elem_bits(p, t);
    if (t->kind == 'f' && t->size == 4) {
        uint32_t u = (uint32_t)v;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    if (t->kind == 'f') {
        double d;
        memcpy(&d, &v, 8);
        return d;
    }
    if (t->kind == 'u') return (double)v;
    return t->size == 4 ? (double)(int32_t)(uint32_t)v : (double)(int64_t)v;
}

/* ---- reading: header, sizes, values ------------------------------------------------ */

static aecl_status read_header(aecl_ctx *ctx, FILE *fp, const char *path, hdr *h, npy_type *t)
{
    uint8_t pre[12];
    AECL_RETURN_IF(fread(pre, 1, 10, fp) != 10 || memcmp(pre, MAGIC, 6) != 0, AECL_ERR_FORMAT,
                   ctx, "npy '%s': not a .npy file (no \\x93NUMPY magic)", path);
    unsigned major = pre[6];
    AECL_RETURN_IF(major < 1 || major > 3, AECL_ERR_FORMAT, ctx,
                   "npy '%s': format version %u.%u is not supported (aecl reads 1.0 to 3.0)", path, major,
                   pre[7]);
    size_t hlen = pre[8] | (size_t)pre[9] << 8;
    if (major >= 2) {
        AECL_RETURN_IF(fread(pre + 10, 1, 2, fp) != 2, AECL_ERR_FORMAT, ctx,
                       "npy '%s': truncated header", path);
        hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    AECL_RETURN_IF(hlen > MAX_HEADER, AECL_ERR_FORMAT, ctx, "npy '%s': header length %zu too large",
                   path, hlen);
    char *text = malloc(hlen + 1);
    AECL_RETURN_IF(!text, AECL_ERR_HOST_MEMORY, ctx, "npy '%s': out of memory", path);
    if (fread(text, 1, hlen, fp) != hlen) {
        free(text);
        return aecl_fail(ctx, AECL_ERR_FORMAT, "npy '%s': truncated header (%zu bytes expected)",
                         path, hlen);
    }
    text[hlen] = 0;
    memset(h, 0, sizeof *h);
    h->s = text;
    h->end = text + hlen;
    const char *why = parse_dict(h);
    size_t at = (size_t)(h->s - text);
    free(text);
    AECL_RETURN_IF(why, AECL_ERR_FORMAT, ctx, "npy '%s': %s (header byte %zu)", path, why, at);
    return parse_type(ctx, path, h->descr, t);
}

/* Bytes of the file after the header (the data section). */
static aecl_status data_bytes(aecl_ctx *ctx, FILE *fp, const char *path, uint64_t *held)
{
    char eb[128];
    struct stat sb;
    long at = ftell(fp);
    AECL_RETURN_IF(at < 0 || fstat(fileno(fp), &sb) != 0, AECL_ERR_IO, ctx, "npy '%s': %s", path,
                   aecl_strerror(errno, eb, sizeof eb));
    *held = (uint64_t)sb.st_size > (uint64_t)at ? (uint64_t)sb.st_size - (uint64_t)at : 0;
    return AECL_OK;
}

/* The element count of h's shape, checked against the bytes the file holds
 * before anything is allocated for it: exactly count * size bytes must follow. */
static aecl_status check_size(aecl_ctx *ctx, FILE *fp, const char *path, const hdr *h, size_t size,
                              size_t *count)
{
    double declared = 1;
    for (unsigned d = 0; d < h->ndim; d++) declared *= (double)h->shape[d];
    uint64_t held = 0;
    AECL_TRY(data_bytes(ctx, fp, path, &held));
    AECL_TRY(aecl_io_check_held(ctx, path, declared, size, held));
    *count = 1;
    for (unsigned d = 0; d < h->ndim; d++) *count *= h->shape[d];   /* <= held / size: no overflow */
    uint64_t need = (uint64_t)*count * size;
    AECL_RETURN_IF(held != need, AECL_ERR_FORMAT, ctx,
                   "npy '%s': %llu bytes after the data (the shape needs %llu bytes, the file holds %llu)",
                   path, (unsigned long long)(held - need), (unsigned long long)need,
                   (unsigned long long)held);
    return AECL_OK;
}

/* An open file, its header and dtype, its size checked. */
typedef struct npy_in {
    FILE *fp;
    hdr h;
    npy_type t;
    size_t count;
} npy_in;

static aecl_status open_in(aecl_ctx *ctx, const char *path, npy_in *in)
{
    char eb[128];
    memset(in, 0, sizeof *in);
    in->fp = fopen(path, "rb");
    AECL_RETURN_IF(!in->fp, AECL_ERR_IO, ctx, "cannot open npy file '%s': %s", path,
                   aecl_strerror(errno, eb, sizeof eb));
    aecl_status st = read_header(ctx, in->fp, path, &in->h, &in->t);
    if (st == AECL_OK) st = check_size(ctx, in->fp, path, &in->h, in->t.size, &in->count);
    if (st != AECL_OK) {
        fclose(in->fp);
        in->fp = NULL;
    }
    return st;
}

/* The data section as stored: count * size bytes (NULL when count is 0). */
static aecl_status read_raw(aecl_ctx *ctx, const char *path, npy_in *in, uint8_t **raw)
{
    *raw = NULL;
    size_t bytes = in->count * in->t.size;
    if (bytes == 0) return AECL_OK;
    *raw = malloc(bytes);
    AECL_RETURN_IF(!*raw, AECL_ERR_HOST_MEMORY, ctx, "npy '%s': out of memory", path);
    size_t got = fread(*raw, 1, bytes, in->fp);
    AECL_RETURN_IF(got != bytes, AECL_ERR_IO, ctx, "npy '%s': reading the data failed after %zu of %zu bytes",
                   path, got, bytes);
    return AECL_OK;
}

/* Row-major (C order) position of each stored element: the identity for C order;
 * for Fortran order (first index fastest) an odometer over the shape. */
typedef struct npy_walk {
    unsigned ndim;
    size_t idx[AECL_NPY_MAX_DIMS], cstride[AECL_NPY_MAX_DIMS];
    const size_t *shape;
    size_t at;            /* C-order index of the current stored element */
    int fortran;
} npy_walk;

static void walk_init(npy_walk *w, const hdr *h)
{
    memset(w, 0, sizeof *w);
    w->ndim = h->ndim;
    w->shape = h->shape;
    w->fortran = h->fortran && h->ndim > 1;
    size_t s = 1;
    for (unsigned d = h->ndim; d-- > 0;) {
        w->cstride[d] = s;
        s *= h->shape[d];
    }
}

static void walk_next(npy_walk *w)
{
    if (!w->fortran) {
        w->at++;
        return;
    }
    for (unsigned d = 0; d < w->ndim; d++) {
        w->at += w->cstride[d];
        if (++w->idx[d] < w->shape[d]) return;
        w->at -= w->cstride[d] * w->shape[d];
        w->idx[d] = 0;
    }
}

/* " (row R, column C)" of C-order index i, or "" for fewer than 2 dims. */
static const char *where(const npy_in *in, size_t i, char *buf, size_t cap)
{
    buf[0] = 0;
    if (in->h.ndim > 1) {   /* a scalar has no shape[0] to divide by (shape () crashed here) */
        size_t per = in->count / in->h.shape[0];
        snprintf(buf, cap, " (row %zu, column %zu)", i / per, i % per);
    }
    return buf;
}

/* One stored value as a float32 sample value: finite and within float32's range. */
static aecl_status to_float(aecl_ctx *ctx, const char *path, const npy_in *in, const uint8_t *p, size_t at,
                            float *out)
{
    char w[64];
    if (in->t.kind == 'i' && in->t.size == 8) {
        *out = (float)(int64_t)elem_bits(p, &in->t);   /* rounded once, not through double */
        return AECL_OK;
    }
    double v = elem_double(p, &in->t);
    *out = (float)v;
    if (isfinite(*out)) return AECL_OK;
    if (!isfinite(v))
        return aecl_fail(ctx, AECL_ERR_FORMAT, "npy '%s': value %zu%s is %s: aecl takes finite values only", path, at,
                         where(in, at, w, sizeof w), aecl_nonfinite_name((float)v));
    return aecl_fail(ctx, AECL_ERR_FORMAT, "npy '%s': value %zu%s is %g, beyond float32's range (aecl computes in "
                     "float32)", path, at, where(in, at, w, sizeof w), v);
}

/* The fast path: little-endian float32 in C order, read straight into place. */
static aecl_status read_f32_c(aecl_ctx *ctx, const char *path, npy_in *in, float *data)
{
    size_t got = fread(data, 1, in->count * 4, in->fp);
    AECL_RETURN_IF(got != in->count * 4, AECL_ERR_IO, ctx, "npy '%s': reading the data failed after %zu of %zu bytes",
                   path, got, in->count * 4);
    aecl_io_f32_from_le(data, in->count);
    size_t bad = aecl_first_nonfinite(data, in->count);
    if (bad == in->count) return AECL_OK;
    char w[64];
    return aecl_fail(ctx, AECL_ERR_FORMAT, "npy '%s': value %zu%s is %s: aecl takes finite values only", path, bad,
                     where(in, bad, w, sizeof w), aecl_nonfinite_name(data[bad]));
}

/* Any other dtype or order: converted once, element by element, into C order. */
static aecl_status read_converted(aecl_ctx *ctx, const char *path, npy_in *in, float *data)
{
    uint8_t *raw;
    aecl_status st = read_raw(ctx, path, in, &raw);
    npy_walk w;
    walk_init(&w, &in->h);
    for (size_t j = 0; st == AECL_OK && j < in->count; j++, walk_next(&w))
        st = to_float(ctx, path, in, raw + j * in->t.size, w.at, &data[w.at]);
    free(raw);
    return st;
}

static aecl_status read_values(aecl_ctx *ctx, const char *path, npy_in *in, aecl_npy *a)
{
    if (a->count == 0) return AECL_OK;
    a->data = malloc(a->count * sizeof *a->data);
    AECL_RETURN_IF(!a->data, AECL_ERR_HOST_MEMORY, ctx, "npy '%s': out of memory", path);
    int plain = in->t.kind == 'f' && in->t.size == 4 && !in->t.big && !(in->h.fortran && in->h.ndim > 1);
    return plain ? read_f32_c(ctx, path, in, a->data) : read_converted(ctx, path, in, a->data);
}

aecl_status aecl_npy_read(aecl_ctx *ctx, const char *path, aecl_npy *out)
{
    AECL_RETURN_IF(!out || !path, AECL_ERR_INVALID_ARG, ctx, "aecl_npy_read: NULL argument");
    memset(out, 0, sizeof *out);
    npy_in in;
    AECL_TRY(open_in(ctx, path, &in));
    aecl_npy a;
    memset(&a, 0, sizeof a);
    a.ndim = in.h.ndim;
    a.count = in.count;
    memcpy(a.shape, in.h.shape, sizeof a.shape);
    aecl_status st = read_values(ctx, path, &in, &a);
    fclose(in.fp);
    if (st != AECL_OK) {
        free(a.data);
        return st;
    }
    *out = a;
    return AECL_OK;
}

/* ---- labels ----------------------------------------------------------------------- */

/* One label: a whole number within int32's range, whatever the dtype. */
static aecl_status to_label(aecl_ctx *ctx, const char *path, const npy_in *in, const uint8_t *p, size_t i,
                            int32_t *out)
{
    int64_t v;
    if (in->t.kind == 'f') {
        double d = elem_double(p, &in->t);
        AECL_RETURN_IF(!(d == floor(d)) || fabs(d) > 2147483648.0, AECL_ERR_FORMAT, ctx,
                       "npy '%s': label %zu is %g: labels are whole numbers within int32's range", path, i, d);
        v = (int64_t)d;
    } else {
        uint64_t b = elem_bits(p, &in->t);
        v = in->t.kind == 'u' ? (int64_t)b : in->t.size == 4 ? (int32_t)(uint32_t)b : (int64_t)b;
    }
    AECL_RETURN_IF(v < INT32_MIN || v > INT32_MAX, AECL_ERR_FORMAT, ctx,
                   "npy '%s': label %zu is %lld, beyond int32's range", path, i, (long long)v);
    *out = (int32_t)v;
    return AECL_OK;
}

aecl_status aecl_npy_read_labels(aecl_ctx *ctx, const char *path, int32_t **labels, size_t *n)
{
    AECL_RETURN_IF(!labels || !n || !path, AECL_ERR_INVALID_ARG, ctx, "aecl_npy_read_labels: NULL argument");
    *labels = NULL;
    *n = 0;
    npy_in in;
    AECL_TRY(open_in(ctx, path, &in));
    uint8_t *raw = NULL;
    int32_t *lab = NULL;
    /* One label per sample: shape (N,) or (N, 1, ...); in either order the same. */
    aecl_status st = in.h.ndim == 0 || in.count != in.h.shape[0]
                         ? aecl_fail(ctx, AECL_ERR_FORMAT, "npy '%s': labels must be one value per sample (shape "
                                     "(N,)), not %u-dimensional with %zu values", path, in.h.ndim, in.count)
                         : read_raw(ctx, path, &in, &raw);
    if (st == AECL_OK && in.count && !(lab = malloc(in.count * sizeof *lab)))
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "npy '%s': out of memory", path);
    for (size_t i = 0; st == AECL_OK && i < in.count; i++) st = to_label(ctx, path, &in, raw + i * in.t.size, i, &lab[i]);
    free(raw);
    fclose(in.fp);
    if (st != AECL_OK) {
        free(lab);
        return st;
    }
    *labels = lab;
    *n = in.count;
    return AECL_OK;
}

void aecl_npy_free(aecl_npy *a)
{
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

int aecl_io_is_npy(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".npy");
}
