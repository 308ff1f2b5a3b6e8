/* embed_example: aecl inside an application that owns its OpenCL objects.
 *
 * The application creates its context and queue, makes a batch of images with a
 * kernel of its own, hands the buffer to aecl (which adopts the context with
 * aecl_ctx_create_from_cl), gets the latent codes and anomaly scores back in
 * buffers of its own, and reduces the codes to their norms with another kernel of
 * its own. Ordering goes through events; no data passes through the host until
 * the application reads its results.
 *
 *   embed_example WEIGHTS [--rows N] [--batch B] [--out FILE]
 *
 * FILE (for tests) receives int32 rows, features, latent, then the float images
 * [rows, features], codes [rows, latent], norms [rows], scores [rows] and the
 * reconstructions of the codes [rows, features]. */
#define CL_TARGET_OPENCL_VERSION 120
#include <aecl_cl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *app_kernels =
    "__kernel void make_batch(__global float *x, int features, int n) {\n"
    "    int i = get_global_id(0);\n"
    "    if (i >= n) return;\n"
    "    int r = i / features, k = i % features;\n"
    "    x[i] = 0.5f + 0.5f * sin(0.05f * (float)k * (float)(r % 7 + 1) + (float)r);\n"
    "}\n"
    "__kernel void code_norms(__global const float *z, int latent, int rows, __global float *norms) {\n"
    "    int r = get_global_id(0);\n"
    "    if (r >= rows) return;\n"
    "    float s = 0.0f;\n"
    "    for (int k = 0; k < latent; k++) s += z[r * latent + k] * z[r * latent + k];\n"
    "    norms[r] = sqrt(s);\n"
    "}\n";

/* The application's own OpenCL objects. */
typedef struct app {
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_kernel make, norms;
    cl_mem x, code, norm, score, recon;
} app;

