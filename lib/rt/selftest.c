/* aecl_selftest: one kernel from cl/ run on the device and checked on the host. */
#include "rt/launch.h"

#include <math.h>
#include <stdlib.h>

aecl_status aecl_selftest(aecl_ctx *ctx)
{
    enum { N = 1000 }; /* not a multiple of any work-group size */
    float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = (float)i * 0.5f - 100.0f;
    aecl_buffer *bx = NULL, *by = NULL;
    cl_kernel k = NULL;
    aecl_status st = aecl_buffer_create(ctx, N, sizeof(float), &bx);
    if (st == AECL_OK) st = aecl_buffer_create(ctx, N, sizeof(float), &by);
    if (st == AECL_OK) st = aecl_buffer_upload(bx, 0, x, sizeof x);
    if (st == AECL_OK) st = aecl_kernel_create(ctx, "selftest.cl", "", "selftest_axpb", &k);
    if (st == AECL_OK) {
        cl_mem mx = aecl_buffer_cl(bx), my = aecl_buffer_cl(by);
        int off = 0, n = N;
        float a = 3.0f, b = -2.0f;
        cl_int err = clSetKernelArg(k, 0, sizeof mx, &mx) | clSetKernelArg(k, 1, sizeof off, &off) |
                     clSetKernelArg(k, 2, sizeof my, &my) | clSetKernelArg(k, 3, sizeof off, &off) |
                     clSetKernelArg(k, 4, sizeof a, &a) | clSetKernelArg(k, 5, sizeof b, &b) |
                     clSetKernelArg(k, 6, sizeof n, &n);
        if (err != CL_SUCCESS) st = aecl_fail(ctx, AECL_ERR_OPENCL, "selftest: clSetKernelArg failed");
        aecl_launch l = {.label = "selftest", .kernel = k, .dim = 1};
        aecl_range_1d(ctx, k, N, &l.global[0], &l.local[0]);
        if (st == AECL_OK) st = aecl_launch_enqueue(ctx, &l, NULL);
        if (st == AECL_OK) st = aecl_buffer_download(by, 0, y, sizeof y);
        for (int i = 0; st == AECL_OK && i < N; i++)
            if (fabsf(y[i] - (3.0f * x[i] - 2.0f)) > 1e-4f)
                st = aecl_fail(ctx, AECL_ERR_OPENCL, "selftest: y[%d] = %g on %s, expected %g", i, y[i],
                               ctx->info.name, 3.0f * x[i] - 2.0f);
    }
    if (k) clReleaseKernel(k);
    aecl_buffer_free(bx);
    aecl_buffer_free(by);
    return st;
}
