/* The error model every layer shares (zstd style): a failing path records a
 * message and returns a pinned aecl_status. Messages go to the context's slot, or
 * to the calling thread's slot when there is no context yet.
 *
 * This is the base layer: it knows the public types of aecl.h and nothing of the
 * layers above. A context (lib/rt/ctx.h) begins with an aecl_err_state, which is
 * all of it this file touches; rt checks that layout at compile time. */
#ifndef AECL_BASE_ERROR_H
#define AECL_BASE_ERROR_H

#include "aecl.h"

#include <stddef.h>

#if defined(__GNUC__)
#define AECL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AECL_PRINTF(a, b)
#endif

#define AECL_ERRMSG_CAP 16384

/* The first member of every aecl_ctx. */
typedef struct aecl_err_state {
    char msg[AECL_ERRMSG_CAP];
    aecl_log_fn log_fn;
    void *log_user;
    int log_level;
} aecl_err_state;

/* Records "message" as the last error of ctx (thread slot if ctx is NULL) and
 * returns st, so callers can write `return aecl_fail(ctx, st, ...)`. */
aecl_status aecl_fail(aecl_ctx *ctx, aecl_status st, const char *fmt, ...) AECL_PRINTF(3, 4);

/* Appends text to the existing last-error message (e.g. context of an outer call). */
void aecl_error_append(aecl_ctx *ctx, const char *fmt, ...) AECL_PRINTF(2, 3);

/* Logs through the context's callback, if any and if level passes. */
void aecl_log(const aecl_ctx *ctx, int level, const char *fmt, ...) AECL_PRINTF(3, 4);

/* Thread-safe strerror into buf (returns buf). */
const char *aecl_strerror(int err, char *buf, size_t cap);

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
