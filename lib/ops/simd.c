#include "ops/simd.h"

int aecl_cpu_simd_floats(aecl_ctx *ctx)
{
    const aecl_device_info *d = aecl_ctx_device(ctx);
    if (!d || d->type != AECL_DEVICE_CPU) return 0;
    cl_uint native = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof native, &native, NULL) !=
        CL_SUCCESS)
        native = 8;
    return native >= 16 ? 16 : native >= 8 ? 8 : 4;
}
