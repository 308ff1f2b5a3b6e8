/* Atomic file writer: temp file in the target's folder, fsync, rename.
 * rename() within one folder replaces the target in one step, so readers (and a
 * crash) see either the old file or the whole new one. The temp file lives in the
 * same folder because rename cannot cross file systems. */
#define _POSIX_C_SOURCE 200809L

#include "base/atomic.h"
#include "base/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A temp file untouched this long belongs to a writer that was killed. */
#define STALE_TEMP_SECONDS (60 * 60)

/* "<dir>/.<base>.tmp-XXXXXX" for path "<dir>/<base>". */
static char *temp_name_for(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dir_len;
    size_t n = strlen(path) + 16;
    char *t = malloc(n);
    if (!t) return NULL;
    snprintf(t, n, "%.*s.%s.tmp-XXXXXX", (int)dir_len, path, base);
    return t;
}

/* The folder part of path ("." for a bare name, "/" for "/x") into dir. */
static void parent_dir(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, cap, ".");
    else if (slash == path) snprintf(dir, cap, "/");
    else snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

/* What may be replaced: not a folder, link, device or pipe (rename would put a
 * regular file in its place). */
static aecl_status check_target(aecl_ctx *ctx, const char *path)
{
    struct stat sb;
    AECL_RETURN_IF(!path || !*path, AECL_ERR_INVALID_ARG, ctx, "cannot write a file of no name");
    AECL_RETURN_IF(path[strlen(path) - 1] == '/', AECL_ERR_INVALID_ARG, ctx,
                   "cannot write '%s': the path names a folder", path);
    if (lstat(path, &sb) != 0) return AECL_OK;
    AECL_RETURN_IF(S_ISDIR(sb.st_mode), AECL_ERR_INVALID_ARG, ctx, "cannot write '%s': it is a folder", path);
    AECL_RETURN_IF(!S_ISREG(sb.st_mode), AECL_ERR_INVALID_ARG, ctx,
                   "cannot write '%s': it is %s, not a regular file (it would be replaced)", path,
                   S_ISLNK(sb.st_mode) ? "a symbolic link" : "a device, pipe or socket");
    return AECL_OK;
}

aecl_status aecl_io_check_writable(aecl_ctx *ctx, const char *path)
{
    char dir[4096], eb[128];
    struct stat sb;
    AECL_TRY(check_target(ctx, path));
    parent_dir(path, dir, sizeof dir);
    AECL_RETURN_IF(stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode), AECL_ERR_IO, ctx,
                   "cannot write '%s': the folder '%s' does not exist", path, dir);
    /* A probe, not access(): root passes access() on folders it still cannot
     * write (read-only mounts, /proc). It is named as the writer's temp files. */
    char *probe = temp_name_for(path);
    AECL_RETURN_IF(!probe, AECL_ERR_HOST_MEMORY, ctx, "out of memory checking '%s'", path);
    int fd = mkstemp(probe), e = errno;
    if (fd >= 0) {
        close(fd);
        unlink(probe);
    }
    free(probe);
    AECL_RETURN_IF(fd < 0, AECL_ERR_IO, ctx, "cannot write '%s': folder '%s': %s", path, dir,
                   aecl_strerror(e, eb, sizeof eb));
    return AECL_OK;
}

/* 1 when name is a temp file of target base: ".<base>.tmp-" and mkstemp's six characters. */
static int is_temp_of(const char *name, const char *base)
{
    size_t n = strlen(base);
    return name[0] == '.' && !strncmp(name + 1, base, n) && !strncmp(name + 1 + n, ".tmp-", 5) &&
           strlen(name + 1 + n + 5) == 6;
}

/* Removes temp files of the same target that a killed writer (kill -9, a crash)
 * left behind: ours (same owner), regular files, untouched for an hour, so a
 * writer still at work is never disturbed. Best effort: errors are ignored. */
