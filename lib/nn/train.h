/* Data sets and their scaling, the training loop with its schedules, early
 * stopping and checkpoints, evaluation, weights files (docs/training.md,
 * docs/weights.md). */
#ifndef AECL_NN_TRAIN_H
#define AECL_NN_TRAIN_H

#include "io/io.h"
#include "nn/net.h"

/* ---- data sets (data.c) ------------------------------------------------------- */

/* Samples as float rows (images scaled by 1/255 into [0, 1]), optional labels. */
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
/* Reads a CSV file of numeric rows (header auto-detected, opts may be NULL; a
 * label column as opts says, kept as labels when all its values are integers).
 * limit > 0 keeps the first `limit` rows; expect > 0 checks the column count. */
aecl_status aecl_dataset_load_csv(aecl_ctx *ctx, const char *path, const aecl_csv_opts *opts, size_t limit,
                                  size_t expect, aecl_dataset *out);
/* Reads a .npy array (any dtype aecl_npy_read takes, either order): shape[0]
 * samples of the product of the other dims each. limit and expect as above. */
aecl_status aecl_dataset_load_npy(aecl_ctx *ctx, const char *path, size_t limit, size_t expect, aecl_dataset *out);
/* Gives d's n samples their labels (replacing any) from an IDX labels file or a
 * .npy of integers (or of whole floats); the file needs at least n labels. */
aecl_status aecl_dataset_load_labels(aecl_ctx *ctx, const char *path, aecl_dataset *d);
/* Moves a seeded random `fraction` (0 < fraction < 1) of `all` into *val and the
 * rest, in their original order, into *train; *all is emptied. Both parts get at
 * least one sample. */
aecl_status aecl_dataset_split(aecl_ctx *ctx, aecl_dataset *all, double fraction, uint64_t seed,
                               aecl_dataset *train, aecl_dataset *val);
/* Keeps only the samples labelled `label` (the one-class setup: train on the
 * normal class only). The data set needs labels; none left is an error. */
aecl_status aecl_dataset_keep_label(aecl_ctx *ctx, aecl_dataset *d, int32_t label);
void aecl_dataset_free(aecl_dataset *d);

/* ---- scaling (data.c) --------------------------------------------------------
 * Per-feature x' = (x - offset) * scale, fitted on the training data and kept in
 * the weights file's metadata ("aecl.scaling") so later data gets the same. */
typedef enum aecl_scale_kind {
    AECL_SCALE_NONE = 0,
    AECL_SCALE_MINMAX,        /* to [0, 1]: offset min, scale 1 / (max - min) */
    AECL_SCALE_STANDARD       /* offset mean, scale 1 / std (population std) */
} aecl_scale_kind;

typedef struct aecl_scaling {
    aecl_scale_kind kind;
    size_t features;          /* 0 with AECL_SCALE_NONE */
    float *offset, *scale;    /* features each, NULL with AECL_SCALE_NONE */
} aecl_scaling;

/* "none", "minmax", "standard". */
const char *aecl_scale_name(aecl_scale_kind k);
/* Parses one of those names; AECL_ERR_INVALID_ARG naming the choices otherwise. */
aecl_status aecl_scale_parse(aecl_ctx *ctx, const char *name, aecl_scale_kind *out);
/* Statistics of n rows. A constant feature gets scale 1 (it maps to 0). */
aecl_status aecl_scaling_fit(aecl_ctx *ctx, aecl_scale_kind kind, const float *x, size_t n, size_t features,
                             aecl_scaling *out);
/* Scales n rows in place. AECL_ERR_SHAPE (message in the thread slot) when
 * `features` is not the scaling's; kind none does nothing. */
aecl_status aecl_scaling_apply(const aecl_scaling *s, float *x, size_t n, size_t features);
/* The metadata text: "none", or "minmax F o1,...,oF s1,...,sF" (%.9g, exact
 * float round trip). *text is malloc'd. */
