/* The OpenCL side of the error model (lib/base/error.h): failed CL calls become
 * statuses with a message naming the call, the error and the place. */
#ifndef AECL_RT_ERROR_H
#define AECL_RT_ERROR_H

#include "aecl_cl.h"
#include "base/error.h"

/* Like aecl_fail for a failed OpenCL call: names the call, the CL error and the
 * place. Out-of-resources errors map to AECL_ERR_DEVICE_MEMORY. */
aecl_status aecl_fail_cl(aecl_ctx *ctx, cl_int err, const char *call, const char *file, int line);

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"), never NULL. */
const char *aecl_cl_error_name(cl_int err);

/* Runs an OpenCL call returning cl_int; on failure records it and returns. */
#define AECL_CL_TRY(ctx, call)                                                     \
    do {                                                                           \
        cl_int aecl_cl_err_ = (call);                                              \
        if (aecl_cl_err_ != CL_SUCCESS)                                            \
            return aecl_fail_cl((ctx), aecl_cl_err_, #call, __FILE__, __LINE__);   \
    } while (0)

/* Same, but stores the status in `st` and jumps to cleanup. */
#define AECL_CL_GOTO(ctx, st, label, call)                                         \
    do {                                                                           \
        cl_int aecl_cl_err_ = (call);                                              \
        if (aecl_cl_err_ != CL_SUCCESS) {                                          \
            st = aecl_fail_cl((ctx), aecl_cl_err_, #call, __FILE__, __LINE__);     \
            goto label;                                                            \
        }                                                                          \
    } while (0)


#endif
