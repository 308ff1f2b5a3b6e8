/* Line charts and scatter plots (chart.h): a frame with round-number ticks,
 * axis labels, a title and a legend outside the plot area, so no data hides
 * behind it. */
#include "chart.h"
#include "chart_draw.h"
#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One axis: data range lo..hi mapped to pixels p0..p1 (log10 of the data when log). */
typedef struct axis {
    double lo, hi, p0, p1;
    int log;
} axis;

static double axis_px(const axis *a, double v)
{
    if (a->log) v = log10(v);
    return a->p0 + (v - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

/* 1, 2 or 5 times a power of ten near range / target. */
static double nice_step(double range, int target)
{
    double raw = range / target, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

/* Widens lo..hi (in axis units) to a padded, non-empty range. */
static void axis_range(axis *a, double lo, double hi)
{
    if (!(lo <= hi)) { lo = 0; hi = 1; }   /* no finite point */
    if (hi - lo < 1e-12 * (fabs(lo) + fabs(hi)) || hi == lo) {
        double d = lo == 0 ? 0.5 : fabs(lo) * 0.1;
        lo -= d;
        hi += d;
    }
    double pad = (hi - lo) * 0.05;
    a->lo = lo - pad;
    a->hi = hi + pad;
}

/* A tick label: as many decimals as the step needs, %g for the very large or small. */
static void tick_label(char *out, size_t cap, double v, double step)
{
    if (fabs(v) < step * 1e-9) v = 0;   /* no "-0" or 1e-17 */
    double mag = fabs(v) > fabs(step) ? fabs(v) : fabs(step);
    if (mag >= 1e6 || mag < 1e-4) { snprintf(out, cap, "%.3g", v); return; }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(out, cap, "%.*f", dec, v);
}

/* Tick values of an axis, at most 32: round numbers, or on a log axis the
 * powers of ten (with 2 and 5 between them when it spans under 3 decades). */
static int ticks(const axis *a, double *t, double *step_out)
{
    int n = 0;
    if (a->log && a->hi - a->lo >= 0.7) {
        static const int all[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, some[] = {1, 2, 5};
        double span = a->hi - a->lo;
        const int *m = span < 1.5 ? all : some;
        int nm = span < 1.5 ? 9 : span < 3 ? 3 : 1;
        for (double e = floor(a->lo); e <= ceil(a->hi) && n < 30; e++)
            for (int k = 0; k < nm && n < 30; k++) {
                double v = log10(m[k]) + e;
                if (v >= a->lo && v <= a->hi) t[n++] = pow(10, v);
            }
        *step_out = 0;
        return n;
    }
    double step = nice_step(a->hi - a->lo, 6);
    for (double v = ceil(a->lo / step) * step; v <= a->hi + step * 1e-9 && n < 32; v += step)
        t[n++] = a->log ? pow(10, v) : v;
    *step_out = step;
    return n;
}

typedef struct plot {
    cairo_t *cr;
    int width, height;
    axis x, y;
    double legend_w;
} plot;

/* Title, frame, grid lines, ticks and axis labels. */
static void draw_frame(plot *p, const chart_frame *f)
{
    cairo_t *cr = p->cr;
    chart_font(cr, CHART_TITLE_PX, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (f->title) chart_text(cr, (p->x.p0 + p->x.p1) / 2, 12, f->title, 0.5, 0);
    chart_font(cr, CHART_TEXT_PX, 0);
    double t[32], step;
    char lab[64];
    const axis *axes[2] = {&p->x, &p->y};
    for (int k = 0; k < 2; k++) {
        int n = ticks(axes[k], t, &step);
        for (int i = 0; i < n; i++) {
            double px = axis_px(axes[k], t[i]);
            if (axes[k]->log) snprintf(lab, sizeof lab, "%.3g", t[i]);
            else tick_label(lab, sizeof lab, t[i], step);
            cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);   /* light grid line across the plot */
            if (k == 0) { cairo_move_to(cr, px + 0.5, p->y.p1); cairo_line_to(cr, px + 0.5, p->y.p0); }
            else { cairo_move_to(cr, p->x.p0, px + 0.5); cairo_line_to(cr, p->x.p1, px + 0.5); }
            cairo_set_line_width(cr, 1);
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, 0, 0, 0);
            if (k == 0) {
                cairo_move_to(cr, px + 0.5, p->y.p0); cairo_line_to(cr, px + 0.5, p->y.p0 + 5); cairo_stroke(cr);
                chart_text(cr, px, p->y.p0 + 7, lab, 0.5, 0);
            } else {
                cairo_move_to(cr, p->x.p0 - 5, px + 0.5); cairo_line_to(cr, p->x.p0, px + 0.5); cairo_stroke(cr);
                chart_text(cr, p->x.p0 - 8, px, lab, 1, 0.5);
            }
        }
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, p->x.p0 + 0.5, p->y.p1 + 0.5, p->x.p1 - p->x.p0, p->y.p0 - p->y.p1);
    cairo_stroke(cr);
    if (f->xlabel) chart_text(cr, (p->x.p0 + p->x.p1) / 2, p->height - 10, f->xlabel, 0.5, 1);
    if (f->ylabel) chart_text_up(cr, 16, (p->y.p0 + p->y.p1) / 2, f->ylabel);
}

/* The legend right of the plot: a swatch (line or dot) and the name per entry. */
static void draw_legend(plot *p, const char *const *names, const int *colour, int n, int dots)
{
    if (n == 0) return;
    cairo_t *cr = p->cr;
    chart_font(cr, CHART_TEXT_PX, 0);
    double x = p->x.p1 + 16, y = p->y.p1, row = CHART_TEXT_PX + 8;
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x + 0.5, y + 0.5, p->legend_w - 24, n * row + 8);
    cairo_stroke(cr);
    for (int i = 0; i < n; i++) {
        double cy = y + 4 + row * (i + 0.5);
        chart_colour(cr, colour[i], 1);
        if (dots) {
            cairo_arc(cr, x + 16, cy, 4, 0, 2 * CHART_PI);
            cairo_fill(cr);
        } else {
            cairo_set_line_width(cr, 2.5);
            cairo_move_to(cr, x + 6, cy);
            cairo_line_to(cr, x + 26, cy);
            cairo_stroke(cr);
        }
        cairo_set_source_rgb(cr, 0, 0, 0);
        chart_text(cr, x + 34, cy, names[i], 0, 0.5);
    }
}

/* Size of the canvas and where the plot area lies, from the legend's widest entry. */
static aecl_status plot_open(aecl_ctx *ctx, plot *p, const chart_frame *f, const char *const *names, int n,
                             cairo_surface_t **surf)
{
    memset(p, 0, sizeof *p);   /* linear axes unless the caller says otherwise */
    p->width = f->width ? f->width : 800;
    p->height = f->height ? f->height : 500;
    AECL_RETURN_IF(p->width < 200 || p->height < 200, AECL_ERR_INVALID_ARG, ctx,
                   "a chart of %d x %d pixels: each side must be at least 200", p->width, p->height);
    AECL_TRY(chart_canvas(ctx, p->width, p->height, surf, &p->cr));
    chart_font(p->cr, CHART_TEXT_PX, 0);
    double w = 0;
    for (int i = 0; i < n; i++)
        if (chart_text_width(p->cr, names[i]) > w) w = chart_text_width(p->cr, names[i]);
    p->legend_w = n ? w + 60 : 0;
    if (p->legend_w > p->width / 3.0) p->legend_w = p->width / 3.0;
    p->x.p0 = 80;
    p->x.p1 = p->width - 20 - p->legend_w;
    p->y.p0 = p->height - 56;   /* y grows upwards: p0 is the bottom */
    p->y.p1 = f->title ? 44 : 16;
    return AECL_OK;
}

aecl_status chart_line_png(aecl_ctx *ctx, const char *path, const chart_frame *f, const chart_series *s, size_t ns)
{
    AECL_RETURN_IF(!path || !f || !s || ns < 1 || ns > 16, AECL_ERR_INVALID_ARG, ctx,
                   "chart_line_png: 1..16 series and a path expected");
    const char *names[16] = {0};
    int colour[16], nn = 0;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t k = 0; k < ns; k++) {
        AECL_RETURN_IF(s[k].n && (!s[k].x || !s[k].y), AECL_ERR_INVALID_ARG, ctx, "chart_line_png: series %zu has no data", k);
        if (s[k].name && *s[k].name) { names[nn] = s[k].name; colour[nn++] = (int)k; }
        for (size_t i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i];
            if (!isfinite(x) || !isfinite(y) || (f->log_y && y <= 0)) continue;
            if (f->log_y) y = log10(y);
            xlo = fmin(xlo, x); xhi = fmax(xhi, x); ylo = fmin(ylo, y); yhi = fmax(yhi, y);
        }
    }
    plot p;
    cairo_surface_t *surf;
    AECL_TRY(plot_open(ctx, &p, f, names, nn, &surf));
    axis_range(&p.x, xlo, xhi);
    axis_range(&p.y, ylo, yhi);
    p.y.log = f->log_y;
    draw_frame(&p, f);
    cairo_t *cr = p.cr;
    cairo_save(cr);
    cairo_rectangle(cr, p.x.p0, p.y.p1, p.x.p1 - p.x.p0, p.y.p0 - p.y.p1);
    cairo_clip(cr);
    for (size_t k = 0; k < ns; k++) {
        chart_colour(cr, (int)k, 1);
        cairo_set_line_width(cr, 2);
        int pen = 0;
        for (size_t i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i];
            int ok = isfinite(x) && isfinite(y) && !(f->log_y && y <= 0);
            if (!ok) { pen = 0; continue; }
            double px = axis_px(&p.x, x), py = axis_px(&p.y, y);
            if (pen) cairo_line_to(cr, px, py);
            else cairo_move_to(cr, px, py);
            pen = 1;
        }
        cairo_stroke(cr);
        for (size_t i = 0; i < s[k].n && s[k].n <= 200; i++) {   /* dots mark the points while they are few */
            double x = s[k].x[i], y = s[k].y[i];
            if (!isfinite(x) || !isfinite(y) || (f->log_y && y <= 0)) continue;
            cairo_arc(cr, axis_px(&p.x, x), axis_px(&p.y, y), 3, 0, 2 * CHART_PI);
            cairo_fill(cr);
        }
    }
    cairo_restore(cr);
    draw_legend(&p, names, colour, nn, 0);
    return chart_finish(ctx, path, surf, cr);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The distinct labels of n, sorted (malloc'd, *nd of them). */
static int32_t *distinct_labels(const int32_t *labels, size_t n, size_t *nd)
{
    int32_t *u = malloc((n ? n : 1) * sizeof *u);
    if (!u) return NULL;
    memcpy(u, labels, n * sizeof *u);
    qsort(u, n, sizeof *u, cmp_i32);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || u[k - 1] != u[i]) u[k++] = u[i];
    *nd = k;
    return u;
}

