/* Files of quantized latent codes (`aecl compress`), little-endian:
 *
 *    0  8  magic "AECLCODE"            36  4  input c
 *    8  4  version (1)                 40  4  input h
 *   12  4  bits per value (8 or 16)    44  4  input w
 *   16  8  model hash (aecl_model_hash) 48 4  CRC-32 of bytes 56.. (ranges, codes)
 *   24  8  n (samples)                 52  4  CRC-32 of bytes 0..51
 *   32  4  latent size
 *   56: lo[latent], hi[latent] as float32, then n * latent codes (uint8 or uint16),
 *   value k of a sample = lo[k] + q * (hi[k] - lo[k]) / (2^bits - 1).
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

#define HEADER_BYTES 56
#define MAX_FILE_BYTES ((size_t)1 << 31)

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

/* Per-dimension ranges and codes into body (8 L bytes + n L values). */
static void quantize(const float *z, size_t n, size_t L, unsigned bits, unsigned char *body, float *zq)
{
    double qmax = (double)((1u << bits) - 1);
    unsigned char *codes = body + 8 * L;
    for (size_t k = 0; k < L; k++) {
        float lo = z[k], hi = z[k];
        for (size_t i = 1; i < n; i++) { float v = z[i * L + k]; lo = v < lo ? v : lo; hi = v > hi ? v : hi; }
        putf(body + 4 * k, lo);
        putf(body + 4 * (L + k), hi);
        double span = (double)hi - lo;
        for (size_t i = 0; i < n; i++) {
            double t = span > 0 ? ((double)z[i * L + k] - lo) / span : 0.0;
            uint32_t q = (uint32_t)lround(fmin(fmax(t, 0.0), 1.0) * qmax);
            size_t at = i * L + k;
            if (bits == 8) codes[at] = (unsigned char)q;
            else { codes[2 * at] = (unsigned char)q; codes[2 * at + 1] = (unsigned char)(q >> 8); }
            if (zq) zq[at] = (float)(lo + (double)q * span / qmax);
        }
    }
}

