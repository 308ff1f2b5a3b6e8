/* Device listing, selection by index and name, bad selectors, adopted contexts. */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_listing(aecl_device_info **d, size_t *n)
{
    CHECK_OK(NULL, aecl_devices_list(d, n));
    CHECK(*n >= 1);
    int defaults = 0;
    for (size_t i = 0; i < *n; i++) {
        defaults += (*d)[i].is_default;
        CHECK((*d)[i].name[0] != 0);
        CHECK((*d)[i].compute_units >= 1);
        CHECK((*d)[i].global_mem_bytes > 0 && (*d)[i].max_alloc_bytes > 0);
        CHECK((*d)[i].max_work_group_size >= 1);
        CHECK(strstr((*d)[i].opencl_c_version, "OpenCL C") != NULL);
    }
    CHECK(defaults == 1);
}

static void test_select(const aecl_device_info *d)
{
    char sel[64];
    aecl_ctx *ctx = NULL;
    snprintf(sel, sizeof sel, "%u:%u", d[0].platform_index, d[0].device_index);
    CHECK_OK(NULL, aecl_ctx_create(sel, &ctx));
    CHECK(ctx && !strcmp(aecl_ctx_device(ctx)->name, d[0].name));
    aecl_ctx_free(ctx);

    CHECK_OK(NULL, aecl_ctx_create("0", &ctx));
    CHECK(ctx && !strcmp(aecl_ctx_device(ctx)->name, d[0].name));
    aecl_ctx_free(ctx);

    /* A substring of the name, in another case. */
    char sub[8] = {0};
    memcpy(sub, d[0].name, 5);
    for (char *p = sub; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    CHECK_OK(NULL, aecl_ctx_create(sub, &ctx));
    CHECK(ctx && !strcmp(aecl_ctx_device(ctx)->name, d[0].name));
    aecl_ctx_free(ctx);

    /* AECL_DEVICE is read when no selector is given. */
    setenv("AECL_DEVICE", "no-such-device-xyz", 1);
    CHECK(aecl_ctx_create(NULL, &ctx) == AECL_ERR_NO_DEVICE && ctx == NULL);
    unsetenv("AECL_DEVICE");
}

static void test_bad_selector(const aecl_device_info *d)
{
    aecl_ctx *ctx = (aecl_ctx *)1;
    CHECK(aecl_ctx_create("7:3", &ctx) == AECL_ERR_NO_DEVICE);
    CHECK(ctx == NULL);
    const char *msg = aecl_ctx_last_error(NULL);
    CHECK_MSG(strstr(msg, "7:3") && strstr(msg, d[0].name) && strstr(msg, "[0:0]"), "message: %s", msg);
    CHECK(aecl_ctx_create("99", &ctx) == AECL_ERR_NO_DEVICE);
    CHECK(aecl_ctx_create("quantum-gpu", &ctx) == AECL_ERR_NO_DEVICE);
    CHECK(strstr(aecl_ctx_last_error(NULL), "quantum-gpu") != NULL);
}

static cl_uint refcount_ctx(cl_context c)
{
    cl_uint r = 0;
    clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT, sizeof r, &r, NULL);
    return r;
}
static cl_uint refcount_queue(cl_command_queue q)
{
    cl_uint r = 0;
    clGetCommandQueueInfo(q, CL_QUEUE_REFERENCE_COUNT, sizeof r, &r, NULL);
    return r;
}

static void test_adopt(void)
{
    cl_platform_id p;
    cl_device_id dev;
    CHECK(clGetPlatformIDs(1, &p, NULL) == CL_SUCCESS);
    CHECK(clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &dev, NULL) == CL_SUCCESS);
    cl_int err;
    cl_context c = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    cl_command_queue q = clCreateCommandQueue(c, dev, 0, &err);
    CHECK(err == CL_SUCCESS);
    cl_uint rc0 = refcount_ctx(c), rq0 = refcount_queue(q);

    aecl_ctx *ctx = NULL;
    CHECK_OK(NULL, aecl_ctx_create_from_cl(c, q, &ctx));
    CHECK(aecl_ctx_cl_context(ctx) == c && aecl_ctx_cl_queue(ctx) == q && aecl_ctx_cl_device(ctx) == dev);
    CHECK_OK(ctx, aecl_selftest(ctx)); /* aecl's work runs on the caller's queue */
    aecl_ctx_free(ctx);
    /* PoCL drops the references its finished commands held from a helper thread,
     * a moment after clFinish returns: wait for it (up to 2 s), then compare. */
    clFinish(q);
    for (int i = 0; i < 200 && (refcount_ctx(c) != rc0 || refcount_queue(q) != rq0); i++) nanosleep(&(struct timespec){0, 10000000}, NULL);
    CHECK(refcount_ctx(c) == rc0 && refcount_queue(q) == rq0);

    /* The caller's objects still work after aecl is gone. */
    float v = 42.0f, back = 0;
    cl_mem m = clCreateBuffer(c, CL_MEM_READ_WRITE, sizeof v, NULL, &err);
    CHECK(err == CL_SUCCESS);
    CHECK(clEnqueueWriteBuffer(q, m, CL_TRUE, 0, sizeof v, &v, 0, NULL, NULL) == CL_SUCCESS);
    CHECK(clEnqueueReadBuffer(q, m, CL_TRUE, 0, sizeof v, &back, 0, NULL, NULL) == CL_SUCCESS);
    CHECK(back == 42.0f);
    clReleaseMemObject(m);

    /* A queue of another context is refused. */
    cl_context c2 = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    CHECK(aecl_ctx_create_from_cl(c2, q, &ctx) == AECL_ERR_INVALID_ARG && ctx == NULL);
    CHECK(strstr(aecl_ctx_last_error(NULL), "another context") != NULL);
    CHECK(aecl_ctx_create_from_cl(NULL, q, &ctx) == AECL_ERR_INVALID_ARG);
    clReleaseContext(c2);
    clReleaseCommandQueue(q);
    clReleaseContext(c);
}

int main(void)
{
    aecl_device_info *d = NULL;
    size_t n = 0;
    test_listing(&d, &n);
    if (n) {
        test_select(d);
        test_bad_selector(d);
        test_adopt();
    }
    free(d);
    CHECK(strcmp(aecl_status_str(AECL_ERR_DEVICE_MEMORY), "out of device memory") == 0);
    CHECK(aecl_version_number() == AECL_VERSION_NUMBER);
    return test_finish();
}
