/* aecl: autoencoders on any OpenCL device.
 *
 * The public header (aecl_cl.h adds the calls that take or give OpenCL objects).
 * Every name is prefixed aecl_/AECL_. Handles are opaque,
 * created by aecl_x_create(..., &out) and freed by aecl_x_free(x) (NULL-safe).
 *
 * Errors: every call that can fail because of input, files, the driver or memory
 * returns an aecl_status. The detail (which call, the OpenCL error name, the build
 * log, file:line of bad input) is kept in the context and read with
 * aecl_ctx_last_error(ctx). Calls that have no context yet (device listing, context
 * creation) keep their message per thread: read it with aecl_ctx_last_error(NULL).
 * The library never prints (unless a log callback is set) and never exits.
 *
 * Thread-safety: an aecl_ctx and everything created from it belong to one thread
 * at a time. Different contexts may be used from different threads concurrently.
 */
#ifndef AECL_H
#define AECL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What libaecl exports: exactly the functions declared in aecl.h and aecl_cl.h
 * (the library is built with hidden visibility; tests/cli_public_surface.sh
 * compares the two lists). */
#if defined(__GNUC__) && __GNUC__ >= 4
#define AECL_API __attribute__((visibility("default")))
#else
#define AECL_API
#endif

#define AECL_VERSION_MAJOR 0
#define AECL_VERSION_MINOR 1
#define AECL_VERSION_PATCH 0
#define AECL_VERSION_NUMBER (AECL_VERSION_MAJOR * 10000 + AECL_VERSION_MINOR * 100 + AECL_VERSION_PATCH)
#define AECL_VERSION_STRING "0.1.0"

/* Run-time version: AECL_VERSION_NUMBER of the library actually linked. */
AECL_API unsigned aecl_version_number(void);
AECL_API const char *aecl_version_string(void);

typedef enum aecl_status {
    /* The values are pinned: a status keeps its number in every release (language
     * bindings and logs store them); new ones only ever take new numbers. */
    AECL_OK = 0,
    AECL_ERR_INVALID_ARG = 1,   /* a bad argument from the caller */
    AECL_ERR_NO_DEVICE = 2,     /* no platform/device, or a selector matched none */
    AECL_ERR_OPENCL = 3,        /* an OpenCL call failed (message names it) */
    AECL_ERR_BUILD = 4,         /* a kernel program failed to build (message has the log) */
    AECL_ERR_HOST_MEMORY = 5,   /* malloc failed or a size overflowed */
    AECL_ERR_DEVICE_MEMORY = 6, /* the device cannot hold the allocation */
    AECL_ERR_IO = 7,            /* a file could not be opened, read or written */
    AECL_ERR_FORMAT = 8,        /* a file or text is malformed (message has file:line) */
    AECL_ERR_SHAPE = 9,         /* tensor shapes do not fit together */
    AECL_ERR_UNSUPPORTED = 10,  /* aecl, this build or the device lacks a needed feature
                                   (a file format feature, a kernel need) */
    AECL_ERR_NUMERIC = 11,      /* a NaN or infinity appeared (e.g. the loss) */
    AECL_ERR_STATE = 12,        /* a call made in the wrong order */
    AECL_ERR_CANCELED = 13      /* the caller stopped the call (a training progress
                                   callback returned nonzero) */
} aecl_status;

/* Static text for a status code; never NULL. */
AECL_API const char *aecl_status_str(aecl_status s);

typedef struct aecl_ctx aecl_ctx;

/* ---- devices -------------------------------------------------------------- */

typedef enum aecl_device_type {
    AECL_DEVICE_CPU = 1, AECL_DEVICE_GPU = 2, AECL_DEVICE_ACCELERATOR = 4, AECL_DEVICE_OTHER = 8
} aecl_device_type;