aecl_status aecl_scaling_format(aecl_ctx *ctx, const aecl_scaling *s, char **text);
/* Parses that text; `where` names its source in messages. */
aecl_status aecl_scaling_parse(aecl_ctx *ctx, const char *text, const char *where, aecl_scaling *out);
/* The scaling in a safetensors file's metadata: none when the key is absent. */
aecl_status aecl_scaling_from_meta(aecl_ctx *ctx, const aecl_safetensors *st, const char *path, aecl_scaling *out);
void aecl_scaling_free(aecl_scaling *s);

/* ---- learning-rate schedules and the epoch monitor (train_sched in train.c) --- */
typedef enum aecl_sched_kind {
    AECL_SCHED_NONE = 0,
    AECL_SCHED_STEP,          /* lr = base * gamma^floor(epoch / every) */
    AECL_SCHED_COSINE,        /* lr = base * (1 + cos(pi * epoch / epochs)) / 2 */
    AECL_SCHED_PLATEAU        /* lr *= factor after `patience` epochs without improvement */
} aecl_sched_kind;

typedef struct aecl_schedule {
    aecl_sched_kind kind;
    int every;                /* step: epochs per decay; plateau: patience */
    double factor;            /* step: gamma; plateau: factor (both in (0, 1]) */
} aecl_schedule;

/* "none", "step:EVERY:GAMMA", "cosine", "plateau:PATIENCE:FACTOR". */
aecl_status aecl_schedule_parse(aecl_ctx *ctx, const char *text, aecl_schedule *out);
/* The rate of 0-based `epoch` of `epochs` for none/step/cosine (closed forms);
 * plateau returns base (its rate lives in the monitor). */
double aecl_schedule_lr(const aecl_schedule *s, double base, int epoch, int epochs);

/* What the loop tracks from epoch to epoch (checkpoints save it, all but
 * min_delta, an option). A loss improves when it is below best by more than
 * min_delta and by more than 0.01% of |best|. */
typedef struct aecl_train_monitor {
    double best;              /* best monitored loss so far (INFINITY at first) */
    int bad_epochs;           /* epochs since the best (early stopping) */
    int plateau_bad;          /* epochs since the best or the last reduction */
    double lr;                /* the plateau schedule's current rate */
    int best_epoch;           /* 1-based epoch of `best` (0: none yet) */
    double min_delta;         /* >= 0: the least improvement that counts (Keras' min_delta) */
} aecl_train_monitor;

aecl_train_monitor aecl_monitor_init(double base_lr);
/* Feeds 1-based `epoch`'s monitored loss: reduces m->lr under a plateau
 * schedule; returns 1 when early stopping (patience > 0) says to stop. */
int aecl_monitor_update(aecl_train_monitor *m, const aecl_schedule *s, int patience, int epoch, double loss);

/* ---- training (train.c) ------------------------------------------------------ */
typedef struct aecl_train_progress {
    int building;             /* 1 in the report made before the kernels are built (nothing
                                 else is set), and in one report after each kind of kernel
                                 first runs in the first step, where a driver may compile it
                                 (a first run takes seconds; the other fields as they stand) */
    int kernels_done, kernels_total; /* in those: kinds of kernel run so far, of the training
                                 step's (aecl_plan_watch_first_launches); 0 elsewhere */
    int epoch, epochs;        /* 1-based */
    long step, steps_per_epoch;
    int batch;
    double train_loss;        /* running mean of the losses read this epoch (the objective) */
    double train_recon;       /* its reconstruction term (MSE per value, or BCE per sample) */
    double train_kl;          /* a VAE's KL term (unweighted, per sample); NaN for other kinds */
    double val_loss;          /* after an epoch; NaN until then or without validation */
    size_t val_rows;          /* validation samples (0: none) */
    double val_seconds;       /* the last validation's wall time; NaN before the first */
    double samples_per_s;
    double lr;                /* this epoch's learning rate */
    double epoch_seconds;     /* at epoch end: the epoch's wall time, validation included */
    int epoch_done;           /* 1 at the end-of-epoch report */
    int improved;             /* at epoch end: the monitored loss improved */
    int stopping;             /* at epoch end: early stopping ends the run here */
    int checkpointed;         /* a checkpoint was written at this report */
    int best_written;         /* at epoch end: opts.checkpoint_best was written */
    const char *checkpoint_error; /* a checkpoint could not be written at this report
                                     (a full disk, a folder gone): why; training goes
                                     on and the result is still returned. NULL else */
} aecl_train_progress;

