/* Large buffers of a CPU device in memory backed by huge pages where the system
 * allows (base/bigmem.h).
 *
 * A CPU driver (PoCL) allocates a buffer as ordinary host memory, in 4 kB pages:
 * the first touch of a plan's 20-30 MB cost thousands of page faults, 40-80 ms of
 * a 0.5 s warm start in a virtual machine. aecl allocates that memory itself and
 * hands it to the driver with CL_MEM_USE_HOST_PTR (which the OpenCL
 * specification allows on any device); the buffer's destructor callback frees it
 * when the driver is done with it. GPUs, and small buffers, are allocated by the
 * driver as usual. */
#include "base/bigmem.h"
#include "rt/rt.h"

#include <stdlib.h>

static void CL_CALLBACK free_on_release(cl_mem mem, void *host)
{
    (void)mem;
    free(host);
}

cl_mem aecl_mem_create(aecl_ctx *ctx, size_t bytes, cl_int *err)
{
    void *host = ctx->info.type == AECL_DEVICE_CPU && bytes >= AECL_BIG_PAGE ? aecl_malloc_big(bytes) : NULL;
    if (host) {
        cl_mem mem = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, host, err);
        if (mem && clSetMemObjectDestructorCallback(mem, free_on_release, host) == CL_SUCCESS) return mem;
        if (mem) clReleaseMemObject(mem); /* without the callback nothing would free host */
        free(host);
    }
    return clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, err);
}