typedef struct aecl_device_info {
    unsigned platform_index, device_index;
    char platform_name[128];
    char name[128];
    char vendor[128];
    char driver_version[64];
    char opencl_c_version[64];
    aecl_device_type type;
    unsigned compute_units;
    uint64_t global_mem_bytes, local_mem_bytes, max_alloc_bytes;
    size_t max_work_group_size;
    int is_default;             /* 1 for the device chosen when no selector is given */
    int is_simulator;           /* a known simulator (Oclgrind): correct but slow, no default */
    int failed_selftest;        /* `aecl selftest` last failed on it (recorded in the cache folder): no default */
    char chosen_because[96];    /* aecl_ctx_device only: why aecl_ctx_create chose it, e.g.
                                   "AECL_DEVICE=1:0" or "default: first GPU" */
    unsigned char reserved[256]; /* zero; new fields take this room, so the size of the
                                    struct (and arrays of it) stays within a soname */
} aecl_device_info;

/* Lists every device of every platform into a malloc'd array (free with free()).
 * On a machine with no OpenCL platform, returns AECL_ERR_NO_DEVICE. */
AECL_API aecl_status aecl_devices_list(aecl_device_info **out, size_t *count);

/* ---- contexts ------------------------------------------------------------- */

typedef void (*aecl_log_fn)(void *user, int level, const char *message);
enum { AECL_LOG_ERROR = 0, AECL_LOG_WARN = 1, AECL_LOG_INFO = 2, AECL_LOG_DEBUG = 3 };

/* Creates a context on a device chosen by `selector`:
 *   "P:D"      platform P, device D (indices as printed by aecl_devices_list);
 *   "N"        the N-th device counting over all platforms;
 *   any other text: the first device whose name, vendor or platform name contains
 *              it (case-insensitive);
 *   NULL or "": $AECL_DEVICE if set, else the first GPU, else the first CPU,
 *              skipping simulators and devices that failed `aecl selftest`
 *              (used only when nothing else is there).
 * A selector that matches nothing fails with AECL_ERR_NO_DEVICE and a message that
 * lists the devices that exist. On failure *out is NULL; read the message with
 * aecl_ctx_last_error(NULL). */
AECL_API aecl_status aecl_ctx_create(const char *selector, aecl_ctx **out);

/* Waits for the context's queue, then frees its programs and memory and releases
 * aecl's references to its OpenCL objects. Free the context's buffers and models
 * first. NULL-safe. */
AECL_API void aecl_ctx_free(aecl_ctx *ctx);

/* The last error message of this context (or of this thread when ctx is NULL).
 * Empty string if none. Valid until the next failing call on the same context. */
AECL_API const char *aecl_ctx_last_error(const aecl_ctx *ctx);

/* Messages the library would log (program builds, cache misses) go to fn. */
AECL_API void aecl_ctx_set_log(aecl_ctx *ctx, aecl_log_fn fn, void *user, int max_level);

/* Info of the device in use. */
AECL_API const aecl_device_info *aecl_ctx_device(const aecl_ctx *ctx);

/* Waits until all work queued by aecl on this context is done. */
AECL_API aecl_status aecl_ctx_finish(aecl_ctx *ctx);

/* ---- kernel programs ------------------------------------------------------ */

typedef struct aecl_program_stats {
    unsigned builds_from_source;   /* compiled by the OpenCL compiler */
    unsigned loads_from_disk;      /* created from a cached binary */
    unsigned memory_hits;          /* served from this context's table */
    unsigned cache_rejects;        /* disk entries found bad and rebuilt */
    unsigned variants_shared;      /* option sets of a kernel file served from a program
                                      shared with its other option sets */
    unsigned reserved[11];         /* zero; room for new counters within a soname */
} aecl_program_stats;
AECL_API void aecl_ctx_program_stats(const aecl_ctx *ctx, aecl_program_stats *out);

/* Builds every kernel file with its default options: a self-test that the device
 * can compile aecl's kernels. */
AECL_API aecl_status aecl_build_all_kernels(aecl_ctx *ctx, unsigned *n_programs);

/* Runs a small kernel and checks its result against the host. */
AECL_API aecl_status aecl_selftest(aecl_ctx *ctx);

/* ---- buffers -------------------------------------------------------------- */

typedef struct aecl_buffer aecl_buffer;

/* A device buffer of `count` elements of `elem_size` bytes (the product is
 * overflow-checked). Fails with AECL_ERR_DEVICE_MEMORY when the device cannot hold it. */
