/* PNG writer/reader, image grids and the scatter-plot rasterizer: write, decode
 * with libpng, compare pixels with what was asked for. */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "io/io.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* The 8-bit value a float should become: clamp to [0,1], NaN -> 0, round. */
static int expect_u8(float v)
{
    if (!(v > 0)) return 0;
    if (v >= 1) return 255;
    return (int)lrintf(v * 255.0f);
}

static void test_gray_and_rgb(void)
{
    enum { W = 5, H = 3 };
    float g[W * H];
    unsigned s = 7;
    test_fill_uniform(g, W * H, -0.2f, 1.2f, &s);
    g[0] = NAN;
    g[1] = 0.5f;
    g[2] = 1.0f / 255.0f;
    CHECK_OK(NULL, aecl_png_write(NULL, test_path("g.png"), g, W, H, 1));
    aecl_image im;
    CHECK_OK(NULL, aecl_png_read(NULL, test_path("g.png"), &im));
    CHECK(im.width == W && im.height == H && im.channels == 1);
    int same = im.pixels != NULL;
    for (int i = 0; same && i < W * H; i++) same = im.pixels[i] == expect_u8(g[i]);
    CHECK_MSG(same, "gray pixels differ");
    CHECK(im.pixels && im.pixels[1] == 128 && im.pixels[2] == 1);
    aecl_image_free(&im);
    aecl_image_free(&im);

    float c[W * H * 3];
    test_fill_uniform(c, W * H * 3, 0.0f, 1.0f, &s);
    CHECK_OK(NULL, aecl_png_write(NULL, test_path("c.png"), c, W, H, 3));
    CHECK_OK(NULL, aecl_png_read(NULL, test_path("c.png"), &im));
    CHECK(im.width == W && im.height == H && im.channels == 3);
    same = im.pixels != NULL;
    for (int i = 0; same && i < W * H * 3; i++) same = im.pixels[i] == expect_u8(c[i]);
    CHECK_MSG(same, "RGB pixels differ");
    aecl_image_free(&im);

    /* Overwriting an existing PNG replaces it. */
    CHECK_OK(NULL, aecl_png_write(NULL, test_path("c.png"), g, W, H, 1));
    CHECK_OK(NULL, aecl_png_read(NULL, test_path("c.png"), &im));
    CHECK(im.channels == 1);
    aecl_image_free(&im);

    CHECK_FAIL(aecl_png_write(NULL, test_path("x.png"), g, W, H, 2), AECL_ERR_INVALID_ARG, "channels");
    CHECK_FAIL(aecl_png_write(NULL, test_path("x.png"), g, 0, H, 1), AECL_ERR_INVALID_ARG, "size");
    CHECK_FAIL(aecl_png_read(NULL, test_path("x.png"), &im), AECL_ERR_IO, "x.png");
    FILE *f = fopen(test_path("text.png"), "wb");
    fputs("this is not a PNG file at all", f);
    fclose(f);
    CHECK_FAIL(aecl_png_read(NULL, test_path("text.png"), &im), AECL_ERR_FORMAT, "text.png");
    CHECK(im.pixels == NULL);
}

/* Grid reference written independently: walk the grid's pixels and ask which
 * cell (if any) each belongs to. */
static float grid_ref(const float *imgs, size_t n, int c, size_t h, size_t w, size_t cols,
                      size_t b, float bv, size_t gx, size_t gy, int ch)
{
    size_t cw = w + b, chh = h + b;
    if (gx < b || gy < b) return bv;
    size_t col = (gx - b) / cw, row = (gy - b) / chh, x = (gx - b) % cw, y = (gy - b) % chh;
    size_t k = row * cols + col;
    if (x >= w || y >= h || col >= cols || k >= n) return bv;
    return imgs[((k * (size_t)c + (size_t)ch) * h + y) * w + x];
}

static void check_grid(size_t n, int c, size_t h, size_t w, size_t cols, int border)
{
    size_t total = n * (size_t)c * h * w;
    float *imgs = malloc(total * sizeof *imgs);
    unsigned s = 99;
    test_fill_uniform(imgs, total, 0.0f, 0.9f, &s);
    float *g;
    size_t gw, gh;
    CHECK_OK(NULL, aecl_image_grid(NULL, imgs, n, c, h, w, cols, border, 1.0f, &g, &gw, &gh));
    size_t ec = cols < n ? cols : n, er = (n + ec - 1) / ec, b = (size_t)border;
    CHECK(gw == ec * w + (ec + 1) * b && gh == er * h + (er + 1) * b);
    int same = g != NULL;
    for (size_t y = 0; same && y < gh; y++)
        for (size_t x = 0; same && x < gw; x++)
            for (int ch = 0; same && ch < c; ch++)
                same = g[(y * gw + x) * (size_t)c + (size_t)ch] ==
                       grid_ref(imgs, n, c, h, w, ec, b, 1.0f, x, y, ch);
    CHECK_MSG(same, "grid n=%zu c=%d %zux%zu cols=%zu border=%d differs", n, c, h, w, cols, border);

    CHECK_OK(NULL, aecl_png_write_grid(NULL, test_path("grid.png"), imgs, n, c, h, w, cols, border,
                                       1.0f));
    aecl_image im;
    CHECK_OK(NULL, aecl_png_read(NULL, test_path("grid.png"), &im));
    CHECK(im.width == gw && im.height == gh && im.channels == c);
    same = im.pixels != NULL && g != NULL;
    for (size_t i = 0; same && i < gw * gh * (size_t)c; i++) same = im.pixels[i] == expect_u8(g[i]);
    CHECK_MSG(same, "grid PNG pixels differ");
    aecl_image_free(&im);
    free(g);
    free(imgs);
}

