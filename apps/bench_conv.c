/* Conv op figures: one training step (forward and backward) of the Fashion-MNIST
 * conv autoencoder (1x28x28 -> conv 32 s2 -> conv 64 s2 -> convT 32 s2 -> convT 1 s2,
 * 3x3 kernels), per launch: device time from event profiling, and GFLOP/s.
 *
 *   bench_conv [batch=128] [steps=5]     (device: $AECL_DEVICE; BENCH_ALL=1 lists
 *                                        every launch, not only those over 0.2 ms;
 *                                        per launch: the median over the steps)
 *
 * With OpenBLAS, the SGEMM of the same shape as the largest conv (the implicit
 * GEMM of conv 2: M=64, N=batch*49, K=288) is timed as a yardstick.
 *
 *   bench_conv [batch] [steps] --ab DIR  the same step built twice, in two
 *                                        contexts on one device: with this
 *                                        program's kernels and with the kernel
 *                                        files in DIR (another commit's cl/, read
 *                                        as AECL_KERNEL_DIR would be); the steps
 *                                        alternate, so a noisy machine's load
 *                                        hits both alike; prints both and this/base */
#define _POSIX_C_SOURCE 200809L
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

/* One conv AE training step, compiled in ctx, with its inputs and weights written. */
typedef struct step_plan {
    aecl_ctx *ctx;
    aecl_graph *g;
    aecl_plan *p;
    int n;          /* launches per step */
    double *times;  /* [steps][n] profiled seconds */
    double *wall;   /* [steps] unprofiled step seconds */
} step_plan;

static int plan_make(aecl_ctx *ctx, int batch, int steps, step_plan *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->ctx = ctx;
    aecl_graph_create(ctx, &sp->g);
    aecl_graph *g = sp->g;
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
    int ok = aecl_backward(g, loss) == AECL_OK;
    /* The gradients are what a training step makes: outputs, so the plan keeps
     * the backward pass (it compiles only what outputs need). */
    for (int i = 0; ok && i < 4; i++) aecl_mark(w[i]->grad, AECL_T_OUTPUT), aecl_mark(b[i]->grad, AECL_T_OUTPUT);
    if (!ok || aecl_plan_compile(g, NULL, &sp->p) != AECL_OK) {
        fprintf(stderr, "%s\n", aecl_ctx_last_error(ctx));
        return 0;
    }
    unsigned s = 1;
    size_t nx = (size_t)batch * 784;
    float *buf = malloc(nx * sizeof *buf), wbuf[64 * 32 * 9];
    fill(buf, nx, 1.0f, &s);
    aecl_plan_write(sp->p, x, buf);
    free(buf);
    for (int i = 0; i < 4; i++) {
        fill(wbuf, w[i]->size, 0.3f, &s);
        aecl_plan_write(sp->p, w[i], wbuf);
        fill(wbuf, b[i]->size, 0.1f, &s);
        aecl_plan_write(sp->p, b[i], wbuf);
    }
    sp->n = aecl_plan_launch_count(sp->p);
    sp->times = calloc((size_t)sp->n * (size_t)steps, sizeof *sp->times);
    sp->wall = calloc((size_t)steps, sizeof *sp->wall);
    aecl_plan_run(sp->p); /* warm-up: first-launch costs */
    return aecl_ctx_finish(ctx) == AECL_OK;
}

static void plan_free(step_plan *sp)
{
    free(sp->times);
    free(sp->wall);
    aecl_plan_free(sp->p);
    aecl_graph_free(sp->g);
}

/* plan_make with the kernels read from dir (the --ab base). */
static int plan_make_from(aecl_ctx *ctx, const char *dir, int batch, int steps, step_plan *sp)
{
    const char *was = getenv("AECL_KERNEL_DIR");
    char *keep = was ? strdup(was) : NULL;
    setenv("AECL_KERNEL_DIR", dir, 1);
    int ok = plan_make(ctx, batch, steps, sp);
    if (keep) setenv("AECL_KERNEL_DIR", keep, 1);
    else unsetenv("AECL_KERNEL_DIR");
    free(keep);
    return ok;
}

