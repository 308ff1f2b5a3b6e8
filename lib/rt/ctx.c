/* Contexts: aecl's own (from a device selector) or adopted from the caller. */
#include "rt/device.h"
#include "rt/error.h"
#include "rt/program.h"
#include "rt/rt.h"

#include <stdlib.h>
#include <string.h>

static aecl_status ctx_alloc(aecl_ctx **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return aecl_fail(NULL, AECL_ERR_HOST_MEMORY, "out of host memory creating a context");
    (*out)->err.log_level = AECL_LOG_WARN;
    return AECL_OK;
}

/* Copies a context's message into the thread slot before the context goes away. */
static aecl_status fail_created(aecl_ctx *ctx, aecl_status st)
{
    aecl_fail(NULL, st, "%s", ctx->err.msg);
    aecl_ctx_free(ctx);
    return st;
}

aecl_status aecl_ctx_create(const char *selector, aecl_ctx **out)
{
    if (!out) return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "aecl_ctx_create: NULL output");
    *out = NULL;
    aecl_device_set set;
    AECL_TRY(aecl_device_set_load(&set));
    size_t idx;
    aecl_status st = aecl_device_select(&set, selector, &idx);
    if (st != AECL_OK) { aecl_device_set_free(&set); return st; }
    aecl_ctx *ctx;
    if ((st = ctx_alloc(&ctx)) != AECL_OK) { aecl_device_set_free(&set); return st; }
    ctx->platform = set.devices[idx].platform;
    ctx->device = set.devices[idx].device;
    ctx->info = set.info[idx];
    ctx->owns_cl = 1;
    aecl_device_set_free(&set);

    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform, 0};
    ctx->context = clCreateContext(props, 1, &ctx->device, NULL, NULL, &err);
    if (err != CL_SUCCESS)
        return fail_created(ctx, aecl_fail_cl(ctx, err, "clCreateContext", __FILE__, __LINE__));
    /* Profiling is on so benchmarks can read per-launch device time; its cost is
     * a timestamp per command. */
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS)
        return fail_created(ctx, aecl_fail_cl(ctx, err, "clCreateCommandQueue", __FILE__, __LINE__));
    ctx->profiling = 1;
    if ((st = aecl_ctx_tune(ctx, NULL)) != AECL_OK) return fail_created(ctx, st);
    *out = ctx;
    return AECL_OK;
}

aecl_status aecl_ctx_create_from_cl(cl_context context, cl_command_queue queue, aecl_ctx **out)
{
    if (!out) return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "aecl_ctx_create_from_cl: NULL output");
    *out = NULL;
    if (!context || !queue)
        return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "aecl_ctx_create_from_cl: NULL context or queue");
    aecl_ctx *ctx;
    AECL_TRY(ctx_alloc(&ctx));
    cl_context qctx = NULL;
    cl_command_queue_properties qprops = 0;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
    if (!err) err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof ctx->device, &ctx->device, NULL);
    if (!err) err = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof qprops, &qprops, NULL);
    if (!err) err = clGetDeviceInfo(ctx->device, CL_DEVICE_PLATFORM, sizeof ctx->platform, &ctx->platform, NULL);
    if (err != CL_SUCCESS)
        return fail_created(ctx, aecl_fail_cl(ctx, err, "clGetCommandQueueInfo", __FILE__, __LINE__));
    if (qctx != context) {
        aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_ctx_create_from_cl: the queue belongs to another context");
        return fail_created(ctx, AECL_ERR_INVALID_ARG);
    }
    if (qprops & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) {
        aecl_fail(ctx, AECL_ERR_UNSUPPORTED,
                  "aecl_ctx_create_from_cl: the queue is out-of-order; aecl needs an in-order queue");
        return fail_created(ctx, AECL_ERR_UNSUPPORTED);
    }
    /* Our own references: released in aecl_ctx_free, the caller's stay untouched. */
    clRetainContext(context);
    clRetainCommandQueue(queue);
    ctx->context = context;
    ctx->queue = queue;
    ctx->owns_cl = 0;
    ctx->profiling = (qprops & CL_QUEUE_PROFILING_ENABLE) != 0;
    aecl_device_fill_info(ctx->platform, ctx->device, 0, 0, &ctx->info);
    aecl_status st = aecl_ctx_tune(ctx, NULL);
    if (st != AECL_OK) return fail_created(ctx, st);
    *out = ctx;
    return AECL_OK;
}

void aecl_ctx_free(aecl_ctx *ctx)
{
    if (!ctx) return;
    if (ctx->queue) clFinish(ctx->queue);
    aecl_programs_release(ctx);
    while (ctx->slots) {
        aecl_ctx_slot *s = ctx->slots;
        ctx->slots = s->next;
        if (s->release) s->release(s->data);
        free(s);
    }
    if (ctx->queue) clReleaseCommandQueue(ctx->queue);
    if (ctx->context) clReleaseContext(ctx->context);
    free(ctx);
}

cl_context aecl_ctx_cl_context(const aecl_ctx *ctx) { return ctx ? ctx->context : NULL; }
cl_command_queue aecl_ctx_cl_queue(const aecl_ctx *ctx) { return ctx ? ctx->queue : NULL; }
cl_device_id aecl_ctx_cl_device(const aecl_ctx *ctx) { return ctx ? ctx->device : NULL; }
const aecl_device_info *aecl_ctx_device(const aecl_ctx *ctx) { return ctx ? &ctx->info : NULL; }

aecl_status aecl_ctx_finish(aecl_ctx *ctx)
{
    if (!ctx) return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "aecl_ctx_finish: NULL context");
    AECL_CL_TRY(ctx, clFinish(ctx->queue));
    return AECL_OK;
}

void *aecl_ctx_slot_get(const aecl_ctx *ctx, const void *owner)
{
    for (const aecl_ctx_slot *s = ctx->slots; s; s = s->next)
        if (s->owner == owner) return s->data;
    return NULL;
}

int aecl_ctx_slot_set(aecl_ctx *ctx, const void *owner, void *data, void (*release)(void *data))
{
    aecl_ctx_slot *s = ctx->slots;
    while (s && s->owner != owner) s = s->next;
    if (!s) {
        if (!(s = calloc(1, sizeof *s))) return 0;
        s->owner = owner;
        s->next = ctx->slots;
        ctx->slots = s;
    }
    s->data = data;
    s->release = release;
    return 1;
}
