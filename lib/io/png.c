/* PNG output (images, grids of images, scatter plots) and a reader for tests.
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

/* Matplotlib's "tab10" colours: distinct for the 10 classes of (Fashion-)MNIST. */
const uint8_t aecl_palette10[10][3] = {
    {0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28},
    {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f},
    {0xbc, 0xbd, 0x22}, {0x17, 0xbe, 0xcf}};
const uint8_t aecl_palette_other[3] = {0, 0, 0};

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

/* ---- grids ------------------------------------------------------------------ */

aecl_status aecl_image_grid(aecl_ctx *ctx, const float *images, size_t n, int c, size_t h,
                            size_t w, size_t cols, int border, float border_value,
                            float **out, size_t *out_w, size_t *out_h)
{
    AECL_RETURN_IF(!images || !out || !out_w || !out_h, AECL_ERR_INVALID_ARG, ctx,
                   "aecl_image_grid: NULL argument");
    *out = NULL;
    AECL_RETURN_IF(n == 0 || h == 0 || w == 0 || cols == 0 || (c != 1 && c != 3) ||
                   border < 0 || border > 16, AECL_ERR_INVALID_ARG, ctx,
                   "aecl_image_grid: bad layout (n %zu, c %d, %zu x %zu, %zu columns, "
                   "border %d)", n, c, h, w, cols, border);
    if (cols > n) cols = n;
    size_t rows = (n + cols - 1) / cols, b = (size_t)border, gw, gh, total;
    AECL_RETURN_IF(w > 65536 || h > 65536 || cols > 65536 || rows > 65536, AECL_ERR_INVALID_ARG,
                   ctx, "aecl_image_grid: grid too large");
    gw = cols * (w + b) + b;
    gh = rows * (h + b) + b;
    AECL_RETURN_IF(!aecl_mul_size(gw, gh, &total) || !aecl_mul_size(total, (size_t)c, &total) ||
                   !aecl_mul_size(total, sizeof(float), &total),
                   AECL_ERR_HOST_MEMORY, ctx, "aecl_image_grid: %zu x %zu grid overflows", gw, gh);
    float *g = malloc(total);
    AECL_RETURN_IF(!g, AECL_ERR_HOST_MEMORY, ctx, "aecl_image_grid: cannot allocate %zu bytes",
                   total);
    size_t cc = (size_t)c;
    for (size_t i = 0; i < gw * gh * cc; i++) g[i] = border_value;
    for (size_t k = 0; k < n; k++) {
        size_t x0 = b + (k % cols) * (w + b), y0 = b + (k / cols) * (h + b);
        const float *img = images + k * cc * h * w;
        for (size_t ch = 0; ch < cc; ch++)           /* planar in, interleaved out */
            for (size_t y = 0; y < h; y++)
                for (size_t x = 0; x < w; x++)
                    g[((y0 + y) * gw + x0 + x) * cc + ch] = img[(ch * h + y) * w + x];
    }
    *out = g;
    *out_w = gw;
    *out_h = gh;
    return AECL_OK;
}

aecl_status aecl_png_write_grid(aecl_ctx *ctx, const char *path, const float *images, size_t n,
                                int c, size_t h, size_t w, size_t cols, int border,
                                float border_value)
{
    float *g;
    size_t gw, gh;
    AECL_TRY(aecl_image_grid(ctx, images, n, c, h, w, cols, border, border_value, &g, &gw, &gh));
    aecl_status st = aecl_png_write(ctx, path, g, gw, gh, c);
    free(g);
    return st;
}

/* ---- scatter plots ------------------------------------------------------------ */

typedef struct canvas {
    uint8_t *rgb;
    size_t w, h;
} canvas;

static void put(canvas *cv, long x, long y, const uint8_t col[3])
{
    if (x < 0 || y < 0 || (size_t)x >= cv->w || (size_t)y >= cv->h) return;
    memcpy(cv->rgb + ((size_t)y * cv->w + (size_t)x) * 3, col, 3);
}