AECL_API aecl_status aecl_buffer_create(aecl_ctx *ctx, size_t count, size_t elem_size, aecl_buffer **out);
/* Releases the buffer; NULL-safe. */
AECL_API void aecl_buffer_free(aecl_buffer *buf);
/* Its size in bytes (its cl_mem: aecl_buffer_cl in aecl_cl.h). */
AECL_API size_t aecl_buffer_bytes(const aecl_buffer *buf);
/* Blocking copies of `bytes` bytes at byte `offset`. */
AECL_API aecl_status aecl_buffer_upload(aecl_buffer *buf, size_t offset, const void *src, size_t bytes);
AECL_API aecl_status aecl_buffer_download(aecl_buffer *buf, size_t offset, void *dst, size_t bytes);

/* ---- data-parallel training: the communicator an application brings --------
 * aecl itself links no message-passing library. To train one model on several
 * devices (one process or thread per device, each with its own context), every
 * participant passes the same kind of communicator to training; the `aecl`
 * program implements one with MPI (docs/scaling.md), a test with threads.
 * Collectives are called in the same order on every rank. A callback returns
 * AECL_OK, or another status when the collective failed (then training stops on
 * that rank with that status and a message naming the call). */
typedef struct aecl_comm {
    int rank;                   /* this participant, 0 .. size - 1 (rank 0 writes files) */
    int size;                   /* participants, >= 1 */
    /* In place: data[i] = the sum over ranks of data[i], on every rank. */
    aecl_status (*allreduce_f32)(void *user, float *data, size_t n);
    aecl_status (*allreduce_f64)(void *user, double *data, size_t n);
    /* In place: every rank's data[0 .. bytes) = rank root's. */
    aecl_status (*broadcast)(void *user, void *data, size_t bytes, int root);
    void *user;
    void *reserved[4];          /* NULL; room for new collectives within a soname */
} aecl_comm;

/* ---- data sets ---------------------------------------------------------------
 * Samples as float rows of `features` values (IDX images scaled by 1/255 into
 * [0, 1]; CSV and .npy values as they are), with optional integer labels. A data
 * set belongs to its context's thread. */
typedef struct aecl_data aecl_data;

typedef struct aecl_data_opts {
    size_t limit;               /* > 0: keep the first `limit` samples (before any class selection) */
    size_t features;            /* > 0: each sample must hold this many values (AECL_ERR_SHAPE else) */
    const char *labels;         /* IDX image or .npy data: their labels, an IDX labels file or a
                                   .npy of integers (or whole floats), one per sample; or NULL */
    const char *label_column;   /* CSV: the label column by header name or 0-based index ("-1":
                                   the last), left out of the features; or NULL: none */
    int test_set;               /* a folder: its t10k files instead of its train files */
    unsigned char reserved[60]; /* zero; new options take this room within a soname */
} aecl_data_opts;

/* Reads samples from `path`: a folder holding train-images-idx3-ubyte[.gz] (and
 * its labels file when there is one; opts->test_set: the t10k files), an IDX image
 * file, a CSV file (*.csv, *.csv.gz; header detected) or a .npy array (float32/64,
 * uint8, int32/64, either order; shape[0] samples of the other dims' product).
 * opts may be NULL. A file's format problem is AECL_ERR_FORMAT naming the file. */
AECL_API aecl_status aecl_data_load(aecl_ctx *ctx, const char *path, const aecl_data_opts *opts, aecl_data **out);
/* A copy of n rows of `features` floats (C order), with n labels or labels NULL. */
AECL_API aecl_status aecl_data_from_array(aecl_ctx *ctx, const float *x, size_t n, size_t features,
                                          const int32_t *labels, aecl_data **out);
AECL_API void aecl_data_free(aecl_data *d);
AECL_API size_t aecl_data_count(const aecl_data *d);
AECL_API size_t aecl_data_features(const aecl_data *d);
/* The rows (count * features floats) and labels (count, or NULL: none); valid
 * until the data set changes or is freed. */
AECL_API const float *aecl_data_rows(const aecl_data *d);
AECL_API const int32_t *aecl_data_labels(const aecl_data *d);
/* Keeps the samples labelled `label` only (the one-class setup of anomaly
 * detection): AECL_ERR_INVALID_ARG without labels or when none has it. */
