/* bench_dist: what data-parallel training's gradient sum costs per step, and how
 * much of it the overlap with the backward pass hides. RANKS threads, each with
 * a context on its own device (the i-th device whose name, vendor or platform
 * contains SELECTOR, round robin), joined by the thread communicator, train
 * MODEL on random rows for STEPS steps of the global BATCH in three modes:
 *   alone    the plan's step without any collective (the floor)
 *   sync     one sum of all gradients after the backward pass (no overlap)
 *   overlap  buckets summed on a communication thread during the backward pass
 * (interleaved step by step) and print, on rank 0, the median step time (queue
 * drained), per step the time
 * spent weighting and summing the gradients on the host once read (comm), the
 * step's cost over `alone` (the sum as the step sees it: reads, comm, writes),
 * and what the overlap hides (sync's step time minus overlap's).
 * usage: bench_dist [MODEL] [BATCH] [STEPS] [RANKS] [SELECTOR]
 *        (default models/mlp.model 128 30 2 "Portable Computing Language";
 *        run with POCL_DEVICES="pthread pthread" for two PoCL devices) */
#include "nn/comm_threads.h"
#include "nn/net.h"
#include "nn/train_dist.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_RANKS = 8, MODES = 3 };
static const char *const mode_names[MODES] = {"alone", "sync", "overlap"};

typedef struct job {
    const aecl_model_spec *spec;
    aecl_comm *comm;
    char device[32];
    int share, batch, steps, failed;
    double median[MODES], comm_ms[MODES];
    int buckets[MODES];
    size_t floats;
} job;

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The modes' steps interleaved (alone, sync, overlap, alone, ...), each timed
 * with the queue drained, so that the machine's load drifts over all three
 * alike; the collectives' figures count from the end of 3 warm-up rounds. */
static aecl_status time_modes(job *j, aecl_ctx *ctx, aecl_net *n, double *t)
{
    aecl_dist *d[MODES] = {NULL};
    aecl_dist_stats s0[MODES], s;
    aecl_status st = AECL_OK;
    for (int m = 1; m < MODES && st == AECL_OK; m++) {
        st = aecl_dist_open(ctx, j->comm, j->share, m == 2, &d[m]);
        if (st == AECL_OK) st = aecl_dist_set_plan(d[m], n->plan, AECL_OK);
    }
    for (int i = -3; i < j->steps && st == AECL_OK; i++)
        for (int m = 0; m < MODES && st == AECL_OK; m++) {
            if (i == 0 && d[m]) aecl_dist_get_stats(d[m], &s0[m]);
            double t0 = aecl_now_s();
            st = d[m] ? aecl_dist_step(d[m], j->share, j->batch, AECL_OK) : aecl_plan_run(n->plan);
            if (st == AECL_OK) st = aecl_ctx_finish(ctx);
            if (i >= 0) t[m * j->steps + i] = aecl_now_s() - t0;
        }
    for (int m = 0; m < MODES; m++) {
        if (d[m] && st == AECL_OK) {
            aecl_dist_get_stats(d[m], &s);
            j->comm_ms[m] = 1e3 * (s.comm_s - s0[m].comm_s) / (double)(s.steps - s0[m].steps);
            j->buckets[m] = s.buckets;
            j->floats = s.floats;
        }
        aecl_dist_close(d[m]);
    }
    if (st != AECL_OK) return st;
    for (int m = 0; m < MODES; m++) {
        double *tm = t + m * j->steps;
        qsort(tm, (size_t)j->steps, sizeof *tm, cmp);
        j->median[m] = 1e3 * tm[j->steps / 2];
    }
    return AECL_OK;
}

static void *rank_main(void *arg)
{
    job *j = arg;
    aecl_ctx *ctx = NULL;
    aecl_net *n = NULL;
    double *t = malloc((size_t)MODES * j->steps * sizeof *t);
    aecl_status st = t ? aecl_ctx_create(j->device, &ctx) : AECL_ERR_HOST_MEMORY;
    if (st == AECL_OK) st = aecl_net_build(ctx, j->spec, j->share, AECL_NET_TRAIN, 1, &n);
    if (st == AECL_OK) st = aecl_net_init_params(n, 1);
    if (st == AECL_OK) {
        size_t nx = (size_t)j->share * n->features;
        float *x = malloc(nx * sizeof *x);
        unsigned s = 1;
        for (size_t i = 0; x && i < nx; i++) x[i] = (float)((s = s * 1103515245u + 12345u) >> 8) / 16777216.0f;
        st = x ? aecl_plan_write(n->plan, n->x, x) : AECL_ERR_HOST_MEMORY;
        free(x);
    }
    if (st == AECL_OK) st = time_modes(j, ctx, n, t);
    if (st != AECL_OK) {
        fprintf(stderr, "bench_dist, rank %d: %s\n", j->comm->rank, aecl_ctx_last_error(ctx));
        j->failed = 1;
    }
    free(t);
    aecl_net_free(n);
    aecl_ctx_free(ctx);
    return NULL;
}

