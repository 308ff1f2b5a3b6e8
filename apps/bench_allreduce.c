/* bench_allreduce: what data-parallel training adds to each step, per model: the
 * gradients' device read, their MPI_Allreduce (in place, float sum) and the write
 * back, for each reference model's parameter count (docs/scaling.md). Each
 * repetition's phases are the slowest rank's; medians are printed. The summed
 * values are checked, and so is that every rank got the same bits.
 *
 * usage: mpirun -np N bench_allreduce [--device SEL] [--reps R] [MODEL...]
 *        (default: the four reference models under models/, 30 repetitions) */
#include "nn/spec.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PHASES = 4 }; /* read, all-reduce, write, all three */

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Rank r's value i: the sum over ranks is exact in float. */
static float value(size_t i, int r) { return (float)(i % 97) * 0.5f + (float)r; }

/* 1 when every rank holds the expected sums, bit for bit the same on all. */
static int check(const float *h, size_t n, int size)
{
    int ok = 1;
    for (size_t i = 0; i < n && ok; i += 997) {
        float want = 0;
        for (int r = 0; r < size; r++) want += value(i, r);
        ok = h[i] == want;
    }
    unsigned long long sum = 1469598103934665603ull, lo, hi; /* FNV-1a of the bits */
    const unsigned char *b = (const unsigned char *)h;
    for (size_t i = 0; i < n * sizeof *h; i++) sum = (sum ^ b[i]) * 1099511628211ull;
    MPI_Allreduce(&sum, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&sum, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    int all;
    ok = ok && lo == hi;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    return all;
}

/* A rank that fails ends the job: the others would wait for it. */
static void die(aecl_ctx *ctx, const char *what)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr, "bench_allreduce: rank %d: %s: %s\n", rank, what, aecl_ctx_last_error(ctx));
    MPI_Abort(MPI_COMM_WORLD, 1);
}

