/* IDX reader (MNIST-style files), gzip or plain: zlib's gzread passes plain
 * files through unchanged, so one code path serves both. */
#define _POSIX_C_SOURCE 200809L

#include "io/io.h"
#include "base/bigmem.h"
#include "base/error.h"

#include <errno.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define READ_CHUNK ((size_t)1 << 20)
#define FIRST_ALLOC ((size_t)16 << 20)
/* deflate's best ratio is 1032:1, so a gzip file of n bytes holds at most this
 * many times n bytes of data (a bound on what a header may declare). */
#define MAX_GZIP_RATIO 1032

static const char *dtype_name(unsigned t)
{
    switch (t) {
    case AECL_IDX_UBYTE: return "ubyte";
    case AECL_IDX_SBYTE: return "sbyte";
    case AECL_IDX_INT16: return "int16";
    case AECL_IDX_INT32: return "int32";
    case AECL_IDX_FLOAT32: return "float32";
    case AECL_IDX_FLOAT64: return "float64";
    }
    return NULL;
}

static size_t dtype_size(unsigned t)
{
    switch (t) {
    case AECL_IDX_UBYTE: case AECL_IDX_SBYTE: return 1;
    case AECL_IDX_INT16: return 2;
    case AECL_IDX_INT32: case AECL_IDX_FLOAT32: return 4;
    case AECL_IDX_FLOAT64: return 8;
    }
    return 0;
}

/* Reads up to n bytes; *got says how many came. Returns 0, or -1 when zlib
 * reports corrupt compressed data (a plain short read is not an error here). */
static int read_some(gzFile gz, uint8_t *dst, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < READ_CHUNK ? n - *got : READ_CHUNK;
        int r = gzread(gz, dst + *got, (unsigned)want);
        if (r < 0) return -1;
        if (r == 0) break;
        *got += (size_t)r;
    }
    return 0;
}

static aecl_status gz_corrupt(aecl_ctx *ctx, gzFile gz, const char *path)
{
    int zerr = 0;
    const char *m = gzerror(gz, &zerr);
    if (zerr == Z_ERRNO) {
        char eb[128];
        return aecl_fail(ctx, AECL_ERR_IO, "%s: read failed: %s", path,
                         aecl_strerror(errno, eb, sizeof eb));
    }
    return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: corrupt gzip data (%s)", path, m ? m : "?");
}

/* Reads exactly `need` bytes, growing the buffer as data arrives so that a
 * header that claims absurd dims fails as truncated, not as a huge malloc. */
static aecl_status read_body(aecl_ctx *ctx, gzFile gz, const char *path, size_t need,
                             uint8_t **out)
{
    size_t cap = need < FIRST_ALLOC ? need : FIRST_ALLOC, got = 0;
    uint8_t *buf = malloc(cap ? cap : 1);
    AECL_RETURN_IF(!buf, AECL_ERR_HOST_MEMORY, ctx, "%s: cannot allocate %zu bytes", path, cap);
    for (;;) {
        size_t n;
        if (read_some(gz, buf + got, cap - got, &n) != 0) {
            free(buf);
            return gz_corrupt(ctx, gz, path);
        }
        got += n;
        if (got < cap || cap == need) break;
        size_t ncap = cap > need / 2 ? need : cap * 2;
        uint8_t *nb = realloc(buf, ncap);
        if (!nb) {
            free(buf);
            return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "%s: cannot allocate %zu bytes", path, ncap);
        }
        buf = nb;
        cap = ncap;
    }
    if (got < need) {
        free(buf);
        return aecl_fail(ctx, AECL_ERR_FORMAT,
                         "%s: truncated data: expected %zu bytes after the header, got %zu",
                         path, need, got);
    }
    *out = buf;
    return AECL_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Parses magic and dims into out (no data yet); applies limit to dims[0]. */