/* The i-th device matching sel ("P:D"), round robin over the matches. */
static int pick_device(const char *sel, int i, char *out, size_t cap)
{
    aecl_device_info *info = NULL;
    size_t n = 0, matches = 0;
    if (aecl_devices_list(&info, &n) != AECL_OK) return 0;
    for (size_t k = 0; k < n; k++)
        matches += strstr(info[k].platform_name, sel) || strstr(info[k].name, sel) || strstr(info[k].vendor, sel);
    for (size_t k = 0, m = 0; k < n && matches; k++)
        if (strstr(info[k].platform_name, sel) || strstr(info[k].name, sel) || strstr(info[k].vendor, sel))
            if (m++ == (size_t)i % matches) snprintf(out, cap, "%u:%u", info[k].platform_index, info[k].device_index);
    free(info);
    return (int)matches;
}

int main(int argc, char **argv)
{
    const char *model = argc > 1 ? argv[1] : "models/mlp.model";
    int batch = argc > 2 ? atoi(argv[2]) : 128, steps = argc > 3 ? atoi(argv[3]) : 30;
    int ranks = argc > 4 ? atoi(argv[4]) : 2;
    const char *sel = argc > 5 ? argv[5] : "Portable Computing Language";
    if (ranks < 1 || ranks > MAX_RANKS || steps < 1 || batch < ranks || batch % ranks) {
        fprintf(stderr, "bench_dist: need 1 <= RANKS <= %d dividing BATCH, STEPS >= 1\n", MAX_RANKS);
        return 1;
    }
    aecl_model_spec *spec = NULL;
    aecl_comm_threads *ct = NULL;
    if (aecl_spec_parse_file(NULL, model, &spec) != AECL_OK || aecl_comm_threads_create(ranks, &ct) != AECL_OK) {
        fprintf(stderr, "bench_dist: %s\n", aecl_ctx_last_error(NULL));
        return 1;
    }
    job jobs[MAX_RANKS];
    pthread_t th[MAX_RANKS];
    int devices = 0;
    for (int r = 0; r < ranks; r++) {
        jobs[r] = (job){.spec = spec, .comm = aecl_comm_threads_rank(ct, r), .share = batch / ranks, .batch = batch,
                        .steps = steps};
        devices = pick_device(sel, r, jobs[r].device, sizeof jobs[r].device);
    }
    if (!devices) {
        fprintf(stderr, "bench_dist: no device matches '%s'\n", sel);
        return 1;
    }
    for (int r = 0; r < ranks; r++) pthread_create(&th[r], NULL, rank_main, &jobs[r]);
    for (int r = 0; r < ranks; r++) pthread_join(th[r], NULL);
    int failed = 0;
    for (int r = 0; r < ranks; r++) failed |= jobs[r].failed;
    if (!failed) {
        const job *j = &jobs[0];
        printf("%s, global batch %d on %d ranks (%d device%s), %zu gradient floats, median of %d steps\n", model, batch,
               ranks, devices, devices > 1 ? "s" : "", j->floats, steps);
        printf("%-8s %8s %8s %8s %9s %9s\n", "mode", "buckets", "step ms", "comm ms", "over ms", "hidden ms");
        printf("%-8s %8s %8.2f\n", mode_names[0], "-", j->median[0]);
        for (int m = 1; m < MODES; m++) {
            printf("%-8s %8d %8.2f %8.2f %9.2f", mode_names[m], j->buckets[m], j->median[m], j->comm_ms[m],
                   j->median[m] - j->median[0]);
            if (m == 2) printf(" %9.2f", j->median[1] - j->median[2]);
            putchar('\n');
        }
    }
    aecl_comm_threads_free(ct);
    aecl_spec_free(spec);
    return failed;
}
