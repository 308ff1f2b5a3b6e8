/* bench_alone: each launch of a model's step timed inside the step and alone, at
 * the same moments, so that the machine's load hits both alike. After every
 * profiled step each launch runs twice more on its own and the second run is
 * timed: its operands are then in the cache. A launch much slower in the step
 * than alone waits on memory that the rest of the step moved out of the cache.
 * usage: bench_alone [MODEL] [BATCH] [STEPS] [train|infer]
 *        (default models/conv.model 128 31 train; infer: the reconstruction net;
 *        device: $AECL_DEVICE; launches under 0.02 ms in the step are left out) */
#include "nn/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* steps rows of n launches: in[s * n + i] in the step, alone[s * n + i] alone */
static int measure(aecl_plan *p, int n, int steps, double *in, double *alone)
{
    for (int s = 0; s < steps; s++) {
        if (aecl_plan_run_profiled(p, in + (size_t)s * n) != AECL_OK) return 0;
        for (int i = 0; i < n; i++) {
            double t;
            if (aecl_plan_run_launch_profiled(p, i, &t) != AECL_OK ||
                aecl_plan_run_launch_profiled(p, i, alone + (size_t)s * n + i) != AECL_OK)
                return 0;
        }
    }
    return 1;
}

static double median_col(const double *v, int n, int steps, int i, double *col)
{
    for (int s = 0; s < steps; s++) col[s] = v[(size_t)s * n + i];
    qsort(col, (size_t)steps, sizeof *col, cmp);
    return col[steps / 2];
}

static void report(aecl_plan *p, int n, int steps, const double *in, const double *alone)
{
    double *col = malloc((size_t)steps * sizeof *col), sum_in = 0, sum_alone = 0;
    printf("  %3s %-18s %10s %10s %6s\n", "#", "launch", "step ms", "alone ms", "ratio");
    for (int i = 0; col && i < n; i++) {
        double a = median_col(in, n, steps, i, col), b = median_col(alone, n, steps, i, col);
        sum_in += a, sum_alone += b;
        if (a < 2e-5) continue;
        printf("  %3d %-18s %10.3f %10.3f %6.2f\n", i, aecl_plan_launch_label(p, i), a * 1e3, b * 1e3, b > 0 ? a / b : 0);
    }
    printf("  all launches: %.3f ms in the step, %.3f ms alone (medians of %d)\n", sum_in * 1e3, sum_alone * 1e3, steps);
    free(col);
}

int main(int argc, char **argv)
{
    const char *model = argc > 1 ? argv[1] : "models/conv.model";
    int batch = argc > 2 ? atoi(argv[2]) : 128, steps = argc > 3 ? atoi(argv[3]) : 31;
    int infer = argc > 4 && !strcmp(argv[4], "infer");
    if (batch < 1 || steps < 1) {
        fprintf(stderr, "bench_alone: BATCH and STEPS must be positive\n");
        return 2;
    }
    aecl_ctx *ctx;
    if (aecl_ctx_create(NULL, &ctx) != AECL_OK) {
        fprintf(stderr, "bench_alone: %s\n", aecl_ctx_last_error(NULL));
        return 1;
    }
    aecl_model_spec *spec = NULL;
    aecl_net *net = NULL;
    int rc = 1;
    if (aecl_spec_parse_file(ctx, model, &spec) == AECL_OK &&
        aecl_net_build(ctx, spec, batch, infer ? AECL_NET_RECON : AECL_NET_TRAIN, 1, &net) == AECL_OK &&
        aecl_net_init_params(net, 1) == AECL_OK) {
        int n = aecl_plan_launch_count(net->plan);
        double *in = calloc((size_t)n * steps, sizeof *in), *alone = calloc((size_t)n * steps, sizeof *alone);
        for (int i = 0; i < 3; i++) aecl_plan_run(net->plan); /* warm-up: first-launch costs */
        if (in && alone && aecl_ctx_finish(ctx) == AECL_OK && measure(net->plan, n, steps, in, alone)) {
            printf("%s, %s step, batch %d, on %s: each launch in the step and alone\n", model,
                   infer ? "inference" : "training", batch, aecl_ctx_device(ctx)->name);
            report(net->plan, n, steps, in, alone);
            rc = 0;
        }
        free(in);
        free(alone);
    }
    if (rc) fprintf(stderr, "bench_alone: %s\n", aecl_ctx_last_error(ctx));
    aecl_net_free(net);
    aecl_spec_free(spec);
    aecl_ctx_free(ctx);
    return rc;
}
