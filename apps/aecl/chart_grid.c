/* Image grids (chart.h): tiles drawn pixel for pixel at an integer zoom, a
 * title, a label left of each row, one under each column, and optionally an
 * axis with a tick per column (the interpolation weight). */
#include "chart.h"
#include "chart_draw.h"
#include "base/error.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t to_rgb24(const float *img, int c, size_t plane, size_t i)
{
    uint32_t px = 0;
    for (int k = 0; k < 3; k++) {
        float v = img[(c == 3 ? (size_t)k * plane : 0) + i];
        uint32_t b = !(v > 0) ? 0 : v >= 1 ? 255 : (uint32_t)(v * 255 + 0.5f);
        px = px << 8 | b;
    }
    return px;
}

/* One tile at (x, y): the image as a w x h surface scaled by zoom, no smoothing. */
static void draw_tile(cairo_t *cr, const chart_grid *g, const float *img, double x, double y)
{
    cairo_surface_t *t = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)g->w, (int)g->h);
    if (cairo_surface_status(t) != CAIRO_STATUS_SUCCESS) { cairo_surface_destroy(t); return; }
    cairo_surface_flush(t);
    unsigned char *data = cairo_image_surface_get_data(t);
    int stride = cairo_image_surface_get_stride(t);
    for (size_t r = 0; r < g->h; r++)
        for (size_t col = 0; col < g->w; col++)
            ((uint32_t *)(data + r * (size_t)stride))[col] = to_rgb24(img, g->c, g->h * g->w, r * g->w + col);
    cairo_surface_mark_dirty(t);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, g->zoom, g->zoom);
    cairo_set_source_surface(cr, t, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, (double)g->w, (double)g->h);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(t);
}

/* The widest of n labels in the current font. */
static double widest(cairo_t *cr, const char *const *labels, size_t n)
{
    double w = 0;
    for (size_t i = 0; labels && i < n; i++)
        if (labels[i] && chart_text_width(cr, labels[i]) > w) w = chart_text_width(cr, labels[i]);
    return w;
}

typedef struct layout {
    double left, top, tile_w, tile_h, gap, below;
    int width, height;
    size_t rows;
} layout;

/* Canvas size from the tiles and the text around them. */
static aecl_status measure(aecl_ctx *ctx, const chart_grid *g, layout *L)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(s);
    chart_font(cr, CHART_TEXT_PX, 0);
    L->rows = (g->n + g->cols - 1) / g->cols;
    double row_w = widest(cr, g->row_labels, L->rows), line = CHART_TEXT_PX + 6;
    chart_font(cr, CHART_TITLE_PX, 1);
    double title_w = g->title ? chart_text_width(cr, g->title) : 0;
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    L->tile_w = (double)g->w * g->zoom;
    L->tile_h = (double)g->h * g->zoom;
    L->gap = g->zoom < 2 ? 2 : g->zoom;
    L->left = 10 + (row_w > 0 ? row_w + 10 : 0);
    L->top = g->title ? 12 + CHART_TITLE_PX + 12 : 10;
    L->below = (g->col_labels ? line : 0) + (g->xticks ? 10 + line : 0) + (g->xlabel ? line + 4 : 0) + 10;
    double grid_w = g->cols * L->tile_w + (g->cols - 1) * L->gap, grid_h = L->rows * L->tile_h + (L->rows - 1) * L->gap;
    double w = L->left + grid_w + 10, need = title_w + 20;
    if (w < need) { L->left += (need - w) / 2; w = need; }   /* centre a grid narrower than its title */
    double h = L->top + grid_h + L->below;
    AECL_RETURN_IF(w > CHART_MAX_PX || h > CHART_MAX_PX, AECL_ERR_INVALID_ARG, ctx,
                   "a grid of %.0f x %.0f pixels: each side must be at most %d (a smaller --zoom, or fewer "
                   "columns or rows)", w, h, CHART_MAX_PX);
    L->width = (int)ceil(w);
    L->height = (int)ceil(h);
    return AECL_OK;
}