static void test_grid(void)
{
    check_grid(5, 1, 2, 3, 3, 1);      /* last row partly empty */
    check_grid(16, 1, 28, 28, 8, 2);   /* a reconstruction grid */
    check_grid(4, 3, 5, 4, 2, 1);      /* RGB, planar in */
    check_grid(3, 1, 4, 4, 10, 0);     /* more columns than images, no border */
    float *g;
    size_t gw, gh;
    float one = 0;
    CHECK_FAIL(aecl_image_grid(NULL, &one, 1, 1, 1, 1, 0, 1, 1.0f, &g, &gw, &gh),
               AECL_ERR_INVALID_ARG, "bad layout");
    CHECK_FAIL(aecl_image_grid(NULL, &one, 1, 2, 1, 1, 1, 1, 1.0f, &g, &gw, &gh),
               AECL_ERR_INVALID_ARG, "bad layout");
}

static int is_col(const uint8_t *p, const uint8_t c[3])
{
    return p[0] == c[0] && p[1] == c[1] && p[2] == c[2];
}

static void test_scatter(void)
{
    enum { W = 200, H = 160, N = 7 };
    /* Label 0 at the lower left, 1 at the upper right, 2 in the middle, an
     * out-of-range label, a NaN point (skipped). */
    float xy[2 * N] = {0, 0, 10, 10, 5, 5, 5, 0, NAN, 3, 2, 8, 9, 1};
    int32_t lab[N] = {0, 1, 2, 42, 3, 4, 4};
    uint8_t *rgb;
    CHECK_OK(NULL, aecl_scatter_render(NULL, xy, N, lab, W, H, &rgb));
    if (!rgb) return;
    static const uint8_t white[3] = {255, 255, 255}, black[3] = {0, 0, 0};
    size_t count[10] = {0}, blacks_inside = 0;
    long sx[10] = {0}, sy[10] = {0};
    for (size_t y = 0; y < H; y++)
        for (size_t x = 0; x < W; x++) {
            const uint8_t *p = rgb + (y * W + x) * 3;
            for (int k = 0; k < 10; k++)
                if (is_col(p, aecl_palette10[k])) {
                    count[k]++;
                    sx[k] += (long)x;
                    sy[k] += (long)y;
                }
            if (is_col(p, black) && x > 12 && x < W - 13 && y > 12 && y < H - 13) blacks_inside++;
        }
    CHECK(is_col(rgb, white));                                    /* corner: background */
    /* The axes box: a black frame; find its left edge on the middle row. */
    size_t left = 0;
    while (left < W / 2 && !is_col(rgb + ((H / 2) * W + left) * 3, black)) left++;
    CHECK(left > 0 && left < W / 8);
    CHECK(is_col(rgb + ((H / 2) * W + (W - 1 - left)) * 3, black));  /* symmetric right edge */
    CHECK(count[0] > 0 && count[1] > 0 && count[2] > 0 && count[4] > 0);
    CHECK(count[3] == 0 && count[5] == 0 && count[9] == 0);       /* NaN point not drawn */
    CHECK(count[4] > count[0]);                                   /* two points vs one */
    CHECK(blacks_inside > 0);                                     /* the label-42 point */
    if (count[0] && count[1] && count[2]) {
        /* Centroids: label 0 lower-left, 1 upper-right, 2 near the middle. */
        CHECK(sx[0] / (long)count[0] < W / 4 && sy[0] / (long)count[0] > 3 * H / 4);
        CHECK(sx[1] / (long)count[1] > 3 * W / 4 && sy[1] / (long)count[1] < H / 4);
        CHECK(labs(sx[2] / (long)count[2] - W / 2) <= 2 && labs(sy[2] / (long)count[2] - H / 2) <= 2);
    }

    CHECK_OK(NULL, aecl_png_write_scatter(NULL, test_path("s.png"), xy, N, lab, W, H));
    aecl_image im;
    CHECK_OK(NULL, aecl_png_read(NULL, test_path("s.png"), &im));
    CHECK(im.width == W && im.height == H && im.channels == 3);
    CHECK(im.pixels && memcmp(im.pixels, rgb, (size_t)W * H * 3) == 0);
    aecl_image_free(&im);
    free(rgb);

    /* No labels: every dot in the first colour; all points equal: still drawn. */
    float same_pt[4] = {3, 3, 3, 3};
    CHECK_OK(NULL, aecl_scatter_render(NULL, same_pt, 2, NULL, 64, 64, &rgb));
    size_t c0 = 0;
    for (size_t i = 0; rgb && i < 64 * 64; i++) c0 += is_col(rgb + 3 * i, aecl_palette10[0]);
    CHECK(c0 > 0);
    free(rgb);
    CHECK_OK(NULL, aecl_scatter_render(NULL, NULL, 0, NULL, 64, 64, &rgb));   /* empty plot */
    free(rgb);
    CHECK_FAIL(aecl_scatter_render(NULL, xy, N, lab, 10, 10, &rgb), AECL_ERR_INVALID_ARG, "canvas");
}

int main(void)
{
    test_tmp_setup("io_png");
    test_gray_and_rgb();
    test_grid();
    test_scatter();
    test_tmp_cleanup();
    return test_finish();
}
