/* PNG writer and reader: write, decode with libpng, compare pixels with what
 * was asked for. (Grids and charts: test_chart.c.) */
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

int main(void)
{
    test_tmp_setup("io_png");
    test_gray_and_rgb();
    test_tmp_cleanup();
    return test_finish();
}
