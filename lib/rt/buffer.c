/* Device buffers with overflow-checked sizes and clear out-of-memory errors. */
#include "rt/rt.h"

#include <stdlib.h>

struct aecl_buffer {
    aecl_ctx *ctx;
    cl_mem mem;
    size_t bytes;
};

aecl_status aecl_buffer_create(aecl_ctx *ctx, size_t count, size_t elem_size, aecl_buffer **out)
{
    if (!ctx || !out) return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_buffer_create: NULL argument");
    *out = NULL;
    size_t bytes;
    AECL_RETURN_IF(!aecl_mul_size(count, elem_size, &bytes), AECL_ERR_DEVICE_MEMORY, ctx,
                   "buffer of %zu x %zu bytes overflows the address space", count, elem_size);
    AECL_RETURN_IF(bytes == 0, AECL_ERR_INVALID_ARG, ctx, "aecl_buffer_create: zero-sized buffer");
    AECL_RETURN_IF(bytes > ctx->info.max_alloc_bytes, AECL_ERR_DEVICE_MEMORY, ctx,
                   "buffer of %zu bytes is larger than the largest allocation %s allows (%llu bytes)",
                   bytes, ctx->info.name, (unsigned long long)ctx->info.max_alloc_bytes);
    aecl_buffer *b = calloc(1, sizeof *b);
    AECL_RETURN_IF(!b, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    cl_int err;
    b->mem = aecl_mem_create(ctx, bytes, &err);
    if (err == CL_SUCCESS) {
        /* Drivers allocate lazily; touching the buffer now turns a late
         * CL_MEM_OBJECT_ALLOCATION_FAILURE into an error here, and zeroes it. */
        const float zero = 0;
        err = clEnqueueFillBuffer(ctx->queue, b->mem, &zero, sizeof zero, 0, bytes & ~(size_t)3, 0, NULL, NULL);
        if (err == CL_SUCCESS) err = clFinish(ctx->queue);
    }
    if (err != CL_SUCCESS) {
        if (b->mem) clReleaseMemObject(b->mem);
        free(b);
        aecl_fail_cl(ctx, err, "clCreateBuffer", __FILE__, __LINE__);
        aecl_error_append(ctx, " allocating %zu bytes on %s", bytes, ctx->info.name);
        return err == CL_OUT_OF_HOST_MEMORY ? AECL_ERR_HOST_MEMORY : AECL_ERR_DEVICE_MEMORY;
    }
    b->ctx = ctx;
    b->bytes = bytes;
    *out = b;
    return AECL_OK;
}

void aecl_buffer_free(aecl_buffer *b)
{
    if (!b) return;
    clReleaseMemObject(b->mem);
    free(b);
}

size_t aecl_buffer_bytes(const aecl_buffer *b) { return b ? b->bytes : 0; }
cl_mem aecl_buffer_cl(const aecl_buffer *b) { return b ? b->mem : NULL; }

static aecl_status check_range(aecl_buffer *b, size_t offset, const void *p, size_t bytes, const char *what)
{
    if (!b) return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "%s: NULL buffer", what);
    size_t end;
    AECL_RETURN_IF(!p && bytes, AECL_ERR_INVALID_ARG, b->ctx, "%s: NULL host pointer", what);
    AECL_RETURN_IF(!aecl_add_size(offset, bytes, &end) || end > b->bytes, AECL_ERR_INVALID_ARG, b->ctx,
                   "%s: range [%zu, +%zu) outside a buffer of %zu bytes", what, offset, bytes, b->bytes);
    return AECL_OK;
}

aecl_status aecl_buffer_upload(aecl_buffer *b, size_t offset, const void *src, size_t bytes)
{
    AECL_TRY(check_range(b, offset, src, bytes, "aecl_buffer_upload"));
    if (bytes) AECL_CL_TRY(b->ctx, clEnqueueWriteBuffer(b->ctx->queue, b->mem, CL_TRUE, offset, bytes, src, 0, NULL, NULL));
    return AECL_OK;
}

aecl_status aecl_buffer_download(aecl_buffer *b, size_t offset, void *dst, size_t bytes)
{
    AECL_TRY(check_range(b, offset, dst, bytes, "aecl_buffer_download"));
    if (bytes) AECL_CL_TRY(b->ctx, clEnqueueReadBuffer(b->ctx->queue, b->mem, CL_TRUE, offset, bytes, dst, 0, NULL, NULL));
    return AECL_OK;
}
