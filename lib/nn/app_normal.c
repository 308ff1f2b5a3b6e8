/* A Gaussian fitted to the codes of normal data, for the latent-space anomaly
 * score: mean, shrunk covariance, its Cholesky factor, squared Mahalanobis
 * distances. Sizes are a model's code (tens of values): plain loops suffice. */
#include "nn/app_scores.h"
#include "rt/error.h"

#include <math.h>
#include <stdlib.h>

/* In-place lower Cholesky factor of the symmetric positive-definite a (d x d;
 * the upper triangle is zeroed). 0 when a is not positive definite. */
static int cholesky(double *a, size_t d)
{
    for (size_t j = 0; j < d; j++) {
        double s = a[j * d + j];
        for (size_t k = 0; k < j; k++) s -= a[j * d + k] * a[j * d + k];
        if (!(s > 0)) return 0;
        a[j * d + j] = sqrt(s);
        for (size_t i = j + 1; i < d; i++) {
            double t = a[i * d + j];
            for (size_t k = 0; k < j; k++) t -= a[i * d + k] * a[j * d + k];
            a[i * d + j] = t / a[j * d + j];
            a[j * d + i] = 0;
        }
    }
    return 1;
}

/* The covariance of z about mu, shrunk: (1 - s) C + s tr(C)/d I. */
static void shrunk_cov(const float *z, size_t n, size_t d, const double *mu, double s, double *c)
{
    for (size_t i = 0; i < d * d; i++) c[i] = 0;
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < d; i++) {
            double ei = z[r * d + i] - mu[i];
            for (size_t j = 0; j <= i; j++) c[i * d + j] += ei * (z[r * d + j] - mu[j]);
        }
    double tr = 0;
    for (size_t i = 0; i < d; i++) tr += c[i * d + i] / (double)(n - 1);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j <= i; j++) {
            double v = (1 - s) * c[i * d + j] / (double)(n - 1) + (i == j ? s * tr / (double)d : 0.0);
            c[i * d + j] = c[j * d + i] = v;
        }
}

aecl_status aecl_normal_fit_codes(aecl_ctx *ctx, const float *z, size_t n, size_t d, double shrink, aecl_normal_fit *out)
{
    AECL_RETURN_IF(n < 2 || d == 0, AECL_ERR_INVALID_ARG, ctx, "the latent fit needs at least 2 normal samples (got %zu)", n);
    out->d = d;
    out->n = n;
    out->mu = calloc(d, sizeof *out->mu);
    out->chol = malloc(d * d * sizeof *out->chol);
    if (!out->mu || !out->chol) {
        free(out->mu);
        free(out->chol);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < d; i++) out->mu[i] += z[r * d + i];
    for (size_t i = 0; i < d; i++) out->mu[i] /= (double)n;
    shrunk_cov(z, n, d, out->mu, shrink, out->chol);
    if (!cholesky(out->chol, d)) {
        free(out->mu);
        free(out->chol);
        out->mu = out->chol = NULL;
        return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "the %zu normal samples' codes do not vary: no Gaussian to measure "
                         "distances to", n);
    }
    return AECL_OK;
}

aecl_status aecl_normal_mahalanobis(aecl_ctx *ctx, const aecl_normal_fit *f, const float *z, size_t n, float *out)
{
    size_t d = f->d;
    double *y = malloc(d * sizeof *y);
    AECL_RETURN_IF(!y, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    for (size_t r = 0; r < n; r++) {
        /* Solve L y = z - mu: the squared distance is |y|^2. */
        double s = 0;
        for (size_t i = 0; i < d; i++) {
            double t = z[r * d + i] - f->mu[i];
            for (size_t k = 0; k < i; k++) t -= f->chol[i * d + k] * y[k];
            y[i] = t / f->chol[i * d + i];
            s += y[i] * y[i];
        }
        out[r] = (float)s;
    }
    free(y);
    return AECL_OK;
}

void aecl_normal_fit_free(aecl_normal_fit *f)
{
    if (!f) return;
    free(f->mu);
    free(f->chol);
    free(f);
}
