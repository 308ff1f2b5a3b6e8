/* Internal error helpers (zstd style). A failing path records a message in the
 * context (or the thread's slot when there is no context yet) and returns a status. */
#ifndef AECL_RT_ERROR_H
#define AECL_RT_ERROR_H

#include "aecl_cl.h"

#if defined(__GNUC__)
#define AECL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AECL_PRINTF(a, b)
#endif

/* Records "message" as the last error of ctx (thread slot if ctx is NULL) and
 * returns st, so callers can write `return aecl_fail(ctx, st, ...)`. */
aecl_status aecl_fail(aecl_ctx *ctx, aecl_status st, const char *fmt, ...) AECL_PRINTF(3, 4);

/* Like aecl_fail for a failed OpenCL call: names the call, the CL error and the
 * place. Out-of-resources errors map to AECL_ERR_DEVICE_MEMORY. */
aecl_status aecl_fail_cl(aecl_ctx *ctx, cl_int err, const char *call, const char *file, int line);

/* Appends text to the existing last-error message (e.g. context of an outer call). */
void aecl_error_append(aecl_ctx *ctx, const char *fmt, ...) AECL_PRINTF(2, 3);

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"), never NULL. */
const char *aecl_cl_error_name(cl_int err);

/* Logs through the context's callback, if any and if level passes. */
void aecl_log(const aecl_ctx *ctx, int level, const char *fmt, ...) AECL_PRINTF(3, 4);

#define AECL_RETURN_IF(cond, st, ctx, ...)                                         \
    do {                                                                           \
        if (cond) return aecl_fail((ctx), (st), __VA_ARGS__);                      \
    } while (0)

/* Propagates a non-OK status. */
#define AECL_TRY(expr)                                                             \
    do {                                                                           \
        aecl_status aecl_try_st_ = (expr);                                         \
        if (aecl_try_st_ != AECL_OK) return aecl_try_st_;                          \
    } while (0)

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

#define AECL_GOTO_IF(cond, st, label, stval, ctx, ...)                             \
    do {                                                                           \
        if (cond) {                                                                \
            st = aecl_fail((ctx), (stval), __VA_ARGS__);                           \
            goto label;                                                            \
        }                                                                          \
    } while (0)

/* Overflow-checked size arithmetic: return 0 on overflow. */
static inline int aecl_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a) return 0;
    *out = a * b;
    return 1;
}
static inline int aecl_add_size(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a) return 0;
    *out = a + b;
    return 1;
}

#endif
