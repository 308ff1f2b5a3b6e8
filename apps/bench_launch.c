/* bench_launch: the fixed cost of a kernel launch on the chosen device, which
 * bounds the GFLOP/s of small products. A trivial kernel (y = 2x + 1) over n
 * elements, timed two ways (medians of 50 rounds):
 *   - one launch, then clFinish: what a lone call costs (host round trip);
 *   - a burst of 20 back-to-back launches, then clFinish, per launch: how a
 *     compiled plan runs its launches (one wait per step).
 * usage: bench_launch [--device SEL] */
#include "rt/ctx.h"
#include "rt/rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROUNDS = 50, BURST = 20 };

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

/* Enqueues `count` launches of k over n items, waits, returns seconds per launch. */
static double timed(aecl_ctx *ctx, cl_kernel k, size_t n, int count, int *ok)
{
    size_t global, local;
    aecl_range_1d(ctx, k, n, &global, &local);
    double t0 = aecl_now_s();
    for (int i = 0; i < count && *ok; i++)
        *ok = clEnqueueNDRangeKernel(ctx->queue, k, 1, NULL, &global, &local, 0, NULL, NULL) == CL_SUCCESS;
    *ok = *ok && clFinish(ctx->queue) == CL_SUCCESS;
    return (aecl_now_s() - t0) / count;
}

static int bench_size(aecl_ctx *ctx, cl_kernel k, cl_mem buf, int n)
{
    int off = 0, ok = 1;
    float a = 2.0f, b = 1.0f;
    ok = clSetKernelArg(k, 0, sizeof buf, &buf) == CL_SUCCESS && clSetKernelArg(k, 1, sizeof off, &off) == CL_SUCCESS &&
         clSetKernelArg(k, 2, sizeof buf, &buf) == CL_SUCCESS && clSetKernelArg(k, 3, sizeof off, &off) == CL_SUCCESS &&
         clSetKernelArg(k, 4, sizeof n, &n) == CL_SUCCESS && clSetKernelArg(k, 5, sizeof a, &a) == CL_SUCCESS &&
         clSetKernelArg(k, 6, sizeof b, &b) == CL_SUCCESS;
    double single[ROUNDS], burst[ROUNDS];
    timed(ctx, k, (size_t)n, BURST, &ok); /* warm-up */
    for (int r = 0; r < ROUNDS && ok; r++) {
        single[r] = timed(ctx, k, (size_t)n, 1, &ok);
        burst[r] = timed(ctx, k, (size_t)n, BURST, &ok);
    }
    if (!ok) {
        fprintf(stderr, "bench_launch: an OpenCL call failed at n = %d\n", n);
        return 1;
    }
    printf("%9d | %12.1f | %12.1f\n", n, median(single, ROUNDS) * 1e6, median(burst, ROUNDS) * 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    const char *sel = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--device") && i + 1 < argc) sel = argv[++i];
        else { fprintf(stderr, "usage: %s [--device SEL]\n", argv[0]); return 2; }
    }
    aecl_ctx *ctx;
    cl_kernel k;
    if (aecl_ctx_create(sel, &ctx) != AECL_OK) { fprintf(stderr, "bench_launch: %s\n", aecl_ctx_last_error(NULL)); return 1; }
    if (aecl_kernel_create(ctx, "eltwise.cl", "", "elt_affine", &k) != AECL_OK) {
        fprintf(stderr, "bench_launch: %s\n", aecl_ctx_last_error(ctx));
        aecl_ctx_free(ctx);
        return 1;
    }
    static const int sizes[] = {1, 4096, 65536, 1 << 20};
    cl_int err;
    cl_mem buf = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, sizeof(float) << 20, NULL, &err);
    int rc = err != CL_SUCCESS;
    if (rc) fprintf(stderr, "bench_launch: clCreateBuffer failed (%d)\n", err);
    printf("device: %s; trivial kernel y = 2x + 1, medians of %d rounds, microseconds per launch\n",
           aecl_ctx_device(ctx)->name, ROUNDS);
    printf(" elements | launch+wait  | in a burst of %d\n", BURST);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && !rc; i++) rc = bench_size(ctx, k, buf, sizes[i]);
    if (buf) clReleaseMemObject(buf);
    clReleaseKernel(k);
    aecl_ctx_free(ctx);
    return rc;
}
