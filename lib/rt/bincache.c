/* On-disk cache of built program binaries. An entry is
 *   "AECLBIN3" | u32 key length | key | u64 payload length | XXH3-128(payload) | payload
 * in a file named by a hash of the key. The whole key is stored and compared, so a
 * hash collision or an entry of another driver is detected. The 128-bit hash
 * catches a damaged or cut payload, which a driver may crash on rather than
 * reject (PoCL's binaries hold a shared object it loads). Whoever can write an
 * entry can recompute its hash too, so only entries and folders no other user can
 * write are used. Anything wrong with an entry makes the caller rebuild and
 * replace it: never fatal. */
#define _XOPEN_SOURCE 700 /* S_ISVTX */

#include "base/atomic.h"
#include "rt/program.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define MAGIC "AECLBIN3"
#define HASH_BYTES 16
/* Larger than any program binary: a bigger file is not one of ours. */
#define MAX_ENTRY ((size_t)1 << 30)

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

/* ---- the hash: XXH3-128 of Debian's libxxhash ------------------------------- */

void aecl_hash128(const void *data, size_t len, unsigned char out[16])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
    memcpy(out, c.digest, 16);
}

/* ---- the folder ------------------------------------------------------------- */

/* Why a cache folder or entry must not be used (NULL when it may): whoever can
 * write it can put there a binary that the driver loads into this process. Entries
 * must be this user's own; a folder may be root's too (/tmp). A sticky folder that
 * others can write is fine: they can neither replace nor remove our entries there,
 * and entries of theirs are refused one by one. */
static const char *distrust(const struct stat *sb, int folder)
{
    if (folder ? !S_ISDIR(sb->st_mode) : !S_ISREG(sb->st_mode))
        return folder ? "is not a folder" : "is not a regular file";
    if (sb->st_uid != geteuid() && !(folder && sb->st_uid == 0)) return "belongs to another user";
    if ((sb->st_mode & (S_IWGRP | S_IWOTH)) && !(folder && (sb->st_mode & S_ISVTX)))
        return "is writable by other users";
    return NULL;
}

static void say_distrust(char *why, size_t cap, const char *what, const char *path, const struct stat *sb,
                         const char *reason)
{
    snprintf(why, cap, "%s %s %s (owner uid %u, mode %04o)", what, path, reason, (unsigned)sb->st_uid,
             (unsigned)(sb->st_mode & 07777));
}

static int mkdir_p(const char *dir)
{
    char tmp[AECL_BINCACHE_DIR_CAP];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    return (mkdir(tmp, 0755) && errno != EEXIST) ? -1 : 0;
}

/* Sets c->dir from the environment; 0 when there is none or it does not fit
 * (c->off_because says so: a path cut short would name another folder). */
static int choose_dir(aecl_bincache *c)
{
    const char *dir = getenv("AECL_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (dir && *dir) n = snprintf(c->dir, sizeof c->dir, "%s", dir);
    else if (xdg && *xdg) n = snprintf(c->dir, sizeof c->dir, "%s/aecl", xdg);
    else if (home && *home) n = snprintf(c->dir, sizeof c->dir, "%s/.cache/aecl", home);
    else return 0;
    if (n >= 0 && (size_t)n < sizeof c->dir) return 1;
    snprintf(c->off_because, sizeof c->off_because,
             "the kernel cache is off: its folder's path (from AECL_CACHE_DIR, XDG_CACHE_HOME or HOME) has %d "
             "characters, more than the %zu allowed",
             n, sizeof c->dir - 1);
    c->dir[0] = 0;
    return 0;
}

void aecl_bincache_init(aecl_bincache *c)
{
    memset(c, 0, sizeof *c);
    const char *off = getenv("AECL_CACHE");
    if ((off && !strcmp(off, "0")) || !choose_dir(c)) return;
    struct stat sb;
    const char *reason;
    /* A folder that is not there yet will be made by us (aecl_bincache_make_dir). */
    if (stat(c->dir, &sb) == 0 && (reason = distrust(&sb, 1))) {
        char why[sizeof c->off_because - 40];
        say_distrust(why, sizeof why, "folder", c->dir, &sb, reason);
        snprintf(c->off_because, sizeof c->off_because, "the kernel cache is off: its %s", why);
        return;
    }
    c->enabled = 1;
}

int aecl_bincache_make_dir(const aecl_bincache *c)
{
    return c->enabled && mkdir_p(c->dir) == 0;
}

void aecl_bincache_path(const aecl_bincache *c, const char *key, char *path, size_t cap)
{
    uint64_t h1 = aecl_hash64(key, strlen(key), 0), h2 = aecl_hash64(key, strlen(key), 0x9e3779b97f4a7c15ull);
    snprintf(path, cap, "%s/%016llx%08llx.bin", c->dir, (unsigned long long)h1,
             (unsigned long long)(h2 & 0xffffffffu));
}

/* ---- reading ------------------------------------------------------------------ */

/* Opens the entry at path if it may be trusted: a regular file (a symlink is not
 * followed) of this user's that no one else can write. O_NONBLOCK: a FIFO planted
 * there must not hang the open. Returns an AECL_BINCACHE_ value, *fd and *sb on HIT. */
static int open_entry(const char *path, int *fd, struct stat *sb, char *why, size_t cap)
{
    char eb[128];
    *fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0 && errno == ENOENT) return AECL_BINCACHE_MISS;
    if (*fd < 0) {
        int e = errno;
        snprintf(why, cap, "entry %s cannot be opened: %s", path,
                 e == ELOOP ? "it is a symbolic link" : aecl_strerror(e, eb, sizeof eb));
        return e == ELOOP ? AECL_BINCACHE_UNTRUSTED : AECL_BINCACHE_BAD;
    }
    const char *reason = fstat(*fd, sb) ? "cannot be examined" : distrust(sb, 0);
    if (!reason && (size_t)sb->st_size <= MAX_ENTRY) return AECL_BINCACHE_HIT;
    if (reason) say_distrust(why, cap, "entry", path, sb, reason);
    else snprintf(why, cap, "entry %s is too large for a program binary", path);
    close(*fd);
    return reason ? AECL_BINCACHE_UNTRUSTED : AECL_BINCACHE_BAD;
}