typedef void (*aecl_train_cb)(void *user, const aecl_train_progress *p);

/* How a run ended (aecl_train fills it when opts.summary is not NULL). */
typedef struct aecl_train_summary {
    int epochs_run;           /* epochs completed (resumed ones included) */
    int stopped_early;        /* early stopping ended the run */
    int validated;            /* the monitored loss was the validation loss */
    double best_loss;         /* the best monitored loss (val loss when validated) */
    int best_epoch;           /* its 1-based epoch */
    int weights_epoch;        /* the epoch whose weights were returned */
    double seconds;           /* wall time of the run, kernel builds included */
} aecl_train_summary;

typedef struct aecl_train_opts {
    int epochs, batch;
    double lr;                /* <= 0: the model file's */
    uint64_t seed;
    int report_every;         /* steps between loss reads (each is a host sync); <= 0: 10.
                                 The first step of each epoch is read as well. */
    aecl_schedule schedule;   /* zero: constant rate */
    int patience;             /* early stopping: epochs without improvement; 0 = off */
    double min_delta;         /* the least improvement of the monitored loss that counts (>= 0) */
    int keep_last;            /* 0 (default): with validation, return the best epoch's weights
                                 (Keras' restore_best_weights); 1: the last epoch's */
    const aecl_scaling *scaling; /* stored in checkpoints (may be NULL) */
    const char *checkpoint;   /* checkpoint file, or NULL */
    long checkpoint_every;    /* steps between checkpoints; 0 = at epoch ends: */
    int checkpoint_epochs;    /* epochs between those (<= 1: every epoch) */
    const char *checkpoint_best; /* with validation: a weights file rewritten whenever the
                                    validation loss improves (NULL: none) */
    const char *const *best_meta; /* n_best_meta metadata pairs for that file (may be NULL) */
    size_t n_best_meta;
    const char *resume;       /* continue from this checkpoint, or NULL */
    const float *init;        /* start from these parameters (aecl_weights_load_init's, layout
                                 order) with a fresh optimizer state instead of the seed's
                                 initial weights, or NULL; excludes resume */
    aecl_train_summary *summary; /* filled on success when not NULL */
    aecl_train_cb cb;
    void *user;
    const volatile int *cancel; /* checked before each step: nonzero stops the run with
                                   AECL_ERR_CANCELED (the callback may set it); may be NULL */
    const aecl_comm *comm;    /* NULL: one process. Else data-parallel training of one model
                                 over comm->size ranks: every rank calls aecl_train with the
                                 same spec, data sets (train and val, identical on every rank),
                                 and opts (batch is the GLOBAL batch, divisible by comm->size,
                                 else AECL_ERR_INVALID_ARG); rank r trains on rows
                                 r*b .. r*b+b-1 of each global batch (b = batch / size) and
                                 the gradients are summed over ranks before clipping and the
                                 optimizer, so the result equals a one-process run with the
                                 same batch up to float rounding. Rank 0's weights (seed, init
                                 or resume) and optimizer state are broadcast at the start;
                                 only rank 0 reads opts->resume and writes checkpoint and
                                 checkpoint_best files (a failed write fails every rank with
                                 the same status); rank 0 alone validates and shares the
                                 loss, so early stopping, plateau and best weights agree.
                                 Losses reported are global; every rank gets the same
                                 callbacks (print on rank 0) and returns the same weights.
                                 A failure on one rank (a step, a read, opts->cancel) fails
                                 every rank with an error naming it. The collectives are
                                 called one at a time, some from a communication thread of
                                 the library's (MPI: MPI_THREAD_SERIALIZED at least); a
                                 failing one must fail on every rank, not leave them waiting. */
} aecl_train_opts;

