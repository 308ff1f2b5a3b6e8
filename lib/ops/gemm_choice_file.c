/* The file of GEMM path choices: reading, and adding a line without losing the
 * lines other processes add at the same time (gemm_choice_file.h). */
#define _POSIX_C_SOURCE 200809L
#include "ops/gemm_choice_file.h"
#include "base/atomic.h"
#include "rt/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Windows without Cygwin/MSYS has neither fcntl locks nor (always) pthreads:
 * there the rewrite runs unlocked, and a lost line costs one measurement. */
#if defined(_WIN32) && !defined(__CYGWIN__)
#define CHOICE_LOCKS 0
#else
#define CHOICE_LOCKS 1
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#endif

#define HEADER "# aecl gemm choices v1\n"
#define MAX_FILE_BYTES (4u << 20)
#define FIELD_CAP 256

/* ---- the lock ------------------------------------------------------------------ */

#if CHOICE_LOCKS
/* fcntl locks belong to the process: two threads of one process would both
 * "hold" the file lock (and closing either's descriptor drops it), so a mutex
 * orders the threads and the file lock orders the processes. */
static pthread_mutex_t choice_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Takes the lock of `file` ("<file>.lock", never removed: removing a lock file
 * lets two writers lock two different files). Returns the descriptor holding
 * it, or -1 when there is none (the caller goes on unlocked). */
static int lock_take(const char *file)
{
    pthread_mutex_lock(&choice_mutex);
    size_t n = strlen(file) + sizeof ".lock";
    char *path = malloc(n);
    if (!path) return -1;
    snprintf(path, n, "%s.lock", file);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(path);
    if (fd < 0) return -1;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;     /* start 0, length 0: the whole file */
    while (fcntl(fd, F_SETLKW, &fl) != 0)
        if (errno != EINTR) {   /* e.g. a file system without locks (ENOLCK) */
            close(fd);
            return -1;
        }
    return fd;
}

/* Closing the descriptor releases the file lock. */
static void lock_give(int fd)
{
    if (fd >= 0) close(fd);
    pthread_mutex_unlock(&choice_mutex);
}
#else
static int lock_take(const char *file)
{
    (void)file;
    return -1;
}
static void lock_give(int fd) { (void)fd; }
#endif

/* ---- reading ------------------------------------------------------------------- */

