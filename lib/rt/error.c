#include "rt/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

unsigned aecl_version_number(void) { return AECL_VERSION_NUMBER; }
const char *aecl_version_string(void) { return AECL_VERSION_STRING; }
