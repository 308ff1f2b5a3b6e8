/* Files of quantized latent codes (`aecl compress`), little-endian:
 *
 *    0  8  magic "AECLCODE"            36  4  input c
 *    8  4  version (1 or 2)            40  4  input h
 *   12  4  bits per value (1..16)      44  4  input w
 *   16  8  model hash (aecl_model_hash) 48 4  CRC-32 of bytes 56.. (ranges, codes)
 *   24  8  n (samples)                 52  4  CRC-32 of bytes 0..51
 *   32  4  latent size
 *   56: lo[latent], hi[latent] as float32, then the codes q (0 .. 2^bits - 1),
 *   value k of a sample = lo[k] + q * (hi[k] - lo[k]) / (2^bits - 1).
 *
 * Version 2 (written now) stores the codes as one zstd frame (level 19):
 * dimension by dimension (all samples' q of dimension 0, then of 1, ...), since
 * each dimension has its own distribution; one byte per code for bits <= 8,
 * else two byte planes (all low bytes, then all high bytes). zstd's entropy
 * stage (Huffman, FSE) then spends about the codes' entropy, so fewer bits give
 * a smaller file. Version 1 (read only) held the codes raw, sample by sample, as
 * uint8 or uint16 (8 or 16 bits).
 */
#include "io/io.h"
#include "nn/app.h"
#include "rt/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#define HEADER_BYTES 56
#define MAX_FILE_BYTES ((size_t)1 << 31)
#define ZSTD_LEVEL 19
/* zstd's best ratio: a block holds at most 128 KB, and an RLE block of 128 KB
 * of one byte takes 4 bytes (a 3-byte block header and the byte). */