static void remove_stale_temps(const char *path)
{
    char dir[4096], file[8192];
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    parent_dir(path, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) return;
    time_t now = time(NULL);
    for (struct dirent *e; (e = readdir(d));) {
        struct stat sb;
        if (!is_temp_of(e->d_name, base)) continue;
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        if (lstat(file, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == geteuid() &&
            now - sb.st_mtime > STALE_TEMP_SECONDS)
            unlink(file);
    }
    closedir(d);
}

static void release(aecl_atomic_file *f)
{
    free(f->path);
    free(f->tmp_path);
    memset(f, 0, sizeof *f);
}

aecl_status aecl_atomic_open(aecl_ctx *ctx, const char *path, aecl_atomic_file *out)
{
    char eb[128];
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_atomic_open: out is NULL");
    memset(out, 0, sizeof *out);
    AECL_TRY(check_target(ctx, path));
    remove_stale_temps(path);
    size_t len = strlen(path);
    out->path = malloc(len + 1);
    out->tmp_path = temp_name_for(path);
    if (!out->path || !out->tmp_path) {
        release(out);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of memory opening '%s'", path);
    }
    memcpy(out->path, path, len + 1);
    int fd = mkstemp(out->tmp_path);
    if (fd < 0) {
        int e = errno;
        aecl_status st = aecl_fail(ctx, AECL_ERR_IO, "cannot write '%s': creating temp file '%s': %s",
                                   path, out->tmp_path, aecl_strerror(e, eb, sizeof eb));
        release(out);
        return st;
    }
    out->fp = fdopen(fd, "wb");
    if (!out->fp) {
        int e = errno;
        close(fd);
        unlink(out->tmp_path);
        aecl_status st = aecl_fail(ctx, AECL_ERR_IO, "cannot write '%s': %s", path,
                                   aecl_strerror(e, eb, sizeof eb));
        release(out);
        return st;
    }
    return AECL_OK;
}

static aecl_status write_failed(aecl_ctx *ctx, aecl_atomic_file *f, int e)
{
    char eb[128];
    f->failed = 1;
    return aecl_fail(ctx, AECL_ERR_IO, "writing '%s' failed: %s", f->path,
                     aecl_strerror(e ? e : EIO, eb, sizeof eb));
}

aecl_status aecl_atomic_write(aecl_ctx *ctx, aecl_atomic_file *f, const void *data, size_t n)
{
    AECL_RETURN_IF(!f || !f->fp, AECL_ERR_STATE, ctx, "aecl_atomic_write: file is not open");
    AECL_RETURN_IF(!data && n, AECL_ERR_INVALID_ARG, ctx, "aecl_atomic_write: data is NULL");
    if (f->failed) return aecl_fail(ctx, AECL_ERR_IO, "writing '%s' failed earlier", f->path);
    if (n == 0) return AECL_OK;
    errno = 0;
    if (fwrite(data, 1, n, f->fp) != n) return write_failed(ctx, f, errno);
    return AECL_OK;
}

aecl_status aecl_atomic_printf(aecl_ctx *ctx, aecl_atomic_file *f, const char *fmt, ...)
{
    AECL_RETURN_IF(!f || !f->fp, AECL_ERR_STATE, ctx, "aecl_atomic_printf: file is not open");
    if (f->failed) return aecl_fail(ctx, AECL_ERR_IO, "writing '%s' failed earlier", f->path);
    va_list ap;
    va_start(ap, fmt);
    errno = 0;
    int r = vfprintf(f->fp, fmt, ap);
    va_end(ap);
    if (r < 0) return write_failed(ctx, f, errno);
    return AECL_OK;
}

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void swap4(void *p)
{
    uint8_t *b = p, t;
    t = b[0]; b[0] = b[3]; b[3] = t;
    t = b[1]; b[1] = b[2]; b[2] = t;
}

aecl_status aecl_atomic_write_f32le(aecl_ctx *ctx, aecl_atomic_file *f, const float *x, size_t n)
{
    size_t bytes;
    AECL_RETURN_IF(!aecl_mul_size(n, 4, &bytes), AECL_ERR_HOST_MEMORY, ctx,
                   "writing '%s': %zu floats overflow", f && f->path ? f->path : "?", n);
    if (host_is_little_endian()) return aecl_atomic_write(ctx, f, x, bytes);
    float chunk[1024];
    for (size_t i = 0; i < n; i += 1024) {
        size_t m = n - i < 1024 ? n - i : 1024;
        memcpy(chunk, x + i, m * 4);
        for (size_t j = 0; j < m; j++) swap4(&chunk[j]);
        AECL_TRY(aecl_atomic_write(ctx, f, chunk, m * 4));
    }
    return AECL_OK;
}

void aecl_io_f32_from_le(float *x, size_t n)
{
    if (host_is_little_endian()) return;
    for (size_t i = 0; i < n; i++) swap4(&x[i]);
}

void aecl_atomic_abort(aecl_atomic_file *f)
{
    if (!f) return;
    if (f->fp) {
        fclose(f->fp);
        unlink(f->tmp_path);
    }
    release(f);
}

/* A replaced file keeps its permission bits; a new one gets 0644 (mkstemp's 0600
 * would hide outputs such as PNGs from other users). */
static mode_t target_mode(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) return sb.st_mode & 07777;
    return 0644;
}

