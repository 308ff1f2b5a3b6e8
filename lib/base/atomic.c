/* Atomic file writer: temp file in the target's folder, fsync, rename.
 * rename() within one folder replaces the target in one step, so readers (and a
 * crash) see either the old file or the whole new one. The temp file lives in the
 * same folder because rename cannot cross file systems. What is not a regular
 * file is not replaced: symbolic links are followed to the file they lead to,
 * devices, FIFOs and standard output are written as they are (atomic.h). */
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

/* How a path is written. */
typedef enum {
    TARGET_REPLACE,      /* a new file or a regular one: temp file + rename over it */
    TARGET_IN_PLACE,     /* a character device or a FIFO: opened and written as it is */
    TARGET_DESCRIPTOR    /* "-" or a descriptor path (/dev/stdout): a copy of the descriptor */
} target_how;

typedef struct target {
    target_how how;
    char *final;         /* REPLACE, IN_PLACE: the path its symbolic links lead to (owned) */
    int fd;              /* DESCRIPTOR: the descriptor */
} target;

/* Symbolic links followed before giving up (Linux's own limit is 40). */
#define MAX_LINK_HOPS 40

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* The target a symbolic link at `link` names: its text, relative to the link's
 * folder unless absolute. NULL when out of memory or unreadable (errno says). */
static char *link_target(const char *link)
{
    char text[4096], dir[4096];
    ssize_t n = readlink(link, text, sizeof text - 1);
    if (n < 0) return NULL;
    if (n == (ssize_t)sizeof text - 1) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    text[n] = 0;
    if (text[0] == '/') return dup_str(text);
    parent_dir(link, dir, sizeof dir);
    size_t cap = strlen(dir) + (size_t)n + 2;
    char *t = malloc(cap);
    if (t) snprintf(t, cap, "%s/%s", dir, text);
    return t;
}

/* The descriptor a path names when its folder is the process's descriptor
 * folder (/dev/stdout -> /proc/self/fd/1, /dev/fd/N, /proc/<pid>/fd/N), else -1.
 * Such a path is written through a copy of that descriptor: it shares the
 * shell's offset, so `--out /dev/stdout > f` lands where `>` put it. */
static int descriptor_of(const char *path)
{
    char dir[4096];
    struct stat a, b;
    const char *slash = strrchr(path, '/');
    if (!slash || !slash[1]) return -1;
    parent_dir(path, dir, sizeof dir);
    if (stat(dir, &a) != 0 || stat("/proc/self/fd", &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return -1;
    char *end;
    long fd = strtol(slash + 1, &end, 10);
    return *end || fd < 0 || fd > 1 << 20 ? -1 : (int)fd;
}

/* What a type of file is called in messages. */
static const char *kind_name(mode_t m)
{
    if (S_ISDIR(m)) return "a folder";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISFIFO(m)) return "a FIFO";
    return "not a regular file";
}

/* Where writing `path` lands. Symbolic links are followed to their final target
 * (written atomically there, the link stays a link; a dangling link creates its
 * target); character devices and FIFOs are written in place; "-" and the
 * descriptor paths are written through a copy of the descriptor; folders,
 * sockets and block devices are refused. On success the caller frees t->final. */
static aecl_status resolve_target(aecl_ctx *ctx, const char *path, target *t)
{
    char eb[128];
    memset(t, 0, sizeof *t);
    t->fd = -1;
    AECL_RETURN_IF(!path || !*path, AECL_ERR_INVALID_ARG, ctx, "cannot write a file of no name");
    if (strcmp(path, "-") == 0) {
        t->how = TARGET_DESCRIPTOR;
        t->fd = STDOUT_FILENO;
        return AECL_OK;
    }
    AECL_RETURN_IF(path[strlen(path) - 1] == '/', AECL_ERR_INVALID_ARG, ctx,
                   "cannot write '%s': the path names a folder", path);
    char *cur = dup_str(path);
    AECL_RETURN_IF(!cur, AECL_ERR_HOST_MEMORY, ctx, "out of memory opening '%s'", path);
    for (int hop = 0;; hop++) {
        struct stat sb;
        t->fd = descriptor_of(cur);
        if (t->fd >= 0) {
            t->how = TARGET_DESCRIPTOR;
            break;
        }
        if (lstat(cur, &sb) != 0 || S_ISREG(sb.st_mode)) {   /* a new file, or one to replace */
            t->how = TARGET_REPLACE;
            break;
        }
        if (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode)) {
            t->how = TARGET_IN_PLACE;
            break;
        }
        if (!S_ISLNK(sb.st_mode)) {
            aecl_status st = strcmp(cur, path) == 0
                ? aecl_fail(ctx, AECL_ERR_INVALID_ARG, "cannot write '%s': it is %s", path, kind_name(sb.st_mode))
                : aecl_fail(ctx, AECL_ERR_INVALID_ARG, "cannot write '%s': it is a symbolic link to '%s', which is %s",
                            path, cur, kind_name(sb.st_mode));
            free(cur);
            return st;
        }
        char *next = hop < MAX_LINK_HOPS ? link_target(cur) : NULL;
        int e = hop < MAX_LINK_HOPS ? errno : ELOOP;
        free(cur);
        AECL_RETURN_IF(!next, AECL_ERR_IO, ctx, "cannot write '%s': following its symbolic link: %s", path,
                       aecl_strerror(e, eb, sizeof eb));
        cur = next;
    }
    t->final = cur;
    return AECL_OK;
}

