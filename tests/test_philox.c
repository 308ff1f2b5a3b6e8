/* Philox4x32-10: the Random123 known answers on the host and on the device, the
 * device's words equal to the host twin's bit for bit, uniforms exactly equal,
 * normals within rounding, and the distributions' moments. The device checks run
 * for every number of blocks per work-item (RNG_K: 1 on GPUs, the SIMD width on
 * CPUs). */
#include "check.h"
#include "ops/philox.h"
#include "rt/rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int blocks_per_item[] = {1, 2, 4, 8, 16};

static const char *rng_options(int k)
{
    static char opt[32];
    snprintf(opt, sizeof opt, "-DRNG_K=%d", k);
    return opt;
}

/* From the kat_vectors file of the Random123 distribution: counter, key, result. */
static const uint32_t kat[3][10] = {
    {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
     0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
     0x24126ea1},
};

static void test_host_kat(void)
{
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        aecl_philox4x32_10(kat[t], kat[t] + 4, out);
        for (int j = 0; j < 4; j++)
            CHECK_MSG(out[j] == kat[t][6 + j], "host KAT %d word %d: %08x, expected %08x", t, j, out[j], kat[t][6 + j]);
    }
}

static void test_uniform_edges(void)
{
    CHECK(aecl_philox_uniform(0) == 0x1.0p-24f);
    CHECK(aecl_philox_uniform(0xffffffffu) == 1.0f - 0x1.0p-24f);
    CHECK(aecl_philox_uniform(0x80000000u) == 0.5f + 0x1.0p-24f);
    /* symmetric grid: 1 - u(w) = u(~w) exactly */
    uint32_t w = 0x12345678u;
    CHECK(1.0f - aecl_philox_uniform(w) == aecl_philox_uniform(~w));
}

/* Runs rng_words, built with RNG_K = per, for n words from counter
 * (c[0] + b, c[1], c[2], c[3]) and key k. */
static int device_words(aecl_ctx *ctx, int per, const uint32_t c[4], const uint32_t k[2], int n, uint32_t *out)
{
    cl_kernel kern = NULL;
    aecl_buffer *buf = NULL;
    int rc = -1, zero = 0;
    if (aecl_kernel_create(ctx, "random.cl", rng_options(per), "rng_words", &kern) != AECL_OK) goto done;
    if (aecl_buffer_create(ctx, (size_t)n, sizeof(uint32_t), &buf) != AECL_OK) goto done;
    cl_mem m = aecl_buffer_cl(buf);
    cl_int err = clSetKernelArg(kern, 0, sizeof m, &m);
    err |= clSetKernelArg(kern, 1, sizeof zero, &zero);
    err |= clSetKernelArg(kern, 2, sizeof n, &n);
    for (int j = 0; j < 4; j++) err |= clSetKernelArg(kern, 3 + (cl_uint)j, sizeof(cl_uint), &c[j]);
    for (int j = 0; j < 2; j++) err |= clSetKernelArg(kern, 7 + (cl_uint)j, sizeof(cl_uint), &k[j]);
    size_t g, l;
    aecl_range_1d(ctx, kern, ((size_t)(n + 3) / 4 + (size_t)per - 1) / (size_t)per, &g, &l);
    if (err == CL_SUCCESS) err = clEnqueueNDRangeKernel(aecl_ctx_cl_queue(ctx), kern, 1, NULL, &g, &l, 0, NULL, NULL);
    if (err == CL_SUCCESS && aecl_buffer_download(buf, 0, out, (size_t)n * sizeof *out) == AECL_OK) rc = 0;
done:
    CHECK_MSG(rc == 0, "rng_words failed: %s", aecl_ctx_last_error(ctx));
    if (kern) clReleaseKernel(kern);
    aecl_buffer_free(buf);
    return rc;
}

static void test_device_kat(aecl_ctx *ctx, int per)
{
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        if (device_words(ctx, per, kat[t], kat[t] + 4, 4, out)) return;
        for (int j = 0; j < 4; j++)
            CHECK_MSG(out[j] == kat[t][6 + j], "device KAT %d word %d (RNG_K %d): %08x, expected %08x", t, j, per,
                      out[j], kat[t][6 + j]);
    }
}

/* Many blocks, counters wrapping past 2^32, a word count not a multiple of 4. */
static void test_device_bits(aecl_ctx *ctx, int per)
{
    enum { N = 40001 };
    const uint32_t c[4] = {0xffffe000u, 7, 0x9abcdef0u, 3}, k[2] = {0xdeadbeefu, 42};
    uint32_t *dev = malloc(N * sizeof *dev);
    if (!device_words(ctx, per, c, k, N, dev)) {
        int bad = 0;
        for (int b = 0; b * 4 < N; b++) {
            uint32_t ctr[4] = {c[0] + (uint32_t)b, c[1], c[2], c[3]}, w[4];
            aecl_philox4x32_10(ctr, k, w);
            for (int j = 0; j < 4 && b * 4 + j < N; j++) bad += dev[b * 4 + j] != w[j];
        }
        CHECK_MSG(bad == 0, "RNG_K %d: %d of %d device words differ from the host", per, bad, N);
    }
    free(dev);
}