#define CL_CHECK(call)                                                                    \
    do {                                                                                  \
        cl_int err_ = (call);                                                             \
        if (err_ != CL_SUCCESS) {                                                         \
            fprintf(stderr, "embed_example: %s failed (%d) at line %d\n", #call, err_, __LINE__); \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

static int app_open(app *a)
{
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    CL_CHECK(clGetPlatformIDs(1, &platform, NULL));
    CL_CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL));
    a->context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CL_CHECK(err);
    a->queue = clCreateCommandQueue(a->context, device, 0, &err);
    CL_CHECK(err);
    a->program = clCreateProgramWithSource(a->context, 1, &app_kernels, NULL, &err);
    CL_CHECK(err);
    CL_CHECK(clBuildProgram(a->program, 1, &device, "-cl-std=CL1.2", NULL, NULL));
    a->make = clCreateKernel(a->program, "make_batch", &err);
    CL_CHECK(err);
    a->norms = clCreateKernel(a->program, "code_norms", &err);
    CL_CHECK(err);
    return 0;
}

static int app_buffers(app *a, size_t rows, size_t features, size_t latent)
{
    cl_int err;
    cl_mem *bufs[] = {&a->x, &a->code, &a->norm, &a->score, &a->recon};
    size_t sizes[] = {rows * features, rows * latent, rows, rows, rows * features};
    for (int i = 0; i < 5; i++) {
        *bufs[i] = clCreateBuffer(a->context, CL_MEM_READ_WRITE, sizes[i] * sizeof(float), NULL, &err);
        CL_CHECK(err);
    }
    return 0;
}

static void app_close(app *a)
{
    cl_mem bufs[] = {a->x, a->code, a->norm, a->score, a->recon};
    for (int i = 0; i < 5; i++)
        if (bufs[i]) clReleaseMemObject(bufs[i]);
    if (a->norms) clReleaseKernel(a->norms);
    if (a->make) clReleaseKernel(a->make);
    if (a->program) clReleaseProgram(a->program);
    if (a->queue) clReleaseCommandQueue(a->queue);
    if (a->context) clReleaseContext(a->context);
}

/* The application's kernel: a batch of synthetic images, event out. */
static int make_batch(app *a, size_t rows, size_t features, cl_event *ev)
{
    cl_int f = (cl_int)features, n = (cl_int)(rows * features);
    size_t global = rows * features;
    CL_CHECK(clSetKernelArg(a->make, 0, sizeof a->x, &a->x));
    CL_CHECK(clSetKernelArg(a->make, 1, sizeof f, &f));
    CL_CHECK(clSetKernelArg(a->make, 2, sizeof n, &n));
    CL_CHECK(clEnqueueNDRangeKernel(a->queue, a->make, 1, NULL, &global, NULL, 0, NULL, ev));
    return 0;
}

/* The application's kernel on aecl's output: norms of the codes, after `wait`. */
static int code_norms(app *a, size_t rows, size_t latent, cl_event wait, float *norms)
{
    cl_int l = (cl_int)latent, r = (cl_int)rows;
    size_t global = rows;
    CL_CHECK(clSetKernelArg(a->norms, 0, sizeof a->code, &a->code));
    CL_CHECK(clSetKernelArg(a->norms, 1, sizeof l, &l));
    CL_CHECK(clSetKernelArg(a->norms, 2, sizeof r, &r));
    CL_CHECK(clSetKernelArg(a->norms, 3, sizeof a->norm, &a->norm));
    CL_CHECK(clEnqueueNDRangeKernel(a->queue, a->norms, 1, NULL, &global, NULL, wait ? 1 : 0, wait ? &wait : NULL, NULL));
    CL_CHECK(clEnqueueReadBuffer(a->queue, a->norm, CL_TRUE, 0, rows * sizeof(float), norms, 0, NULL, NULL));
    return 0;
}

/* aecl's part: encode, score and decode the application's batch into its buffers. */
static int run_aecl(app *a, const char *weights, size_t rows, int batch, size_t *features, size_t *latent,
                    cl_event *codes_ready)
{
    aecl_ctx *ctx = NULL;
    aecl_cl_model *m = NULL;
    cl_event made = NULL;
    aecl_status st = aecl_ctx_create_from_cl(a->context, a->queue, &ctx);
    if (st == AECL_OK) st = aecl_cl_model_load(ctx, weights, batch, &m);
    if (st == AECL_OK) {
        *features = aecl_cl_model_features(m);
        *latent = aecl_cl_model_latent(m);
        if (app_buffers(a, rows, *features, *latent) || make_batch(a, rows, *features, &made)) st = AECL_ERR_OPENCL;
    }
    if (st == AECL_OK) st = aecl_cl_model_encode(m, a->x, 0, rows, a->code, 0, 1, &made, codes_ready);
    if (st == AECL_OK) st = aecl_cl_model_scores(m, a->x, 0, rows, a->score, 0, 1, &made, NULL);
    if (st == AECL_OK) st = aecl_cl_model_decode(m, a->code, 0, rows, a->recon, 0, 1, codes_ready, NULL);
    if (st != AECL_OK)
        fprintf(stderr, "embed_example: %s: %s\n", aecl_status_str(st), aecl_ctx_last_error(ctx));
    if (made) clReleaseEvent(made);
    /* aecl's handles go; the application's context, queue, buffers and event stay. */
    aecl_cl_model_free(m);
    aecl_ctx_free(ctx);
    return st == AECL_OK ? 0 : 1;
}

static int read_all(app *a, size_t rows, size_t features, size_t latent, float *x, float *code, float *score,
                    float *recon)
{
    CL_CHECK(clEnqueueReadBuffer(a->queue, a->x, CL_FALSE, 0, rows * features * sizeof(float), x, 0, NULL, NULL));
    CL_CHECK(clEnqueueReadBuffer(a->queue, a->code, CL_FALSE, 0, rows * latent * sizeof(float), code, 0, NULL, NULL));
    CL_CHECK(clEnqueueReadBuffer(a->queue, a->score, CL_FALSE, 0, rows * sizeof(float), score, 0, NULL, NULL));
    CL_CHECK(clEnqueueReadBuffer(a->queue, a->recon, CL_TRUE, 0, rows * features * sizeof(float), recon, 0, NULL,
                                 NULL));
    return 0;
}

static int write_results(const char *path, int32_t hdr[3], float *parts[5], const size_t counts[5])
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(hdr, sizeof(int32_t), 3, f) == 3;
    for (int i = 0; ok && i < 5; i++) ok = fwrite(parts[i], sizeof(float), counts[i], f) == counts[i];
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) fprintf(stderr, "embed_example: cannot write %s\n", path);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *weights = NULL, *out = NULL;
    size_t rows = 40;
    int batch = 16;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc) rows = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (argv[i][0] != '-' && !weights) weights = argv[i];
        else { fprintf(stderr, "usage: embed_example WEIGHTS [--rows N] [--batch B] [--out FILE]\n"); return 2; }
    }
    if (!weights || rows == 0) { fprintf(stderr, "usage: embed_example WEIGHTS [--rows N] [--batch B] [--out FILE]\n"); return 2; }
    app a = {0};
    size_t features = 0, latent = 0;
    cl_event codes_ready = NULL;
    int rc = app_open(&a);
    if (!rc) rc = run_aecl(&a, weights, rows, batch, &features, &latent, &codes_ready);
    float *x = NULL, *code = NULL, *norms = NULL, *scores = NULL, *recon = NULL;
    if (!rc) {
        x = malloc(rows * features * sizeof *x), code = malloc(rows * latent * sizeof *code);
        norms = malloc(rows * sizeof *norms), scores = malloc(rows * sizeof *scores);
        recon = malloc(rows * features * sizeof *recon);
        rc = !x || !code || !norms || !scores || !recon;
    }
    /* aecl is gone by now: the application's kernel still runs on its own objects,
     * gated by the event aecl returned. */
    if (!rc) rc = code_norms(&a, rows, latent, codes_ready, norms);
    if (!rc) rc = read_all(&a, rows, features, latent, x, code, scores, recon);
    if (!rc) {
        printf("encoded %zu rows of %zu features into %zu-float codes\n", rows, features, latent);
        for (size_t r = 0; r < rows && r < 4; r++) printf("row %zu: |code| = %.5f  score = %.5f\n", r, norms[r], scores[r]);
    }
    if (!rc && out) {
        int32_t hdr[3] = {(int32_t)rows, (int32_t)features, (int32_t)latent};
        float *parts[5] = {x, code, norms, scores, recon};
        size_t counts[5] = {rows * features, rows * latent, rows, rows, rows * features};
        rc = write_results(out, hdr, parts, counts);
    }
    free(x), free(code), free(norms), free(scores), free(recon);
    if (codes_ready) clReleaseEvent(codes_ready);
    app_close(&a);
    return rc;
}