AECL_API aecl_status aecl_data_keep_class(aecl_data *d, int32_t label);
/* Keeps the first n samples (n >= 1; more than there are keeps all). */
AECL_API aecl_status aecl_data_keep_first(aecl_data *d, size_t n);
/* Moves a seeded random `fraction` (0 < fraction < 1) of d's samples into a new
 * data set *val; d keeps the rest in their order. Both keep at least one. */
AECL_API aecl_status aecl_data_split(aecl_data *d, double fraction, uint64_t seed, aecl_data **val);

/* ---- model texts -------------------------------------------------------------
 * A model file's text (docs/model-format.md), parsed and checked. */
typedef struct aecl_model_spec aecl_model_spec;

/* `name` labels messages (file:line); may be NULL. */
AECL_API aecl_status aecl_model_spec_parse(aecl_ctx *ctx, const char *text, const char *name, aecl_model_spec **out);
/* `path`: a model file, or a weights file or checkpoint with the model text inside. */
AECL_API aecl_status aecl_model_spec_load(aecl_ctx *ctx, const char *path, aecl_model_spec **out);
AECL_API void aecl_model_spec_free(aecl_model_spec *spec);
/* The canonical text (what a weights file stores), malloc'd: free with free(). */
AECL_API char *aecl_model_spec_text(const aecl_model_spec *spec);
AECL_API size_t aecl_model_spec_input_size(const aecl_model_spec *spec);
/* The [train] section's settings (any pointer may be NULL). */
AECL_API void aecl_model_spec_train_defaults(const aecl_model_spec *spec, int *epochs, int *batch, double *lr,
                                             uint64_t *seed);

/* ---- training ----------------------------------------------------------------
 * aecl_training_create checks the options, reads an init or resume file and
 * prepares the data (a scaling is fitted on the training rows and applied to
 * scaled copies: the caller's data sets are never changed); aecl_training_run
 * trains; then the result is saved as a weights file or handed over as a model.
 * The data sets passed must outlive the training handle. docs/api.md. */
typedef struct aecl_training aecl_training;
struct aecl_model;             /* aecl_model, below: a trained model */

/* What the progress callback gets: once before the kernels are built
 * (building = 1, nothing else set); during the first step, once after each kind
 * of kernel first runs, which is when a driver such as PoCL compiles it
 * (building = 1, kernels_done of kernels_total kinds; a first run on an empty
 * kernel cache spends seconds there); after each loss read (every report_every
 * steps, and each epoch's first step); and at each epoch's end (epoch_done). */
typedef struct aecl_training_progress {
    int building;
    int epoch, epochs;          /* 1-based */
    long step, steps_per_epoch;
    int batch;
    double train_loss;          /* running mean of this epoch's losses (the objective) */
    double train_recon;         /* its reconstruction term */
    double train_kl;            /* a VAE's KL term; NaN for other kinds */
    double val_loss;            /* at epoch end with validation; NaN else */
    size_t val_rows;            /* validation samples (0: none) */
    double val_seconds;         /* the last validation's wall time; NaN before the first */
    double samples_per_s;       /* this epoch's rate so far, from the end of the run's first step
                                   (which builds the kernels): NaN at that step */
    double lr;                  /* this epoch's learning rate */
    double epoch_seconds;       /* at epoch end: the epoch's wall time */
    int epoch_done, improved, stopping, checkpointed, best_written;
    const char *checkpoint_error; /* a checkpoint write failed (training goes on): why; else NULL */
    int kernels_done, kernels_total; /* building reports of the first step (0 elsewhere) */
    unsigned char reserved[120];  /* zero; new fields take this room within a soname */
} aecl_training_progress;

/* Returns 0 to go on; nonzero cancels the run: it stops before its next step
 * and aecl_training_run returns AECL_ERR_CANCELED (no result, files already
 * written stay). With a communicator, a cancel on one rank stops every rank (the
 * others fail with a message naming it). */
typedef int (*aecl_training_progress_fn)(void *user, const aecl_training_progress *p);