/* The per-element uniforms and normals of a stream, as the ops see them. */
static void test_device_elements(aecl_ctx *ctx, int per)
{
    enum { N = 100003 };
    const uint32_t seed = 1234, stream = AECL_RNG_STREAM_REPARAM, step = 77, op = 5;
    cl_kernel k = NULL;
    aecl_buffer *bu = NULL, *bz = NULL;
    float *u = malloc(N * sizeof *u), *z = malloc(N * sizeof *z);
    int n = N, zero = 0;
    CHECK_OK(ctx, aecl_kernel_create(ctx, "random.cl", rng_options(per), "rng_uniform_normal", &k));
    CHECK_OK(ctx, aecl_buffer_create(ctx, N, sizeof(float), &bu));
    CHECK_OK(ctx, aecl_buffer_create(ctx, N, sizeof(float), &bz));
    if (k && bu && bz) {
        cl_mem mu = aecl_buffer_cl(bu), mz = aecl_buffer_cl(bz);
        cl_int err = clSetKernelArg(k, 0, sizeof mu, &mu) | clSetKernelArg(k, 1, sizeof zero, &zero) |
                     clSetKernelArg(k, 2, sizeof mz, &mz) | clSetKernelArg(k, 3, sizeof zero, &zero) |
                     clSetKernelArg(k, 4, sizeof n, &n) | clSetKernelArg(k, 5, sizeof seed, &seed) |
                     clSetKernelArg(k, 6, sizeof stream, &stream) | clSetKernelArg(k, 7, sizeof step, &step) |
                     clSetKernelArg(k, 8, sizeof op, &op);
        size_t g, l;
        aecl_range_1d(ctx, k, ((N + 3) / 4 + (size_t)per - 1) / (size_t)per, &g, &l);
        if (!err) err = clEnqueueNDRangeKernel(aecl_ctx_cl_queue(ctx), k, 1, NULL, &g, &l, 0, NULL, NULL);
        CHECK(err == CL_SUCCESS);
        CHECK_OK(ctx, aecl_buffer_download(bu, 0, u, N * sizeof *u));
        CHECK_OK(ctx, aecl_buffer_download(bz, 0, z, N * sizeof *z));
        int bad_u = 0, bad_z = 0;
        double worst = 0, mean = 0, sq = 0;
        for (uint32_t i = 0; i < N; i++) {
            float hu = aecl_rng_uniform(seed, stream, step, op, i), hz = aecl_rng_normal(seed, stream, step, op, i);
            bad_u += u[i] != hu;
            double e = fabs((double)z[i] - hz) / (1.0 + fabs(hz));
            if (!(e <= worst)) worst = e;
            bad_z += !(e <= 1e-6);
            mean += z[i];
            sq += (double)z[i] * z[i];
        }
        CHECK_MSG(bad_u == 0, "RNG_K %d: %d uniforms differ from the host", per, bad_u);
        CHECK_MSG(bad_z == 0, "RNG_K %d: %d normals differ from the host by more than 1e-6 (1 + |z|); worst %g", per,
                  bad_z, worst);
        printf("normals, RNG_K %d: worst device/host difference %.3g (relative to 1 + |z|)\n", per, worst);
        mean /= N;
        CHECK_NEAR(mean, 0.0, 0.02);
        CHECK_NEAR(sqrt(sq / N - mean * mean), 1.0, 0.02);
    }
    if (k) clReleaseKernel(k);
    aecl_buffer_free(bu);
    aecl_buffer_free(bz);
    free(u);
    free(z);
}

/* Host moments and independence of streams that differ in one field. */
static void test_host_streams(void)
{
    enum { N = 100000 };
    double m = 0, s = 0, lo = 1, hi = 0;
    int same = 0;
    for (uint32_t i = 0; i < N; i++) {
        float u = aecl_rng_uniform(9, 1, 0, 3, i);
        m += u;
        s += (double)u * u;
        lo = fmin(lo, u);
        hi = fmax(hi, u);
        same += aecl_rng_word(9, 1, 0, 3, i) == aecl_rng_word(9, 1, 1, 3, i); /* next step */
        same += aecl_rng_word(9, 1, 0, 3, i) == aecl_rng_word(9, 1, 0, 4, i); /* next op */
        same += aecl_rng_word(9, 1, 0, 3, i) == aecl_rng_word(9, 2, 0, 3, i); /* other stream */
        same += aecl_rng_word(9, 1, 0, 3, i) == aecl_rng_word(10, 1, 0, 3, i); /* other seed */
    }
    m /= N;
    CHECK_NEAR(m, 0.5, 0.005);
    CHECK_NEAR(s / N - m * m, 1.0 / 12, 0.002);
    CHECK(lo > 0 && hi < 1);
    CHECK_MSG(same < 4, "%d equal words across streams", same);
}

int main(void)
{
    test_host_kat();
    test_uniform_edges();
    test_host_streams();
    aecl_ctx *ctx = test_ctx();
    for (size_t i = 0; i < sizeof blocks_per_item / sizeof *blocks_per_item; i++) {
        test_device_kat(ctx, blocks_per_item[i]);
        test_device_bits(ctx, blocks_per_item[i]);
        test_device_elements(ctx, blocks_per_item[i]);
    }
    return test_finish();
}