/* Trains a network on `train`, validating on `val` (may be NULL) after each epoch;
 * the monitored loss (early stopping, plateau, best weights) is the validation
 * loss, else the epoch's training loss. Validation computes the training
 * objective with the model's training noise on the input (a denoising model:
 * its clean target from a noisy input; AECL_NET_VALIDATE), without dropout. Starts from the seed's initial weights,
 * from opts->init, or from opts->resume (same model, batch and seed, else AECL_ERR_INVALID_ARG): a resumed
 * run ends with the weights the uninterrupted run would have. Stops with
 * AECL_ERR_NUMERIC when the loss turns NaN or infinite; the checkpoint file then
 * still holds the last good state (checkpoints are only written from finite
 * weights and loss). On success *weights (malloc'd, aecl_net_param_floats of an
 * eval net) holds the best epoch's parameters (with validation, unless
 * opts->keep_last), else the last epoch's. */
aecl_status aecl_train(aecl_ctx *ctx, const aecl_model_spec *spec, const aecl_dataset *train,
                       const aecl_dataset *val, const aecl_train_opts *opts, float **weights);

/* evaluate.c: per-sample reconstruction losses and the mean objective of a data set with the
 * given weights (any data set size: the last batch is padded and masked). */
typedef struct aecl_eval_result {
    double loss;              /* mean training objective (recon [+ beta KL]) */
    double mse;               /* mean squared error per feature of the reconstruction */
    double psnr;              /* 10 log10(1 / mse), data in [0, 1] */
} aecl_eval_result;
aecl_status aecl_evaluate(aecl_ctx *ctx, const aecl_model_spec *spec, const float *weights, const aecl_dataset *d,
                          int batch, float *recon_out /* n * features or NULL */, aecl_eval_result *out);
/* The same in steps, for evaluating one net again and again: the EVAL net
 * aecl_evaluate builds (beta set from the spec), then an evaluation with the
 * parameters the net holds. Each evaluation restarts the random streams (a VAE's
 * z), so it gives the numbers of a fresh net. */
aecl_status aecl_eval_net_build(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net **out);
/* The same for another mode: AECL_NET_VALIDATE (training's validation), INFER. */
aecl_status aecl_eval_net_build_mode(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net_mode mode,
                                     aecl_net **out);
aecl_status aecl_evaluate_net(aecl_net *net, const aecl_dataset *d, float *recon_out, aecl_eval_result *out);
/* Only the mean objective (result.loss, bit for bit): reads back the per-sample
 * losses alone, not the reconstruction (what validation needs). */
aecl_status aecl_evaluate_net_loss(aecl_net *net, const aecl_dataset *d, double *loss);

/* Per-sample MSE anomaly scores (the net's mse_rows: aecl_model_scores'
 * AECL_SCORE_MSE definition) of a data set in the model's space with the given
 * weights; scores[d->n]. */
aecl_status aecl_mse_scores(aecl_ctx *ctx, const aecl_model_spec *spec, const float *weights, const aecl_dataset *d,
                            int batch, float *scores);

/* ---- checkpoints (checkpoint.c) ------------------------------------------------
 * safetensors with every parameter and optimizer-state tensor under its graph
 * name and the loop's position in the metadata (docs/training.md). */
typedef struct aecl_checkpoint_info {
    int epoch;                /* completed epochs */
    long step;                /* steps done within epoch `epoch` (0 at an epoch boundary) */
    uint64_t plan_step;       /* the plan's step counter (Adam, random streams) */
    uint64_t seed;
    int batch;
    double lr;                /* the rate in use */
    double loss_sum;          /* the running training loss of the current epoch */
    int loss_reads;
    double recon_sum, kl_sum; /* the running loss terms (as loss_sum) */
    aecl_train_monitor monitor;
    float *best;              /* the parameters of epoch monitor.best_epoch (the best weights
                                 kept so far), or NULL: saved under "best.<name>"; a load
                                 that finds them mallocs this (the caller frees it) */
} aecl_checkpoint_info;

/* Writes net's parameters and state with `info`, the model text and the
 * scaling (may be NULL), atomically. */
aecl_status aecl_checkpoint_save(aecl_net *net, const char *path, const aecl_checkpoint_info *info,
                                 const aecl_scaling *scaling);
