/* Conv op figures: one training step (forward and backward) of the Fashion-MNIST
 * conv autoencoder (1x28x28 -> conv 32 s2 -> conv 64 s2 -> convT 32 s2 -> convT 1 s2,
 * 3x3 kernels), per launch: device time from event profiling, and GFLOP/s.
 *
 *   bench_conv [batch=128] [steps=5]     (device: $AECL_DEVICE; BENCH_ALL=1 lists
 *                                        every launch, not only those over 0.2 ms;
 *                                        per launch: the median over the steps)
 *
 * With OpenBLAS, the SGEMM of the same shape as the largest conv (the implicit
 * GEMM of conv 2: M=64, N=batch*49, K=288) is timed as a yardstick. */
#include "compile/compile.h"
#include "graph/plan.h"
#include "ops/conv.h"
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef AECL_HAVE_OPENBLAS
#include <cblas.h>
#endif

static void fill(float *x, size_t n, float scale, unsigned *s)
{
    for (size_t i = 0; i < n; i++) {
        *s = *s * 1664525u + 1013904223u;
        x[i] = scale * ((float)(*s >> 8) / 16777216.0f - 0.5f);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static aecl_tensor *param(aecl_graph *g, const char *name, int a, int b, int c, int d)
{
    int s[4] = {a, b, c, d};
    return aecl_param(g, name, d ? 4 : 1, d ? s : &a);
}

static void yardstick(int batch)
{
#ifdef AECL_HAVE_OPENBLAS
    int M = 64, N = batch * 49, K = 288;
    float *a = calloc((size_t)M * K, sizeof *a), *b = calloc((size_t)K * N, sizeof *b), *c = calloc((size_t)M * N, sizeof *c);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, a, K, b, N, 0, c, N);
    double t0 = aecl_now_s();
    int reps = 10;
    for (int i = 0; i < reps; i++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, a, K, b, N, 0, c, N);
    double t = (aecl_now_s() - t0) / reps;
    printf("OpenBLAS sgemm %dx%dx%d (conv 2 as a GEMM, no im2col): %.3f ms, %.1f GFLOP/s\n", M, N, K, t * 1e3,
           2.0 * M * N * K / t * 1e-9);
    free(a), free(b), free(c);
#else
    (void)batch;
#endif
}

int main(int argc, char **argv)
{
    int batch = argc > 1 ? atoi(argv[1]) : 128, steps = argc > 2 ? atoi(argv[2]) : 5;
    if (batch < 1 || steps < 1) {
        fprintf(stderr, "usage: bench_conv [batch] [steps]\n");
        return 2;
    }
    aecl_ctx *ctx;
    if (aecl_ctx_create(NULL, &ctx) != AECL_OK) {
        fprintf(stderr, "%s\n", aecl_ctx_last_error(NULL));
        return 1;
    }
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    int xs[4] = {batch, 1, 28, 28};
    aecl_tensor *x = aecl_input(g, "x", 4, xs);
    aecl_tensor *w[4] = {param(g, "w1", 32, 1, 3, 3), param(g, "w2", 64, 32, 3, 3), param(g, "w3", 64, 32, 3, 3),
                         param(g, "w4", 32, 1, 3, 3)};
    aecl_tensor *b[4] = {param(g, "b1", 32, 0, 0, 0), param(g, "b2", 64, 0, 0, 0), param(g, "b3", 32, 0, 0, 0),
                         param(g, "b4", 1, 0, 0, 0)};
    aecl_tensor *h = aecl_conv2d(g, x, w[0], b[0], 2, 1, AECL_ACT_RELU, 0);
    h = aecl_conv2d(g, h, w[1], b[1], 2, 1, AECL_ACT_RELU, 0);
    h = aecl_conv_transpose2d(g, h, w[2], b[2], 2, 1, 1, AECL_ACT_RELU, 0);
    aecl_tensor *y = aecl_conv_transpose2d(g, h, w[3], b[3], 2, 1, 1, AECL_ACT_SIGMOID, 0);
    aecl_tensor *loss = aecl_mean(g, aecl_loss_rows(g, AECL_LOSS_MSE, y, x));
    aecl_plan *p = NULL;
    if (aecl_backward(g, loss) != AECL_OK || aecl_plan_compile(g, NULL, &p) != AECL_OK) {
        fprintf(stderr, "%s\n", aecl_ctx_last_error(ctx));
        return 1;
    }
    unsigned s = 1;
    size_t nx = (size_t)batch * 784;
    float *buf = malloc(nx * sizeof *buf), wbuf[64 * 32 * 9];
    fill(buf, nx, 1.0f, &s);
    aecl_plan_write(p, x, buf);
    for (int i = 0; i < 4; i++) {
        fill(wbuf, w[i]->size, 0.3f, &s);
        aecl_plan_write(p, w[i], wbuf);
        fill(wbuf, b[i]->size, 0.1f, &s);
        aecl_plan_write(p, b[i], wbuf);
    }
    int n = aecl_plan_launch_count(p);
    double *times = calloc((size_t)n * (size_t)steps, sizeof *times), *med = calloc((size_t)n, sizeof *med);
    aecl_plan_run(p); /* warm-up: first-launch costs */
    aecl_ctx_finish(ctx);
    double t0 = aecl_now_s();
    for (int i = 0; i < steps; i++) aecl_plan_run(p);
    aecl_ctx_finish(ctx);
    double wall = (aecl_now_s() - t0) / steps;
    for (int i = 0; i < steps; i++)
        if (aecl_plan_run_profiled(p, times + (size_t)i * n) != AECL_OK) {
            fprintf(stderr, "%s\n", aecl_ctx_last_error(ctx));
            return 1;
        }
    /* medians over the steps: the machine may be shared */
    double *col = calloc((size_t)steps, sizeof *col);
    for (int i = 0; i < n; i++) {
        for (int s2 = 0; s2 < steps; s2++) col[s2] = times[(size_t)s2 * n + i];
        qsort(col, (size_t)steps, sizeof *col, cmp_double);
        med[i] = col[steps / 2];
    }
    free(col);
    printf("device: %s; batch %d; %d launches per step; step %.2f ms (wall, unprofiled); per launch: median of %d\n",
           aecl_ctx_device(ctx)->name, batch, n, wall * 1e3, steps);
    double conv_t = 0, conv_f = 0, total = 0;
    for (int i = 0; i < n; i++) {
        double t = med[i], f = aecl_plan_launch_flops(p, i);
        total += t;
        if (f <= 0 && t < 2e-4 && !getenv("BENCH_ALL")) continue; /* small launches: in the total only */
        printf("  %3d %-20s %8.3f ms", i, aecl_plan_launch_label(p, i), t * 1e3);
        if (f > 0) printf("  %7.1f MFLOP  %6.1f GFLOP/s", f * 1e-6, f / t * 1e-9), conv_t += t, conv_f += f;
        printf("\n");
    }
    printf("conv launches: %.2f ms, %.1f GFLOP/s; all launches %.2f ms\n", conv_t * 1e3, conv_f / conv_t * 1e-9,
           total * 1e3);
    yardstick(batch);
    free(times);
    free(med);
    free(buf);
    aecl_plan_free(p);
    aecl_graph_free(g);
    aecl_ctx_free(ctx);
    return 0;
}
