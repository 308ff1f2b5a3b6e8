/* NumPy .npy writer (version 1.0, '<f4', C order) and reader.
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

static aecl_status read_header(aecl_ctx *ctx, FILE *fp, const char *path, hdr *h)
{
    uint8_t pre[12];
    AECL_RETURN_IF(fread(pre, 1, 10, fp) != 10 || memcmp(pre, MAGIC, 6) != 0, AECL_ERR_FORMAT,
                   ctx, "npy '%s': not a .npy file (no \\x93NUMPY magic)", path);
    unsigned major = pre[6];
    AECL_RETURN_IF(major < 1 || major > 3, AECL_ERR_UNSUPPORTED, ctx,
                   "npy '%s': format version %u.%u is not supported", path, major, pre[7]);
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
    char esc[64];
    AECL_RETURN_IF(strcmp(h->descr, "<f4") != 0, AECL_ERR_UNSUPPORTED, ctx,
                   "npy '%s': dtype '%s' (aecl reads '<f4' only)", path,
                   aecl_io_escape(h->descr, esc, sizeof esc));
    AECL_RETURN_IF(h->fortran, AECL_ERR_UNSUPPORTED, ctx,
                   "npy '%s': fortran_order True (aecl reads C order only)", path);
    return AECL_OK;
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
 * before anything is allocated for it: exactly count * 4 bytes must follow. */
static aecl_status check_size(aecl_ctx *ctx, FILE *fp, const char *path, const hdr *h, size_t *count)
{
    double declared = 1;
    for (unsigned d = 0; d < h->ndim; d++) declared *= (double)h->shape[d];
    uint64_t held = 0;
    AECL_TRY(data_bytes(ctx, fp, path, &held));
    AECL_TRY(aecl_io_check_held(ctx, path, declared, 4, held));
    *count = 1;
    for (unsigned d = 0; d < h->ndim; d++) *count *= h->shape[d];   /* <= held / 4: no overflow */
    AECL_RETURN_IF(held != (uint64_t)*count * 4, AECL_ERR_FORMAT, ctx,
                   "npy '%s': %llu bytes after the data (the shape needs %zu bytes, the file holds %llu)",
                   path, (unsigned long long)(held - (uint64_t)*count * 4), *count * 4,
                   (unsigned long long)held);
    return AECL_OK;
}

/* Reads the count floats and refuses NaN and infinities, naming the first. */
static aecl_status read_values(aecl_ctx *ctx, FILE *fp, const char *path, aecl_npy *a)
{
    if (a->count == 0) return AECL_OK;
    a->data = malloc(a->count * 4);
    AECL_RETURN_IF(!a->data, AECL_ERR_HOST_MEMORY, ctx, "npy '%s': out of memory", path);
    size_t got = fread(a->data, 1, a->count * 4, fp);
    AECL_RETURN_IF(got != a->count * 4, AECL_ERR_IO, ctx, "npy '%s': reading the data failed after %zu of %zu bytes",
                   path, got, a->count * 4);
    aecl_io_f32_from_le(a->data, a->count);
    size_t bad = aecl_first_nonfinite(a->data, a->count);
    if (bad == a->count) return AECL_OK;
    char where[64] = "";
    if (a->ndim > 1) {   /* a scalar has no shape[0] to divide by (shape () crashed here) */
        size_t per = a->count / a->shape[0];
        snprintf(where, sizeof where, " (row %zu, column %zu)", bad / per, bad % per);
    }
    return aecl_fail(ctx, AECL_ERR_FORMAT, "npy '%s': value %zu%s is %s: aecl takes finite values only", path, bad,
                     where, aecl_nonfinite_name(a->data[bad]));
}

aecl_status aecl_npy_read(aecl_ctx *ctx, const char *path, aecl_npy *out)
{
    char eb[128];
    AECL_RETURN_IF(!out || !path, AECL_ERR_INVALID_ARG, ctx, "aecl_npy_read: NULL argument");
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    AECL_RETURN_IF(!fp, AECL_ERR_IO, ctx, "cannot open npy file '%s': %s", path,
                   aecl_strerror(errno, eb, sizeof eb));
    hdr h;
    aecl_npy a;
    memset(&a, 0, sizeof a);
    aecl_status st = read_header(ctx, fp, path, &h);
    if (st == AECL_OK) st = check_size(ctx, fp, path, &h, &a.count);
    if (st == AECL_OK) {
        a.ndim = h.ndim;
        memcpy(a.shape, h.shape, sizeof a.shape);
        st = read_values(ctx, fp, path, &a);
    }
    fclose(fp);
    if (st != AECL_OK) {
        free(a.data);
        return st;
    }
    *out = a;
    return AECL_OK;
}

void aecl_npy_free(aecl_npy *a)
{
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}
