/* The host-side anomaly scores: the SSIM error against values computed with
 * scipy's separable filters (scripts/quality's definition, the same window),
 * identical images scoring 0, the window clipped to small images; the latent
 * Gaussian's squared Mahalanobis distances against a closed-form 3x3 inverse of
 * the shrunk covariance; the refusals. No device needed. */
#include "check.h"
#include "nn/app_scores.h"
#include "nn/spec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The test pattern (values in [0, 1]) and a distorted copy of it. */
static void pattern(float *x, float *y, int h, int w)
{
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            double v = ((i * 7 + j * 3) % 11) / 10.0;
            double u = 0.8 * v + 0.1 * ((i + j) % 2) + 0.05 * sin(i);
            x[i * w + j] = (float)v;
            y[i * w + j] = (float)(u < 0 ? 0 : u > 1 ? 1 : u);
        }
}

static void ssim_values(void)
{
    float x[144], y[144], out[2] = {-1, -1};
    pattern(x, y, 12, 12);
    /* 12x12, window 7: scipy gives 0.051524546. */
    CHECK_OK(NULL, aecl_ssim_error(NULL, x, y, 1, 1, 12, 12, out));
    CHECK_NEAR(out[0], 0.051524546, 1e-6);
    /* Identical images: SSIM 1 everywhere, error 0. */
    CHECK_OK(NULL, aecl_ssim_error(NULL, x, x, 1, 1, 12, 12, out));
    CHECK_NEAR(out[0], 0.0, 1e-9);
    /* Two samples (or two planes) are scored apart: sample 1 equal, sample 0 not. */
    float xx[288], yy[288];
    memcpy(xx, x, sizeof x);
    memcpy(xx + 144, x, sizeof x);
    memcpy(yy, y, sizeof y);
    memcpy(yy + 144, x, sizeof x);
    CHECK_OK(NULL, aecl_ssim_error(NULL, xx, yy, 2, 1, 12, 12, out));
    CHECK_NEAR(out[0], 0.051524546, 1e-6);
    CHECK_NEAR(out[1], 0.0, 1e-9);
    CHECK_OK(NULL, aecl_ssim_error(NULL, xx, yy, 1, 2, 12, 12, out));   /* one image of 2 planes: the mean */
    CHECK_NEAR(out[0], 0.051524546 / 2, 1e-6);
    /* 5x6: the window shrinks to 5 (largest odd size that fits): scipy gives 0.051338523. */
    float a[30], b[30];
    pattern(a, b, 5, 6);
    CHECK(aecl_ssim_window(5, 6) == 5 && aecl_ssim_window(28, 28) == AECL_SSIM_WINDOW && aecl_ssim_window(4, 9) == 3);
    CHECK_OK(NULL, aecl_ssim_error(NULL, a, b, 1, 1, 5, 6, out));
    CHECK_NEAR(out[0], 0.051338523, 1e-6);
    /* Too small for a window, or not an image. */
    CHECK_FAIL(aecl_ssim_error(NULL, a, b, 1, 1, 2, 15, out), AECL_ERR_INVALID_ARG, "at least 3x3");
    CHECK_FAIL(aecl_ssim_error(NULL, a, b, 1, 30, 1, 1, out), AECL_ERR_INVALID_ARG, "at least 3x3");
}

/* The inverse of a symmetric 3x3 matrix by cofactors (no Cholesky). */
static void inverse3(const double *m, double *inv)
{
    double c00 = m[4] * m[8] - m[5] * m[7], c01 = m[5] * m[6] - m[3] * m[8], c02 = m[3] * m[7] - m[4] * m[6];
    double det = m[0] * c00 + m[1] * c01 + m[2] * c02;
    inv[0] = c00 / det, inv[3] = c01 / det, inv[6] = c02 / det;
    inv[1] = (m[2] * m[7] - m[1] * m[8]) / det, inv[4] = (m[0] * m[8] - m[2] * m[6]) / det;
    inv[7] = (m[1] * m[6] - m[0] * m[7]) / det;
    inv[2] = (m[1] * m[5] - m[2] * m[4]) / det, inv[5] = (m[2] * m[3] - m[0] * m[5]) / det;
    inv[8] = (m[0] * m[4] - m[1] * m[3]) / det;
}

