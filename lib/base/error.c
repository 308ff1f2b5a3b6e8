/* The error slots and the log hook (see error.h). The public calls that read
 * them (aecl_status_str, aecl_ctx_last_error, aecl_ctx_set_log) live here too. */
#define _POSIX_C_SOURCE 200809L

#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Messages of calls that have no context (device listing, context creation). */
static _Thread_local char thread_errmsg[AECL_ERRMSG_CAP];

/* A context begins with its aecl_err_state (static-asserted in lib/rt/ctx.h). */
static aecl_err_state *state(const aecl_ctx *ctx) { return (aecl_err_state *)(void *)ctx; }
static char *slot(aecl_ctx *ctx) { return ctx ? state(ctx)->msg : thread_errmsg; }

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
    case AECL_ERR_UNSUPPORTED: return "not supported (by aecl, this build or this device)";
    case AECL_ERR_NUMERIC: return "numeric failure (NaN or infinity)";
    case AECL_ERR_STATE: return "call made in the wrong state";
    case AECL_ERR_CANCELED: return "canceled by the caller";
    }
    return "unknown status";
}

aecl_status aecl_fail(aecl_ctx *ctx, aecl_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot(ctx), AECL_ERRMSG_CAP, fmt, ap);
    va_end(ap);
    if (ctx) aecl_log(ctx, AECL_LOG_ERROR, "%s", state(ctx)->msg);
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

const char *aecl_ctx_last_error(const aecl_ctx *ctx)
{
    return ctx ? state(ctx)->msg : thread_errmsg;
}

void aecl_log(const aecl_ctx *ctx, int level, const char *fmt, ...)
{
    const aecl_err_state *s = ctx ? state(ctx) : NULL;
    if (!s || !s->log_fn || level > s->log_level) return;
    char buf[AECL_ERRMSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    s->log_fn(s->log_user, level, buf);
}

void aecl_ctx_set_log(aecl_ctx *ctx, aecl_log_fn fn, void *user, int max_level)
{
    if (!ctx) return;
    aecl_err_state *s = state(ctx);
    s->log_fn = fn;
    s->log_user = user;
    s->log_level = max_level;
}

const char *aecl_strerror(int err, char *buf, size_t cap)
{
    if (cap == 0) return buf;
    /* XSI strerror_r (we do not define _GNU_SOURCE): returns 0 on success. */
    if (strerror_r(err, buf, cap) != 0) snprintf(buf, cap, "error %d", err);
    return buf;
}