/* Column labels, the tick axis and the caption under the grid. */
static void draw_below(cairo_t *cr, const chart_grid *g, const layout *L)
{
    double y = L->top + L->rows * L->tile_h + (L->rows - 1) * L->gap + 4, line = CHART_TEXT_PX + 6;
    size_t cols = g->cols < g->n ? g->cols : g->n;
    chart_font(cr, CHART_TEXT_PX, 0);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (size_t k = 0; g->col_labels && k < cols; k++)
        if (g->col_labels[k]) chart_text(cr, L->left + k * (L->tile_w + L->gap) + L->tile_w / 2, y, g->col_labels[k], 0.5, 0);
    if (g->col_labels) y += line;
    if (g->xticks) {   /* an axis through the columns with a finite tick value */
        size_t first = cols, last = 0;
        for (size_t k = 0; k < cols; k++)
            if (isfinite(g->xticks[k])) { first = first < k ? first : k; last = k; }
        double x0 = L->left + (double)first * (L->tile_w + L->gap) + L->tile_w / 2;
        double x1 = L->left + (double)last * (L->tile_w + L->gap) + L->tile_w / 2;
        cairo_set_line_width(cr, 1);
        if (first < cols) {
            cairo_move_to(cr, x0, y + 0.5);
            cairo_line_to(cr, x1, y + 0.5);
        }
        char lab[32];
        for (size_t k = 0; k < cols; k++) {
            if (!isfinite(g->xticks[k])) continue;
            double x = L->left + k * (L->tile_w + L->gap) + L->tile_w / 2;
            cairo_move_to(cr, x + 0.5, y);
            cairo_line_to(cr, x + 0.5, y + 6);
            snprintf(lab, sizeof lab, "%.2f", g->xticks[k]);
            chart_text(cr, x, y + 8, lab, 0.5, 0);
        }
        cairo_stroke(cr);
        y += 10 + line;
    }
    if (g->xlabel) chart_text(cr, L->width / 2.0, y + 4, g->xlabel, 0.5, 0);
}

aecl_status chart_grid_png(aecl_ctx *ctx, const char *path, const chart_grid *g)
{
    AECL_RETURN_IF(!path || !g || !g->images || g->n == 0 || g->cols == 0, AECL_ERR_INVALID_ARG, ctx,
                   "chart_grid_png: no images");
    AECL_RETURN_IF(g->c != 1 && g->c != 3, AECL_ERR_INVALID_ARG, ctx, "chart_grid_png: %d channels (1 or 3)", g->c);
    AECL_RETURN_IF(g->zoom < 1 || g->zoom > 64, AECL_ERR_INVALID_ARG, ctx, "zoom %d: 1..64", g->zoom);
    AECL_RETURN_IF(g->w == 0 || g->h == 0 || g->w > CHART_MAX_PX || g->h > CHART_MAX_PX, AECL_ERR_INVALID_ARG, ctx,
                   "images of %zu x %zu pixels cannot be drawn", g->w, g->h);
    layout L = {0};
    AECL_TRY(measure(ctx, g, &L));
    cairo_surface_t *surf;
    cairo_t *cr;
    AECL_TRY(chart_canvas(ctx, L.width, L.height, &surf, &cr));
    size_t per = (size_t)g->c * g->h * g->w;
    for (size_t i = 0; i < g->n; i++)
        draw_tile(cr, g, g->images + i * per, L.left + (double)(i % g->cols) * (L.tile_w + L.gap),
                  L.top + (double)(i / g->cols) * (L.tile_h + L.gap));
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (g->title) {
        chart_font(cr, CHART_TITLE_PX, 1);
        chart_text(cr, L.width / 2.0, 12, g->title, 0.5, 0);
    }
    chart_font(cr, CHART_TEXT_PX, 0);
    for (size_t r = 0; g->row_labels && r < L.rows; r++)
        if (g->row_labels[r]) chart_text(cr, L.left - 10, L.top + r * (L.tile_h + L.gap) + L.tile_h / 2, g->row_labels[r], 1, 0.5);
    draw_below(cr, g, &L);
    return chart_finish(ctx, path, surf, cr);
}
