/* Kernel objects and launch geometry. */
#include "rt/launch.h"
#include "rt/program.h"

#include <stdio.h>
#include <stdlib.h>

static aecl_status kernel_of(aecl_ctx *ctx, cl_program p, const char *where, const char *name, cl_kernel *out)
{
    cl_int err;
    *out = clCreateKernel(p, name, &err);
    if (err != CL_SUCCESS) {
        aecl_fail_cl(ctx, err, "clCreateKernel", __FILE__, __LINE__);
        aecl_error_append(ctx, " (kernel '%s' in %s)", name, where);
        return err == CL_INVALID_KERNEL_NAME ? AECL_ERR_INVALID_ARG : AECL_ERR_OPENCL;
    }
    return AECL_OK;
}

aecl_status aecl_kernel_create(aecl_ctx *ctx, const char *file, const char *options,
                               const char *name, cl_kernel *out)
{
    cl_program p;
    AECL_TRY(aecl_program_get(ctx, file, options, &p));
    char where[300];
    snprintf(where, sizeof where, "cl/%s", file);
    return kernel_of(ctx, p, where, name, out);
}

aecl_status aecl_kernel_create_text(aecl_ctx *ctx, const char *name, const char *src, const char *kernel,
                                    cl_kernel *out)
{
    cl_program p;
    AECL_TRY(aecl_program_from_text(ctx, name, src, &p));
    return kernel_of(ctx, p, name, kernel, out);
}

size_t aecl_kernel_max_wg(aecl_ctx *ctx, cl_kernel k)
{
    size_t wg = 0;
    if (clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL) != CL_SUCCESS || !wg)
        wg = ctx->info.max_work_group_size;
    return wg ? wg : 1;
}

void aecl_range_1d(aecl_ctx *ctx, cl_kernel k, size_t n, size_t *global, size_t *local)
{
    /* 256 suits GPUs of every vendor; small kernels on small n need no more. */
    size_t wg = aecl_kernel_max_wg(ctx, k);
    if (wg > 256) wg = 256;
    while (wg > 1 && wg / 2 >= n) wg /= 2;
    *local = wg;
    *global = aecl_round_up(n ? n : 1, wg);
}

aecl_status aecl_launch_enqueue(aecl_ctx *ctx, const aecl_launch *l, cl_event *ev)
{
    if (l->fn) return l->fn(ctx, l, ev);
    AECL_CL_TRY(ctx, clEnqueueNDRangeKernel(ctx->queue, l->kernel, l->dim, NULL, l->global,
                                            l->local[0] ? l->local : NULL, 0, NULL, ev));
    return AECL_OK;
}

void aecl_launch_release(aecl_launch *l)
{
    if (!l) return;
    if (l->kernel) clReleaseKernel(l->kernel);
    free(l->data);
    l->kernel = NULL;
    l->data = NULL;
}
