/* A deliberately wrong OpenCL program, to prove that tests/oclgrind_run.sh fails
 * a test when Oclgrind reports something (Oclgrind itself never changes the exit
 * status). `oclgrind_bad MODE` exits 0 in every mode; only Oclgrind's diagnostics
 * on stderr tell the modes apart:
 *   ok    a correct kernel: no diagnostic
 *   read  reads one float past the end of a buffer ("Invalid read of size 4")
 *   write writes one float past the end ("Invalid write of size 4")
 *   race  every work-item writes the same word ("Write-write data race")
 *   api   clSetKernelArg with an argument index the kernel lacks
 *         ("Oclgrind - OpenCL runtime error detected", with OCLGRIND_CHECK_API=1) */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <string.h>

static const char *src =
    "kernel void copy(global const float *x, global float *y, int shift)\n"
    "{ int i = get_global_id(0); y[i] = x[i + shift]; }\n"
    "kernel void spill(global float *y, int n)\n"
    "{ int i = get_global_id(0); y[i + n] = 1.0f; }\n"
    "kernel void race(global float *y)\n"
    "{ y[0] = (float)get_global_id(0); }\n";

#define TRY(call)                                                                        \
    do {                                                                                 \
        cl_int e_ = (call);                                                              \
        if (e_ != CL_SUCCESS) {                                                          \
            fprintf(stderr, "oclgrind_bad: %s failed: %d\n", #call, e_);                 \
            return 1;                                                                    \
        }                                                                                \
    } while (0)

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "ok";
    enum { N = 16 };
    float host[N] = {0};
    cl_platform_id plat;
    cl_device_id dev;
    cl_int err;
    TRY(clGetPlatformIDs(1, &plat, NULL));
    TRY(clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 1, &dev, NULL));
    cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    TRY(err);
    cl_command_queue q = clCreateCommandQueue(ctx, dev, 0, &err);
    TRY(err);
    cl_program prog = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
    TRY(err);
    TRY(clBuildProgram(prog, 1, &dev, "", NULL, NULL));
    cl_mem x = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof host, host, &err);
    TRY(err);
    cl_mem y = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof host, NULL, &err);
    TRY(err);
    const char *name = !strcmp(mode, "write") ? "spill" : !strcmp(mode, "race") ? "race" : "copy";
    cl_kernel k = clCreateKernel(prog, name, &err);
    TRY(err);
    cl_int one = !strcmp(mode, "read") || !strcmp(mode, "write");
    if (!strcmp(mode, "write")) {
        TRY(clSetKernelArg(k, 0, sizeof y, &y));
        TRY(clSetKernelArg(k, 1, sizeof one, &one));
    } else if (!strcmp(mode, "race")) {
        TRY(clSetKernelArg(k, 0, sizeof y, &y));
    } else {
        TRY(clSetKernelArg(k, 0, sizeof x, &x));
        TRY(clSetKernelArg(k, 1, sizeof y, &y));
        TRY(clSetKernelArg(k, 2, sizeof one, &one));
        if (!strcmp(mode, "api")) /* the error is the point: the status is not checked */
            (void)clSetKernelArg(k, 7, sizeof one, &one);
    }
    size_t global = N, local = N;
    TRY(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, NULL));
    TRY(clEnqueueReadBuffer(q, y, CL_TRUE, 0, sizeof host, host, 0, NULL, NULL));
    clReleaseKernel(k);
    clReleaseMemObject(x);
    clReleaseMemObject(y);
    clReleaseProgram(prog);
    clReleaseCommandQueue(q);
    clReleaseContext(ctx);
    printf("oclgrind_bad %s: done\n", mode);
    return 0;
}