/* Device name and driver with tabs and newlines made spaces (they separate fields). */
static void field_text(const char *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s", s ? s : "");
    for (char *p = out; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r') *p = ' ';
}

static int same_key(const aecl_gemm_choice_key *a, const aecl_gemm_choice_key *b)
{
    return a->M == b->M && a->N == b->N && a->K == b->K && a->ta == b->ta && a->tb == b->tb && a->epi == b->epi;
}

/* The whole file, NUL-terminated, or NULL when missing, unreadable, too big or
 * without the header (a corrupt file counts as empty). */
static char *read_choices(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    /* As much as the file holds (never the 4 MB limit for a file of a few lines). */
    struct stat sb;
    size_t cap = fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size <= MAX_FILE_BYTES
                 ? (size_t)sb.st_size : 0;
    char *buf = cap ? malloc(cap + 1) : NULL;
    size_t n = buf ? fread(buf, 1, cap + 1, fp) : 0;
    int bad = ferror(fp) || n > cap;
    fclose(fp);
    if (!buf || bad || n < strlen(HEADER) || memcmp(buf, HEADER, strlen(HEADER))) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

/* Parses one line (without its newline). Returns 1 when well formed. */
static int parse_line(const char *line, char *dev, char *drv, size_t cap, aecl_gemm_choice_key *k,
                      aecl_gemm_path *path)
{
    const char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    if (!t1 || !t2 || (size_t)(t1 - line) >= cap || (size_t)(t2 - t1 - 1) >= cap) return 0;
    memcpy(dev, line, (size_t)(t1 - line));
    dev[t1 - line] = 0;
    memcpy(drv, t1 + 1, (size_t)(t2 - t1 - 1));
    drv[t2 - t1 - 1] = 0;
    char name[16];
    double own_us, clb_us;
    int used = 0;
    if (sscanf(t2 + 1, "%d %d %d %d %d %d\t%15s\t%lf\t%lf%n", &k->M, &k->N, &k->K, &k->ta, &k->tb, &k->epi, name,
               &own_us, &clb_us, &used) != 9 || t2[1 + used] != 0)
        return 0;
    if (k->M < 1 || k->N < 1 || k->K < 1 || (k->ta | k->tb | k->epi) & ~1) return 0;
    if (!strcmp(name, "own")) *path = AECL_GEMM_OWN;
    else if (!strcmp(name, "clblast")) *path = AECL_GEMM_CLBLAST;
    else return 0;
    return 1;
}

/* Which lines a walk looks at: this device's line for `key`. */
typedef struct match {
    const char *dev, *drv;
    const aecl_gemm_choice_key *key;
} match;

static int matches(const match *m, const char *dev, const char *drv, const aecl_gemm_choice_key *k)
{
    return !strcmp(dev, m->dev) && !strcmp(drv, m->drv) && same_key(k, m->key);
}

/* Calls fn for every well-formed line; stops when it returns nonzero. */
typedef int (*line_fn)(void *user, const char *line, int is_match, aecl_gemm_path path);
static void each_line(char *text, const match *m, line_fn fn, void *user)
{
    char *p = text + strlen(HEADER), dev[FIELD_CAP], drv[FIELD_CAP];
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        aecl_gemm_choice_key k;
        aecl_gemm_path path;
        int stop = *p != '#' && parse_line(p, dev, drv, sizeof dev, &k, &path) &&
                   fn(user, p, matches(m, dev, drv, &k), path);
        if (nl) *nl = '\n';
        if (stop || !nl) break;
        p = nl + 1;
    }
}

typedef struct found {
    aecl_gemm_path path;
    int any;
} found;

static int find_fn(void *user, const char *line, int is_match, aecl_gemm_path path)
{
    (void)line;
    found *f = user;
    if (!is_match) return 0;
    f->path = path;
    f->any = 1;
    return 1;
}

int aecl_gemm_choice_file_find(const char *file, const char *device, const char *driver,
                               const aecl_gemm_choice_key *key, aecl_gemm_path *out)
{
    char dev[FIELD_CAP], drv[FIELD_CAP];
    char *text = read_choices(file);
    if (!text) return 0;
    field_text(device, dev, sizeof dev);
    field_text(driver, drv, sizeof drv);
    match m = {dev, drv, key};
    found f = {AECL_GEMM_OWN, 0};
    each_line(text, &m, find_fn, &f);
    free(text);
    if (f.any) *out = f.path;
    return f.any;
}

/* ---- adding -------------------------------------------------------------------- */

/* Copies every well-formed line but the one being replaced. */
static int keep_fn(void *user, const char *line, int is_match, aecl_gemm_path path)
{
    (void)path;
    if (!is_match) fprintf(user, "%s\n", line);
    return 0;
}

/* The new file: the header, the current file's other lines, the new line. */
static aecl_status write_choices(aecl_ctx *ctx, const char *file, const aecl_gemm_choice_line *l)
{
    char dev[FIELD_CAP], drv[FIELD_CAP];
    field_text(l->device, dev, sizeof dev);
    field_text(l->driver, drv, sizeof drv);
    aecl_atomic_file f;
    AECL_TRY(aecl_atomic_open(ctx, file, &f));
    fputs(HEADER, f.fp);
    /* Read under the lock, just before the rename: what other writers added is kept. */
    char *old = read_choices(file);
    if (old) {
        match m = {dev, drv, &l->key};
        each_line(old, &m, keep_fn, f.fp);
        free(old);
    }
    const aecl_gemm_choice_key *k = &l->key;
    fprintf(f.fp, "%s\t%s\t%d %d %d %d %d %d\t%s\t%.1f\t%.1f\n", dev, drv, k->M, k->N, k->K, k->ta, k->tb, k->epi,
            l->path == AECL_GEMM_CLBLAST ? "clblast" : "own", l->own_us, l->clblast_us);
    /* A new file (mode 0644, readable by others sharing the cache), renamed over
     * the old one; commit also refuses a stream with a write error. */
    return aecl_atomic_commit(ctx, &f);
}

aecl_status aecl_gemm_choice_file_add(aecl_ctx *ctx, const char *file, const aecl_gemm_choice_line *line)
{
    int lock = lock_take(file);
    aecl_status st = write_choices(ctx, file, line);
    lock_give(lock);
    return st;
}
