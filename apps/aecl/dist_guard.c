/* The watchdog, the rank prefix of error lines and the test hooks of a job of
 * N > 1 ranks (dist_guard.h). */
#define _GNU_SOURCE /* fopencookie: a stderr that prefixes each line */
#include "dist_guard.h"

#include <errno.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
    const char *cmd;
    int rank;
    int thread_abort;
    /* stderr */
    int at_line_start, quiet;
    int hold;                 /* lines kept in held[] until the ranks agree to start */
    char *held;
    size_t n_held, cap_held;
    /* hooks: rank and collective number, -1 = off */
    long fail_rank, fail_call, hang_rank, hang_call;
    long calls;               /* collectives begun */
    int stats;                /* AECL_TEST_DIST_STATS: print the tally at the end */
    struct { const char *what, *unit; long calls; size_t n; } tally[8];
    /* watchdog: `since` > 0 while a collective runs (under mu) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int running, stop;
    double since, timeout;
    char what[128];
} gd = {.mu = PTHREAD_MUTEX_INITIALIZER, .fail_rank = -1, .hang_rank = -1, .at_line_start = 1};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- stderr: "aecl CMD: rank R: message" ---------------------------------------- */

static void write_all(const char *s, size_t n)
{
    if (gd.hold) {
        if (gd.n_held + n > gd.cap_held) {
            size_t cap = 2 * (gd.n_held + n);
            char *p = realloc(gd.held, cap);
            if (!p) return; /* out of memory: the line is lost, not the run */
            gd.held = p;
            gd.cap_held = cap;
        }
        memcpy(gd.held + gd.n_held, s, n);
        gd.n_held += n;
        return;
    }
    while (n > 0) {
        ssize_t k = write(2, s, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return;
        s += k;
        n -= (size_t)k;
    }
}

/* The rank goes after the program's "aecl CMD: " when a line starts with it,
 * else in front. Each line leaves in one write: mpirun forwards every rank's
 * writes as they come, so a line written in pieces could be split by another
 * rank's. Lines come whole (line buffering) but need not. */
static ssize_t prefix_write(void *cookie, const char *buf, size_t size)
{
    if (gd.quiet) return (ssize_t)size;
    char head[96], tag[32], line[4096];
    size_t hn = (size_t)snprintf(head, sizeof head, "aecl %s: ", gd.cmd);
    size_t tn = (size_t)snprintf(tag, sizeof tag, "rank %d: ", gd.rank);
    for (size_t i = 0; i < size;) {
        size_t k = 0;
        if (gd.at_line_start) {
            if (size - i >= hn && !memcmp(buf + i, head, hn)) {
                memcpy(line, head, hn);
                k = hn;
                i += hn;
            }
            memcpy(line + k, tag, tn);
            k += tn;
            gd.at_line_start = 0;
        }
        const char *nl = memchr(buf + i, '\n', size - i);
        size_t len = nl ? (size_t)(nl - (buf + i)) + 1 : size - i;
        if (len > sizeof line - k) len = sizeof line - k; /* a longer line goes in pieces */
        memcpy(line + k, buf + i, len);
        write_all(line, k + len);
        gd.at_line_start = buf[i + len - 1] == '\n';
        i += len;
    }
    return (ssize_t)size;
}

static void prefix_stderr(void)
{
    fflush(stderr);
    FILE *f = fopencookie(NULL, "w", (cookie_io_functions_t){.write = prefix_write});
    if (!f) return; /* unprefixed, still readable */
    setvbuf(f, NULL, _IOLBF, 1 << 16);
    stderr = f; /* glibc's stderr is a variable: every later fprintf(stderr) comes here */
}

void dist_guard_quiet(void)
{
    dist_guard_release(0);
    gd.quiet = 1;
}

void dist_guard_release(int show)
{
    fflush(stderr);
    if (!gd.hold) return;
    gd.hold = 0;
    if (show) write_all(gd.held, gd.n_held);
    free(gd.held);
    gd.held = NULL;
    gd.n_held = gd.cap_held = 0;
}

/* ---- test hooks ------------------------------------------------------------------- */

/* "R" or "R:K" into rank and call (K defaults to 1); anything else leaves them off. */
static void read_hook(const char *name, long *rank, long *call)
{
    const char *s = getenv(name);
    if (!s || !*s) return;
    char *end;
    long r = strtol(s, &end, 10), k = 1;
    if (*end == ':') k = strtol(end + 1, &end, 10);
    if (*end || r < 0 || k < 1) {
        fprintf(stderr, "aecl %s: warning: %s='%s' is not R or R:K (rank, collective); ignored\n", gd.cmd, name, s);
        return;
    }
    *rank = r;
    *call = k;
}

/* Each kind of collective: how many, how many elements in all. */
static void count(const char *what, const char *unit, size_t n)
{
    for (int i = 0; i < 8; i++) {
        if (gd.tally[i].what && (strcmp(gd.tally[i].what, what) || strcmp(gd.tally[i].unit, unit))) continue;
        gd.tally[i].what = what;
        gd.tally[i].unit = unit;
        gd.tally[i].calls++;
        gd.tally[i].n += n;
        return;
    }
}

static void print_tally(void)
{
    fprintf(stderr, "aecl %s: AECL_TEST_DIST_STATS: %ld collectives:", gd.cmd, gd.calls);
    for (int i = 0; i < 8 && gd.tally[i].what; i++)
        fprintf(stderr, "%s %ld %s of %zu %s", i ? "," : "", gd.tally[i].calls, gd.tally[i].what, gd.tally[i].n,
                gd.tally[i].unit);
    fprintf(stderr, "\n");
}

/* ---- the watchdog ----------------------------------------------------------------- */

static void expire(const char *what, double timeout)
{
    dist_guard_release(1); /* the main thread waits in the collective: nothing else writes */
    fprintf(stderr, "aecl %s: %s has waited over %g s (--dist-timeout): another rank hung, died or is far "
            "slower; ending the job\n", gd.cmd, what, timeout);
    fflush(stderr);
    if (gd.thread_abort) MPI_Abort(MPI_COMM_WORLD, 1);
    _exit(1); /* without MPI_THREAD_MULTIPLE: mpirun ends the job when a rank exits unfinalised */
}

static void *watch(void *arg)
{
    pthread_mutex_lock(&gd.mu);
    while (!gd.stop) {
        if (gd.since > 0 && now() - gd.since >= gd.timeout) {
            char what[sizeof gd.what];
            double timeout = gd.timeout;
            memcpy(what, gd.what, sizeof what);
            pthread_mutex_unlock(&gd.mu);
            expire(what, timeout);
        }
        if (gd.since > 0) {
            double at = gd.since + gd.timeout;
            struct timespec ts = {.tv_sec = (time_t)at, .tv_nsec = (long)((at - (double)(time_t)at) * 1e9)};
            pthread_cond_timedwait(&gd.cv, &gd.mu, &ts);
        } else {
            pthread_cond_wait(&gd.cv, &gd.mu);
        }
    }
    pthread_mutex_unlock(&gd.mu);
    return NULL;
}

void dist_guard_start(const char *cmd, int rank, int thread_abort)
{
    gd.cmd = cmd;
    gd.rank = rank;
    gd.thread_abort = thread_abort;
    gd.timeout = DIST_DEFAULT_TIMEOUT;
    gd.hold = 1;
    prefix_stderr();
    read_hook("AECL_TEST_DIST_FAIL", &gd.fail_rank, &gd.fail_call);
    read_hook("AECL_TEST_DIST_HANG", &gd.hang_rank, &gd.hang_call);
    gd.stats = getenv("AECL_TEST_DIST_STATS") != NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* deadlines on now()'s clock */
    pthread_cond_init(&gd.cv, &ca);
    pthread_condattr_destroy(&ca);
    gd.running = pthread_create(&gd.thread, NULL, watch, NULL) == 0;
    if (!gd.running)
        fprintf(stderr, "aecl %s: warning: no watchdog thread: a hung rank will not end the job\n", cmd);
}

void dist_guard_timeout(double seconds)
{
    pthread_mutex_lock(&gd.mu);
    gd.timeout = seconds;
    pthread_mutex_unlock(&gd.mu);
}

void dist_guard_stop(void)
{
    dist_guard_release(1);
    if (gd.stats) print_tally();
    if (!gd.running) return;
    pthread_mutex_lock(&gd.mu);
    gd.stop = 1;
    pthread_cond_signal(&gd.cv);
    pthread_mutex_unlock(&gd.mu);
    pthread_join(gd.thread, NULL);
    gd.running = 0;
}

aecl_status dist_guard_begin(const char *what, size_t n, const char *unit)
{
    long call = ++gd.calls;
    count(what, unit, n);
    pthread_mutex_lock(&gd.mu);
    snprintf(gd.what, sizeof gd.what, "%s of %zu %s (collective %ld)", what, n, unit, call);
    if (gd.rank == gd.fail_rank && call == gd.fail_call) {
        pthread_mutex_unlock(&gd.mu);
        fprintf(stderr, "aecl %s: AECL_TEST_DIST_FAIL: %s fails here on purpose\n", gd.cmd, gd.what);
        return AECL_ERR_IO;
    }
    gd.since = now();
    pthread_cond_signal(&gd.cv);
    pthread_mutex_unlock(&gd.mu);
    if (gd.rank == gd.hang_rank && call == gd.hang_call)
        for (;;) sleep(60); /* AECL_TEST_DIST_HANG: the watchdog ends this */
    return AECL_OK;
}

aecl_status dist_guard_end(const char *mpi_error)
{
    pthread_mutex_lock(&gd.mu);
    gd.since = 0;
    pthread_mutex_unlock(&gd.mu);
    if (!mpi_error) return AECL_OK;
    fprintf(stderr, "aecl %s: %s failed: %s\n", gd.cmd, gd.what, mpi_error);
    return AECL_ERR_IO;
}
