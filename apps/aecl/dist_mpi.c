/* dist.h with MPI: the job, the communicator aecl_train uses, and the ends of a
 * job (a shared failure, a rank failing alone). The watchdog, the rank prefix
 * of error lines and the test hooks are in dist_guard.c. */
#include "dist_guard.h"

#include <fcntl.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    int active;               /* a job of size > 1: MPI is in use */
    int initialised;          /* MPI_Init_thread was called (size 1 jobs too) */
    int rank, size;
    int agreed;               /* a failure every rank shares (dist_agree, dist_begin) */
    int started;              /* the ranks agreed to start training (agree_start) */
    int batch;                /* the global batch (dist_begin) */
    char *devices;            /* rank 0: every rank's host and device, DESC bytes each */
    MPI_Comm comm;            /* aecl's duplicate of MPI_COMM_WORLD (errors returned) */
    aecl_comm c;
} g;

int dist_rank(void) { return g.rank; }
int dist_size(void) { return g.active ? g.size : 1; }
const aecl_comm *dist_comm(void) { return g.active ? &g.c : NULL; }

/* ---- collectives ------------------------------------------------------------- */

/* MPI counts are ints: larger arrays go in pieces of this many elements. */
enum { CHUNK = 1 << 30 };

static aecl_status finish(int rc)
{
    if (rc == MPI_SUCCESS) return dist_guard_end(NULL);
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS) snprintf(s, sizeof s, "MPI error %d", rc);
    return dist_guard_end(s);
}

static aecl_status allreduce(void *data, size_t n, MPI_Datatype type, size_t elem, const char *unit)
{
    AECL_TRY(dist_guard_begin("MPI_Allreduce", n, unit));
    int rc = MPI_SUCCESS;
    for (size_t off = 0; off < n && rc == MPI_SUCCESS; off += CHUNK) {
        size_t k = n - off < CHUNK ? n - off : CHUNK;
        rc = MPI_Allreduce(MPI_IN_PLACE, (char *)data + off * elem, (int)k, type, MPI_SUM, g.comm);
    }
    return finish(rc);
}

static aecl_status allreduce_f32(void *user, float *data, size_t n)
{
    return allreduce(data, n, MPI_FLOAT, sizeof *data, "floats");
}

static aecl_status allreduce_f64(void *user, double *data, size_t n)
{
    return allreduce(data, n, MPI_DOUBLE, sizeof *data, "doubles");
}

static aecl_status broadcast(void *user, void *data, size_t bytes, int root)
{
    AECL_TRY(dist_guard_begin("MPI_Bcast", bytes, "bytes"));
    int rc = MPI_SUCCESS;
    for (size_t off = 0; off < bytes && rc == MPI_SUCCESS; off += CHUNK) {
        size_t k = bytes - off < CHUNK ? bytes - off : CHUNK;
        rc = MPI_Bcast((char *)data + off, (int)k, MPI_BYTE, root, g.comm);
    }
    return finish(rc);
}

/* ---- the job ------------------------------------------------------------------ */

static int agree_start(int failed);

/* 0, or 2 after a message when the job cannot run. */
static int start(const char *cmd, int *argc, char ***argv)
{
    int provided = MPI_THREAD_SINGLE;
    /* The watchdog thread calls MPI_Abort while the main thread waits in a
     * collective: that needs MPI_THREAD_MULTIPLE (else it ends the process). */
    MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided);
    g.initialised = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g.size);
    long launched = dist_env_size();
    if (g.size == 1 && launched > 1) {
        /* Another MPI's launcher: each process would train alone and write the same files. */
        if (dist_env_rank() == 0)
            fprintf(stderr, "aecl %s: started as one of %ld ranks, but MPI sees a job of 1: the launcher is not "
                    "the one of the MPI aecl was built with (Open MPI's mpirun)\n", cmd, launched);
        return 2;
    }
    if (g.size < 2) return 0;
    MPI_Comm_dup(MPI_COMM_WORLD, &g.comm);
    /* A failing collective returns its error to the callback, which turns it
     * into a status and a message naming the call. */
    MPI_Comm_set_errhandler(g.comm, MPI_ERRORS_RETURN);
    g.c = (aecl_comm){.rank = g.rank, .size = g.size, .allreduce_f32 = allreduce_f32,
                      .allreduce_f64 = allreduce_f64, .broadcast = broadcast};
    g.active = 1;
    /* Rank 0 speaks for the job; the others' lines would repeat its own. */
    int null = g.rank > 0 ? open("/dev/null", O_WRONLY) : -1;
    if (null >= 0) { dup2(null, 1); close(null); }
    dist_guard_start(cmd, g.rank, provided >= MPI_THREAD_MULTIPLE);
    return 0;
}

/* A failure of this rank alone: the others may be waiting in a collective for
 * it, so the whole job ends here (mpirun ends every rank). */
static void abort_job(int rc)
{
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, rc);
    _exit(rc); /* not reached */
}