static aecl_status read_header(aecl_ctx *ctx, gzFile gz, const char *path, size_t limit,
                               aecl_idx *out)
{
    uint8_t h[4 + 4 * 255];
    size_t got;
    if (read_some(gz, h, 4, &got) != 0) return gz_corrupt(ctx, gz, path);
    AECL_RETURN_IF(got < 4, AECL_ERR_FORMAT, ctx,
                   "%s: truncated header: expected 4 magic bytes, got %zu", path, got);
    unsigned dtype = h[2], ndim = h[3];
    AECL_RETURN_IF(h[0] != 0 || h[1] != 0 || !dtype_name(dtype) || ndim == 0, AECL_ERR_FORMAT,
                   ctx, "%s: not an IDX file: magic 0x%08x (expected 0x0000TTNN with type TT "
                   "08/09/0B/0C/0D/0E and NN >= 1 dims)", path, (unsigned)be32(h));
    AECL_RETURN_IF(ndim > AECL_IDX_MAX_DIMS, AECL_ERR_FORMAT, ctx,
                   "%s: %u dims (aecl reads at most %d)", path, ndim, AECL_IDX_MAX_DIMS);
    if (read_some(gz, h + 4, 4 * (size_t)ndim, &got) != 0) return gz_corrupt(ctx, gz, path);
    AECL_RETURN_IF(got < 4 * (size_t)ndim, AECL_ERR_FORMAT, ctx,
                   "%s: truncated header: expected %u dims (%u bytes), got %zu bytes", path,
                   ndim, 4 * ndim, got);
    out->dtype = dtype;
    out->ndim = ndim;
    size_t elems = 1, bytes;
    int overflow = 0;
    for (unsigned i = 0; i < ndim; i++) {
        out->dims[i] = be32(h + 4 + 4 * i);
        if (i > 0 && !aecl_mul_size(elems, out->dims[i], &elems)) overflow = 1;
    }
    out->file_items = out->dims[0];
    if (limit > 0 && limit < out->dims[0]) out->dims[0] = limit;
    out->item_elems = elems;
    if (overflow || !aecl_mul_size(elems, out->dims[0], &out->count) ||
        !aecl_mul_size(out->count, dtype_size(dtype), &bytes)) {
        char d[160] = "";
        for (unsigned i = 0; i < ndim; i++)
            snprintf(d + strlen(d), sizeof d - strlen(d), "%s%zu", i ? " x " : "", out->dims[i]);
        return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: dims %s (%s) overflow the address space",
                         path, d, dtype_name(dtype));
    }
    return AECL_OK;
}

/* Big-endian element i of raw data as float. */
static float element(const uint8_t *p, unsigned dtype, size_t i)
{
    switch (dtype) {
    case AECL_IDX_UBYTE: return (float)p[i];
    case AECL_IDX_SBYTE: return (float)(int8_t)p[i];
    case AECL_IDX_INT16: return (float)(int16_t)(uint16_t)((unsigned)p[2 * i] << 8 | p[2 * i + 1]);
    case AECL_IDX_INT32: return (float)(int32_t)be32(p + 4 * i);
    case AECL_IDX_FLOAT32: {
        uint32_t u = be32(p + 4 * i);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    case AECL_IDX_FLOAT64: {
        uint64_t u = (uint64_t)be32(p + 8 * i) << 32 | be32(p + 8 * i + 4);
        double d;
        memcpy(&d, &u, 8);
        return (float)d;
    }
    }
    return 0.0f;
}

/* Float data must be finite: a NaN or an overflow to infinity (a float64 beyond
 * float32's range) would poison every loss computed from it. */
static aecl_status check_finite(aecl_ctx *ctx, const char *path, const aecl_idx *x)
{
    size_t bad = aecl_first_nonfinite(x->data, x->count);
    if (bad == x->count) return AECL_OK;
    return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: value %zu (item %zu, value %zu of it) is %s%s: aecl takes finite "
                     "values only", path, bad, bad / x->item_elems, bad % x->item_elems,
                     aecl_nonfinite_name(x->data[bad]), x->dtype == AECL_IDX_FLOAT64 ? " as a float32" : "");
}

