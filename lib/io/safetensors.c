/* safetensors reader and writer (F32 tensors only).
 *
 * Layout: u64 little-endian N; N bytes of JSON (an object: tensor name ->
 * {"dtype","shape","data_offsets":[begin,end]}, plus an optional "__metadata__"
 * object of string -> string), padded with spaces so the data section starts at
 * a multiple of 8; then the data, little-endian, offsets relative to its start.
 * The reader validates everything before it trusts an offset. */
#define _POSIX_C_SOURCE 200809L

#include "io/io.h"
#include "base/buf.h"
#include "base/error.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The reference implementation refuses headers above 100 MB: so do we, so that
 * a corrupt length cannot ask for gigabytes. */
#define MAX_HEADER ((uint64_t)100000000)

/* ---- writing ------------------------------------------------------------------ */

static void sb_json_str(aecl_strbuf *s, const char *t)
{
    aecl_strbuf_put(s, "\"", 1);
    for (const unsigned char *q = (const unsigned char *)t; *q; q++) {
        if (*q == '"' || *q == '\\') {
            char e[2] = {'\\', (char)*q};
            aecl_strbuf_put(s, e, 2);
        } else if (*q < 0x20) {
            aecl_strbuf_printf(s, "\\u%04x", *q);
        } else {
            aecl_strbuf_put(s, (const char *)q, 1);
        }
    }
    aecl_strbuf_put(s, "\"", 1);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A name that occurs twice among n, found in n log n through a sorted copy of
 * the pointers (a header of many entries must not take quadratic time). The
 * names are pointers `stride` bytes apart from `first` (an array of names, or a
 * name field in an array of structs). Returns -1 when out of memory, else 0. */
static int find_duplicate(const void *first, size_t n, size_t stride, const char **dup)
{
    *dup = NULL;
    if (n < 2) return 0;
    const char **sorted = malloc(n * sizeof *sorted);
    if (!sorted) return -1;
    for (size_t i = 0; i < n; i++) memcpy(&sorted[i], (const char *)first + i * stride, sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_name);
    for (size_t i = 1; i < n && !*dup; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0) *dup = sorted[i];
    free(sorted);
    return 0;
}

/* Fails naming the duplicate among those names, if any; `what` says whose
 * ("tensor name", "metadata key"), st which status a duplicate is. */
static aecl_status check_unique(aecl_ctx *ctx, const char *path, const void *first, size_t n, size_t stride,
                                const char *what, aecl_status st)
{
    const char *dup;
    char esc[80];
    AECL_RETURN_IF(find_duplicate(first, n, stride, &dup) < 0, AECL_ERR_HOST_MEMORY, ctx,
                   "safetensors '%s': out of memory", path);
    AECL_RETURN_IF(dup, st, ctx, "safetensors '%s': duplicate %s '%s'", path, what, aecl_io_escape(dup, esc, sizeof esc));
    return AECL_OK;
}

static aecl_status check_views(aecl_ctx *ctx, const char *path, const aecl_st_view *t, size_t n,
                               const char *const *meta, size_t n_meta, size_t *bytes)
{
    AECL_RETURN_IF(n && !t, AECL_ERR_INVALID_ARG, ctx, "safetensors '%s': tensors is NULL", path);
    AECL_RETURN_IF(n_meta && !meta, AECL_ERR_INVALID_ARG, ctx, "safetensors '%s': meta is NULL",
                   path);
    for (size_t i = 0; i < n; i++) {
        AECL_RETURN_IF(!t[i].name || !*t[i].name || strcmp(t[i].name, "__metadata__") == 0,
                       AECL_ERR_INVALID_ARG, ctx, "safetensors '%s': tensor %zu has a bad name",
                       path, i);
        AECL_RETURN_IF(t[i].ndim > AECL_ST_MAX_DIMS, AECL_ERR_INVALID_ARG, ctx,
                       "safetensors '%s': tensor '%s' has %u dims (max %d)", path, t[i].name,
                       t[i].ndim, AECL_ST_MAX_DIMS);
        size_t count = 1;
        for (unsigned d = 0; d < t[i].ndim; d++)
            AECL_RETURN_IF(!aecl_mul_size(count, t[i].shape[d], &count), AECL_ERR_INVALID_ARG,
                           ctx, "safetensors '%s': tensor '%s' shape overflows", path, t[i].name);
        AECL_RETURN_IF(count && !t[i].data, AECL_ERR_INVALID_ARG, ctx,
                       "safetensors '%s': tensor '%s' has no data", path, t[i].name);
        AECL_RETURN_IF(!aecl_mul_size(count, 4, &count) || !aecl_add_size(bytes[i], count,
                       &bytes[i + 1]), AECL_ERR_INVALID_ARG, ctx,
                       "safetensors '%s': tensors too large", path);
    }
    for (size_t i = 0; i < n_meta; i++)
        AECL_RETURN_IF(!meta[2 * i] || !meta[2 * i + 1], AECL_ERR_INVALID_ARG, ctx,
                       "safetensors '%s': metadata entry %zu is NULL", path, i);
    AECL_TRY(check_unique(ctx, path, n ? &t[0].name : NULL, n, sizeof *t, "tensor name", AECL_ERR_INVALID_ARG));
    return check_unique(ctx, path, meta, n_meta, 2 * sizeof *meta, "metadata key", AECL_ERR_INVALID_ARG);
}

/* The JSON header, padded with spaces to a multiple of 8 bytes. off[i] is the
 * byte offset of tensor i (off[n] = data size). */
static void build_header(aecl_strbuf *s, const aecl_st_view *t, size_t n, const char *const *meta,
                         size_t n_meta, const size_t *off)
{
    aecl_strbuf_put(s, "{", 1);
    if (n_meta) {
        aecl_strbuf_str(s, "\"__metadata__\":{");
        for (size_t i = 0; i < n_meta; i++) {
            if (i) aecl_strbuf_put(s, ",", 1);
            sb_json_str(s, meta[2 * i]);
            aecl_strbuf_put(s, ":", 1);
            sb_json_str(s, meta[2 * i + 1]);
        }
        aecl_strbuf_put(s, "}", 1);
    }
    for (size_t i = 0; i < n; i++) {
        if (i || n_meta) aecl_strbuf_put(s, ",", 1);
        sb_json_str(s, t[i].name);
        aecl_strbuf_str(s, ":{\"dtype\":\"F32\",\"shape\":[");
        for (unsigned d = 0; d < t[i].ndim; d++) aecl_strbuf_printf(s, "%s%zu", d ? "," : "", t[i].shape[d]);
        aecl_strbuf_printf(s, "],\"data_offsets\":[%zu,", off[i]);
        aecl_strbuf_printf(s, "%zu]}", off[i + 1]);
    }
    aecl_strbuf_put(s, "}", 1);
    while (!s->failed && s->len % 8) aecl_strbuf_put(s, " ", 1);
}

static aecl_status write_body(aecl_ctx *ctx, aecl_atomic_file *f, const aecl_strbuf *h,
                              const aecl_st_view *t, size_t n)
{
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)h->len >> (8 * i));
    AECL_TRY(aecl_atomic_write(ctx, f, len, 8));
    AECL_TRY(aecl_atomic_write(ctx, f, h->s, h->len));
    for (size_t i = 0; i < n; i++) {
        size_t count = 1;
        for (unsigned d = 0; d < t[i].ndim; d++) count *= t[i].shape[d];   /* checked */
        AECL_TRY(aecl_atomic_write_f32le(ctx, f, t[i].data, count));
    }
    return AECL_OK;
}

