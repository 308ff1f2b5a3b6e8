/* The SSIM error of a reconstruction (1 - mean SSIM, Wang et al. 2004) on the
 * host: a structure-aware anomaly score (aecl_model_scores' AECL_SCORE_SSIM). */
#include "nn/app_scores.h"
#include "rt/error.h"

#include <math.h>
#include <stdlib.h>

#define SSIM_SIGMA 1.5   /* the paper's gaussian window */
#define SSIM_C1 (0.01 * 0.01)   /* (K1 L)^2, (K2 L)^2 with L = 1: data in [0, 1] */
#define SSIM_C2 (0.03 * 0.03)

/* The normalised gaussian of `win` taps (odd). */
static void window(double *g, int win)
{
    double sum = 0;
    for (int i = 0; i < win; i++) {
        double d = i - (win - 1) / 2.0;
        sum += g[i] = exp(-d * d / (2 * SSIM_SIGMA * SSIM_SIGMA));
    }
    for (int i = 0; i < win; i++) g[i] /= sum;
}

/* The five local statistics SSIM needs, filtered by the separable window over
 * the positions where it fits: rows first (h x ow), then columns (oh x ow). */
enum { S_X, S_Y, S_XX, S_YY, S_XY, S_COUNT };

static void filter(const double *g, int win, const float *x, const float *y, int h, int w, double *tmp, double *out)
{
    int oh = h - win + 1, ow = w - win + 1;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < ow; c++) {
            double a[S_COUNT] = {0};
            for (int j = 0; j < win; j++) {
                double u = x[r * w + c + j], v = y[r * w + c + j];
                a[S_X] += g[j] * u, a[S_Y] += g[j] * v;
                a[S_XX] += g[j] * u * u, a[S_YY] += g[j] * v * v, a[S_XY] += g[j] * u * v;
            }
            for (int k = 0; k < S_COUNT; k++) tmp[((size_t)k * h + r) * ow + c] = a[k];
        }
    for (int k = 0; k < S_COUNT; k++)
        for (int r = 0; r < oh; r++)
            for (int c = 0; c < ow; c++) {
                double a = 0;
                for (int i = 0; i < win; i++) a += g[i] * tmp[((size_t)k * h + r + i) * ow + c];
                out[((size_t)k * oh + r) * ow + c] = a;
            }
}

/* Mean SSIM of one h x w plane over the positions where the window fits. */
static double plane_ssim(const double *g, int win, const float *x, const float *y, int h, int w, double *tmp,
                         double *st)
{
    size_t m = (size_t)(h - win + 1) * (size_t)(w - win + 1);
    filter(g, win, x, y, h, w, tmp, st);
    double total = 0;
    for (size_t p = 0; p < m; p++) {
        double mx = st[S_X * m + p], my = st[S_Y * m + p];
        double vx = st[S_XX * m + p] - mx * mx, vy = st[S_YY * m + p] - my * my, cxy = st[S_XY * m + p] - mx * my;
        total += (2 * mx * my + SSIM_C1) * (2 * cxy + SSIM_C2) / ((mx * mx + my * my + SSIM_C1) * (vx + vy + SSIM_C2));
    }
    return total / (double)m;
}

int aecl_ssim_window(int h, int w)
{
    int win = AECL_SSIM_WINDOW;
    if (win > h) win = h;
    if (win > w) win = w;
    return win % 2 ? win : win - 1;
}

aecl_status aecl_ssim_error(aecl_ctx *ctx, const float *x, const float *y, size_t n, int c, int h, int w, float *out)
{
    AECL_RETURN_IF(c < 1 || h < 3 || w < 3, AECL_ERR_INVALID_ARG, ctx,
                   "the SSIM score needs images of at least 3x3 pixels (the input is %dx%dx%d)", c, h, w);
    int win = aecl_ssim_window(h, w);
    double g[AECL_SSIM_WINDOW];
    window(g, win);
    size_t plane = (size_t)h * (size_t)w, ow = (size_t)(w - win + 1);
    double *tmp = malloc(S_COUNT * (size_t)h * ow * sizeof *tmp), *st = malloc(S_COUNT * (size_t)h * ow * sizeof *st);
    if (!tmp || !st) {
        free(tmp);
        free(st);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (int k = 0; k < c; k++) {
            size_t at = (i * (size_t)c + (size_t)k) * plane;
            s += plane_ssim(g, win, x + at, y + at, h, w, tmp, st);
        }
        out[i] = (float)(1.0 - s / c);
    }
    free(tmp);
    free(st);
    return AECL_OK;
}