static int read_fully(int fd, unsigned char *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        got += (size_t)r;
    }
    return 1;
}

/* The offset of the payload when f[0..n) is a whole, undamaged entry for key;
 * 0 when it is not. */
static size_t payload_at(const unsigned char *f, size_t n, const char *key)
{
    size_t klen = strlen(key), pos = 8 + 4;
    uint32_t fk;
    uint64_t plen;
    unsigned char want[HASH_BYTES];
    if (n < pos || memcmp(f, MAGIC, 8)) return 0;
    memcpy(&fk, f + 8, 4);
    if (fk != klen || n - pos < klen + 8 + HASH_BYTES || memcmp(f + pos, key, klen)) return 0;
    pos += klen;
    memcpy(&plen, f + pos, 8);
    pos += 8 + HASH_BYTES;
    if (plen == 0 || plen != n - pos) return 0;
    aecl_hash128(f + pos, (size_t)plen, want);
    return memcmp(f + pos - HASH_BYTES, want, HASH_BYTES) ? 0 : pos;
}

int aecl_bincache_read(const aecl_bincache *c, const char *key, unsigned char **bin, size_t *len, char *why,
                       size_t cap)
{
    why[0] = 0;
    if (!c->enabled) return AECL_BINCACHE_MISS;
    char path[sizeof c->dir + 64];
    aecl_bincache_path(c, key, path, sizeof path);
    int fd;
    struct stat sb;
    int r = open_entry(path, &fd, &sb, why, cap);
    if (r != AECL_BINCACHE_HIT) return r;
    size_t n = (size_t)sb.st_size, pos = 0;
    unsigned char *f = malloc(n ? n : 1);
    if (f && read_fully(fd, f, n)) pos = payload_at(f, n, key);
    close(fd);
    if (!pos) {
        free(f);
        if (!f) return AECL_BINCACHE_MISS; /* out of memory: nothing wrong with the entry */
        snprintf(why, cap, "entry %s is damaged, cut short or for another key", path);
        return AECL_BINCACHE_BAD;
    }
    memmove(f, f + pos, n - pos);
    *bin = f;
    *len = n - pos;
    return AECL_BINCACHE_HIT;
}

/* ---- writing ------------------------------------------------------------------ */

/* A refused entry is removed first: its replacement would keep its permission
 * bits (io/atomic.c), and be refused again. */
static void drop_untrusted(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) == 0 && distrust(&sb, 0)) (void)unlink(path);
}

int aecl_bincache_write(aecl_ctx *ctx, const aecl_bincache *c, const char *key, const unsigned char *bin, size_t len)
{
    if (!aecl_bincache_make_dir(c)) return 0;
    char path[sizeof c->dir + 64];
    aecl_bincache_path(c, key, path, sizeof path);
    drop_untrusted(path);
    uint32_t klen = (uint32_t)strlen(key);
    uint64_t plen = len;
    unsigned char hash[HASH_BYTES];
    aecl_hash128(bin, len, hash);
    aecl_atomic_file f;
    if (aecl_atomic_open(ctx, path, &f) != AECL_OK) return 0;
    int ok = aecl_atomic_write(ctx, &f, MAGIC, 8) == AECL_OK && aecl_atomic_write(ctx, &f, &klen, 4) == AECL_OK &&
             aecl_atomic_write(ctx, &f, key, klen) == AECL_OK && aecl_atomic_write(ctx, &f, &plen, 8) == AECL_OK &&
             aecl_atomic_write(ctx, &f, hash, HASH_BYTES) == AECL_OK && aecl_atomic_write(ctx, &f, bin, len) == AECL_OK;
    if (!ok) { aecl_atomic_abort(&f); return 0; }
    return aecl_atomic_commit(ctx, &f) == AECL_OK;
}