aecl_status aecl_safetensors_write(aecl_ctx *ctx, const char *path, const aecl_st_view *tensors,
                                   size_t n, const char *const *meta, size_t n_meta)
{
    AECL_RETURN_IF(!path, AECL_ERR_INVALID_ARG, ctx, "aecl_safetensors_write: path is NULL");
    size_t *off = calloc(n + 1, sizeof *off);
    AECL_RETURN_IF(!off, AECL_ERR_HOST_MEMORY, ctx, "safetensors '%s': out of memory", path);
    aecl_strbuf h = {0};
    aecl_status st = check_views(ctx, path, tensors, n, meta, n_meta, off);
    if (st == AECL_OK) {
        build_header(&h, tensors, n, meta, n_meta, off);
        if (h.failed) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "safetensors '%s': out of memory", path);
    }
    free(off);
    aecl_atomic_file f;
    if (st == AECL_OK) st = aecl_atomic_open(ctx, path, &f);
    if (st == AECL_OK) {
        st = write_body(ctx, &f, &h, tensors, n);
        if (st == AECL_OK) st = aecl_atomic_commit(ctx, &f);
        else aecl_atomic_abort(&f);
    }
    aecl_strbuf_free(&h);
    return st;
}

/* ---- reading ------------------------------------------------------------------ */