/* Zero means "the default" for every field (`aecl train`'s options). */
typedef struct aecl_training_options {
    int epochs, batch;          /* <= 0: the model text's */
    double lr;                  /* <= 0: the model text's */
    uint64_t seed;              /* with use_seed: weights, shuffling, splits, dropout, noise */
    int use_seed;               /* 0: the model text's seed */
    const char *schedule;       /* NULL/"none", "step:EVERY:GAMMA", "cosine", "plateau:PATIENCE:FACTOR" */
    int patience;               /* early stopping after this many epochs without improvement; 0 = off */
    double min_delta;           /* the least improvement of the monitored loss that counts */
    int keep_last;              /* with validation: the last epoch's weights, not the best's */
    const char *scale;          /* NULL (none, or the init/resume file's), "none", "minmax", "standard" */
    int report_every;           /* steps between loss reads (<= 0: 10) */
    const char *checkpoint;     /* a checkpoint file written at epoch ends, or NULL */
    long checkpoint_every;      /* ... every this many steps instead */
    int checkpoint_epochs;      /* ... every this many epochs instead */
    const char *checkpoint_best; /* with validation: a weights file rewritten at each improvement */
    const char *resume;         /* continue the run of this checkpoint (same model, data, batch, seed) */
    const char *init;           /* start from this weights file's parameters (spec may then be NULL) */
    const aecl_comm *comm;      /* NULL: one process. Else data-parallel over comm->size ranks:
                                   every rank creates its training with the same model, data
                                   and options (batch is the global batch, a multiple of
                                   comm->size); rank 0 reads resume and writes the checkpoint
                                   files; every rank gets the same reports and weights (the
                                   application saves on rank 0; docs/scaling.md) */
    aecl_training_progress_fn progress; /* or NULL */
    void *user;                 /* progress's first argument */
    unsigned char reserved[128]; /* zero; new options take this room within a soname */
} aecl_training_options;

/* What aecl_training_create settled on. */
typedef struct aecl_training_info {
    int epochs, batch;
    double lr;                  /* the base rate */
    uint64_t seed;
    size_t train_rows, val_rows, features;
    int64_t params;             /* trainable parameters */
    const char *kind;           /* "vanilla", "denoising", "convolutional", "variational" */
    const char *scale;          /* the scaling in use: "none", "minmax", "standard" */
    int scale_from_file;        /* that scaling is the init or resume file's */
    int init_has_text;          /* the init file held a model text */
    unsigned char reserved[64];
} aecl_training_info;

/* How the run ended. */
typedef struct aecl_training_summary {
    int epochs_run;             /* epochs completed (resumed ones included) */
    int stopped_early;
    int validated;              /* the monitored loss was the validation loss */
    int best_epoch;             /* 1-based epoch of best_loss */
    int weights_epoch;          /* the epoch whose weights are the result */
    double best_loss;           /* the best monitored loss */
    double seconds;             /* wall time, kernel builds included */
    unsigned char reserved[64];
} aecl_training_summary;

/* One epoch of the history (NaN: not measured). */
typedef struct aecl_training_epoch {
    int epoch;
    double loss, recon, kl, val, lr, samples_per_s, seconds;
    int improved;
    unsigned char reserved[32];
} aecl_training_epoch;

/* spec may be NULL when opts->init names a file with a model text (it is
 * used); val may be NULL (no validation); opts may be NULL (defaults). A bad
 * option is AECL_ERR_INVALID_ARG naming it. On failure *out is NULL. */
AECL_API aecl_status aecl_training_create(aecl_ctx *ctx, const aecl_model_spec *spec, const aecl_data *train,
                                          const aecl_data *val, const aecl_training_options *opts,
                                          aecl_training **out);
AECL_API void aecl_training_info_get(const aecl_training *t, aecl_training_info *out);
/* The model trained (the init file's when spec was NULL). */
AECL_API const aecl_model_spec *aecl_training_spec(const aecl_training *t);
/* Trains (once: AECL_ERR_STATE after a run that ended). Also fails with
 * AECL_ERR_NUMERIC when the loss turns NaN (the checkpoint keeps the last good
 * state) and AECL_ERR_CANCELED when the progress callback asks. */
AECL_API aecl_status aecl_training_run(aecl_training *t);
/* After a successful run: */
AECL_API void aecl_training_summary_get(const aecl_training *t, aecl_training_summary *out);
/* The epochs this run trained, in order (resumed ones excluded); *n of them. */
AECL_API const aecl_training_epoch *aecl_training_history(const aecl_training *t, size_t *n);
/* Adds or replaces a metadata pair of the weights file to write (the run adds
 * "aecl.train.*", docs/weights.md). */
