/* Kernel objects and launch geometry. */
#include "rt/launch.h"
#include "rt/program.h"

#include <stdio.h>
#include <stdlib.h>

static aecl_status kernel_of(aecl_ctx *ctx, cl_program p, const char *where, const char *name, cl_kernel *out)
{
    cl_int err;
    int rebuilt = 0;
    *out = clCreateKernel(p, name, &err);
    /* A binary from the disk cache may be another program's: rebuilt once. */
    if (err != CL_SUCCESS) AECL_TRY(aecl_program_rebuild_cached(ctx, &p, &rebuilt));
    if (rebuilt) *out = clCreateKernel(p, name, &err);
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
    char where[300], full[160];
    snprintf(where, sizeof where, "cl/%s", file);
    /* a variant in a program shared with others: its kernels carry a suffix */
    int len = snprintf(full, sizeof full, "%s%s", name, aecl_program_suffix(ctx, file, options));
    AECL_RETURN_IF(len < 0 || (size_t)len >= sizeof full, AECL_ERR_INVALID_ARG, ctx, "kernel name '%s' is too long",
                   name);
    return kernel_of(ctx, p, where, full, out);
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
    size_t wg = 0, cap = (size_t)ctx->tuning.wg_max;
    if (clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL) != CL_SUCCESS || !wg)
        wg = ctx->info.max_work_group_size;
    if (cap && wg > cap) wg = cap; /* the table's cap (the device's, or an override) */
    return wg ? wg : 1;
}

void aecl_range_1d(aecl_ctx *ctx, cl_kernel k, size_t n, size_t *global, size_t *local)
{
    /* 256 suits GPUs of every vendor; small kernels on small n need no more.
     * CPUs keep 256 whatever n: PoCL compiles a kernel once per work-group size
     * it meets (a second each on a first run), and the items past n of a group,
     * which return at once, cost a CPU next to nothing. */
    size_t wg = aecl_kernel_max_wg(ctx, k);
    if (wg > 256) wg = 256;
    while (!ctx->tuning.cpu && wg > 1 && wg / 2 >= n) wg /= 2;
    *local = wg;
    *global = aecl_round_up(n ? n : 1, wg);
}

aecl_status aecl_launch_check(aecl_ctx *ctx, const aecl_launch *l)
{
    if (!l->kernel) return AECL_OK;
    const aecl_tuning *t = &ctx->tuning;
    const char *what = l->label ? l->label : "kernel";
    size_t items = 1;
    for (cl_uint d = 0; d < l->dim && l->local[0]; d++) {
        size_t lim = t->max_item_sizes[d] ? t->max_item_sizes[d] : ctx->info.max_work_group_size;
        AECL_RETURN_IF(!l->local[d] || l->local[d] > lim, AECL_ERR_UNSUPPORTED, ctx,
                       "launch of %s: work-group size %zu in dimension %u exceeds the device's %zu", what,
                       l->local[d], d, lim);
        AECL_RETURN_IF(l->global[d] % l->local[d], AECL_ERR_INVALID_ARG, ctx,
                       "launch of %s: global size %zu is not a multiple of the work-group size %zu", what,
                       l->global[d], l->local[d]);
        items *= l->local[d];
    }
    size_t wg = aecl_kernel_max_wg(ctx, l->kernel);
    AECL_RETURN_IF(items > wg, AECL_ERR_UNSUPPORTED, ctx,
                   "launch of %s: a work-group of %zu items exceeds the kernel's limit of %zu on this device", what,
                   items, wg);
    cl_ulong lmem = 0;
    if (clGetKernelWorkGroupInfo(l->kernel, ctx->device, CL_KERNEL_LOCAL_MEM_SIZE, sizeof lmem, &lmem, NULL))
        lmem = 0;
    AECL_RETURN_IF(t->local_mem && lmem > (cl_ulong)t->local_mem, AECL_ERR_UNSUPPORTED, ctx,
                   "launch of %s: the kernel uses %llu bytes of local memory, more than the %d allowed", what,
                   (unsigned long long)lmem, t->local_mem);
    return AECL_OK;
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