static aecl_status to_float(aecl_ctx *ctx, const char *path, const uint8_t *raw, int scale01,
                            aecl_idx *x)
{
    size_t bytes;
    if (x->count == 0) return AECL_OK;   /* no items: data stays NULL */
    AECL_RETURN_IF(!aecl_mul_size(x->count, sizeof(float), &bytes), AECL_ERR_HOST_MEMORY, ctx,
                   "%s: %zu floats overflow", path, x->count);
    x->data = aecl_malloc_big(bytes);
    AECL_RETURN_IF(!x->data, AECL_ERR_HOST_MEMORY, ctx, "%s: cannot allocate %zu bytes", path,
                   bytes);
    if (x->dtype == AECL_IDX_UBYTE && scale01) {
        for (size_t i = 0; i < x->count; i++) x->data[i] = raw[i] * (1.0f / 255.0f);
    } else {
        for (size_t i = 0; i < x->count; i++) x->data[i] = element(raw, x->dtype, i);
    }
    if (x->dtype == AECL_IDX_FLOAT32 || x->dtype == AECL_IDX_FLOAT64) return check_finite(ctx, path, x);
    return AECL_OK;
}

/* What a caller of a typed reader expects: magic 0 accepts any. */
typedef struct expect {
    uint32_t magic;
    const char *what;
} expect;

/* What a header declares must fit in the file before anything is allocated for
 * it: a plain file holds exactly its bytes after the header, a gzip file at most
 * MAX_GZIP_RATIO times its size (so a small file cannot make us decode gigabytes). */
static aecl_status check_declared(aecl_ctx *ctx, gzFile gz, const char *path, const aecl_idx *x)
{
    char eb[128], d[32], h[32];
    struct stat sb;
    AECL_RETURN_IF(stat(path, &sb) != 0, AECL_ERR_IO, ctx, "%s: %s", path, aecl_strerror(errno, eb, sizeof eb));
    uint64_t size = (uint64_t)sb.st_size, head = 4 + 4 * (uint64_t)x->ndim;
    if (gzdirect(gz))
        return aecl_io_check_held(ctx, path, (double)x->count, dtype_size(x->dtype), size > head ? size - head : 0);
    double need = (double)x->count * (double)dtype_size(x->dtype), most = (double)size * MAX_GZIP_RATIO;
    AECL_RETURN_IF(need > most, AECL_ERR_FORMAT, ctx, "%s: the file declares %s values but its %llu gzip bytes "
                   "hold at most %s bytes of data", path, aecl_io_count_str((double)x->count, d, sizeof d),
                   (unsigned long long)size, aecl_io_count_str(most, h, sizeof h));
    return AECL_OK;
}

/* After all the items the header declares, the file must end. */
static aecl_status check_end(aecl_ctx *ctx, gzFile gz, const char *path, const aecl_idx *x)
{
    uint8_t extra;
    size_t got;
    if (x->dims[0] != x->file_items) return AECL_OK;   /* a subset: the rest is not read */
    if (read_some(gz, &extra, 1, &got) != 0) return gz_corrupt(ctx, gz, path);
    AECL_RETURN_IF(got, AECL_ERR_FORMAT, ctx, "%s: bytes after the %zu items the header declares (a wrong "
                   "header or a damaged file)", path, x->file_items);
    return AECL_OK;
}