/* A label's colour: its rank among the distinct labels, grey past the cycle. */
static int label_colour(const int32_t *u, size_t nd, int32_t label)
{
    const int32_t *hit = bsearch(&label, u, nd, sizeof *u, cmp_i32);
    size_t r = hit ? (size_t)(hit - u) : nd;
    return r < CHART_N_COLOURS ? (int)r : CHART_N_COLOURS;
}

aecl_status chart_scatter_png(aecl_ctx *ctx, const char *path, const chart_frame *f, const float *xy, size_t n,
                              const int32_t *labels, const char *const *class_names, size_t n_names)
{
    AECL_RETURN_IF(!path || !f || (n && !xy), AECL_ERR_INVALID_ARG, ctx, "chart_scatter_png: NULL argument");
    size_t nd = 0;
    int32_t *u = labels ? distinct_labels(labels, n, &nd) : NULL;
    AECL_RETURN_IF(labels && !u, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    enum { MAX_ENTRIES = CHART_N_COLOURS + 1 };
    char text[MAX_ENTRIES][64];
    const char *names[MAX_ENTRIES] = {0};
    int colour[MAX_ENTRIES], ne = 0;
    for (size_t k = 0; k < nd && k < CHART_N_COLOURS; k++, ne++) {
        if (u[k] >= 0 && (size_t)u[k] < n_names && class_names) snprintf(text[ne], 64, "%d %s", u[k], class_names[u[k]]);
        else snprintf(text[ne], 64, "class %d", u[k]);
        names[ne] = text[ne];
        colour[ne] = ne;
    }
    if (nd > CHART_N_COLOURS) {
        snprintf(text[ne], 64, "%zu other classes", nd - CHART_N_COLOURS);
        names[ne] = text[ne];
        colour[ne++] = CHART_N_COLOURS;
    }
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) continue;
        xlo = fmin(xlo, xy[2 * i]); xhi = fmax(xhi, xy[2 * i]);
        ylo = fmin(ylo, xy[2 * i + 1]); yhi = fmax(yhi, xy[2 * i + 1]);
    }
    plot p;
    cairo_surface_t *surf;
    aecl_status st = plot_open(ctx, &p, f, names, ne, &surf);
    if (st != AECL_OK) { free(u); return st; }
    axis_range(&p.x, xlo, xhi);
    axis_range(&p.y, ylo, yhi);
    draw_frame(&p, f);
    cairo_t *cr = p.cr;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) continue;
        chart_colour(cr, labels ? label_colour(u, nd, labels[i]) : 0, 0.75);
        cairo_arc(cr, axis_px(&p.x, xy[2 * i]), axis_px(&p.y, xy[2 * i + 1]), 2.5, 0, 2 * CHART_PI);
        cairo_fill(cr);
    }
    draw_legend(&p, names, colour, ne, 1);
    free(u);
    return chart_finish(ctx, path, surf, cr);
}