/* " (the target of symbolic link 'L')" when f was reached through a link. */
static const char *via(const char *path, const char *final, char *buf, size_t cap)
{
    if (!final || strcmp(path, final) == 0) return "";
    snprintf(buf, cap, " (the target of '%s')", path);
    return buf;
}

/* Whether a descriptor named by the caller is open for writing. */
static aecl_status check_descriptor(aecl_ctx *ctx, const char *path, int fd)
{
    int fl = fcntl(fd, F_GETFL);
    AECL_RETURN_IF(fl < 0 || (fl & O_ACCMODE) == O_RDONLY, AECL_ERR_IO, ctx,
                   "cannot write '%s': descriptor %d is not open for writing", path, fd);
    return AECL_OK;
}

/* A file to create or replace: its folder exists and takes a new file. */
static aecl_status check_folder(aecl_ctx *ctx, const char *path, const char *final)
{
    char dir[4096], eb[128], vb[4200];
    struct stat sb;
    parent_dir(final, dir, sizeof dir);
    AECL_RETURN_IF(stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode), AECL_ERR_IO, ctx,
                   "cannot write '%s'%s: the folder '%s' does not exist", final, via(path, final, vb, sizeof vb), dir);
    /* A probe, not access(): root passes access() on folders it still cannot
     * write (read-only mounts, /proc). It is named as the writer's temp files. */
    char *probe = temp_name_for(final);
    AECL_RETURN_IF(!probe, AECL_ERR_HOST_MEMORY, ctx, "out of memory checking '%s'", path);
    int fd = mkstemp(probe), e = errno;
    if (fd >= 0) {
        close(fd);
        unlink(probe);
    }
    free(probe);
    AECL_RETURN_IF(fd < 0, AECL_ERR_IO, ctx, "cannot write '%s'%s: folder '%s': %s", final,
                   via(path, final, vb, sizeof vb), dir, aecl_strerror(e, eb, sizeof eb));
    return AECL_OK;
}

aecl_status aecl_io_check_writable(aecl_ctx *ctx, const char *path)
{
    char eb[128];
    target t;
    AECL_TRY(resolve_target(ctx, path, &t));
    aecl_status st = AECL_OK;
    if (t.how == TARGET_DESCRIPTOR) st = check_descriptor(ctx, path, t.fd);
    else if (t.how == TARGET_REPLACE) st = check_folder(ctx, path, t.final);
    /* A device or FIFO is not opened here: opening a FIFO waits for its reader. */
    else if (access(t.final, W_OK) != 0)
        st = aecl_fail(ctx, AECL_ERR_IO, "cannot write '%s': %s", path, aecl_strerror(errno, eb, sizeof eb));
    free(t.final);
    return st;
}

int aecl_io_is_stream(const char *path)
{
    target t;
    if (resolve_target(NULL, path, &t) != AECL_OK) return 0;   /* refused: the writer says why */
    free(t.final);
    return t.how != TARGET_REPLACE;
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
    free(f->target);
    free(f->tmp_path);
    memset(f, 0, sizeof *f);
}

/* f->fp on descriptor fd (closed on failure). */
static aecl_status stream_on(aecl_ctx *ctx, aecl_atomic_file *f, int fd)
{
    char eb[128];
    f->fp = fdopen(fd, "wb");
    if (f->fp) return AECL_OK;
    int e = errno;
    close(fd);
    return aecl_fail(ctx, AECL_ERR_IO, "cannot write '%s': %s", f->path, aecl_strerror(e, eb, sizeof eb));
}

/* Standard output or a descriptor path: a copy of the descriptor, so that
 * closing it leaves the caller's open; stdio's own buffer of it goes out first,
 * so what the program printed before stays before. */
