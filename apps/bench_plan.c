/* bench_plan: memory plan and step costs of a model's training and inference
 * plans. Prints planned peak vs unplanned device bytes, launches per step, host
 * enqueue time vs device time per step (event profiling), and samples/s.
 * usage: bench_plan [MODEL] [BATCH] [STEPS]   (default models/mlp.model 128 30) */
#include "nn/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net_mode mode, int steps)
{
    aecl_net *n;
    if (aecl_net_build(ctx, spec, batch, mode, 1, &n) != AECL_OK || aecl_net_init_params(n, 1) != AECL_OK) {
        fprintf(stderr, "bench_plan: %s\n", aecl_ctx_last_error(ctx));
        return 1;
    }
    const aecl_plan_stats *s = aecl_plan_get_stats(n->plan);
    int nl = aecl_plan_launch_count(n->plan);
    double *host = calloc((size_t)steps, sizeof *host), *dev = calloc((size_t)steps, sizeof *dev),
           *wall = calloc((size_t)steps, sizeof *wall), *t = calloc((size_t)nl, sizeof *t);
    for (int i = 0; i < 3; i++) aecl_plan_run(n->plan); /* warm-up */
    aecl_ctx_finish(ctx);
    for (int i = 0; i < steps; i++) {
        double t0 = aecl_now_s();
        aecl_plan_run(n->plan);
        double t1 = aecl_now_s();
        aecl_ctx_finish(ctx);
        host[i] = t1 - t0;
        wall[i] = aecl_now_s() - t0;
        memset(t, 0, (size_t)nl * sizeof *t);
        aecl_plan_run_profiled(n->plan, t);
        for (int k = 0; k < nl; k++) dev[i] += t[k];
    }
    qsort(host, (size_t)steps, sizeof *host, cmp);
    qsort(dev, (size_t)steps, sizeof *dev, cmp);
    qsort(wall, (size_t)steps, sizeof *wall, cmp);
    printf("%s plan, batch %d:\n", mode == AECL_NET_TRAIN ? "training" : "inference", batch);
    printf("  device memory: planned %.2f MiB (persistent %.2f + work arena %.2f), unplanned %.2f MiB (%.2fx)\n",
           (s->persist_bytes + s->work_bytes) / 1048576.0, s->persist_bytes / 1048576.0, s->work_bytes / 1048576.0,
           s->unplanned_bytes / 1048576.0, (double)s->unplanned_bytes / (double)(s->persist_bytes + s->work_bytes));
    printf("  launches per step: %d (%d tensors computed in place)\n", s->n_launches, s->n_inplace);
    printf("  per step (median of %d): host enqueue %.3f ms, device %.3f ms, wall %.3f ms -> %.0f samples/s\n", steps,
           host[steps / 2] * 1e3, dev[steps / 2] * 1e3, wall[steps / 2] * 1e3, batch / wall[steps / 2]);
    free(host); free(dev); free(wall); free(t);
    aecl_net_free(n);
    return 0;
}

int main(int argc, char **argv)
{
    const char *model = argc > 1 ? argv[1] : "models/mlp.model";
    int batch = argc > 2 ? atoi(argv[2]) : 128, steps = argc > 3 ? atoi(argv[3]) : 30;
    aecl_ctx *ctx;
    aecl_model_spec *spec;
    if (aecl_ctx_create(NULL, &ctx) != AECL_OK) { fprintf(stderr, "bench_plan: %s\n", aecl_ctx_last_error(NULL)); return 1; }
    if (aecl_spec_parse_file(ctx, model, &spec) != AECL_OK) { fprintf(stderr, "bench_plan: %s\n", aecl_ctx_last_error(ctx)); return 1; }
    printf("%s on %s\n", model, aecl_ctx_device(ctx)->name);
    int rc = bench(ctx, spec, batch, AECL_NET_TRAIN, steps) || bench(ctx, spec, batch, AECL_NET_EVAL, steps);
    aecl_spec_free(spec);
    aecl_ctx_free(ctx);
    return rc;
}