/* Distances of the fit against (1 - s) C + s tr(C)/3 I inverted by cofactors. */
static void mahalanobis_case(const float *z, size_t n, double s)
{
    aecl_normal_fit f = {0};
    CHECK_OK(NULL, aecl_normal_fit_codes(NULL, z, n, 3, s, &f));
    double mu[3] = {0}, c[9] = {0}, inv[9];
    for (size_t r = 0; r < n; r++)
        for (int i = 0; i < 3; i++) mu[i] += z[r * 3 + i] / (double)n;
    for (size_t r = 0; r < n; r++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) c[i * 3 + j] += (z[r * 3 + i] - mu[i]) * (z[r * 3 + j] - mu[j]) / (double)(n - 1);
    double tr = c[0] + c[4] + c[8];
    for (int i = 0; i < 9; i++) c[i] = (1 - s) * c[i] + (i % 4 == 0 ? s * tr / 3 : 0);
    inverse3(c, inv);
    const float q[6] = {0.5f, -1, 2, 3, 0, -0.25f};
    float d[2];
    CHECK_OK(NULL, aecl_normal_mahalanobis(NULL, &f, q, 2, d));
    for (int k = 0; k < 2; k++) {
        double e[3] = {q[k * 3] - mu[0], q[k * 3 + 1] - mu[1], q[k * 3 + 2] - mu[2]}, want = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) want += e[i] * inv[i * 3 + j] * e[j];
        CHECK_NEAR(d[k], want, 1e-5 * want);
    }
    /* The mean itself is at distance 0. */
    float m3[3] = {(float)mu[0], (float)mu[1], (float)mu[2]};
    CHECK_OK(NULL, aecl_normal_mahalanobis(NULL, &f, m3, 1, d));
    CHECK_NEAR(d[0], 0.0, 1e-6);
    free(f.mu);
    free(f.chol);
}

static void mahalanobis(void)
{
    /* Correlated codes: the second follows the first, the third is apart. */
    float z[3 * 40];
    unsigned st = 11;
    test_fill_uniform(z, 3 * 40, -1, 1, &st);
    for (int r = 0; r < 40; r++) z[r * 3 + 1] = 0.9f * z[r * 3] + 0.1f * z[r * 3 + 1], z[r * 3 + 2] *= 3;
    mahalanobis_case(z, 40, 0.0);
    mahalanobis_case(z, 40, 0.1);
    mahalanobis_case(z, 40, 0.5);
    /* Collinear codes: singular without shrinkage (refused), fine with it. */
    for (int r = 0; r < 40; r++) z[r * 3 + 1] = 2 * z[r * 3];
    aecl_normal_fit f = {0};
    CHECK_FAIL(aecl_normal_fit_codes(NULL, z, 40, 3, 0.0, &f), AECL_ERR_INVALID_ARG, "do not vary");
    mahalanobis_case(z, 40, 0.1);
    /* Codes that do not vary at all; too few samples. */
    for (int i = 0; i < 3 * 40; i++) z[i] = 0.25f;
    CHECK_FAIL(aecl_normal_fit_codes(NULL, z, 40, 3, 0.1, &f), AECL_ERR_INVALID_ARG, "do not vary");
    CHECK_FAIL(aecl_normal_fit_codes(NULL, z, 1, 3, 0.1, &f), AECL_ERR_INVALID_ARG, "at least 2");
}

static void names(void)
{
    CHECK(!strcmp(aecl_score_name(AECL_SCORE_MSE), "mse") && !strcmp(aecl_score_name(AECL_SCORE_ELBO), "elbo"));
    CHECK(!strcmp(aecl_score_name(AECL_SCORE_SSIM), "ssim") && !strcmp(aecl_score_name(AECL_SCORE_COMBINED), "combined"));
    CHECK(!strcmp(aecl_score_name(AECL_SCORE_MAHALANOBIS), "mahalanobis") && !aecl_score_name((aecl_score_kind)6));
}

int main(void)
{
    ssim_values();
    mahalanobis();
    names();
    return test_finish();
}
