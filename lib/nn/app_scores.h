/* Anomaly scores computed on the host from a model's outputs (aecl_model_scores'
 * AECL_SCORE_SSIM, AECL_SCORE_MAHALANOBIS, AECL_SCORE_COMBINED) and the fit of
 * the normal data they compare with. Not installed. */
#ifndef AECL_NN_APP_SCORES_H
#define AECL_NN_APP_SCORES_H

#include "aecl.h"

/* ---- app_ssim.c --------------------------------------------------------------- */

#define AECL_SSIM_WINDOW 7   /* gaussian taps (sigma 1.5); chosen on validation data, docs/quality.md */

/* The window used on h x w images: AECL_SSIM_WINDOW, or the largest odd size that fits. */
int aecl_ssim_window(int h, int w);
/* out[i] = 1 - the mean SSIM (Wang et al. 2004; K1 0.01, K2 0.03, range 1) of image
 * i of x and y (n images of c planes of h x w, planar), over the window positions
 * inside the image, averaged over the planes. Needs h, w >= 3. */
aecl_status aecl_ssim_error(aecl_ctx *ctx, const float *x, const float *y, size_t n, int c, int h, int w, float *out);

/* ---- app_normal.c: a Gaussian of normal codes ----------------------------------- */

#define AECL_NORMAL_SHRINK 0.1   /* covariance weight moved to its mean variance (validation) */

typedef struct aecl_normal_fit {
    size_t d, n;            /* code size; samples fitted on */
    double *mu;             /* d: the codes' mean */
    double *chol;           /* d x d: lower Cholesky factor of the shrunk covariance */
    double log_mean[2];     /* AECL_SCORE_COMBINED: mean and standard deviation on the */
    double log_sd[2];       /* fitted samples of log SSIM error [0] and log Mahalanobis [1] */
    int has_ssim;           /* log_*[0] hold (the model takes images) */
} aecl_normal_fit;

/* Fits mean and covariance to codes z[n * d] (n >= 2): the covariance shrunk
 * toward its mean variance, (1 - s) C + s tr(C)/d I, with s = shrink, so that few
 * or collinear codes still give a positive-definite matrix. Fails (INVALID_ARG)
 * when the codes do not vary at all. */
aecl_status aecl_normal_fit_codes(aecl_ctx *ctx, const float *z, size_t n, size_t d, double shrink, aecl_normal_fit *out);
/* out[i] = the squared Mahalanobis distance of code i to the fit. */
aecl_status aecl_normal_mahalanobis(aecl_ctx *ctx, const aecl_normal_fit *f, const float *z, size_t n, float *out);
void aecl_normal_fit_free(aecl_normal_fit *f);   /* NULL-safe; frees f itself */

/* ---- model_scores.c ------------------------------------------------------------ */

/* The model's slot for its fit (model.c), NULL until aecl_model_fit_normal. */
aecl_normal_fit **aecl_model_normal_slot(aecl_model *model);
/* aecl_model_scores for the kinds computed on the host (SSIM, MAHALANOBIS,
 * COMBINED); any other kind is INVALID_ARG. */
aecl_status aecl_model_host_scores(aecl_model *model, const float *x, size_t n, aecl_score_kind kind, float *scores);

#endif