/* One repetition's phase times (s), the slowest rank's. */
static void once(aecl_ctx *ctx, aecl_buffer *buf, float *h, size_t n, double *t)
{
    size_t bytes = n * sizeof *h;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (aecl_buffer_download(buf, 0, h, bytes) != AECL_OK) die(ctx, "device read");
    double t1 = MPI_Wtime();
    MPI_Allreduce(MPI_IN_PLACE, h, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); /* errors are fatal */
    double t2 = MPI_Wtime();
    if (aecl_buffer_upload(buf, 0, h, bytes) != AECL_OK) die(ctx, "device write");
    double t3 = MPI_Wtime(), mine[PHASES] = {t1 - t0, t2 - t1, t3 - t2, t3 - t0};
    MPI_Allreduce(mine, t, PHASES, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
}

/* One model's gradients: a device buffer, its host copy and each repetition's phases. */
typedef struct grads {
    const char *path;
    size_t n;
    aecl_buffer *buf;
    float *h;
    double (*ph)[PHASES];
    int ok;                   /* the sums were right and the same on every rank */
} grads;

static void setup(aecl_ctx *ctx, grads *g, int reps, int rank, int size)
{
    aecl_model_spec *spec;
    if (aecl_spec_parse_file(ctx, g->path, &spec) != AECL_OK) die(ctx, g->path);
    g->n = (size_t)spec->n_params;
    aecl_spec_free(spec);
    g->h = malloc(g->n * sizeof *g->h);
    g->ph = malloc((size_t)reps * sizeof *g->ph);
    if (!g->h || !g->ph) die(ctx, "out of host memory");
    if (aecl_buffer_create(ctx, g->n, sizeof *g->h, &g->buf) != AECL_OK) die(ctx, "device buffer");
    for (size_t i = 0; i < g->n; i++) g->h[i] = value(i, rank);
    if (aecl_buffer_upload(g->buf, 0, g->h, g->n * sizeof *g->h) != AECL_OK) die(ctx, "device write");
    double t[PHASES];
    once(ctx, g->buf, g->h, g->n, t);
    g->ok = check(g->h, g->n, size);
}

static void report(const grads *g, int reps, int size)
{
    if (!g->ok) {
        fprintf(stderr, "bench_allreduce: %s: wrong sums, or ranks that differ\n", g->path);
        return;
    }
    double m[PHASES], v[256];
    for (int k = 0; k < PHASES; k++) {
        for (int i = 0; i < reps; i++) v[i] = g->ph[i][k];
        m[k] = median(v, reps);
    }
    size_t bytes = g->n * sizeof *g->h;
    double bus = 2.0 * (size - 1) / size * (double)bytes / m[1] / 1e9;
    const char *base = strrchr(g->path, '/');
    printf("%-16s %10zu %8.2f %9.3f %10.3f %9.3f %9.3f %9.2f\n", base ? base + 1 : g->path, g->n,
           bytes / 1048576.0, m[0] * 1e3, m[1] * 1e3, m[2] * 1e3, m[3] * 1e3, bus);
}

/* The models take turns in every repetition, so a burst of load on this shared
 * machine falls on all of them alike. */
static int bench(aecl_ctx *ctx, const char *const *paths, int n, int reps, int rank, int size)
{
    grads *g = calloc((size_t)n, sizeof *g);
    if (!g) die(ctx, "out of host memory");
    for (int j = 0; j < n; j++) {
        g[j].path = paths[j];
        setup(ctx, &g[j], reps, rank, size);
    }
    double t[PHASES];
    for (int j = 0; j < n; j++) once(ctx, g[j].buf, g[j].h, g[j].n, t); /* warm-up */
    for (int i = 0; i < reps; i++)
        for (int j = 0; j < n; j++) {
            once(ctx, g[j].buf, g[j].h, g[j].n, t);
            memcpy(g[j].ph[i], t, sizeof t);
        }
    int ok = 1;
    for (int j = 0; j < n; j++) {
        if (rank == 0) report(&g[j], reps, size);
        ok &= g[j].ok;
        aecl_buffer_free(g[j].buf);
        free(g[j].h);
        free(g[j].ph);
    }
    free(g);
    return ok;
}

/* The latency term: the median all-reduce of one float, in microseconds. */
static double latency_us(int reps)
{
    double v[256], x = 1;
    for (int i = 0; i < reps; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime(), mine, t;
        MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        mine = MPI_Wtime() - t0;
        MPI_Allreduce(&mine, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        v[i] = t;
    }
    return median(v, reps) * 1e6;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, reps = 30, first = 1, ok = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *device = NULL;
    for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
        if (!strcmp(argv[first], "--device")) device = argv[first + 1];
        else if (!strcmp(argv[first], "--reps")) reps = atoi(argv[first + 1]);
    }
    if (reps < 1 || reps > 256) reps = 30;
    static const char *const defaults[] = {"models/mlp.model", "models/denoising.model", "models/vae.model",
                                           "models/conv.model"};
    const char *const *models = first < argc ? (const char *const *)argv + first : defaults;
    int nmodels = first < argc ? argc - first : 4;
    aecl_ctx *ctx;
    if (aecl_ctx_create(device, &ctx) != AECL_OK) {
        fprintf(stderr, "bench_allreduce: rank %d: %s\n", rank, aecl_ctx_last_error(NULL));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0) {
        printf("%d ranks, device %s; medians of %d repetitions (each the slowest rank's; the models take "
               "turns)\n", size, aecl_ctx_device(ctx)->name, reps);
        printf("%-16s %10s %8s %9s %10s %9s %9s %9s\n", "model", "gradients", "MiB", "read ms", "allreduce", "write ms",
               "total ms", "bus GB/s");
    }
    ok = bench(ctx, models, nmodels, reps, rank, size);
    double lat = latency_us(reps);
    if (rank == 0) printf("MPI_Allreduce of one value: %.1f us\n", lat);
    aecl_ctx_free(ctx);
    if (!ok) MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Finalize();
    return 0;
}