static aecl_status open_descriptor(aecl_ctx *ctx, aecl_atomic_file *f, int fd)
{
    char eb[128];
    AECL_TRY(check_descriptor(ctx, f->path, fd));
    if (fd == STDOUT_FILENO) fflush(stdout);
    if (fd == STDERR_FILENO) fflush(stderr);
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    AECL_RETURN_IF(d < 0, AECL_ERR_IO, ctx, "cannot write '%s': %s", f->path, aecl_strerror(errno, eb, sizeof eb));
    return stream_on(ctx, f, d);
}

/* A character device or a FIFO is written as it is: a rename would put a
 * regular file in its place (and a FIFO's reader would get nothing). Opening a
 * FIFO waits for its reader, as a shell's `>` does. */
static aecl_status open_in_place(aecl_ctx *ctx, aecl_atomic_file *f, const char *final)
{
    char eb[128], vb[4200];
    int fd = open(final, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    AECL_RETURN_IF(fd < 0, AECL_ERR_IO, ctx, "cannot write '%s'%s: %s", final, via(f->path, final, vb, sizeof vb),
                   aecl_strerror(errno, eb, sizeof eb));
    return stream_on(ctx, f, fd);
}

/* A new or regular file: a temp file in the folder of the final target (rename
 * cannot cross file systems), renamed over it by commit. Takes final. */
static aecl_status open_temp(aecl_ctx *ctx, aecl_atomic_file *f, char *final)
{
    char eb[128];
    f->target = final;
    remove_stale_temps(final);
    f->tmp_path = temp_name_for(final);
    AECL_RETURN_IF(!f->tmp_path, AECL_ERR_HOST_MEMORY, ctx, "out of memory opening '%s'", f->path);
    int fd = mkstemp(f->tmp_path);
    if (fd < 0) {
        int e = errno;
        aecl_status st = aecl_fail(ctx, AECL_ERR_IO, "cannot write '%s': creating temp file '%s': %s", f->path,
                                   f->tmp_path, aecl_strerror(e, eb, sizeof eb));
        free(f->tmp_path);   /* there is nothing to remove */
        f->tmp_path = NULL;
        return st;
    }
    aecl_status st = stream_on(ctx, f, fd);
    if (st != AECL_OK) unlink(f->tmp_path);
    return st;
}

aecl_status aecl_atomic_open(aecl_ctx *ctx, const char *path, aecl_atomic_file *out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_atomic_open: out is NULL");
    memset(out, 0, sizeof *out);
    target t;
    AECL_TRY(resolve_target(ctx, path, &t));
    out->path = dup_str(path);
    if (!out->path) {
        free(t.final);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of memory opening '%s'", path);
    }
    aecl_status st;
    if (t.how == TARGET_DESCRIPTOR) st = open_descriptor(ctx, out, t.fd);
    else if (t.how == TARGET_IN_PLACE) st = open_in_place(ctx, out, t.final);
    else st = open_temp(ctx, out, t.final);
    if (t.how != TARGET_REPLACE) free(t.final);
    if (st != AECL_OK) release(out);
    return st;
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
        if (f->tmp_path) unlink(f->tmp_path);
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

/* Closes the stream of an in-place or descriptor target: what was written is
 * there already, so only the flush and the close can still fail. */
static aecl_status commit_in_place(aecl_ctx *ctx, aecl_atomic_file *f)
{
    char eb[128];
    FILE *fp = f->fp;
    f->fp = NULL;
    errno = 0;
    int bad = ferror(fp) || fflush(fp) != 0, e = errno;
    if (fclose(fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    aecl_status st = bad ? aecl_fail(ctx, AECL_ERR_IO, "writing '%s' failed: %s", f->path,
                                     aecl_strerror(e ? e : EIO, eb, sizeof eb))
                         : AECL_OK;
    release(f);
    return st;
}

aecl_status aecl_atomic_commit(aecl_ctx *ctx, aecl_atomic_file *f)
{
    char eb[128];
    AECL_RETURN_IF(!f || !f->fp, AECL_ERR_STATE, ctx, "aecl_atomic_commit: file is not open");
    aecl_status st = AECL_OK;
    if (f->failed) {
        st = aecl_fail(ctx, AECL_ERR_IO, "%s '%s': an earlier write failed", f->tmp_path ? "not replacing" :
                       "not finishing", f->path);
        aecl_atomic_abort(f);
        return st;
    }
    if (!f->tmp_path) return commit_in_place(ctx, f);
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
    (void)fchmod(fd, target_mode(f->target));
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
    if (rename(f->tmp_path, f->target) != 0) {
        int e = errno;
        unlink(f->tmp_path);
        st = aecl_fail(ctx, AECL_ERR_IO, "cannot replace '%s': %s", f->target,
                       aecl_strerror(e, eb, sizeof eb));
        release(f);
        return st;
    }
    sync_parent_dir(f->target);
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
