/* A launch: one entry of a compiled plan. Either an OpenCL kernel whose arguments
 * were bound once, or a host-side call (CLBlast) with its operands fixed. */
#ifndef AECL_RT_LAUNCH_H
#define AECL_RT_LAUNCH_H

#include "rt/rt.h"

typedef struct aecl_launch aecl_launch;
typedef aecl_status (*aecl_launch_fn)(aecl_ctx *ctx, const aecl_launch *l, cl_event *ev);

struct aecl_launch {
    const char *label;       /* op name, for profiles ("dense", "gemm", ...) */
    cl_kernel kernel;        /* owned by the launch; NULL when fn is used */
    cl_uint dim;
    size_t global[3];
    size_t local[3];         /* local[0] == 0: let the driver choose */
    aecl_launch_fn fn;       /* host-side enqueue (e.g. CLBlast), else NULL */
    void *data;              /* fn's operands; freed with free() */
    double flops;            /* useful floating-point operations, for GFLOP/s figures */
};

/* Checks a launch against the device's queried limits before it is recorded:
 * a work-group within the kernel's CL_KERNEL_WORK_GROUP_SIZE (and the table's
 * wg_max), each dimension within CL_DEVICE_MAX_WORK_ITEM_SIZES, global sizes
 * whole multiples of local ones (OpenCL 1.2), and the kernel's local memory
 * within the table's local_mem. A violation is aecl's bug on that device: the
 * message names the launch and the limit instead of a driver error later. */
aecl_status aecl_launch_check(aecl_ctx *ctx, const aecl_launch *l);

/* Enqueues one launch on the context's queue; ev may be NULL. */
aecl_status aecl_launch_enqueue(aecl_ctx *ctx, const aecl_launch *l, cl_event *ev);
/* Releases the kernel and data of a launch. */
void aecl_launch_release(aecl_launch *l);

#endif
