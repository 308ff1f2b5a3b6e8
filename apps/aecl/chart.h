/* Figures people can read: line charts, scatter plots and labelled image
 * grids, drawn with cairo (anti-aliased lines, text in the system's sans-serif
 * font) and written as PNG through the atomic writer (lib/base/atomic.h), so a
 * failed write leaves an existing file as it was.
 *
 * Every figure has a title. Charts have a frame with ticks at round numbers
 * (1, 2 or 5 times a power of ten), tick labels, axis labels and a legend that
 * names each series or class in its colour (matplotlib's tab10, then more).
 *
 * Usage, a loss curve (aecl train --plot):
 *     chart_series s[2] = {{"train loss", epochs, train, n}, {"val loss", epochs, val, n}};
 *     chart_frame f = {.title = "mlp.model: loss per epoch", .xlabel = "epoch", .ylabel = "loss"};
 *     aecl_status st = chart_line_png(ctx, "loss.png", &f, s, 2);
 * Errors (a bad argument, a path that cannot be written) are returned as an
 * aecl_status with the context's message, as everywhere in aecl. */
#ifndef AECL_APP_CHART_H
#define AECL_APP_CHART_H

#include "aecl.h"

#include <stddef.h>
#include <stdint.h>

/* What every chart has. Zero width/height: 800 x 500 pixels (each at least 200). */
typedef struct chart_frame {
    const char *title, *xlabel, *ylabel; /* NULL: none */
    int width, height;
    int log_y; /* y on a log10 axis: for losses spanning decades; values <= 0 are skipped */
} chart_frame;

/* One named line of n points (x[i], y[i]), drawn in x order as given, with a
 * dot at each point; a non-finite y breaks the line (e.g. an epoch without a
 * validation loss). */
typedef struct chart_series {
    const char *name; /* legend text (NULL or "": not in the legend) */
    const double *x, *y;
    size_t n;
} chart_series;

/* A line chart of ns series (1..16) on one pair of axes spanning all points. */
aecl_status chart_line_png(aecl_ctx *ctx, const char *path, const chart_frame *f, const chart_series *s, size_t ns);

/* A scatter plot of n points (xy: x0,y0,x1,y1,...; non-finite ones skipped),
 * coloured by labels[i] (NULL: one colour, no legend). The legend lists each
 * label present, in increasing order, with class_names[label] when
 * 0 <= label < n_names (else "class L"); up to 20 distinct labels get their own
 * colour, the rest share grey ("other"). */
aecl_status chart_scatter_png(aecl_ctx *ctx, const char *path, const chart_frame *f, const float *xy, size_t n,
                              const int32_t *labels, const char *const *class_names, size_t n_names);

/* n images in a grid of `cols` columns (rows as needed), each pixel drawn as a
 * zoom x zoom block (no smoothing), with a title above, a label left of each
 * row and one under each column. Images are planar as tensors hold them:
 * c x h x w floats (c = 1 gray or 3 RGB) in [0, 1], clamped (NaN: 0). */
typedef struct chart_grid {
    const float *images;
    size_t n, h, w, cols;
    int c, zoom;                   /* zoom 1..64 */
    const char *title;             /* NULL: none */
    const char *const *row_labels; /* ceil(n / cols) of them, or NULL */
    const char *const *col_labels; /* cols of them, or NULL */
    const char *xlabel;            /* a caption under the column labels, or NULL */
    const double *xticks;          /* cols values shown on an axis under the grid, one per column
                                      centre (e.g. the interpolation weight t; NaN: no tick), or NULL */
} chart_grid;
aecl_status chart_grid_png(aecl_ctx *ctx, const char *path, const chart_grid *g);

/* 0 when `path` ends in .png (any case) or is written in place ("-", /dev/null,
 * a FIFO: aecl_io_is_stream); else 2 after "aecl CMD: OPTION 'x' must name a .png
 * file". Commands check their picture outputs with it up front. */
int chart_check_png_name(const char *cmd, const char *option, const char *path);

#endif
