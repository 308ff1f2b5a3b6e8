/* Internal helpers of the applications (apps/aecl and lib/nn/model.c): the model
 * API's internals, anomaly metrics, host-side noise, PCA and the file of
 * quantized latent codes. Not installed; the public calls are in aecl.h. */
#ifndef AECL_NN_APP_H
#define AECL_NN_APP_H

#include "aecl.h"
#include "nn/spec.h"

/* ---- model.c ------------------------------------------------------------------ */

const aecl_model_spec *aecl_model_spec_of(const aecl_model *model);
aecl_ctx *aecl_model_ctx(const aecl_model *model);
/* The weights file's metadata value of key ("aecl.noise", "aecl.anomaly.threshold",
 * "aecl.train.*"; docs/weights.md), or NULL. */
const char *aecl_model_meta(const aecl_model *model, const char *key);
/* A model of the given parts (taken over: freed with the model, also on failure;
 * *scaling and *meta are emptied): a trained result without a file round trip. */
struct aecl_scaling;
struct aecl_meta;
aecl_status aecl_model_adopt(aecl_ctx *ctx, aecl_model_spec *spec, float *weights, struct aecl_scaling *scaling,
                             struct aecl_meta *meta, aecl_model **out);
/* The model's weights (layout order), scaling and metadata, in place. */
void aecl_model_parts(aecl_model *model, float **weights, struct aecl_scaling **scaling, struct aecl_meta **meta);

/* One inference pass over x[n * input_size] filling any of (NULL = not wanted):
 * recon[n * input_size], mse[n], loss[n] (AECL_SCORE_LOSS), elbo[n] (a VAE only,
 * else AECL_ERR_INVALID_ARG). The public calls are built on this. */
aecl_status aecl_model_forward(aecl_model *model, const float *x, size_t n, float *recon, float *mse, float *loss,
                               float *elbo);
/* The same; sample_z != 0 runs a VAE as aecl_evaluate does, decoding one draw of
 * z per sample (the ELBO's usual estimate): the draws depend on the batch layout
 * (batch size and position), and equal aecl_evaluate's at the same batch size. */
aecl_status aecl_model_forward_ex(aecl_model *model, const float *x, size_t n, int sample_z, float *recon, float *mse,
                                  float *loss, float *elbo);

/* ---- app_metrics.c -------------------------------------------------------------- */

/* The q-quantile (q in [0, 1]) of n values, linear between order statistics
 * (NumPy's default): sorts a copy. NaN when n is 0 or memory runs out. */
double aecl_quantile(const float *v, size_t n, double q);

/* PSNR of a mean squared error for data in [0, 1]: 10 log10(1 / mse); +inf at 0. */
double aecl_psnr(double mse);

/* ---- app_noise.c ---------------------------------------------------------------- */

typedef enum aecl_app_noise_kind { AECL_APP_NOISE_GAUSSIAN = 0, AECL_APP_NOISE_MASK, AECL_APP_NOISE_SALTPEPPER } aecl_app_noise_kind;

typedef struct aecl_app_noise {
    aecl_app_noise_kind kind;
    float level;             /* sigma, or the probability of mask / salt-and-pepper */
} aecl_app_noise;

/* Parses "gaussian:0.5", "mask:0.3", "saltpepper:0.1" (AECL_ERR_INVALID_ARG,
 * message in the thread slot, for anything else). */
aecl_status aecl_app_noise_parse(const char *text, aecl_app_noise *out);
/* Corrupts x[n * features] in place and clips it to [0, 1]. Sample i's noise
 * depends on (seed, i) only: the same seed gives the same noisy data. */
void aecl_app_noise_apply(const aecl_app_noise *noise, float *x, size_t n, size_t features, uint64_t seed);

/* ---- app_pca.c ------------------------------------------------------------------ */

/* xy[n * 2] = the projections of the centred rows z[n * d] on their first two
 * principal components (d >= 2; d == 2 copies the rows). Each axis' sign is
 * fixed so that its largest-magnitude loading is positive (reproducible). */
aecl_status aecl_pca2(aecl_ctx *ctx, const float *z, size_t n, size_t d, float *xy);

/* ---- app_codes.c: files of quantized latent codes (docs/applications.md) -------- */

#define AECL_CODES_MAGIC "AECLCODE"
#define AECL_CODES_VERSION 2u   /* written; version 1 files are still read */

typedef struct aecl_codes {
    unsigned version;        /* of the file read: 1 (raw codes) or 2 (zstd) */
    unsigned bits;           /* per value: 1..16 (version 1: 8 or 16) */
    uint64_t model_hash;     /* aecl_model_hash of the model that wrote them */
    size_t n, latent;
    int c, h, w;             /* the model's input shape (for the reader's checks) */
    float *lo, *hi;          /* latent values each: the range of dimension k */
    float *z;                /* n * latent dequantized codes */
} aecl_codes;

/* Quantizes z[n * latent] to `bits` (1..16) with per-dimension ranges and
 * makes the file's bytes (*file, malloc'd, *bytes long; zstd-coded codes). zq
 * (n * latent, may be NULL) gets the values the reader will restore. */
aecl_status aecl_codes_encode(aecl_ctx *ctx, const float *z, size_t n, size_t latent, unsigned bits,
                              uint64_t model_hash, int c, int h, int w, float *zq, unsigned char **file, size_t *bytes);
/* aecl_codes_encode, written atomically to path; *bytes (may be NULL) gets the file size. */
aecl_status aecl_codes_write(aecl_ctx *ctx, const char *path, const float *z, size_t n, size_t latent, unsigned bits,
                             uint64_t model_hash, int c, int h, int w, float *zq, size_t *bytes);
/* Reads and checks a file (magic, version, sizes, CRC-32): AECL_ERR_FORMAT names
 * what is wrong. Free with aecl_codes_free. */
aecl_status aecl_codes_read(aecl_ctx *ctx, const char *path, aecl_codes *out);
void aecl_codes_free(aecl_codes *c);

#endif
