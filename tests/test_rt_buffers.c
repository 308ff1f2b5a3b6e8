/* Buffers: round trips, range checks, overflow and oversized allocations. */
#include "check.h"

#include <stdint.h>
#include <string.h>

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
    return test_finish();
}