int dist_main(const char *cmd, int (*run)(int, char **), int argc, char **argv)
{
    if (dist_env_size() < 0) return run(argc, argv); /* not started by a launcher */
    int rc = start(cmd, &argc, &argv);
    if (rc == 0) rc = run(argc, argv);
    if (rc != 0 && g.active && !g.started && agree_start(1) >= 0) g.agreed = 1;
    if (rc != 0 && g.active && !g.agreed) abort_job(rc);
    dist_guard_stop();
    free(g.devices);
    fflush(stdout);
    if (g.active) MPI_Comm_free(&g.comm);
    if (g.initialised) MPI_Finalize();
    return rc;
}

/* ---- before and after training ------------------------------------------------- */

/* The first collective of a job, made by every rank: by dist_begin when this
 * rank is ready to train, by dist_main when its command failed before that.
 * Returns the lowest rank that failed (g.size: none), or -1 when the collective
 * itself failed. The failing rank with that number shows its held error lines,
 * every other rank drops its own (the same mistake made by every rank is said
 * once), and the job ends without MPI_Abort. */
static int agree_start(int failed)
{
    int first = failed ? g.rank : g.size;
    aecl_status st = dist_guard_begin("MPI_Allreduce", 1, "ints (the ranks' readiness)");
    if (st == AECL_OK) st = finish(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, g.comm));
    g.started = 1;
    if (st != AECL_OK) {
        dist_guard_release(1);
        return -1;
    }
    dist_guard_release(first == g.size || first == g.rank);
    return first;
}

/* A failure every rank finds the same way: rank 0 reports it for all (the
 * others fall quiet before the message is made: the library logs it). */
static void shared_failure(void)
{
    g.agreed = 1;
    if (g.rank > 0) dist_guard_quiet();
}

enum { DESC = 256 };

static void describe(aecl_ctx *ctx, char *out)
{
    char host[128] = "?";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = 0;
    const aecl_device_info *d = aecl_ctx_device(ctx);
    snprintf(out, DESC, "%s, device %u:%u %s", host, d->platform_index, d->device_index, d->name);
}

/* One line per run of consecutive ranks with the same host and device. */
void dist_print_header(void)
{
    if (!g.devices) return;
    const char *all = g.devices;
    printf("data-parallel on %d ranks (MPI): global batch %d, %d rows per rank per step\n", g.size, g.batch,
           g.batch / g.size);
    for (int r = 0; r < g.size;) {
        int e = r;
        while (e + 1 < g.size && !strcmp(all + (size_t)r * DESC, all + (size_t)(e + 1) * DESC)) e++;
        if (e == r) printf("  rank %d: %s\n", r, all + (size_t)r * DESC);
        else printf("  ranks %d-%d: %s\n", r, e, all + (size_t)r * DESC);
        r = e + 1;
    }
}

aecl_status dist_begin(aecl_ctx *ctx, int batch, double timeout)
{
    if (!g.active) return AECL_OK;
    if (batch % g.size) { /* every rank finds it: dist_main's agree_start reports it once */
        int lo = batch - batch % g.size, hi = lo + g.size;
        char alt[64];
        if (lo > 0) snprintf(alt, sizeof alt, "%d or %d", lo, hi);
        else snprintf(alt, sizeof alt, "%d", hi);
        return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "--batch %d: the batch is the global one, split evenly over the "
                         "%d ranks, so it must be divisible by %d (%s is)", batch, g.size, g.size, alt);
    }
    int first = agree_start(0);
    AECL_RETURN_IF(first < 0, AECL_ERR_IO, ctx, "the ranks could not agree to start (MPI_Allreduce)");
    if (first < g.size) { /* rank `first` failed and says why; this one says nothing */
        g.agreed = 1;
        dist_guard_quiet();
        return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "rank %d failed before training", first);
    }
    dist_guard_timeout(timeout > 0 ? timeout : DIST_DEFAULT_TIMEOUT);
    g.batch = batch;
    char mine[DESC], *all = g.rank == 0 ? malloc((size_t)g.size * DESC) : NULL;
    AECL_RETURN_IF(g.rank == 0 && !all, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    describe(ctx, mine);
    aecl_status st = dist_guard_begin("MPI_Gather", DESC, "bytes");
    if (st == AECL_OK) st = finish(MPI_Gather(mine, DESC, MPI_CHAR, all, DESC, MPI_CHAR, 0, g.comm));
    if (st != AECL_OK) free(all);
    AECL_RETURN_IF(st != AECL_OK, st, ctx, "the ranks could not exchange their devices (MPI_Gather)");
    free(g.devices);
    g.devices = all;
    return AECL_OK;
}

aecl_status dist_agree(aecl_ctx *ctx, aecl_status st)
{
    if (!g.active) return st;
    struct { int32_t st; char msg[4096]; } m = {.st = st};
    if (g.rank == 0 && st != AECL_OK) snprintf(m.msg, sizeof m.msg, "%s", aecl_ctx_last_error(ctx));
    aecl_status bst = broadcast(NULL, &m, sizeof m, 0);
    AECL_RETURN_IF(bst != AECL_OK, bst, ctx, "rank 0's result could not reach every rank (MPI_Bcast)");
    if (m.st == AECL_OK) return AECL_OK;
    shared_failure();
    return g.rank > 0 ? aecl_fail(ctx, (aecl_status)m.st, "%s", m.msg) : (aecl_status)m.st;
}
