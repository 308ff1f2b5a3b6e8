/* What chart.c (line and scatter charts) and chart_grid.c (image grids) share:
 * a white cairo canvas, text placed by an anchor, the colour cycle, and writing
 * the canvas as PNG through the atomic writer. Internal to the chart module. */
#ifndef AECL_APP_CHART_DRAW_H
#define AECL_APP_CHART_DRAW_H

#include "aecl.h"

#include <cairo.h>

#define CHART_PI 3.14159265358979323846

enum { CHART_TITLE_PX = 17, CHART_TEXT_PX = 13, CHART_MAX_PX = 16384, CHART_N_COLOURS = 20 };

/* A white width x height RGB canvas and its drawing context; NULLs (with the
 * context's message) when cairo cannot make one. */
aecl_status chart_canvas(aecl_ctx *ctx, int width, int height, cairo_surface_t **surf, cairo_t **cr);
/* Writes the canvas to `path` as PNG (atomically) and releases both. */
aecl_status chart_finish(aecl_ctx *ctx, const char *path, cairo_surface_t *surf, cairo_t *cr);

/* Sets the font: px high, bold or not. */
void chart_font(cairo_t *cr, double px, int bold);
/* Width in pixels of s in the current font. */
double chart_text_width(cairo_t *cr, const char *s);
/* Draws s with its anchor at (x, y): ax 0 / 0.5 / 1 puts x at its left /
 * centre / right, ay 0 / 0.5 / 1 puts y at its top / middle / bottom. */
void chart_text(cairo_t *cr, double x, double y, const char *s, double ax, double ay);
/* The same turned a quarter left (reading upwards), for a y-axis label centred at (x, y). */
void chart_text_up(cairo_t *cr, double x, double y, const char *s);

/* Colour k of the cycle (tab10, then tab20's lighter shades); k past the
 * cycle: grey. */
void chart_colour(cairo_t *cr, int k, double alpha);

#endif
