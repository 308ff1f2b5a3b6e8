/* Internal runtime helpers shared by the graph, ops and nn layers. */
#ifndef AECL_RT_RT_H
#define AECL_RT_RT_H

#include "aecl_cl.h"
#include "rt/ctx.h"
#include "rt/error.h"

/* A kernel from cl/<file> built with <options> (program cached per context).
 * The caller owns the kernel (clReleaseKernel). One kernel object per launch site
 * lets arguments be bound once and replayed. */
aecl_status aecl_kernel_create(aecl_ctx *ctx, const char *file, const char *options,
                               const char *name, cl_kernel *out);

/* A kernel from generated source text (see aecl_program_from_text). */
aecl_status aecl_kernel_create_text(aecl_ctx *ctx, const char *name, const char *src, const char *kernel,
                                    cl_kernel *out);

/* CL_KERNEL_WORK_GROUP_SIZE of a kernel on the context's device (>= 1). */
size_t aecl_kernel_max_wg(aecl_ctx *ctx, cl_kernel k);

/* A 1-D work-group size for n items: min(preferred, kernel max), never above
 * the device limit, and the global size rounded up to it. Kernels must guard
 * `if (i >= n) return;`. */
void aecl_range_1d(aecl_ctx *ctx, cl_kernel k, size_t n, size_t *global, size_t *local);

/* The data `owner` (the address of a static object of the calling module) keeps
 * in this context, or NULL. */
void *aecl_ctx_slot_get(const aecl_ctx *ctx, const void *owner);
/* Sets or replaces it; `release` (may be NULL) runs on it in aecl_ctx_free.
 * Replacing never allocates; a first set may fail: 0, out of host memory. */
int aecl_ctx_slot_set(aecl_ctx *ctx, const void *owner, void *data, void (*release)(void *data));

/* The device's FP32 peak measured with cl/peak.cl (chains of fma on the device's
 * widest float vectors; every item's result checked against C). Zero fields
 * take defaults: items (enough for every compute unit), iters (calibrated so a
 * launch takes `seconds`, default 0.05), runs (5; the median is kept). Tests
 * on a simulator give small items and iters. */
typedef struct aecl_peak_opts {
    int items, iters, runs;
    double seconds;
} aecl_peak_opts;
typedef struct aecl_peak {
    double gflops, flops, seconds; /* the median launch's */
    int vector_width;
} aecl_peak;
aecl_status aecl_device_peak(aecl_ctx *ctx, const aecl_peak_opts *o, aecl_peak *out);

/* clCreateBuffer(CL_MEM_READ_WRITE) of bytes; on a CPU device, where the system
 * allows, in memory backed by 2 MiB pages (rt/hostmem.c says why). */
cl_mem aecl_mem_create(aecl_ctx *ctx, size_t bytes, cl_int *err);

/* Seconds on a monotonic clock. */
double aecl_now_s(void);

static inline size_t aecl_round_up(size_t x, size_t m) { return m ? (x + m - 1) / m * m : x; }

/* Sets kernel argument i from a value: AECL_ARG(ctx, k, i, value) with a named lvalue. */
#define AECL_ARG(ctx, k, i, v) AECL_CL_TRY((ctx), clSetKernelArg((k), (i), sizeof(v), &(v)))

#endif
