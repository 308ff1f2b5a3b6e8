/* Buffers: round trips, range checks, overflow and oversized allocations, large buffers. */
#include "base/bigmem.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A buffer larger than a huge page and not a whole number of them: on a CPU
 * device it lives in aecl's own memory (rt/hostmem.c), which must be zeroed,
 * hold every byte written, and be given back each time (created and freed in a
 * loop). */
static void test_large(aecl_ctx *ctx)
{
    size_t n = (3 * AECL_BIG_PAGE + 12) / sizeof(float);
    float *in = aecl_malloc_big(n * sizeof *in), *out = malloc(n * sizeof *out);
    CHECK(in && out && (uintptr_t)in % AECL_BIG_PAGE == 0);
    for (size_t i = 0; in && i < n; i++) in[i] = (float)(i % 1000003);
    for (int round = 0; round < 8 && in && out; round++) {
        aecl_buffer *b = NULL;
        CHECK_OK(ctx, aecl_buffer_create(ctx, n, sizeof(float), &b));
        if (!b) break;
        memset(out, 0x7f, n * sizeof *out);
        CHECK_OK(ctx, aecl_buffer_download(b, 0, out, n * sizeof *out));
        CHECK(out[0] == 0 && out[n / 2] == 0 && out[n - 1] == 0);
        CHECK_OK(ctx, aecl_buffer_upload(b, 0, in, n * sizeof *in));
        memset(out, 0, n * sizeof *out);
        CHECK_OK(ctx, aecl_buffer_download(b, 0, out, n * sizeof *out));
        CHECK(!memcmp(in, out, n * sizeof *out));
        aecl_buffer_free(b);
    }
    free(in);
    free(out);
    void *small = aecl_malloc_big(0);
    CHECK(small != NULL);
    free(small);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    float in[1000], out[1000];
    for (int i = 0; i < 1000; i++) in[i] = (float)i * 0.25f;
    aecl_buffer *b = NULL;
    CHECK_OK(ctx, aecl_buffer_create(ctx, 1000, sizeof(float), &b));
    CHECK(aecl_buffer_bytes(b) == 4000);
    CHECK_OK(ctx, aecl_buffer_download(b, 0, out, sizeof out)); /* new buffers are zeroed */
    CHECK(out[0] == 0 && out[999] == 0);
    CHECK_OK(ctx, aecl_buffer_upload(b, 0, in, sizeof in));
    CHECK_OK(ctx, aecl_buffer_download(b, 400, out, 800));
    CHECK(memcmp(out, in + 100, 800) == 0);
    CHECK(aecl_buffer_upload(b, 3999, in, 2) == AECL_ERR_INVALID_ARG);
    CHECK(strstr(aecl_ctx_last_error(ctx), "outside a buffer of 4000 bytes") != NULL);
    CHECK(aecl_buffer_download(b, SIZE_MAX, out, 2) == AECL_ERR_INVALID_ARG);
    aecl_buffer_free(b);
    aecl_buffer_free(NULL);

    aecl_buffer *big = (aecl_buffer *)1;
    CHECK(aecl_buffer_create(ctx, SIZE_MAX / 2, 4, &big) == AECL_ERR_DEVICE_MEMORY && big == NULL);
    CHECK(strstr(aecl_ctx_last_error(ctx), "overflows") != NULL);
    size_t too_many = (size_t)(aecl_ctx_device(ctx)->max_alloc_bytes / 4) + 1;
    CHECK(aecl_buffer_create(ctx, too_many, 4, &big) == AECL_ERR_DEVICE_MEMORY && big == NULL);
    const char *msg = aecl_ctx_last_error(ctx);
    CHECK_MSG(strstr(msg, "larger than the largest allocation") && strstr(msg, aecl_ctx_device(ctx)->name), "%s", msg);
    CHECK(aecl_buffer_create(ctx, 0, 4, &big) == AECL_ERR_INVALID_ARG);
    test_large(ctx);
    return test_finish();
}
