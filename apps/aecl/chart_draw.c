/* The chart module's canvas, text, colours and PNG output (chart_draw.h). */
#include "chart_draw.h"
#include "chart.h"
#include "base/atomic.h"
#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* matplotlib's tab10, then the lighter half of tab20: distinct for 20 classes. */
static const unsigned char colours[CHART_N_COLOURS][3] = {
    {0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28}, {0x94, 0x67, 0xbd},
    {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f}, {0xbc, 0xbd, 0x22}, {0x17, 0xbe, 0xcf},
    {0xae, 0xc7, 0xe8}, {0xff, 0xbb, 0x78}, {0x98, 0xdf, 0x8a}, {0xff, 0x98, 0x96}, {0xc5, 0xb0, 0xd5},
    {0xc4, 0x9c, 0x94}, {0xf7, 0xb6, 0xd2}, {0xc7, 0xc7, 0xc7}, {0xdb, 0xdb, 0x8d}, {0x9e, 0xda, 0xe5}};

void chart_colour(cairo_t *cr, int k, double alpha)
{
    if (k < 0 || k >= CHART_N_COLOURS) { cairo_set_source_rgba(cr, 0.6, 0.6, 0.6, alpha); return; }
    cairo_set_source_rgba(cr, colours[k][0] / 255.0, colours[k][1] / 255.0, colours[k][2] / 255.0, alpha);
}

aecl_status chart_canvas(aecl_ctx *ctx, int width, int height, cairo_surface_t **surf, cairo_t **cr)
{
    *surf = NULL;
    *cr = NULL;
    AECL_RETURN_IF(width < 1 || height < 1 || width > CHART_MAX_PX || height > CHART_MAX_PX, AECL_ERR_INVALID_ARG,
                   ctx, "a picture of %d x %d pixels: each side must be 1..%d (a smaller --zoom or fewer columns)",
                   width, height, CHART_MAX_PX);
    *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    if (cairo_surface_status(*surf) == CAIRO_STATUS_SUCCESS) *cr = cairo_create(*surf);
    if (!*cr || cairo_status(*cr) != CAIRO_STATUS_SUCCESS) {
        const char *why = cairo_status_to_string(*cr ? cairo_status(*cr) : cairo_surface_status(*surf));
        if (*cr) cairo_destroy(*cr);
        cairo_surface_destroy(*surf);
        *surf = NULL;
        *cr = NULL;
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "cannot make a %d x %d canvas: %s", width, height, why);
    }
    cairo_set_source_rgb(*cr, 1, 1, 1);
    cairo_paint(*cr);
    return AECL_OK;
}

typedef struct png_sink {
    aecl_ctx *ctx;
    aecl_atomic_file *f;
} png_sink;

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int n)
{
    png_sink *s = closure;
    return aecl_atomic_write(s->ctx, s->f, data, n) == AECL_OK ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

aecl_status chart_finish(aecl_ctx *ctx, const char *path, cairo_surface_t *surf, cairo_t *cr)
{
    cairo_status_t drawn = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surf);
    aecl_atomic_file f;
    aecl_status st = drawn == CAIRO_STATUS_SUCCESS
                         ? aecl_atomic_open(ctx, path, &f)
                         : aecl_fail(ctx, AECL_ERR_INVALID_ARG, "drawing '%s' failed: %s", path,
                                     cairo_status_to_string(drawn));
    if (st == AECL_OK) {
        png_sink s = {ctx, &f};
        cairo_status_t w = cairo_surface_write_to_png_stream(surf, sink_write, &s);
        /* A write error already holds the writer's message; others are cairo's. */
        if (w != CAIRO_STATUS_SUCCESS && w != CAIRO_STATUS_WRITE_ERROR)
            st = aecl_fail(ctx, AECL_ERR_IO, "PNG '%s': %s", path, cairo_status_to_string(w));
        else if (w != CAIRO_STATUS_SUCCESS)
            st = AECL_ERR_IO;
        if (st == AECL_OK) st = aecl_atomic_commit(ctx, &f);
        else aecl_atomic_abort(&f);
    }
    cairo_surface_destroy(surf);
    return st;
}

void chart_font(cairo_t *cr, double px, int bold)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, px);
}

double chart_text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    return te.x_advance;
}

void chart_text(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    double h = fe.ascent + fe.descent;
    cairo_move_to(cr, x - ax * chart_text_width(cr, s), y - ay * h + fe.ascent);
    cairo_show_text(cr, s);
}

void chart_text_up(cairo_t *cr, double x, double y, const char *s)
{
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -CHART_PI / 2);
    chart_text(cr, 0, 0, s, 0.5, 0.5);
    cairo_restore(cr);
}

int chart_check_png_name(const char *cmd, const char *option, const char *path)
{
    size_t n = path ? strlen(path) : 0;
    /* A device, FIFO or standard output ("-", /dev/null) has no name to mislead. */
    if (!path || (n > 4 && !strcasecmp(path + n - 4, ".png")) || aecl_io_is_stream(path)) return 0;
    fprintf(stderr, "aecl %s: %s '%s' must name a .png file (see aecl %s --help)\n", cmd, option, path, cmd);
    return 2;
}
