/* The device's FP32 peak, measured: cl/peak.cl's chains of FMAs on the device's
 * widest float vectors, for `aecl bench` to set each model's GFLOP/s against. */
#include "rt/rt.h"
#include "rt/tuning.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Independent chains per work-item: two FMA pipes of latency 4 need 8 in
 * flight; 16 keep the loop overhead small and still fit 32 vector registers. */
#define NACC 16

/* What one work-item of fma_peak stores, computed the same way in C. */
static float expected_item(int iters, float a, float b, int vw)
{
    float s = 0.0f;
    for (int j = 0; j < NACC; j++) {
        float acc = (float)j * 0.25f;
        for (int i = 0; i < iters; i++) acc = fmaf(acc, a, b);
        s += acc * (float)vw;
    }
    return s;
}

typedef struct peak_run {
    cl_kernel k;
    cl_mem out;
    size_t global, local;
    int n, vw;
} peak_run;

static aecl_status peak_setup(aecl_ctx *ctx, const aecl_peak_opts *o, peak_run *r)
{
    const aecl_tuning *t = aecl_ctx_tuning(ctx);
    r->vw = t->simd ? t->simd : 4;
    char opts[64];
    snprintf(opts, sizeof opts, "-DVW=%d -DNACC=%d", r->vw, NACC);
    AECL_TRY(aecl_kernel_create(ctx, "peak.cl", opts, "fma_peak", &r->k));
    /* Enough items that every compute unit has several groups (16 of 64 items
     * per compute unit): a thread that the OS takes away for a while leaves
     * the others work to take over. */
    size_t wg = aecl_kernel_max_wg(ctx, r->k);
    r->n = o->items ? o->items : (int)(t->compute_units * 16 * (wg < 64 ? wg : 64));
    aecl_range_1d(ctx, r->k, (size_t)r->n, &r->global, &r->local);
    cl_int err;
    r->out = clCreateBuffer(ctx->context, CL_MEM_WRITE_ONLY, (size_t)r->n * sizeof(float), NULL, &err);
    if (err != CL_SUCCESS) return aecl_fail_cl(ctx, err, "clCreateBuffer", __FILE__, __LINE__);
    return AECL_OK;
}

/* One timed launch of `iters` iterations (wall time to clFinish). */
static aecl_status peak_launch(aecl_ctx *ctx, peak_run *r, int iters, float a, float b, double *secs)
{
    AECL_ARG(ctx, r->k, 0, r->out);
    AECL_ARG(ctx, r->k, 1, r->n);
    AECL_ARG(ctx, r->k, 2, iters);
    AECL_ARG(ctx, r->k, 3, a);
    AECL_ARG(ctx, r->k, 4, b);
    double t0 = aecl_now_s();
    AECL_CL_TRY(ctx, clEnqueueNDRangeKernel(ctx->queue, r->k, 1, NULL, &r->global, &r->local, 0, NULL, NULL));
    AECL_CL_TRY(ctx, clFinish(ctx->queue));
    *secs = aecl_now_s() - t0;
    return AECL_OK;
}

static aecl_status peak_check(aecl_ctx *ctx, peak_run *r, int iters, float a, float b)
{
    float *got = malloc((size_t)r->n * sizeof *got);
    AECL_RETURN_IF(!got, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    cl_int err = clEnqueueReadBuffer(ctx->queue, r->out, CL_TRUE, 0, (size_t)r->n * sizeof *got, got, 0, NULL, NULL);
    float want = expected_item(iters, a, b, r->vw);
    int bad = -1;
    for (int i = 0; err == CL_SUCCESS && i < r->n && bad < 0; i++)
        if (!(fabsf(got[i] - want) <= 1e-4f * fabsf(want))) bad = i;
    float g = bad >= 0 ? got[bad] : 0;
    free(got);
    if (err != CL_SUCCESS) return aecl_fail_cl(ctx, err, "clEnqueueReadBuffer", __FILE__, __LINE__);
    AECL_RETURN_IF(bad >= 0, AECL_ERR_OPENCL, ctx, "fma_peak: item %d computed %.9g, expected %.9g", bad, g, want);
    return AECL_OK;
}

static int cmp_d(const void *x, const void *y)
{
    double p = *(const double *)x, q = *(const double *)y;
    return (p > q) - (p < q);
}

/* Iterations so that one launch takes about o->seconds (from a first timing). */
static aecl_status calibrate(aecl_ctx *ctx, const aecl_peak_opts *o, peak_run *r, float a, float b, int *iters)
{
    *iters = o->iters ? o->iters : 256;
    if (o->iters) return AECL_OK;
    double t;
    AECL_TRY(peak_launch(ctx, r, *iters, a, b, &t)); /* the first launch also compiles */
    AECL_TRY(peak_launch(ctx, r, *iters, a, b, &t));
    double want = o->seconds > 0 ? o->seconds : 0.05, scale = t > 0 ? want / t : 64;
    if (scale > 1) *iters = (int)fmin(*iters * scale, 1 << 24);
    return AECL_OK;
}

aecl_status aecl_device_peak(aecl_ctx *ctx, const aecl_peak_opts *o, aecl_peak *out)
{
    AECL_RETURN_IF(!ctx || !o || !out, AECL_ERR_INVALID_ARG, ctx, "aecl_device_peak: NULL argument");
    peak_run r = {0};
    const float a = 0.999f, b = 0.001f;
    int runs = o->runs > 0 && o->runs <= 31 ? o->runs : 5, iters = 0;
    double t[31];
    aecl_status st = peak_setup(ctx, o, &r);
    if (st == AECL_OK) st = calibrate(ctx, o, &r, a, b, &iters);
    for (int i = 0; st == AECL_OK && i < runs; i++) st = peak_launch(ctx, &r, iters, a, b, &t[i]);
    if (st == AECL_OK) st = peak_check(ctx, &r, iters, a, b);
    if (st == AECL_OK) {
        qsort(t, (size_t)runs, sizeof *t, cmp_d);
        out->flops = 2.0 * NACC * r.vw * (double)iters * r.n;
        out->seconds = t[runs / 2];
        out->gflops = out->flops / out->seconds * 1e-9;
        out->vector_width = r.vw;
    }
    if (r.out) clReleaseMemObject(r.out);
    if (r.k) clReleaseKernel(r.k);
    return st;
}
