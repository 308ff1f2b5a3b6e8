/* PNG output of images and a reader for tests. (Pictures with text, grids of
 * images and charts are drawn by the program's chart module, apps/aecl/chart.h,
 * with cairo.)
 * libpng's "simplified" API (png_image) reports errors through image.message
 * instead of longjmp, which keeps every path here a plain return. */
#define _POSIX_C_SOURCE 200809L

#include "io/io.h"
#include "base/error.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

static uint8_t to_u8(float v)
{
    if (!(v > 0.0f)) return 0;   /* also NaN */
    if (v >= 1.0f) return 255;
    return (uint8_t)(v * 255.0f + 0.5f);
}

static aecl_status check_size(aecl_ctx *ctx, const char *path, size_t w, size_t h, int c)
{
    AECL_RETURN_IF(c != 1 && c != 3, AECL_ERR_INVALID_ARG, ctx,
                   "PNG '%s': %d channels (1 or 3 expected)", path, c);
    AECL_RETURN_IF(w == 0 || h == 0 || w > 0x7fffffff / 4 || h > 0x7fffffff,
                   AECL_ERR_INVALID_ARG, ctx, "PNG '%s': bad size %zu x %zu", path, w, h);
    return AECL_OK;
}

aecl_status aecl_png_write_u8(aecl_ctx *ctx, const char *path, const uint8_t *pixels,
                              size_t width, size_t height, int channels)
{
    AECL_RETURN_IF(!path || !pixels, AECL_ERR_INVALID_ARG, ctx, "aecl_png_write: NULL argument");
    AECL_TRY(check_size(ctx, path, width, height, channels));
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)width;
    img.height = (png_uint_32)height;
    img.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    /* First call sizes the encoded image, the second encodes it. */
    if (!png_image_write_to_memory(&img, NULL, &size, 0, pixels, 0, NULL))
        return aecl_fail(ctx, AECL_ERR_IO, "PNG '%s': encoding failed: %s", path, img.message);
    void *buf = malloc(size ? size : 1);
    AECL_RETURN_IF(!buf, AECL_ERR_HOST_MEMORY, ctx, "PNG '%s': cannot allocate %zu bytes", path,
                   (size_t)size);
    if (!png_image_write_to_memory(&img, buf, &size, 0, pixels, 0, NULL)) {
        free(buf);
        return aecl_fail(ctx, AECL_ERR_IO, "PNG '%s': encoding failed: %s", path, img.message);
    }
    aecl_status st = aecl_write_file_atomic(ctx, path, buf, size);
    free(buf);
    return st;
}

aecl_status aecl_png_write(aecl_ctx *ctx, const char *path, const float *pixels, size_t width,
                           size_t height, int channels)
{
    AECL_RETURN_IF(!path || !pixels, AECL_ERR_INVALID_ARG, ctx, "aecl_png_write: NULL argument");
    AECL_TRY(check_size(ctx, path, width, height, channels));
    size_t n = width * height * (size_t)channels;   /* bounded by check_size */
    uint8_t *u8 = malloc(n);
    AECL_RETURN_IF(!u8, AECL_ERR_HOST_MEMORY, ctx, "PNG '%s': cannot allocate %zu bytes", path, n);
    for (size_t i = 0; i < n; i++) u8[i] = to_u8(pixels[i]);
    aecl_status st = aecl_png_write_u8(ctx, path, u8, width, height, channels);
    free(u8);
    return st;
}

/* ---- reading ------------------------------------------------------------------ */

aecl_status aecl_png_read(aecl_ctx *ctx, const char *path, aecl_image *out)
{
    char eb[128];
    AECL_RETURN_IF(!out || !path, AECL_ERR_INVALID_ARG, ctx, "aecl_png_read: NULL argument");
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    AECL_RETURN_IF(!fp, AECL_ERR_IO, ctx, "cannot open PNG '%s': %s", path,
                   aecl_strerror(errno, eb, sizeof eb));
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&img, fp)) {
        fclose(fp);
        return aecl_fail(ctx, AECL_ERR_FORMAT, "PNG '%s': %s", path, img.message);
    }
    /* 8-bit samples, palette expanded; keep gray/colour and alpha as in the file. */
    img.format &= ~(png_uint_32)(PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_COLORMAP);
    size_t bytes = PNG_IMAGE_SIZE(img);
    uint8_t *px = malloc(bytes ? bytes : 1);
    if (!px) {
        png_image_free(&img);
        fclose(fp);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "PNG '%s': cannot allocate %zu bytes", path,
                         bytes);
    }
    int ok = png_image_finish_read(&img, NULL, px, 0, NULL);
    fclose(fp);
    if (!ok) {
        free(px);
        return aecl_fail(ctx, AECL_ERR_FORMAT, "PNG '%s': %s", path, img.message);
    }
    out->width = img.width;
    out->height = img.height;
    out->channels = (int)PNG_IMAGE_SAMPLE_CHANNELS(img.format);
    out->pixels = px;
    return AECL_OK;
}

void aecl_image_free(aecl_image *img)
{
    if (!img) return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}
