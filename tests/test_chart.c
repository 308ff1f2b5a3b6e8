/* The program's chart module (apps/aecl/chart*.c): line charts, scatter plots
 * and image grids are decoded back with libpng and checked for what a reader
 * needs: the size asked for, text in the title band, each series' or class's
 * colour in the plot and in the legend, tiles drawn pixel for pixel at the
 * zoom, and failures that leave no file. */
#define _POSIX_C_SOURCE 200809L

#include "chart.h"
#include "check.h"
#include "io/io.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint8_t blue[3] = {0x1f, 0x77, 0xb4}, orange[3] = {0xff, 0x7f, 0x0e}, green[3] = {0x2c, 0xa0, 0x2c};

/* Pixels of colour rgb (exactly) in rows y0..y1, columns x0..x1 of an RGB image. */
static size_t count_colour(const aecl_image *im, const uint8_t rgb[3], size_t x0, size_t x1, size_t y0, size_t y1)
{
    size_t n = 0, c = (size_t)im->channels;
    for (size_t y = y0; y < y1 && y < im->height; y++)
        for (size_t x = x0; x < x1 && x < im->width; x++) {
            const uint8_t *p = im->pixels + (y * im->width + x) * c;
            n += p[0] == rgb[0] && p[1] == rgb[1] && p[2] == rgb[2];
        }
    return n;
}

/* Pixels within 40 of colour rgb in every channel: anti-aliased lines. */
static size_t count_near(const aecl_image *im, const uint8_t rgb[3], size_t x0, size_t x1, size_t y0, size_t y1)
{
    size_t n = 0, c = (size_t)im->channels;
    for (size_t y = y0; y < y1 && y < im->height; y++)
        for (size_t x = x0; x < x1 && x < im->width; x++) {
            const uint8_t *p = im->pixels + (y * im->width + x) * c;
            n += abs(p[0] - rgb[0]) <= 40 && abs(p[1] - rgb[1]) <= 40 && abs(p[2] - rgb[2]) <= 40;
        }
    return n;
}

/* Pixels darker than mid-grey in a band of rows: text, lines. */
static size_t count_dark(const aecl_image *im, size_t y0, size_t y1)
{
    size_t n = 0, c = (size_t)im->channels;
    for (size_t y = y0; y < y1 && y < im->height; y++)
        for (size_t x = 0; x < im->width; x++) n += im->pixels[(y * im->width + x) * c] < 100;
    return n;
}

static void test_line(void)
{
    double x[6] = {1, 2, 3, 4, 5, 6}, tr[6] = {0.9, 0.5, 0.3, 0.25, 0.22, 0.2}, va[6] = {1.0, 0.6, NAN, 0.3, 0.28, 0.29};
    chart_series s[2] = {{"train loss", x, tr, 6}, {"val loss", x, va, 6}};
    chart_frame f = {.title = "loss per epoch", .xlabel = "epoch", .ylabel = "loss", .width = 640, .height = 400};
    const char *path = test_path("line.png");
    CHECK_OK(NULL, chart_line_png(NULL, path, &f, s, 2));
    aecl_image im = {0};
    CHECK_OK(NULL, aecl_png_read(NULL, path, &im));
    CHECK(im.width == 640 && im.height == 400 && im.channels == 3);
    if (im.channels != 3) { aecl_image_free(&im); return; }
    CHECK_MSG(count_dark(&im, 8, 34) > 40, "no title text: %zu dark pixels", count_dark(&im, 8, 34));
    CHECK_MSG(count_dark(&im, 400 - 22, 400) > 20, "no x-axis label");
    /* Both lines in the plot area, both swatches in the legend (right of the plot). */
    CHECK_MSG(count_near(&im, blue, 80, 460, 44, 344) > 300, "%zu", count_near(&im, blue, 80, 460, 44, 344));
    CHECK_MSG(count_near(&im, orange, 80, 460, 44, 344) > 200, "%zu", count_near(&im, orange, 80, 460, 44, 344));
    CHECK(count_colour(&im, blue, 460, 640, 44, 120) > 10);
    CHECK(count_colour(&im, orange, 460, 640, 44, 120) > 10);
    aecl_image_free(&im);
    /* A log axis skips the values it cannot show. */
    tr[0] = 0;
    f.log_y = 1;
    CHECK_OK(NULL, chart_line_png(NULL, path, &f, s, 2));
    CHECK_FAIL(chart_line_png(NULL, path, &f, s, 0), AECL_ERR_INVALID_ARG, "series");
}

