#include "error.h"
#include "ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Messages of calls that have no context (device listing, context creation). */
static _Thread_local char thread_errmsg[AECL_ERRMSG_CAP];

static char *slot(aecl_ctx *ctx) { return ctx ? ctx->errmsg : thread_errmsg; }

const char *aecl_status_str(aecl_status s)
{
    switch (s) {
    case AECL_OK: return "ok";
    case AECL_ERR_INVALID_ARG: return "invalid argument";
    case AECL_ERR_NO_DEVICE: return "no such OpenCL device";
    case AECL_ERR_OPENCL: return "OpenCL call failed";
    case AECL_ERR_BUILD: return "kernel build failed";
    case AECL_ERR_HOST_MEMORY: return "out of host memory";
    case AECL_ERR_DEVICE_MEMORY: return "out of device memory";
    case AECL_ERR_IO: return "file input/output failed";
    case AECL_ERR_FORMAT: return "malformed input";
    case AECL_ERR_SHAPE: return "tensor shape mismatch";
    case AECL_ERR_UNSUPPORTED: return "unsupported by this device or build";
    case AECL_ERR_NUMERIC: return "numeric failure (NaN or infinity)";
    case AECL_ERR_STATE: return "call made in the wrong state";
    }
    return "unknown status";
}

aecl_status aecl_fail(aecl_ctx *ctx, aecl_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot(ctx), AECL_ERRMSG_CAP, fmt, ap);
    va_end(ap);
    if (ctx) aecl_log(ctx, AECL_LOG_ERROR, "%s", ctx->errmsg);
    return st;
}

void aecl_error_append(aecl_ctx *ctx, const char *fmt, ...)
{
    char *m = slot(ctx);
    size_t len = strlen(m);
    if (len + 1 >= AECL_ERRMSG_CAP) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m + len, AECL_ERRMSG_CAP - len, fmt, ap);
    va_end(ap);
}

aecl_status aecl_fail_cl(aecl_ctx *ctx, cl_int err, const char *call, const char *file, int line)
{
    aecl_status st = AECL_ERR_OPENCL;
    if (err == CL_OUT_OF_RESOURCES || err == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
        err == CL_INVALID_BUFFER_SIZE)
        st = AECL_ERR_DEVICE_MEMORY;
    else if (err == CL_OUT_OF_HOST_MEMORY)
        st = AECL_ERR_HOST_MEMORY;
    /* Keep only the function name of the call expression. */
    char fn[96];
    size_t n = strcspn(call, "(");
    if (n >= sizeof fn) n = sizeof fn - 1;
    memcpy(fn, call, n);
    fn[n] = 0;
    const char *base = strrchr(file, '/');
    return aecl_fail(ctx, st, "%s failed with %s (%d) at %s:%d", fn, aecl_cl_error_name(err),
                     (int)err, base ? base + 1 : file, line);
}

const char *aecl_ctx_last_error(const aecl_ctx *ctx)
{
    return ctx ? ctx->errmsg : thread_errmsg;
}

void aecl_log(const aecl_ctx *ctx, int level, const char *fmt, ...)
{
    if (!ctx || !ctx->log_fn || level > ctx->log_level) return;
    char buf[AECL_ERRMSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->log_fn(ctx->log_user, level, buf);
}

void aecl_ctx_set_log(aecl_ctx *ctx, aecl_log_fn fn, void *user, int max_level)
{
    if (!ctx) return;
    ctx->log_fn = fn;
    ctx->log_user = user;
    ctx->log_level = max_level;
}

unsigned aecl_version_number(void) { return AECL_VERSION_NUMBER; }
const char *aecl_version_string(void) { return AECL_VERSION_STRING; }
