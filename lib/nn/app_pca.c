/* The first two principal components of latent codes, on the host (for
 * `aecl scatter`): covariance, then cyclic Jacobi rotations. */
#include "nn/app.h"
#include "rt/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Eigen-decomposition of the symmetric d x d matrix a (destroyed; its diagonal
 * ends as the eigenvalues); v gets the eigenvectors as columns. */
static void jacobi(double *a, double *v, size_t d)
{
    for (size_t i = 0; i < d * d; i++) v[i] = 0;
    for (size_t i = 0; i < d; i++) v[i * d + i] = 1;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0, diag = 0;
        for (size_t p = 0; p < d; p++)
            for (size_t q = 0; q < d; q++) *(p == q ? &diag : &off) += a[p * d + q] * a[p * d + q];
        if (off <= 1e-22 * (diag + 1e-300)) return;
        for (size_t p = 0; p + 1 < d; p++)
            for (size_t q = p + 1; q < d; q++) {
                double apq = a[p * d + q];
                if (fabs(apq) < 1e-300) continue;
                double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < d; k++) {   /* columns p, q */
                    double akp = a[k * d + p], akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < d; k++) {   /* rows p, q */
                    double apk = a[p * d + k], aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for (size_t k = 0; k < d; k++) {
                    double vkp = v[k * d + p], vkq = v[k * d + q];
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
    }
}

aecl_status aecl_pca2(aecl_ctx *ctx, const float *z, size_t n, size_t d, float *xy)
{
    AECL_RETURN_IF(d < 2 || n == 0, AECL_ERR_INVALID_ARG, ctx, "PCA needs at least 2 dimensions and 1 point (got %zu, %zu)",
                   d, n);
    if (d == 2) { memcpy(xy, z, n * 2 * sizeof *xy); return AECL_OK; }
    AECL_RETURN_IF(d > 4096, AECL_ERR_UNSUPPORTED, ctx, "PCA of %zu dimensions: at most 4096", d);
    double *mean = calloc(d, sizeof *mean), *cov = calloc(d * d, sizeof *cov), *vec = malloc(d * d * sizeof *vec);
    if (!mean || !cov || !vec) { free(mean); free(cov); free(vec); return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory"); }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++) mean[k] += z[i * d + k] / (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < d; p++)
            for (size_t q = p; q < d; q++) cov[p * d + q] += (z[i * d + p] - mean[p]) * (z[i * d + q] - mean[q]);
    for (size_t p = 0; p < d; p++)
        for (size_t q = 0; q < p; q++) cov[p * d + q] = cov[q * d + p];
    jacobi(cov, vec, d);
    size_t best[2] = {0, 1};
    if (cov[1 * d + 1] > cov[0]) { best[0] = 1; best[1] = 0; }
    for (size_t k = 2; k < d; k++) {
        double e = cov[k * d + k];
        if (e > cov[best[0] * d + best[0]]) { best[1] = best[0]; best[0] = k; }
        else if (e > cov[best[1] * d + best[1]]) best[1] = k;
    }
    for (int a = 0; a < 2; a++) {
        size_t col = best[a], arg = 0;
        for (size_t k = 1; k < d; k++)
            if (fabs(vec[k * d + col]) > fabs(vec[arg * d + col])) arg = k;
        double sign = vec[arg * d + col] < 0 ? -1.0 : 1.0;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t k = 0; k < d; k++) s += (z[i * d + k] - mean[k]) * vec[k * d + col];
            xy[i * 2 + a] = (float)(sign * s);
        }
    }
    free(mean); free(cov); free(vec);
    return AECL_OK;
}