static void test_scatter(void)
{
    enum { N = 300 };
    float xy[2 * N];
    int32_t lab[N];
    unsigned st = 3;
    test_fill_uniform(xy, 2 * N, -1, 1, &st);
    for (int i = 0; i < N; i++) {
        lab[i] = i % 3;
        xy[2 * i] += 3.0f * (float)lab[i];   /* three clusters side by side */
    }
    static const char *const names[] = {"T-shirt", "Trouser", "Pullover"};
    chart_frame f = {.title = "codes", .xlabel = "z0", .ylabel = "z1"};
    const char *path = test_path("scatter.png");
    CHECK_OK(NULL, chart_scatter_png(NULL, path, &f, xy, N, lab, names, 3));
    aecl_image im = {0};
    CHECK_OK(NULL, aecl_png_read(NULL, path, &im));
    CHECK(im.width == 800 && im.height == 500 && im.channels == 3);
    if (im.channels == 3) {
        /* Translucent dots blend, so the exact colour shows where a dot is whole
         * (in the legend, drawn opaque) and the blended clusters sit left to right. */
        size_t legend_x = 600;
        CHECK(count_colour(&im, blue, legend_x, 800, 40, 200) > 10);
        CHECK(count_colour(&im, orange, legend_x, 800, 40, 200) > 10);
        CHECK(count_colour(&im, green, legend_x, 800, 40, 200) > 10);
        CHECK(count_dark(&im, 8, 34) > 20);
    }
    aecl_image_free(&im);
    CHECK_OK(NULL, chart_scatter_png(NULL, path, &f, xy, N, NULL, NULL, 0));   /* no labels: one colour */
}

static void test_grid(void)
{
    enum { H = 7, W = 5, N = 6, Z = 4 };
    float *img = malloc(N * 3 * H * W * sizeof *img);
    for (int i = 0; i < N; i++)   /* tile i: one colour (i*40, 200, 50) */
        for (int p = 0; p < H * W; p++) {
            img[(i * 3 + 0) * H * W + p] = (float)(i * 40) / 255.0f;
            img[(i * 3 + 1) * H * W + p] = 200.0f / 255.0f;
            img[(i * 3 + 2) * H * W + p] = 50.0f / 255.0f;
        }
    static const char *const rows[] = {"input", "reconstruction"};
    chart_grid g = {.images = img, .n = N, .h = H, .w = W, .cols = 3, .c = 3, .zoom = Z, .title = "a grid",
                    .row_labels = rows};
    const char *path = test_path("grid.png");
    CHECK_OK(NULL, chart_grid_png(NULL, path, &g));
    aecl_image im = {0};
    CHECK_OK(NULL, aecl_png_read(NULL, path, &im));
    CHECK(im.channels == 3 && im.width >= 3 * W * Z && im.height >= 2 * H * Z + 20);
    for (int i = 0; i < N && im.channels == 3; i++) {
        uint8_t c[3] = {(uint8_t)(i * 40), 200, 50};
        size_t n = count_colour(&im, c, 0, im.width, 0, im.height);
        CHECK_MSG(n == (size_t)(H * Z * W * Z), "tile %d: %zu pixels of its colour, %d expected", i, n, H * Z * W * Z);
    }
    aecl_image_free(&im);
    g.zoom = 0;
    CHECK_FAIL(chart_grid_png(NULL, path, &g), AECL_ERR_INVALID_ARG, "zoom");
    g.zoom = 64;
    g.cols = 1;
    g.n = 1;
    g.h = 300;   /* 300 * 64 pixels high: too large to draw */
    CHECK_FAIL(chart_grid_png(NULL, path, &g), AECL_ERR_INVALID_ARG, "at most");
    free(img);
}

/* A picture that cannot be written leaves nothing behind; a .png name is checked. */
static void test_failures(void)
{
    double x[2] = {0, 1}, y[2] = {0, 1};
    chart_series s = {"a", x, y, 2};
    chart_frame f = {.title = "t"};
    CHECK_FAIL(chart_line_png(NULL, test_path("missing/line.png"), &f, &s, 1), AECL_ERR_IO, "missing");
    CHECK(access(test_path("missing"), F_OK) != 0);
    CHECK(chart_check_png_name("x", "--grid", "a.png") == 0);
    CHECK(chart_check_png_name("x", "--grid", "A.PNG") == 0);
    CHECK(chart_check_png_name("x", "--grid", "a.jpg") == 2);
    CHECK(chart_check_png_name("x", "--grid", "png") == 2);
    CHECK(chart_check_png_name("x", "--grid", NULL) == 0);
}

int main(void)
{
    test_tmp_setup("chart");
    test_line();
    test_scatter();
    test_grid();
    test_failures();
    test_tmp_cleanup();
    return test_finish();
}