/* A non-negative integer stored in a JSON number (exact up to 2^53). */
static int json_uint(const cJSON *j, uint64_t *v)
{
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0) || d != floor(d) || d > 9007199254740992.0) return 0;
    *v = (uint64_t)d;
    return 1;
}

typedef struct reader {
    aecl_ctx *ctx;
    const char *path;
    uint64_t data_size;      /* bytes after the header */
    aecl_safetensors st;
    uint64_t *begin;         /* per tensor, parallel to st.tensors */
} reader;

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static aecl_status read_metadata(reader *r, const cJSON *m)
{
    AECL_RETURN_IF(!cJSON_IsObject(m), AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': __metadata__ is not an object", r->path);
    size_t n = (size_t)cJSON_GetArraySize(m);
    r->st.meta_keys = calloc(n + 1, sizeof(char *));
    r->st.meta_values = calloc(n + 1, sizeof(char *));
    AECL_RETURN_IF(!r->st.meta_keys || !r->st.meta_values, AECL_ERR_HOST_MEMORY, r->ctx,
                   "safetensors '%s': out of memory", r->path);
    for (const cJSON *e = m->child; e; e = e->next) {
        char esc[80];
        AECL_RETURN_IF(!cJSON_IsString(e), AECL_ERR_FORMAT, r->ctx, "safetensors '%s': metadata '%s' is not a string",
                       r->path, aecl_io_escape(e->string, esc, sizeof esc));
        size_t k = r->st.n_meta;
        r->st.meta_keys[k] = dup_str(e->string);
        r->st.meta_values[k] = dup_str(e->valuestring);
        r->st.n_meta++;
        AECL_RETURN_IF(!r->st.meta_keys[k] || !r->st.meta_values[k], AECL_ERR_HOST_MEMORY,
                       r->ctx, "safetensors '%s': out of memory", r->path);
    }
    return check_unique(r->ctx, r->path, r->st.meta_keys, r->st.n_meta, sizeof *r->st.meta_keys, "metadata key",
                        AECL_ERR_FORMAT);
}

static aecl_status read_shape(reader *r, const char *name, const cJSON *shape, aecl_st_tensor *t)
{
    AECL_RETURN_IF(!shape, AECL_ERR_FORMAT, r->ctx, "safetensors '%s': tensor '%s' has no shape",
                   r->path, name);
    AECL_RETURN_IF(!cJSON_IsArray(shape), AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': tensor '%s': shape is not an array", r->path, name);
    int nd = cJSON_GetArraySize(shape);
    AECL_RETURN_IF(nd > AECL_ST_MAX_DIMS, AECL_ERR_UNSUPPORTED, r->ctx,
                   "safetensors '%s': tensor '%s' has %d dims (aecl reads at most %d)", r->path,
                   name, nd, AECL_ST_MAX_DIMS);
    t->ndim = (unsigned)nd;
    t->count = 1;
    unsigned d = 0;
    double declared = 1;
    for (const cJSON *e = shape->child; e; e = e->next, d++) {
        uint64_t v;
        AECL_RETURN_IF(!json_uint(e, &v) || v > SIZE_MAX, AECL_ERR_FORMAT, r->ctx,
                       "safetensors '%s': tensor '%s': shape entry %u is not a size", r->path,
                       name, d);
        t->shape[d] = (size_t)v;
        declared *= (double)v;
    }
    /* A shape larger than the whole data section fails as every reader's does
     * ("declares 2.7e15 values but holds 24 bytes"), before its product is taken. */
    aecl_status st = aecl_io_check_held(r->ctx, r->path, declared, 4, r->data_size);
    if (st != AECL_OK) {
        aecl_error_append(r->ctx, " (tensor '%s')", name);
        return st;
    }
    for (d = 0; d < t->ndim; d++)
        AECL_RETURN_IF(!aecl_mul_size(t->count, t->shape[d], &t->count), AECL_ERR_FORMAT,
                       r->ctx, "safetensors '%s': tensor '%s': shape overflows", r->path, name);
    return AECL_OK;
}

static aecl_status read_offsets(reader *r, const char *name, const cJSON *offs,
                                const aecl_st_tensor *t, uint64_t *begin)
{
    uint64_t b, e;
    AECL_RETURN_IF(!offs, AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': tensor '%s' has no data_offsets", r->path, name);
    AECL_RETURN_IF(!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
                   !json_uint(offs->child, &b) || !json_uint(offs->child->next, &e),
                   AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': tensor '%s': data_offsets is not [begin, end]", r->path, name);
    AECL_RETURN_IF(e < b, AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': tensor '%s': data_offsets [%llu, %llu] end before begin",
                   r->path, name, (unsigned long long)b, (unsigned long long)e);
    AECL_RETURN_IF(e > r->data_size, AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': tensor '%s': data_offsets end %llu exceeds the data "
                   "section (%llu bytes)", r->path, name, (unsigned long long)e,
                   (unsigned long long)r->data_size);
    size_t need;
    AECL_RETURN_IF(!aecl_mul_size(t->count, 4, &need) || need != e - b, AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': tensor '%s': data_offsets [%llu, %llu] hold %llu bytes but "
                   "the shape needs %zu x 4", r->path, name, (unsigned long long)b,
                   (unsigned long long)e, (unsigned long long)(e - b), t->count);
    *begin = b;
    return AECL_OK;
}

static aecl_status read_entry(reader *r, const cJSON *j)
{
    char name[80], dtype[40];   /* as messages quote them */
    aecl_io_escape(j->string, name, sizeof name);
    AECL_RETURN_IF(!cJSON_IsObject(j), AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': entry '%s' is not an object", r->path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    AECL_RETURN_IF(!dt, AECL_ERR_FORMAT, r->ctx, "safetensors '%s': tensor '%s' has no dtype",
                   r->path, name);
    AECL_RETURN_IF(!cJSON_IsString(dt), AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': tensor '%s': dtype is not a string", r->path, name);
    AECL_RETURN_IF(strcmp(dt->valuestring, "F32") != 0, AECL_ERR_UNSUPPORTED, r->ctx,
                   "safetensors '%s': tensor '%s' has dtype %s (aecl reads F32 only)",
                   r->path, name, aecl_io_escape(dt->valuestring, dtype, sizeof dtype));
    aecl_st_tensor *t = &r->st.tensors[r->st.n_tensors];
    AECL_TRY(read_shape(r, name, cJSON_GetObjectItemCaseSensitive(j, "shape"), t));
    AECL_TRY(read_offsets(r, name, cJSON_GetObjectItemCaseSensitive(j, "data_offsets"), t,
                          &r->begin[r->st.n_tensors]));
    t->name = dup_str(j->string);
    AECL_RETURN_IF(!t->name, AECL_ERR_HOST_MEMORY, r->ctx, "safetensors '%s': out of memory",
                   r->path);
    r->st.n_tensors++;
    return AECL_OK;
}

typedef struct placed {
    uint64_t begin;
    size_t i;                /* header order: ties keep it */
    aecl_st_tensor t;
} placed;

static int by_begin(const void *a, const void *b)
{
    const placed *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Sorts the tensors by offset (begin[] in step), in n log n. */
static aecl_status sort_by_offset(reader *r)
{
    size_t n = r->st.n_tensors;
    placed *p = malloc((n ? n : 1) * sizeof *p);
    AECL_RETURN_IF(!p, AECL_ERR_HOST_MEMORY, r->ctx, "safetensors '%s': out of memory", r->path);
    for (size_t i = 0; i < n; i++) p[i] = (placed){r->begin[i], i, r->st.tensors[i]};
    qsort(p, n, sizeof *p, by_begin);
    for (size_t i = 0; i < n; i++) {
        r->begin[i] = p[i].begin;
        r->st.tensors[i] = p[i].t;
    }
    free(p);
    return AECL_OK;
}

/* Sorts the tensors by offset and rejects overlaps and bytes after the last one. */
static aecl_status check_layout(reader *r)
{
    char a[80], b[80];
    AECL_TRY(sort_by_offset(r));
    aecl_st_tensor *t = r->st.tensors;
    uint64_t end = 0;
    for (size_t i = 0; i < r->st.n_tensors; i++) {
        AECL_RETURN_IF(r->begin[i] < end, AECL_ERR_FORMAT, r->ctx,
                       "safetensors '%s': tensors '%s' and '%s' overlap in the data section", r->path,
                       aecl_io_escape(t[i - 1].name, a, sizeof a), aecl_io_escape(t[i].name, b, sizeof b));
        end = r->begin[i] + t[i].count * 4;
    }
    AECL_RETURN_IF(end < r->data_size, AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': %llu bytes after the tensors' data (the tensors end at byte %llu of a data "
                   "section of %llu)", r->path, (unsigned long long)(r->data_size - end), (unsigned long long)end,
                   (unsigned long long)r->data_size);
    return AECL_OK;
}

static aecl_status parse_header(reader *r, const char *text, size_t n)
{
    AECL_RETURN_IF(n == 0 || text[0] != '{', AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': header does not start with '{'", r->path);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (!root) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        return aecl_fail(r->ctx, AECL_ERR_FORMAT,
                         "safetensors '%s': bad JSON header near byte %zu of %zu", r->path, at, n);
    }
    aecl_status st = AECL_OK;
    for (const char *q = end; q < text + n && st == AECL_OK; q++)
        if (*q != ' ' && *q != '\n' && *q != '\r' && *q != '\t' && *q != 0)
            st = aecl_fail(r->ctx, AECL_ERR_FORMAT,
                           "safetensors '%s': bad JSON header: text after the object at byte %zu",
                           r->path, (size_t)(q - text));
    size_t cnt = (size_t)cJSON_GetArraySize(root);
    if (st == AECL_OK) {
        r->st.tensors = calloc(cnt + 1, sizeof *r->st.tensors);
        r->begin = calloc(cnt + 1, sizeof *r->begin);
        if (!r->st.tensors || !r->begin)
            st = aecl_fail(r->ctx, AECL_ERR_HOST_MEMORY, "safetensors '%s': out of memory", r->path);
    }
    int seen_meta = 0;
    for (const cJSON *e = root->child; e && st == AECL_OK; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            st = seen_meta ? aecl_fail(r->ctx, AECL_ERR_FORMAT,
                                       "safetensors '%s': two __metadata__ entries", r->path)
                           : read_metadata(r, e);
            seen_meta = 1;
        } else {
            st = read_entry(r, e);
        }
    }
    cJSON_Delete(root);
    if (st == AECL_OK)
        st = check_unique(r->ctx, r->path, r->st.n_tensors ? &r->st.tensors[0].name : NULL, r->st.n_tensors,
                          sizeof *r->st.tensors, "tensor name", AECL_ERR_FORMAT);
    if (st == AECL_OK) st = check_layout(r);
    return st;
}

static aecl_status read_data(reader *r, FILE *fp, uint64_t data_start)
{
    for (size_t i = 0; i < r->st.n_tensors; i++) {
        aecl_st_tensor *t = &r->st.tensors[i];
        if (t->count == 0) continue;
        t->data = malloc(t->count * 4);
        AECL_RETURN_IF(!t->data, AECL_ERR_HOST_MEMORY, r->ctx,
                       "safetensors '%s': cannot allocate tensor '%s' (%zu floats)", r->path,
                       t->name, t->count);
        AECL_RETURN_IF(fseeko(fp, (off_t)(data_start + r->begin[i]), SEEK_SET) != 0 ||
                       fread(t->data, 4, t->count, fp) != t->count, AECL_ERR_IO, r->ctx,
                       "safetensors '%s': reading tensor '%s' failed", r->path, t->name);
        aecl_io_f32_from_le(t->data, t->count);
    }
    return AECL_OK;
}

static aecl_status read_file(reader *r, FILE *fp)
{
    char eb[128];
    struct stat sb;
    AECL_RETURN_IF(fstat(fileno(fp), &sb) != 0, AECL_ERR_IO, r->ctx, "safetensors '%s': %s",
                   r->path, aecl_strerror(errno, eb, sizeof eb));
    uint64_t size = (uint64_t)sb.st_size;
    uint8_t len8[8];
    AECL_RETURN_IF(size < 8 || fread(len8, 1, 8, fp) != 8, AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': truncated: %llu bytes, too short for the 8-byte header "
                   "length", r->path, (unsigned long long)size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | len8[i];
    AECL_RETURN_IF(n > size - 8, AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': header length %llu goes beyond the file (%llu bytes)",
                   r->path, (unsigned long long)n, (unsigned long long)size);
    AECL_RETURN_IF(n > MAX_HEADER, AECL_ERR_FORMAT, r->ctx,
                   "safetensors '%s': header length %llu is over the 100 MB limit", r->path,
                   (unsigned long long)n);
    char *text = malloc(n + 1);
    AECL_RETURN_IF(!text, AECL_ERR_HOST_MEMORY, r->ctx, "safetensors '%s': out of memory", r->path);
    if (fread(text, 1, n, fp) != n) {
        free(text);
        return aecl_fail(r->ctx, AECL_ERR_IO, "safetensors '%s': reading the header failed",
                         r->path);
    }
    text[n] = 0;
    r->data_size = size - 8 - n;
    aecl_status st = parse_header(r, text, n);
    free(text);
    if (st == AECL_OK) st = read_data(r, fp, 8 + n);
    return st;
}

aecl_status aecl_safetensors_read(aecl_ctx *ctx, const char *path, aecl_safetensors *out)
{
    char eb[128];
    AECL_RETURN_IF(!out || !path, AECL_ERR_INVALID_ARG, ctx, "aecl_safetensors_read: NULL argument");
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    AECL_RETURN_IF(!fp, AECL_ERR_IO, ctx, "cannot open safetensors file '%s': %s", path,
                   aecl_strerror(errno, eb, sizeof eb));
    reader r;
    memset(&r, 0, sizeof r);
    r.ctx = ctx;
    r.path = path;
    aecl_status st = read_file(&r, fp);
    fclose(fp);
    free(r.begin);
    if (st != AECL_OK) {
        aecl_safetensors_free(&r.st);
        return st;
    }
    *out = r.st;
    return AECL_OK;
}

const aecl_st_tensor *aecl_safetensors_find(const aecl_safetensors *st, const char *name)
{
    if (!st || !name) return NULL;
    for (size_t i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

const char *aecl_safetensors_meta(const aecl_safetensors *st, const char *key)
{
    if (!st || !key) return NULL;
    for (size_t i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}

void aecl_safetensors_free(aecl_safetensors *st)
{
    if (!st) return;
    for (size_t i = 0; i < st->n_tensors; i++) {
        free(st->tensors[i].name);
        free(st->tensors[i].data);
    }
    free(st->tensors);
    for (size_t i = 0; i < st->n_meta; i++) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->meta_keys);
    free(st->meta_values);
    memset(st, 0, sizeof *st);
}