AECL_API aecl_status aecl_training_set_meta(aecl_training *t, const char *key, const char *value);
/* The anomaly threshold: the (1 - contamination)-quantile (0 < contamination < 1)
 * of the training samples' MSE scores (AECL_SCORE_MSE), stored as
 * "aecl.anomaly.*" metadata (`aecl anomaly` uses it). scores (train_rows floats,
 * or NULL) gets the scores; flagged (or NULL) how many lie above. */
AECL_API aecl_status aecl_training_fit_threshold(aecl_training *t, double contamination, double *threshold,
                                                 float *scores, size_t *flagged);
/* Writes the result as a weights file (atomically): the model text, the data
 * scaling and the metadata inside. */
AECL_API aecl_status aecl_training_save(aecl_training *t, const char *path);
/* The result as a model on the training's context, as aecl_model_load would
 * give it from the saved file, without the file. */
AECL_API aecl_status aecl_training_model(aecl_training *t, struct aecl_model **out);
AECL_API void aecl_training_free(aecl_training *t);

/* ---- trained models (applications) ---------------------------------------- */
/* (section owned by the model API: aecl_model_* calls on host memory)
 *
 * A model is a weights file written by `aecl train` (safetensors with the model
 * text inside) loaded onto a context. Samples are float rows of
 * aecl_model_input_size() values (images C x H x W, planar, in [0, 1]); codes are
 * rows of aecl_model_latent_size() values. Every call takes any n >= 1: samples
 * go through the device in batches of at most aecl_model_set_batch() rows (the
 * last one padded and masked), and the networks for each batch size are built on
 * first use and kept until aecl_model_free. Results are deterministic: a VAE is
 * run at its mean code unless a call says otherwise, so a sample's result does
 * not depend on n or on its place in the batch. Data in and out is in the data's
 * own units: a model trained with a scaling (aecl train --scale) scales its
 * inputs and unscales its outputs itself; scores are measured in the scaled
 * space the model was trained in.
 * Buffers are the caller's; the model keeps no pointer to them. Errors: invalid
 * arguments (NULL buffers, n = 0, a VAE-only call on another kind) are
 * AECL_ERR_INVALID_ARG; device failures as elsewhere; messages via
 * aecl_ctx_last_error(ctx). A model belongs to its context's thread. */
typedef struct aecl_model aecl_model;

typedef enum aecl_model_kind {
    AECL_MODEL_VANILLA = 0, AECL_MODEL_DENOISING = 1, AECL_MODEL_CONVOLUTIONAL = 2, AECL_MODEL_VARIATIONAL = 3
} aecl_model_kind;

/* Per-sample scores of aecl_model_scores (y = the reconstruction of x). */
typedef enum aecl_score_kind {
    AECL_SCORE_MSE = 0,   /* mean over features of (x - y)^2, in the model's scaled space
                             (aecl_cl_model_scores gives the same numbers) */
    AECL_SCORE_LOSS = 1,  /* the training objective of the sample: MSE per feature, or
                             BCE summed over features; + beta * KL for a VAE */
    AECL_SCORE_ELBO = 2,  /* VAE only: the negative ELBO at the mean code: reconstruction
                             loss summed over features (BCE: nats) + KL */
    AECL_SCORE_SSIM = 3,  /* images only: 1 - the mean SSIM of x and y (gaussian window of 7
                             taps, sigma 1.5, over the positions inside the image; the data's
                             units, range 1), averaged over the channels */
    AECL_SCORE_MAHALANOBIS = 4, /* the squared Mahalanobis distance of x's code (a VAE: the mean
                             code) to a Gaussian of normal codes: aecl_model_fit_normal first */
    AECL_SCORE_COMBINED = 5 /* images only: log SSIM score + log Mahalanobis score, each
                             standardised (mean 0, sd 1) on aecl_model_fit_normal's samples */
} aecl_score_kind;

/* Loads a weights file. Fails with AECL_ERR_IO / AECL_ERR_FORMAT (not an aecl
 * weights file, missing or misshapen tensors). On failure *out is NULL. */
AECL_API aecl_status aecl_model_load(aecl_ctx *ctx, const char *path, aecl_model **out);
/* Frees the model and the networks it built (NULL-safe); the context stays. */
AECL_API void aecl_model_free(aecl_model *model);

