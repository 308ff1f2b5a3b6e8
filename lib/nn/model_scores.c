/* The anomaly scores aecl_model_scores computes on the host from the model's
 * outputs (SSIM error, latent Mahalanobis distance, their standardised sum) and
 * aecl_model_fit_normal, the fit of normal data the latent scores compare with. */
#include "nn/app.h"
#include "nn/app_scores.h"
#include "rt/error.h"

#include <math.h>
#include <stdlib.h>

#define LOG_FLOOR 1e-12   /* log of a score that is 0 (a perfect reconstruction) */

static aecl_status ssim_scores(aecl_model *m, const float *x, size_t n, float *out)
{
    int c, h, w;
    aecl_ctx *ctx = aecl_model_ctx(m);
    AECL_RETURN_IF(aecl_model_input_shape(m, &c, &h, &w) != 3 || h < 3 || w < 3, AECL_ERR_INVALID_ARG, ctx,
                   "the ssim score needs a model of images (input CxHxW, at least 3x3): this one takes %zu features",
                   aecl_model_input_size(m));
    float *y = malloc(n * aecl_model_input_size(m) * sizeof *y);
    AECL_RETURN_IF(!y, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    aecl_status st = aecl_model_reconstruct(m, x, n, y);
    if (st == AECL_OK) st = aecl_ssim_error(ctx, x, y, n, c, h, w, out);
    free(y);
    return st;
}

static aecl_status codes(aecl_model *m, const float *x, size_t n, float **z)
{
    *z = malloc(n * aecl_model_latent_size(m) * sizeof **z);
    AECL_RETURN_IF(!*z, AECL_ERR_HOST_MEMORY, aecl_model_ctx(m), "out of host memory");
    aecl_status st = aecl_model_encode(m, x, n, *z, 0);
    if (st != AECL_OK) { free(*z); *z = NULL; }
    return st;
}

static aecl_status mahalanobis_scores(aecl_model *m, const aecl_normal_fit *f, const float *x, size_t n, float *out)
{
    float *z;
    AECL_TRY(codes(m, x, n, &z));
    aecl_status st = aecl_normal_mahalanobis(aecl_model_ctx(m), f, z, n, out);
    free(z);
    return st;
}

/* Mean and standard deviation of log(v) (sd 1 when the values do not vary). */
static void log_stats(const float *v, size_t n, double *mean, double *sd)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) s += log(fmax(v[i], LOG_FLOOR));
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++) { double e = log(fmax(v[i], LOG_FLOOR)) - *mean; ss += e * e; }
    *sd = n > 1 && ss > 0 ? sqrt(ss / (double)(n - 1)) : 1.0;
}

static double standard(double v, double mean, double sd) { return (log(fmax(v, LOG_FLOOR)) - mean) / sd; }

/* AECL_SCORE_COMBINED: the two logs standardised on the normal data, summed. */
static aecl_status combined_scores(aecl_model *m, const aecl_normal_fit *f, const float *x, size_t n, float *out)
{
    AECL_RETURN_IF(!f->has_ssim, AECL_ERR_INVALID_ARG, aecl_model_ctx(m),
                   "the combined score needs a model of images (it adds the ssim score)");
    float *maha = malloc(n * sizeof *maha);
    AECL_RETURN_IF(!maha, AECL_ERR_HOST_MEMORY, aecl_model_ctx(m), "out of host memory");
    aecl_status st = ssim_scores(m, x, n, out);
    if (st == AECL_OK) st = mahalanobis_scores(m, f, x, n, maha);
    for (size_t i = 0; st == AECL_OK && i < n; i++)
        out[i] = (float)(standard(out[i], f->log_mean[0], f->log_sd[0]) + standard(maha[i], f->log_mean[1], f->log_sd[1]));
    free(maha);
    return st;
}

aecl_status aecl_model_host_scores(aecl_model *m, const float *x, size_t n, aecl_score_kind kind, float *scores)
{
    const aecl_normal_fit *f = *aecl_model_normal_slot(m);
    aecl_ctx *ctx = aecl_model_ctx(m);
    switch (kind) {
    case AECL_SCORE_SSIM: return ssim_scores(m, x, n, scores);
    case AECL_SCORE_MAHALANOBIS:
    case AECL_SCORE_COMBINED:
        AECL_RETURN_IF(!f, AECL_ERR_INVALID_ARG, ctx, "the %s score needs the normal data's fit first "
                       "(aecl_model_fit_normal)", aecl_score_name(kind));
        return kind == AECL_SCORE_MAHALANOBIS ? mahalanobis_scores(m, f, x, n, scores) : combined_scores(m, f, x, n, scores);
    default: break;
    }
    return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_model_scores: unknown score kind %d", (int)kind);
}

/* The fit's Gaussian and the log statistics of both scores on x itself. */
static aecl_status fit(aecl_model *m, const float *x, size_t n, aecl_normal_fit *f)
{
    aecl_ctx *ctx = aecl_model_ctx(m);
    float *z = NULL, *s = malloc(n * sizeof *s);
    AECL_RETURN_IF(!s, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    aecl_status st = codes(m, x, n, &z);
    if (st == AECL_OK) st = aecl_normal_fit_codes(ctx, z, n, aecl_model_latent_size(m), AECL_NORMAL_SHRINK, f);
    if (st == AECL_OK) st = aecl_normal_mahalanobis(ctx, f, z, n, s);
    if (st == AECL_OK) log_stats(s, n, &f->log_mean[1], &f->log_sd[1]);
    int c, h, w;
    f->has_ssim = st == AECL_OK && aecl_model_input_shape(m, &c, &h, &w) == 3 && h >= 3 && w >= 3;
    if (f->has_ssim) st = ssim_scores(m, x, n, s);
    if (f->has_ssim && st == AECL_OK) log_stats(s, n, &f->log_mean[0], &f->log_sd[0]);
    free(z);
    free(s);
    return st;
}

aecl_status aecl_model_fit_normal(aecl_model *m, const float *x, size_t n)
{
    AECL_RETURN_IF(!m, AECL_ERR_INVALID_ARG, NULL, "aecl_model_fit_normal: model is NULL");
    aecl_ctx *ctx = aecl_model_ctx(m);
    AECL_RETURN_IF(!x, AECL_ERR_INVALID_ARG, ctx, "aecl_model_fit_normal: NULL buffer");
    AECL_RETURN_IF(n < 2, AECL_ERR_INVALID_ARG, ctx, "aecl_model_fit_normal: needs at least 2 normal samples (got %zu)", n);
    aecl_normal_fit *f = calloc(1, sizeof *f);
    AECL_RETURN_IF(!f, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    aecl_status st = fit(m, x, n, f);
    if (st != AECL_OK) { aecl_normal_fit_free(f); return st; }
    aecl_normal_fit **slot = aecl_model_normal_slot(m);
    aecl_normal_fit_free(*slot);
    *slot = f;
    return AECL_OK;
}