/* Makes the rename itself durable; best effort (not every file system can). */
static void sync_parent_dir(const char *path)
{
    char dir[4096];
    parent_dir(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

aecl_status aecl_atomic_commit(aecl_ctx *ctx, aecl_atomic_file *f)
{
    char eb[128];
    AECL_RETURN_IF(!f || !f->fp, AECL_ERR_STATE, ctx, "aecl_atomic_commit: file is not open");
    aecl_status st = AECL_OK;
    if (f->failed) {
        st = aecl_fail(ctx, AECL_ERR_IO, "not replacing '%s': an earlier write failed", f->path);
        aecl_atomic_abort(f);
        return st;
    }
    int fd = fileno(f->fp);
    errno = 0;
    /* ferror: callers may also write through f->fp directly (fprintf). */
    if (ferror(f->fp) || fflush(f->fp) != 0 || fsync(fd) != 0) {
        int e = errno;
        st = aecl_fail(ctx, AECL_ERR_IO, "writing '%s' failed: %s", f->path,
                       aecl_strerror(e ? e : EIO, eb, sizeof eb));
        aecl_atomic_abort(f);
        return st;
    }
    (void)fchmod(fd, target_mode(f->path));
    FILE *fp = f->fp;
    f->fp = NULL;
    if (fclose(fp) != 0) {
        int e = errno;
        unlink(f->tmp_path);
        st = aecl_fail(ctx, AECL_ERR_IO, "writing '%s' failed: %s", f->path,
                       aecl_strerror(e, eb, sizeof eb));
        release(f);
        return st;
    }
    if (rename(f->tmp_path, f->path) != 0) {
        int e = errno;
        unlink(f->tmp_path);
        st = aecl_fail(ctx, AECL_ERR_IO, "cannot replace '%s': %s", f->path,
                       aecl_strerror(e, eb, sizeof eb));
        release(f);
        return st;
    }
    sync_parent_dir(f->path);
    release(f);
    return AECL_OK;
}

aecl_status aecl_write_file_atomic(aecl_ctx *ctx, const char *path, const void *data, size_t n)
{
    aecl_atomic_file f;
    AECL_TRY(aecl_atomic_open(ctx, path, &f));
    aecl_status st = aecl_atomic_write(ctx, &f, data, n);
    if (st != AECL_OK) {
        aecl_atomic_abort(&f);
        return st;
    }
    return aecl_atomic_commit(ctx, &f);
}