/* Step i of every plan in turn (the order flips every step): unprofiled (wall
 * time), then profiled. */
static int run_steps(step_plan *sp, int np, int steps)
{
    for (int i = 0; i < steps; i++)
        for (int j = 0; j < np; j++) {
            int k = i % 2 ? np - 1 - j : j;
            double t0 = aecl_now_s();
            aecl_plan_run(sp[k].p);
            aecl_ctx_finish(sp[k].ctx);
            sp[k].wall[i] = aecl_now_s() - t0;
        }
    for (int i = 0; i < steps; i++)
        for (int j = 0; j < np; j++) {
            int k = i % 2 ? np - 1 - j : j;
            if (aecl_plan_run_profiled(sp[k].p, sp[k].times + (size_t)i * sp[k].n) != AECL_OK) {
                fprintf(stderr, "%s\n", aecl_ctx_last_error(sp[k].ctx));
                return 0;
            }
        }
    return 1;
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* Per-launch medians over the steps (the machine may be shared) into med. */
static void launch_medians(const step_plan *sp, int steps, double *med)
{
    double *col = calloc((size_t)steps, sizeof *col);
    for (int i = 0; i < sp->n; i++) {
        for (int s2 = 0; s2 < steps; s2++) col[s2] = sp->times[(size_t)s2 * sp->n + i];
        med[i] = median_of(col, steps);
    }
    free(col);
}

/* Conv launches' time and flops, and every launch's time, from the medians. */
static void totals(const step_plan *sp, const double *med, double *conv_t, double *conv_f, double *total)
{
    *conv_t = *conv_f = *total = 0;
    for (int i = 0; i < sp->n; i++) {
        double f = aecl_plan_launch_flops(sp->p, i);
        *total += med[i];
        if (f > 0) *conv_t += med[i], *conv_f += f;
    }
}

static void report(const step_plan *sp, int batch, int steps)
{
    double *med = calloc((size_t)sp->n, sizeof *med), conv_t, conv_f, total;
    launch_medians(sp, steps, med);
    printf("device: %s; batch %d; %d launches per step; step %.2f ms (wall, unprofiled); per launch: median of %d\n",
           aecl_ctx_device(sp->ctx)->name, batch, sp->n, median_of(sp->wall, steps) * 1e3, steps);
    for (int i = 0; i < sp->n; i++) {
        double t = med[i], f = aecl_plan_launch_flops(sp->p, i);
        if (f <= 0 && t < 2e-4 && !getenv("BENCH_ALL")) continue; /* small launches: in the total only */
        printf("  %3d %-20s %8.3f ms", i, aecl_plan_launch_label(sp->p, i), t * 1e3);
        if (f > 0) printf("  %7.1f MFLOP  %6.1f GFLOP/s", f * 1e-6, f / t * 1e-9);
        printf("\n");
    }
    totals(sp, med, &conv_t, &conv_f, &total);
    printf("conv launches: %.2f ms, %.1f GFLOP/s; all launches %.2f ms\n", conv_t * 1e3, conv_f / conv_t * 1e-9,
           total * 1e3);
    free(med);
}

/* --ab: base (sp[1], DIR's kernels) against this build (sp[0]), launch by launch. */
static void report_ab(const step_plan *sp, const char *dir, int batch, int steps)
{
    double *ma = calloc((size_t)sp[1].n, sizeof *ma), *mb = calloc((size_t)sp[0].n, sizeof *mb);
    double ta[3], tb[3];
    launch_medians(&sp[1], steps, ma);
    launch_medians(&sp[0], steps, mb);
    printf("device: %s; batch %d; base: the kernel files in %s; medians of %d alternating steps\n",
           aecl_ctx_device(sp->ctx)->name, batch, dir, steps);
    printf("  %3s %-20s %9s %9s %6s\n", "#", "launch", "base ms", "this ms", "ratio");
    for (int i = 0; i < sp[0].n && i < sp[1].n; i++) {
        if (ma[i] < 2e-4 && mb[i] < 2e-4 && !getenv("BENCH_ALL")) continue;
        printf("  %3d %-20s %9.3f %9.3f %6.3f\n", i, aecl_plan_launch_label(sp[0].p, i), ma[i] * 1e3, mb[i] * 1e3,
               mb[i] / ma[i]);
    }
    totals(&sp[1], ma, &ta[0], &ta[1], &ta[2]);
    totals(&sp[0], mb, &tb[0], &tb[1], &tb[2]);
    /* Paired: step i of both ran next to each other, so the median of their
     * ratios cancels load that lasts longer than a step. */
    double *q = calloc((size_t)steps, sizeof *q), *qw = calloc((size_t)steps, sizeof *qw);
    for (int i = 0; i < steps; i++) {
        double sa = 0, sb = 0;
        for (int j = 0; j < sp[0].n && j < sp[1].n; j++)
            if (aecl_plan_launch_flops(sp[0].p, j) > 0) sa += sp[1].times[(size_t)i * sp[1].n + j],
                                                        sb += sp[0].times[(size_t)i * sp[0].n + j];
        q[i] = sb / sa;
        qw[i] = sp[0].wall[i] / sp[1].wall[i];
    }
    double pq = median_of(q, steps), pw = median_of(qw, steps);
    free(q);
    free(qw);
    double wa = median_of(sp[1].wall, steps), wb = median_of(sp[0].wall, steps);
    printf("conv launches: base %.2f ms, this %.2f ms, ratio %.3f, paired %.3f\n", ta[0] * 1e3, tb[0] * 1e3,
           tb[0] / ta[0], pq);
    printf("all launches:  base %.2f ms, this %.2f ms, ratio %.3f\n", ta[2] * 1e3, tb[2] * 1e3, tb[2] / ta[2]);
    printf("step (wall):   base %.2f ms, this %.2f ms, ratio %.3f, paired %.3f\n", wa * 1e3, wb * 1e3, wb / wa, pw);
    printf("(ratio: this / base time, of the medians; paired: median over steps of the ratio within a step)\n");
    free(ma);
    free(mb);
}

int main(int argc, char **argv)
{
    int batch = 128, steps = 5, npos = 0;
    const char *ab_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ab") && i + 1 < argc) ab_dir = argv[++i];
        else if (npos == 0) batch = atoi(argv[i]), npos++;
        else if (npos == 1) steps = atoi(argv[i]), npos++;
        else batch = 0;
    }
    if (batch < 1 || steps < 1) {
        fprintf(stderr, "usage: bench_conv [batch] [steps] [--ab DIR]\n");
        return 2;
    }
    aecl_ctx *ctx[2] = {NULL, NULL};
    step_plan sp[2];
    int np = ab_dir ? 2 : 1, ok = 1;
    memset(sp, 0, sizeof sp);
    for (int k = 0; k < np && ok; k++) {
        if (aecl_ctx_create(NULL, &ctx[k]) != AECL_OK) {
            fprintf(stderr, "%s\n", aecl_ctx_last_error(NULL));
            ok = 0;
        } else {
            ok = k == 0 ? plan_make(ctx[k], batch, steps, &sp[k])
                        : plan_make_from(ctx[k], ab_dir, batch, steps, &sp[k]);
        }
    }
    if (ok) ok = run_steps(sp, np, steps);
    if (ok && ab_dir) report_ab(sp, ab_dir, batch, steps);
    else if (ok) {
        report(&sp[0], batch, steps);
        yardstick(batch);
    }
    for (int k = 0; k < np; k++) {
        plan_free(&sp[k]);
        aecl_ctx_free(ctx[k]);
    }
    return ok ? 0 : 1;
}