aecl_status aecl_codes_write(aecl_ctx *ctx, const char *path, const float *z, size_t n, size_t latent, unsigned bits,
                             uint64_t model_hash, int c, int h, int w, float *zq, size_t *bytes)
{
    AECL_RETURN_IF(bits != 8 && bits != 16, AECL_ERR_INVALID_ARG, ctx, "codes: %u bits per value (8 or 16)", bits);
    AECL_RETURN_IF(n == 0 || latent == 0 || latent > UINT32_MAX, AECL_ERR_INVALID_ARG, ctx, "codes: nothing to write");
    for (size_t i = 0; i < n * latent; i++)
        AECL_RETURN_IF(!isfinite(z[i]), AECL_ERR_NUMERIC, ctx, "codes: value %zu of sample %zu is not finite", i % latent,
                       i / latent);
    size_t values = n * latent, body_bytes = 8 * latent + values * (bits / 8);
    AECL_RETURN_IF(values / n != latent || body_bytes > MAX_FILE_BYTES, AECL_ERR_HOST_MEMORY, ctx, "codes: too many values");
    unsigned char *buf = malloc(HEADER_BYTES + body_bytes);
    AECL_RETURN_IF(!buf, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    memcpy(buf, AECL_CODES_MAGIC, 8);
    put32(buf + 8, AECL_CODES_VERSION);
    put32(buf + 12, bits);
    put64(buf + 16, model_hash);
    put64(buf + 24, n);
    put32(buf + 32, (uint32_t)latent);
    put32(buf + 36, (uint32_t)c);
    put32(buf + 40, (uint32_t)h);
    put32(buf + 44, (uint32_t)w);
    quantize(z, n, latent, bits, buf + HEADER_BYTES, zq);
    put32(buf + 48, crc(buf + HEADER_BYTES, body_bytes));
    put32(buf + 52, crc(buf, 52));
    aecl_status st = aecl_write_file_atomic(ctx, path, buf, HEADER_BYTES + body_bytes);
    free(buf);
    if (st == AECL_OK && bytes) *bytes = HEADER_BYTES + body_bytes;
    return st;
}

/* Checks the header and the sizes it declares against the file's `len` bytes;
 * fills the scalar fields of c. */
static aecl_status parse_header(aecl_ctx *ctx, const char *path, const unsigned char *b, uint64_t len, aecl_codes *c)
{
    AECL_RETURN_IF(len < HEADER_BYTES || memcmp(b, AECL_CODES_MAGIC, 8), AECL_ERR_FORMAT, ctx,
                   "%s: not an aecl codes file (%s)", path, len < HEADER_BYTES ? "too short" : "wrong magic");
    AECL_RETURN_IF(get32(b + 52) != crc(b, 52), AECL_ERR_FORMAT, ctx, "%s: the header is corrupt (CRC mismatch)", path);
    uint32_t version = get32(b + 8);
    AECL_RETURN_IF(version != AECL_CODES_VERSION, AECL_ERR_UNSUPPORTED, ctx, "%s: version %u (this aecl reads %u)", path,
                   version, AECL_CODES_VERSION);
    c->bits = get32(b + 12);
    c->model_hash = get64(b + 16);
    uint64_t n = get64(b + 24);
    c->latent = get32(b + 32);
    c->c = (int)get32(b + 36);
    c->h = (int)get32(b + 40);
    c->w = (int)get32(b + 44);
    AECL_RETURN_IF(c->bits != 8 && c->bits != 16, AECL_ERR_FORMAT, ctx, "%s: %u bits per value (8 or 16)", path, c->bits);
    AECL_RETURN_IF(n == 0 || c->latent == 0 || n > MAX_FILE_BYTES, AECL_ERR_FORMAT, ctx, "%s: empty or oversized (n %llu, latent %zu)",
                   path, (unsigned long long)n, c->latent);
    c->n = (size_t)n;
    size_t values = c->n * c->latent;
    AECL_RETURN_IF(values / c->n != c->latent || values > MAX_FILE_BYTES, AECL_ERR_FORMAT, ctx, "%s: too many values", path);
    uint64_t want = HEADER_BYTES + 8 * (uint64_t)c->latent + values * (c->bits / 8);
    AECL_RETURN_IF(len != want, AECL_ERR_FORMAT, ctx, "%s: %llu bytes, the header announces %llu (%s)", path,
                   (unsigned long long)len, (unsigned long long)want, len < want ? "truncated" : "trailing bytes");
    return AECL_OK;
}

/* The header first, checked against the file's size; then exactly the body it
 * announces (so a damaged or foreign file is never read whole). */
static aecl_status read_checked(aecl_ctx *ctx, const char *path, FILE *f, unsigned char **out, aecl_codes *c)
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
    return AECL_OK;
}

static aecl_status dequantize(aecl_ctx *ctx, const char *path, const unsigned char *body, aecl_codes *c)
{
    size_t L = c->latent;
    double qmax = (double)((1u << c->bits) - 1);
    c->lo = malloc(L * sizeof *c->lo);
    c->hi = malloc(L * sizeof *c->hi);
    c->z = malloc(c->n * L * sizeof *c->z);
    AECL_RETURN_IF(!c->lo || !c->hi || !c->z, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    for (size_t k = 0; k < L; k++) {
        c->lo[k] = getf(body + 4 * k);
        c->hi[k] = getf(body + 4 * (L + k));
        AECL_RETURN_IF(!isfinite(c->lo[k]) || !isfinite(c->hi[k]) || c->lo[k] > c->hi[k], AECL_ERR_FORMAT, ctx,
                       "%s: bad range of dimension %zu", path, k);
    }
    const unsigned char *q = body + 8 * L;
    for (size_t at = 0; at < c->n * L; at++) {
        size_t k = at % L;
        uint32_t v = c->bits == 8 ? q[at] : (uint32_t)q[2 * at] | (uint32_t)q[2 * at + 1] << 8;
        c->z[at] = (float)(c->lo[k] + (double)v * ((double)c->hi[k] - c->lo[k]) / qmax);
    }
    return AECL_OK;
}

aecl_status aecl_codes_read(aecl_ctx *ctx, const char *path, aecl_codes *out)
{
    memset(out, 0, sizeof *out);
    char eb[128];
    FILE *f = fopen(path, "rb");
    AECL_RETURN_IF(!f, AECL_ERR_IO, ctx, "%s: cannot open: %s", path, aecl_strerror(errno, eb, sizeof eb));
    unsigned char *b = NULL;
    aecl_codes c = {0};
    aecl_status st = read_checked(ctx, path, f, &b, &c);
    fclose(f);
    if (st == AECL_OK) st = dequantize(ctx, path, b, &c);
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
