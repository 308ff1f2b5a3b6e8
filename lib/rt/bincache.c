/* On-disk cache of built program binaries. An entry is
 *   "AECLBIN1" | u32 key length | key | u64 payload length | u32 crc32(payload) | payload
 * in a file named by the hash of the key. The key text is stored too, so a hash
 * collision or an entry from another driver is detected, not trusted. Anything
 * wrong with an entry makes the caller rebuild and replace it: never fatal. */
#include "io/io.h"
#include "rt/program.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define MAGIC "AECLBIN1"

uint64_t aecl_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static int mkdir_p(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    return (mkdir(tmp, 0755) && errno != EEXIST) ? -1 : 0;
}

void aecl_bincache_init(aecl_bincache *c)
{
    memset(c, 0, sizeof *c);
    const char *off = getenv("AECL_CACHE");
    if (off && !strcmp(off, "0")) return;
    const char *dir = getenv("AECL_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (dir && *dir) snprintf(c->dir, sizeof c->dir, "%s", dir);
    else if (xdg && *xdg) snprintf(c->dir, sizeof c->dir, "%s/aecl", xdg);
    else if (home && *home) snprintf(c->dir, sizeof c->dir, "%s/.cache/aecl", home);
    else return;
    c->enabled = 1;
}

void aecl_bincache_path(const aecl_bincache *c, const char *key, char *path, size_t cap)
{
    uint64_t h1 = aecl_hash64(key, strlen(key), 0), h2 = aecl_hash64(key, strlen(key), 0x9e3779b97f4a7c15ull);
    snprintf(path, cap, "%s/%016llx%08llx.bin", c->dir, (unsigned long long)h1,
             (unsigned long long)(h2 & 0xffffffffu));
}

static int read_all(const char *path, unsigned char **out, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    long n = (fseek(fp, 0, SEEK_END) == 0) ? ftell(fp) : -1;
    unsigned char *buf = (n > 0 && fseek(fp, 0, SEEK_SET) == 0) ? malloc((size_t)n) : NULL;
    int ok = buf && fread(buf, 1, (size_t)n, fp) == (size_t)n;
    fclose(fp);
    if (!ok) { free(buf); return -1; }
    *out = buf;
    *len = (size_t)n;
    return 1;
}

int aecl_bincache_read(const aecl_bincache *c, const char *key, unsigned char **bin, size_t *len, int *bad)
{
    *bad = 0;
    if (!c->enabled) return 0;
    char path[1200];
    aecl_bincache_path(c, key, path, sizeof path);
    unsigned char *f;
    size_t n;
    int r = read_all(path, &f, &n);
    if (r == 0) return 0;
    if (r < 0) { *bad = 1; return 0; }
    size_t klen = strlen(key), pos = 8;
    uint32_t fk, crc;
    uint64_t plen;
    int ok = n >= 8 + 4 && !memcmp(f, MAGIC, 8);
    if (ok) { memcpy(&fk, f + pos, 4); pos += 4; ok = fk == klen && n >= pos + klen + 12; }
    if (ok) { ok = !memcmp(f + pos, key, klen); pos += klen; }
    if (ok) { memcpy(&plen, f + pos, 8); memcpy(&crc, f + pos + 8, 4); pos += 12; ok = plen == n - pos && plen > 0; }
    if (ok) ok = crc == (uint32_t)crc32(0L, f + pos, (uInt)plen);
    if (!ok) { free(f); *bad = 1; return 0; }
    *bin = malloc(plen);
    if (!*bin) { free(f); return 0; }
    memcpy(*bin, f + pos, plen);
    *len = plen;
    free(f);
    return 1;
}

int aecl_bincache_make_dir(const aecl_bincache *c)
{
    return c->enabled && mkdir_p(c->dir) == 0;
}

int aecl_bincache_write(aecl_ctx *ctx, const aecl_bincache *c, const char *key, const unsigned char *bin, size_t len)
{
    if (!aecl_bincache_make_dir(c)) return 0;
    char path[1200];
    aecl_bincache_path(c, key, path, sizeof path);
    uint32_t klen = (uint32_t)strlen(key), crc = (uint32_t)crc32(0L, bin, (uInt)len);
    uint64_t plen = len;
    aecl_atomic_file f;
    if (aecl_atomic_open(ctx, path, &f) != AECL_OK) return 0;
    int ok = aecl_atomic_write(ctx, &f, MAGIC, 8) == AECL_OK && aecl_atomic_write(ctx, &f, &klen, 4) == AECL_OK &&
             aecl_atomic_write(ctx, &f, key, klen) == AECL_OK && aecl_atomic_write(ctx, &f, &plen, 8) == AECL_OK &&
             aecl_atomic_write(ctx, &f, &crc, 4) == AECL_OK && aecl_atomic_write(ctx, &f, bin, len) == AECL_OK;
    if (!ok) { aecl_atomic_abort(&f); return 0; }
    return aecl_atomic_commit(ctx, &f) == AECL_OK;
}