static void disc(canvas *cv, long cx, long cy, long r, const uint8_t col[3])
{
    for (long dy = -r; dy <= r; dy++)
        for (long dx = -r; dx <= r; dx++)
            if (dx * dx + dy * dy <= r * r + r) put(cv, cx + dx, cy + dy, col);
}

static void box(canvas *cv, long x0, long y0, long x1, long y1)
{
    static const uint8_t black[3] = {0, 0, 0};
    for (long x = x0; x <= x1; x++) {
        put(cv, x, y0, black);
        put(cv, x, y1, black);
    }
    for (long y = y0; y <= y1; y++) {
        put(cv, x0, y, black);
        put(cv, x1, y, black);
    }
}

/* Bounding box of the finite points, padded by 5%; [0,1] when there are none. */
static void data_range(const float *xy, size_t n, double lo[2], double hi[2])
{
    lo[0] = lo[1] = INFINITY;
    hi[0] = hi[1] = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) continue;
        for (int a = 0; a < 2; a++) {
            if (xy[2 * i + a] < lo[a]) lo[a] = xy[2 * i + a];
            if (xy[2 * i + a] > hi[a]) hi[a] = xy[2 * i + a];
        }
    }
    for (int a = 0; a < 2; a++) {
        if (lo[a] > hi[a]) {
            lo[a] = 0;
            hi[a] = 1;
        }
        double pad = (hi[a] - lo[a]) * 0.05;
        if (pad <= 0) pad = fabs(lo[a]) * 0.05 + 0.5;   /* all points on one line */
        lo[a] -= pad;
        hi[a] += pad;
    }
}

aecl_status aecl_scatter_render(aecl_ctx *ctx, const float *xy, size_t n, const int32_t *labels,
                                size_t width, size_t height, uint8_t **out)
{
    AECL_RETURN_IF(!out || (n && !xy), AECL_ERR_INVALID_ARG, ctx,
                   "aecl_scatter_render: NULL argument");
    *out = NULL;
    AECL_RETURN_IF(width < 32 || height < 32 || width > 16384 || height > 16384,
                   AECL_ERR_INVALID_ARG, ctx,
                   "aecl_scatter_render: canvas %zu x %zu (32..16384 per side)", width, height);
    canvas cv = {malloc(width * height * 3), width, height};
    AECL_RETURN_IF(!cv.rgb, AECL_ERR_HOST_MEMORY, ctx, "aecl_scatter_render: out of memory");
    memset(cv.rgb, 255, width * height * 3);
    size_t side = width < height ? width : height;
    long m = (long)(side / 20 > 8 ? side / 20 : 8), r = (long)(side / 256 > 1 ? side / 256 : 1);
    long x0 = m, y0 = m, x1 = (long)width - 1 - m, y1 = (long)height - 1 - m;
    double lo[2], hi[2];
    data_range(xy, n, lo, hi);
    for (size_t i = 0; i < n; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y)) continue;
        long px = x0 + lround((x - lo[0]) / (hi[0] - lo[0]) * (double)(x1 - x0));
        long py = y1 - lround((y - lo[1]) / (hi[1] - lo[1]) * (double)(y1 - y0));
        const uint8_t *col = aecl_palette10[0];
        if (labels) col = labels[i] >= 0 && labels[i] < 10 ? aecl_palette10[labels[i]]
                                                          : aecl_palette_other;
        disc(&cv, px, py, r, col);
    }
    box(&cv, x0, y0, x1, y1);
    *out = cv.rgb;
    return AECL_OK;
}

aecl_status aecl_png_write_scatter(aecl_ctx *ctx, const char *path, const float *xy, size_t n,
                                   const int32_t *labels, size_t width, size_t height)
{
    uint8_t *rgb;
    AECL_TRY(aecl_scatter_render(ctx, xy, n, labels, width, height, &rgb));
    aecl_status st = aecl_png_write_u8(ctx, path, rgb, width, height, 3);
    free(rgb);
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