/* Reads a checkpoint into a training net of the same model (the spec text must
 * match: AECL_ERR_INVALID_ARG otherwise) and sets its step counter. */
aecl_status aecl_checkpoint_load(aecl_net *net, const char *path, aecl_checkpoint_info *info);

/* ---- weights files (weights.c) ----------------------------------------------
 * safetensors with the spec text ("aecl.model"), the scaling ("aecl.scaling"),
 * a denoising model's training noise ("aecl.noise", as `aecl denoise --noise`
 * writes it) and the version in the metadata, plus any other pairs the caller
 * adds (the training summary "aecl.train.*", the anomaly threshold
 * "aecl.anomaly.*"; docs/weights.md). aecl_weights_load also reads checkpoints
 * (their parameters). */
aecl_status aecl_weights_save(aecl_ctx *ctx, const char *path, const aecl_net *net, const float *weights);
aecl_status aecl_weights_save_scaled(aecl_ctx *ctx, const char *path, const aecl_net *net, const float *weights,
                                     const aecl_scaling *scaling);
/* The same with n_extra more metadata pairs (extra[2i] key, extra[2i+1] value). */
aecl_status aecl_weights_save_meta(aecl_ctx *ctx, const char *path, const aecl_net *net, const float *weights,
                                   const aecl_scaling *scaling, const char *const *extra, size_t n_extra);
/* Rewrites the weights file `path` (atomically) with the same tensors and
 * metadata, the n pairs set (added or replaced). */
aecl_status aecl_weights_set_meta(aecl_ctx *ctx, const char *path, const char *const *pairs, size_t n);
/* Reads the spec from the metadata, then the tensors by name into net order
 * (checking every shape); *weights is malloc'd. */
aecl_status aecl_weights_load(aecl_ctx *ctx, const char *path, aecl_model_spec **spec, float **weights);
/* The same plus the scaling (kind none when the file has none). */
aecl_status aecl_weights_load_scaled(aecl_ctx *ctx, const char *path, aecl_model_spec **spec, float **weights,
                                     aecl_scaling *scaling);

/* Weights to start a training run from (aecl train --init): a weights file of
 * aecl, a checkpoint (its parameters), or a safetensors file written by another
 * tool with aecl's tensor names (docs/weights.md) and no metadata. With *spec
 * NULL the file's model text (aecl.model) is parsed into *spec (a file without
 * one is AECL_ERR_INVALID_ARG); else a model text in the file must describe the
 * same network as *spec (AECL_ERR_INVALID_ARG naming the first difference: the
 * [train] settings, dropout and a non-variational kind may differ). Every
 * tensor of the model must be there with its exact shape and finite values, and
 * no other (a checkpoint's optimizer state excepted): AECL_ERR_FORMAT or
 * AECL_ERR_NUMERIC naming the tensor. *weights (malloc'd) is in layout order,
 * as aecl_train_opts.init takes it; *scaling is the file's (kind none when it
 * has none); *has_text (may be NULL) says whether the file had a model text. */
aecl_status aecl_weights_load_init(aecl_ctx *ctx, const char *path, aecl_model_spec **spec, float **weights,
                                   aecl_scaling *scaling, int *has_text);

/* A file's metadata pairs (copies). */
typedef struct aecl_meta {
    size_t n;
    char **keys, **values;
} aecl_meta;
/* The same as aecl_weights_load_scaled, plus every metadata pair in *meta (may be NULL). */
aecl_status aecl_weights_load_meta(aecl_ctx *ctx, const char *path, aecl_model_spec **spec, float **weights,
                                   aecl_scaling *scaling, aecl_meta *meta);
/* The value of key, or NULL. */
const char *aecl_meta_get(const aecl_meta *m, const char *key);
void aecl_meta_free(aecl_meta *m);
/* "gaussian:0.5" for a model trained with input noise (a denoising model), else
 * "" (cap >= 48). The text `aecl denoise --noise` takes. */
void aecl_spec_noise_text(const aecl_model_spec *spec, char *buf, size_t cap);

#endif
