/* Data sets, training loop, weights files. */
#ifndef AECL_NN_TRAIN_H
#define AECL_NN_TRAIN_H

#include "nn/net.h"

/* Samples as float rows in [0, 1] (images scaled by 1/255), optional labels. */
typedef struct aecl_dataset {
    float *x;
    size_t n, features;
    int32_t *labels;          /* n labels or NULL */
} aecl_dataset;

/* Reads an IDX image file (gzip or plain) and, if labels_path is not NULL, its
 * labels; limit > 0 keeps the first `limit` samples. Checks the sample shape
 * against `expect` features when expect > 0. */
aecl_status aecl_dataset_load_idx(aecl_ctx *ctx, const char *images_path, const char *labels_path, size_t limit,
                                  size_t expect, aecl_dataset *out);
void aecl_dataset_free(aecl_dataset *d);

typedef struct aecl_train_progress {
    int epoch, epochs;
    long step, steps_per_epoch;
    double train_loss;        /* running mean of the losses read this epoch */
    double val_loss;          /* after an epoch; NaN until then */
    double samples_per_s;
    int epoch_done;           /* 1 at the end-of-epoch report */
} aecl_train_progress;

typedef void (*aecl_train_cb)(void *user, const aecl_train_progress *p);

typedef struct aecl_train_opts {
    int epochs, batch;
    double lr;                /* <= 0: the model file's */
    uint64_t seed;
    int report_every;         /* steps between loss reads (each is a host sync) */
    aecl_train_cb cb;
    void *user;
} aecl_train_opts;

/* Trains a freshly initialised network on `train`, evaluating on `val` (may be
 * NULL) after each epoch. Stops with AECL_ERR_NUMERIC if the loss turns NaN or
 * infinite. On success *weights (malloc'd, aecl_net_param_floats of an eval net)
 * holds the trained parameters. */
aecl_status aecl_train(aecl_ctx *ctx, const aecl_model_spec *spec, const aecl_dataset *train,
                       const aecl_dataset *val, const aecl_train_opts *opts, float **weights);

/* Per-sample reconstruction losses and the mean objective of a data set with the
 * given weights (any data set size: the last batch is padded and masked). */
typedef struct aecl_eval_result {
    double loss;              /* mean training objective (recon [+ beta KL]) */
    double mse;               /* mean squared error per feature of the reconstruction */
    double psnr;              /* 10 log10(1 / mse), data in [0, 1] */
} aecl_eval_result;
aecl_status aecl_evaluate(aecl_ctx *ctx, const aecl_model_spec *spec, const float *weights, const aecl_dataset *d,
                          int batch, float *recon_out /* n * features or NULL */, aecl_eval_result *out);

/* Weights files: safetensors with the spec text in the metadata ("aecl.model"). */
aecl_status aecl_weights_save(aecl_ctx *ctx, const char *path, const aecl_net *net, const float *weights);
/* Reads the spec from the metadata, then the tensors by name into net order
 * (checking every shape); *weights is malloc'd. */
aecl_status aecl_weights_load(aecl_ctx *ctx, const char *path, aecl_model_spec **spec, float **weights);

#endif