#define ZSTD_MOST_RATIO 32768.0

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get32(const unsigned char *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
static uint64_t get64(const unsigned char *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }
static void putf(unsigned char *p, float f) { uint32_t u; memcpy(&u, &f, 4); put32(p, u); }
static float getf(const unsigned char *p) { uint32_t u = get32(p); float f; memcpy(&f, &u, 4); return f; }

static uint32_t crc(const unsigned char *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

/* Per-dimension ranges into ranges[8 L] and the codes, dimension-major, into
 * q[L * n]; zq (sample-major, may be NULL) gets the values the reader restores. */
static void quantize(const float *z, size_t n, size_t L, unsigned bits, unsigned char *ranges, uint16_t *q, float *zq)
{
    double qmax = (double)((1u << bits) - 1);
    for (size_t k = 0; k < L; k++) {
        float lo = z[k], hi = z[k];
        for (size_t i = 1; i < n; i++) { float v = z[i * L + k]; lo = v < lo ? v : lo; hi = v > hi ? v : hi; }
        putf(ranges + 4 * k, lo);
        putf(ranges + 4 * (L + k), hi);
        double span = (double)hi - lo;
        for (size_t i = 0; i < n; i++) {
            double t = span > 0 ? ((double)z[i * L + k] - lo) / span : 0.0;
            uint16_t v = (uint16_t)lround(fmin(fmax(t, 0.0), 1.0) * qmax);
            q[k * n + i] = v;
            if (zq) zq[i * L + k] = (float)(lo + (double)v * span / qmax);
        }
    }
}

/* The codes as bytes: one per code, or the low then the high byte planes. */
static size_t code_bytes(unsigned bits) { return bits <= 8 ? 1 : 2; }

static void planes(const uint16_t *q, size_t values, unsigned bits, unsigned char *out)
{
    for (size_t i = 0; i < values; i++) {
        out[i] = (unsigned char)q[i];
        if (bits > 8) out[values + i] = (unsigned char)(q[i] >> 8);
    }
}

aecl_status aecl_codes_encode(aecl_ctx *ctx, const float *z, size_t n, size_t latent, unsigned bits,
                              uint64_t model_hash, int c, int h, int w, float *zq, unsigned char **file, size_t *bytes)
{
    *file = NULL;
    *bytes = 0;
    AECL_RETURN_IF(bits < 1 || bits > 16, AECL_ERR_INVALID_ARG, ctx, "codes: %u bits per value (1..16)", bits);
    AECL_RETURN_IF(n == 0 || latent == 0 || latent > UINT32_MAX, AECL_ERR_INVALID_ARG, ctx, "codes: nothing to write");
    for (size_t i = 0; i < n * latent; i++)
        AECL_RETURN_IF(!isfinite(z[i]), AECL_ERR_NUMERIC, ctx, "codes: value %zu of sample %zu is not finite", i % latent,
                       i / latent);
    size_t values = n * latent, raw = values * code_bytes(bits);
    AECL_RETURN_IF(values / n != latent || raw > MAX_FILE_BYTES, AECL_ERR_HOST_MEMORY, ctx, "codes: too many values");
    size_t bound = ZSTD_compressBound(raw), cap = HEADER_BYTES + 8 * latent + bound;
    unsigned char *buf = malloc(cap), *plain = malloc(raw);
    uint16_t *q = malloc(values * sizeof *q);
    aecl_status st = buf && plain && q ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    size_t packed = 0;
    if (st == AECL_OK) {
        quantize(z, n, latent, bits, buf + HEADER_BYTES, q, zq);
        planes(q, values, bits, plain);
        packed = ZSTD_compress(buf + HEADER_BYTES + 8 * latent, bound, plain, raw, ZSTD_LEVEL);
        if (ZSTD_isError(packed)) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "codes: zstd: %s", ZSTD_getErrorName(packed));
    }
    free(plain);
    free(q);
    if (st != AECL_OK) { free(buf); return st; }
    size_t body = 8 * latent + packed;
    memcpy(buf, AECL_CODES_MAGIC, 8);
    put32(buf + 8, AECL_CODES_VERSION);
    put32(buf + 12, bits);
    put64(buf + 16, model_hash);
    put64(buf + 24, n);
    put32(buf + 32, (uint32_t)latent);
    put32(buf + 36, (uint32_t)c);
    put32(buf + 40, (uint32_t)h);
    put32(buf + 44, (uint32_t)w);
    put32(buf + 48, crc(buf + HEADER_BYTES, body));
    put32(buf + 52, crc(buf, 52));
    *file = buf;
    *bytes = HEADER_BYTES + body;
    return AECL_OK;
}

aecl_status aecl_codes_write(aecl_ctx *ctx, const char *path, const float *z, size_t n, size_t latent, unsigned bits,
                             uint64_t model_hash, int c, int h, int w, float *zq, size_t *bytes)
{
    unsigned char *buf;
    size_t len;
    AECL_TRY(aecl_codes_encode(ctx, z, n, latent, bits, model_hash, c, h, w, zq, &buf, &len));
    aecl_status st = aecl_write_file_atomic(ctx, path, buf, len);
    free(buf);
    if (st == AECL_OK && bytes) *bytes = len;
    return st;
}

/* Checks the header and the sizes it declares against the file's `len` bytes;
 * fills the scalar fields of c. */
static aecl_status parse_header(aecl_ctx *ctx, const char *path, const unsigned char *b, uint64_t len, aecl_codes *c)
{
    AECL_RETURN_IF(len < HEADER_BYTES || memcmp(b, AECL_CODES_MAGIC, 8), AECL_ERR_FORMAT, ctx,
                   "%s: not an aecl codes file (%s)", path, len < HEADER_BYTES ? "too short" : "wrong magic");
    AECL_RETURN_IF(get32(b + 52) != crc(b, 52), AECL_ERR_FORMAT, ctx, "%s: the header is corrupt (CRC mismatch)", path);
    c->version = get32(b + 8);
    AECL_RETURN_IF(c->version != 1 && c->version != 2, AECL_ERR_UNSUPPORTED, ctx,
                   "%s: version %u (this aecl reads 1 and 2)", path, c->version);
    c->bits = get32(b + 12);
    c->model_hash = get64(b + 16);
    uint64_t n = get64(b + 24);
    c->latent = get32(b + 32);
    c->c = (int)get32(b + 36);
    c->h = (int)get32(b + 40);
    c->w = (int)get32(b + 44);
    AECL_RETURN_IF(c->version == 1 ? c->bits != 8 && c->bits != 16 : c->bits < 1 || c->bits > 16, AECL_ERR_FORMAT, ctx,
                   "%s: %u bits per value (version %u: %s)", path, c->bits, c->version, c->version == 1 ? "8 or 16" : "1..16");
    AECL_RETURN_IF(n == 0 || c->latent == 0 || n > MAX_FILE_BYTES, AECL_ERR_FORMAT, ctx, "%s: empty or oversized (n %llu, latent %zu)",
                   path, (unsigned long long)n, c->latent);
    c->n = (size_t)n;
    size_t values = c->n * c->latent;
    AECL_RETURN_IF(values / c->n != c->latent || values > MAX_FILE_BYTES, AECL_ERR_FORMAT, ctx, "%s: too many values", path);
    /* Version 1: exactly the raw codes; version 2: a zstd frame no larger than
     * zstd's bound for them (checked again exactly when it is decoded). */
    uint64_t ranges = HEADER_BYTES + 8 * (uint64_t)c->latent, raw = values * (uint64_t)code_bytes(c->bits);
    /* Before anything is allocated for them: a zstd frame holds at most
     * ZSTD_MOST_RATIO bytes of codes per byte of its own (a 91-byte file
     * declaring 3e8 codes asked for 1.2 GB). */
    char d[32], h[32];
    AECL_RETURN_IF(c->version == 2 && len > ranges && (double)raw > (double)(len - ranges) * ZSTD_MOST_RATIO,
                   AECL_ERR_FORMAT, ctx, "%s: the file declares %s codes but its %llu zstd bytes hold at most %s",
                   path, aecl_io_count_str((double)values, d, sizeof d), (unsigned long long)(len - ranges),
                   aecl_io_count_str((double)(len - ranges) * ZSTD_MOST_RATIO, h, sizeof h));
    uint64_t least = ranges + (c->version == 1 ? raw : 1), most = ranges + (c->version == 1 ? raw : ZSTD_compressBound(raw));
    AECL_RETURN_IF(len < least || len > most, AECL_ERR_FORMAT, ctx, "%s: %llu bytes, the header announces %s%llu (%s)",
                   path, (unsigned long long)len, c->version == 1 ? "" : len < least ? "at least " : "at most ",
                   (unsigned long long)(len < least ? least : most), len < least ? "truncated" : "trailing bytes");
    return AECL_OK;
}

/* The header first, checked against the file's size; then exactly the body it
 * announces (so a damaged or foreign file is never read whole). */
static aecl_status read_checked(aecl_ctx *ctx, const char *path, FILE *f, unsigned char **out, size_t *out_len,
                                aecl_codes *c)
{
    char eb[128];
    struct stat sb;
    unsigned char head[HEADER_BYTES];
    AECL_RETURN_IF(fstat(fileno(f), &sb) != 0, AECL_ERR_IO, ctx, "%s: %s", path, aecl_strerror(errno, eb, sizeof eb));
    uint64_t len = (uint64_t)sb.st_size;
    size_t got = fread(head, 1, HEADER_BYTES, f);
    AECL_TRY(parse_header(ctx, path, head, got < HEADER_BYTES ? got : len, c));
    size_t body = (size_t)(len - HEADER_BYTES);
    unsigned char *b = malloc(body);
    AECL_RETURN_IF(!b, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    if (fread(b, 1, body, f) != body) {
        free(b);
        return aecl_fail(ctx, AECL_ERR_IO, "%s: read error", path);
    }
    if (get32(head + 48) != crc(b, body)) {
        free(b);
        return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: the codes are corrupt (CRC mismatch)", path);
    }
    *out = b;
    *out_len = body;
    return AECL_OK;
}

/* The codes of the body (after the ranges) as q[L * n], dimension-major. */
static aecl_status unpack(aecl_ctx *ctx, const char *path, const unsigned char *p, size_t len, const aecl_codes *c,
                          uint16_t *q)
{
    size_t values = c->n * c->latent, L = c->latent, raw = values * code_bytes(c->bits);
    if (c->version == 1) {   /* raw, sample-major */
        for (size_t at = 0; at < values; at++)
            q[(at % L) * c->n + at / L] = c->bits == 8 ? p[at] : (uint16_t)(p[2 * at] | p[2 * at + 1] << 8);
        return AECL_OK;
    }
    unsigned long long declared = ZSTD_getFrameContentSize(p, len);
    AECL_RETURN_IF(declared != raw, AECL_ERR_FORMAT, ctx, "%s: the codes are corrupt (a zstd frame of %s bytes, %zu "
                   "expected)", path, declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR ? "unknown"
                   : "another number of", raw);
    unsigned char *plain = malloc(raw);
    AECL_RETURN_IF(!plain, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    size_t got = ZSTD_decompress(plain, raw, p, len);
    aecl_status st = AECL_OK;
    if (ZSTD_isError(got) || got != raw)
        st = aecl_fail(ctx, AECL_ERR_FORMAT, "%s: the codes are corrupt (zstd: %s)", path,
                       ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short frame");
    for (size_t i = 0; st == AECL_OK && i < values; i++)
        q[i] = (uint16_t)(plain[i] | (c->bits > 8 ? plain[values + i] << 8 : 0));
    free(plain);
    return st;
}

static aecl_status dequantize(aecl_ctx *ctx, const char *path, const unsigned char *body, size_t len, aecl_codes *c)
{
    size_t L = c->latent, values = c->n * L;
    double qmax = (double)((1u << c->bits) - 1);
    c->lo = malloc(L * sizeof *c->lo);
    c->hi = malloc(L * sizeof *c->hi);
    c->z = malloc(values * sizeof *c->z);
    uint16_t *q = malloc(values * sizeof *q);
    aecl_status st = c->lo && c->hi && c->z && q ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    for (size_t k = 0; st == AECL_OK && k < L; k++) {
        c->lo[k] = getf(body + 4 * k);
        c->hi[k] = getf(body + 4 * (L + k));
        if (!isfinite(c->lo[k]) || !isfinite(c->hi[k]) || c->lo[k] > c->hi[k])
            st = aecl_fail(ctx, AECL_ERR_FORMAT, "%s: bad range of dimension %zu", path, k);
    }
    if (st == AECL_OK) st = unpack(ctx, path, body + 8 * L, len - 8 * L, c, q);
    for (size_t at = 0; st == AECL_OK && at < values; at++) {
        size_t k = at % L;
        c->z[at] = (float)(c->lo[k] + (double)q[k * c->n + at / L] * ((double)c->hi[k] - c->lo[k]) / qmax);
    }
    free(q);
    return st;
}

aecl_status aecl_codes_read(aecl_ctx *ctx, const char *path, aecl_codes *out)
{
    memset(out, 0, sizeof *out);
    char eb[128];
    FILE *f = fopen(path, "rb");
    AECL_RETURN_IF(!f, AECL_ERR_IO, ctx, "%s: cannot open: %s", path, aecl_strerror(errno, eb, sizeof eb));
    unsigned char *b = NULL;
    size_t len = 0;
    aecl_codes c = {0};
    aecl_status st = read_checked(ctx, path, f, &b, &len, &c);
    fclose(f);
    if (st == AECL_OK) st = dequantize(ctx, path, b, len, &c);
    free(b);
    if (st != AECL_OK) { aecl_codes_free(&c); return st; }
    *out = c;
    return AECL_OK;
}

void aecl_codes_free(aecl_codes *c)
{
    if (!c) return;
    free(c->lo);
    free(c->hi);
    free(c->z);
    memset(c, 0, sizeof *c);
}