static aecl_status read_open(aecl_ctx *ctx, gzFile gz, const char *path, size_t limit,
                             unsigned flags, expect ex, aecl_idx *x)
{
    AECL_TRY(read_header(ctx, gz, path, limit, x));
    uint32_t magic = (uint32_t)x->dtype << 8 | x->ndim;
    AECL_RETURN_IF(ex.magic && magic != ex.magic, AECL_ERR_FORMAT, ctx,
                   "%s: wrong magic for %s: expected 0x%08x, found 0x%08x", path, ex.what,
                   (unsigned)ex.magic, (unsigned)magic);
    AECL_RETURN_IF((flags & AECL_IDX_RAW_U8) && x->dtype != AECL_IDX_UBYTE, AECL_ERR_FORMAT, ctx,
                   "%s: data is %s, cannot return it as raw bytes (ubyte expected)", path,
                   dtype_name(x->dtype));
    AECL_TRY(check_declared(ctx, gz, path, x));
    uint8_t *raw = NULL;
    AECL_TRY(read_body(ctx, gz, path, x->count * dtype_size(x->dtype), &raw));
    aecl_status st = check_end(ctx, gz, path, x);
    if (st == AECL_OK && (flags & AECL_IDX_RAW_U8)) {
        x->u8 = raw;
        return AECL_OK;
    }
    if (st == AECL_OK) st = to_float(ctx, path, raw, (flags & AECL_IDX_SCALE01) != 0, x);
    free(raw);
    return st;
}

static aecl_status open_gz(aecl_ctx *ctx, const char *path, aecl_idx *out, gzFile *gz)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_idx_read: out is NULL");
    memset(out, 0, sizeof *out);
    AECL_RETURN_IF(!path, AECL_ERR_INVALID_ARG, ctx, "aecl_idx_read: path is NULL");
    errno = 0;
    *gz = gzopen(path, "rb");
    if (!*gz) {
        char eb[128];
        return aecl_fail(ctx, AECL_ERR_IO, "cannot open IDX file '%s': %s", path,
                         errno ? aecl_strerror(errno, eb, sizeof eb) : "out of memory");
    }
    gzbuffer(*gz, 128 * 1024);
    return AECL_OK;
}

static aecl_status read_file(aecl_ctx *ctx, const char *path, size_t limit, unsigned flags,
                             expect ex, aecl_idx *out)
{
    gzFile gz;
    AECL_TRY(open_gz(ctx, path, out, &gz));
    aecl_idx x;
    memset(&x, 0, sizeof x);
    aecl_status st = read_open(ctx, gz, path, limit, flags, ex, &x);
    gzclose(gz);
    if (st != AECL_OK) {
        aecl_idx_free(&x);
        return st;
    }
    *out = x;
    return AECL_OK;
}

aecl_status aecl_idx_read_header(aecl_ctx *ctx, const char *path, size_t limit, aecl_idx *out)
{
    gzFile gz;
    AECL_TRY(open_gz(ctx, path, out, &gz));
    aecl_status st = read_header(ctx, gz, path, limit, out);
    gzclose(gz);
    if (st != AECL_OK) memset(out, 0, sizeof *out);
    return st;
}

aecl_status aecl_idx_read(aecl_ctx *ctx, const char *path, size_t limit, unsigned flags,
                          aecl_idx *out)
{
    expect any = {0, NULL};
    return read_file(ctx, path, limit, flags, any, out);
}

aecl_status aecl_idx_read_images(aecl_ctx *ctx, const char *path, size_t limit, int scale01,
                                 aecl_idx *out)
{
    expect ex = {AECL_IDX_MAGIC_IMAGES, "images (ubyte N x H x W)"};
    return read_file(ctx, path, limit, scale01 ? AECL_IDX_SCALE01 : 0, ex, out);
}

aecl_status aecl_idx_read_labels(aecl_ctx *ctx, const char *path, size_t limit, aecl_idx *out)
{
    expect ex = {AECL_IDX_MAGIC_LABELS, "labels (ubyte N)"};
    return read_file(ctx, path, limit, AECL_IDX_RAW_U8, ex, out);
}

void aecl_idx_free(aecl_idx *x)
{
    if (!x) return;
    free(x->data);
    free(x->u8);
    memset(x, 0, sizeof *x);
}