/* The kind of autoencoder the model file declares. */
AECL_API aecl_model_kind aecl_model_get_kind(const aecl_model *model);
/* "vanilla", "denoising", "convolutional", "variational". */
AECL_API const char *aecl_model_kind_name(const aecl_model *model);
/* Input shape: rank 3 (c, h, w) for images, rank 1 (c features, h = w = 1). */
AECL_API int aecl_model_input_shape(const aecl_model *model, int *c, int *h, int *w);
AECL_API size_t aecl_model_input_size(const aecl_model *model);   /* c * h * w */
AECL_API size_t aecl_model_latent_size(const aecl_model *model);
/* A 64-bit FNV-1a hash of the model text and weights: tells models apart. */
AECL_API uint64_t aecl_model_hash(const aecl_model *model);
/* Largest batch sent to the device at once (default 128; 1..65536). */
AECL_API aecl_status aecl_model_set_batch(aecl_model *model, int batch);
/* Seed of the random draws of aecl_model_encode(..., sample = 1) (default: the
 * model's training seed). Sample i's draw depends on the seed and i only. */
AECL_API void aecl_model_set_seed(aecl_model *model, uint64_t seed);

/* z[n * latent] = the codes of x[n * input_size]. A VAE gives its mean code, or
 * with sample != 0 a draw mu + exp(logvar / 2) * eps (sample must be 0 for other
 * kinds). */
AECL_API aecl_status aecl_model_encode(aecl_model *model, const float *x, size_t n, float *z, int sample);
/* x[n * input_size] = the decoder's output for codes z[n * latent]. */
AECL_API aecl_status aecl_model_decode(aecl_model *model, const float *z, size_t n, float *x);
/* y[n * input_size] = decode(encode(x)) (a VAE: at the mean code). */
AECL_API aecl_status aecl_model_reconstruct(aecl_model *model, const float *x, size_t n, float *y);
/* scores[n]: one per sample, of the kind asked. */
AECL_API aecl_status aecl_model_scores(aecl_model *model, const float *x, size_t n, aecl_score_kind kind, float *scores);
/* Fits the normal data that AECL_SCORE_MAHALANOBIS and AECL_SCORE_COMBINED compare
 * with, from n >= 2 normal samples x (e.g. the training data): the mean and the
 * covariance of their codes, shrunk 10% toward the mean variance (so that few or
 * collinear codes still give distances), and the statistics that standardise the
 * combined score. Replaces an earlier fit; kept until aecl_model_free. */
AECL_API aecl_status aecl_model_fit_normal(aecl_model *model, const float *x, size_t n);
/* VAE only: x[n * input_size] = decodes of n codes drawn from N(0, I) with seed. */
AECL_API aecl_status aecl_model_sample(aecl_model *model, size_t n, uint64_t seed, float *x);

/* Ranking metrics of anomaly scores (higher = more anomalous) against labels
 * (is_anomaly[i] != 0): exact, with tied scores handled (AUROC counts a tied
 * pair as one half; AUPRC is the average precision over distinct thresholds).
 * AECL_ERR_INVALID_ARG when either class is empty or a score is NaN
 * (message in the thread slot, aecl_ctx_last_error(NULL)). */
/* Writes the model as a weights file (atomically), with its metadata. */
AECL_API aecl_status aecl_model_save(aecl_model *model, const char *path);
/* A metadata value of the model's file ("aecl.anomaly.threshold", "aecl.train.*";
 * docs/weights.md), or NULL; valid until the pair changes. */
AECL_API const char *aecl_model_get_meta(const aecl_model *model, const char *key);
/* Adds or replaces a pair (written by aecl_model_save; "aecl.model", "aecl.scaling"
 * and "aecl.version" are the model's own: AECL_ERR_INVALID_ARG). */
AECL_API aecl_status aecl_model_set_meta(aecl_model *model, const char *key, const char *value);

AECL_API aecl_status aecl_auroc(const float *scores, const int *is_anomaly, size_t n, double *out);
AECL_API aecl_status aecl_auprc(const float *scores, const int *is_anomaly, size_t n, double *out);

#ifdef __cplusplus
}
#endif
#endif
