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
    unsigned reserved[12];         /* zero; room for new counters within a soname */
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
    AECL_SCORE_ELBO = 2   /* VAE only: the negative ELBO at the mean code: reconstruction
                             loss summed over features (BCE: nats) + KL */
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
/* VAE only: x[n * input_size] = decodes of n codes drawn from N(0, I) with seed. */
AECL_API aecl_status aecl_model_sample(aecl_model *model, size_t n, uint64_t seed, float *x);

/* Ranking metrics of anomaly scores (higher = more anomalous) against labels
 * (is_anomaly[i] != 0): exact, with tied scores handled (AUROC counts a tied
 * pair as one half; AUPRC is the average precision over distinct thresholds).
 * AECL_ERR_INVALID_ARG when either class is empty or a score is NaN
 * (message in the thread slot, aecl_ctx_last_error(NULL)). */
AECL_API aecl_status aecl_auroc(const float *scores, const int *is_anomaly, size_t n, double *out);
AECL_API aecl_status aecl_auprc(const float *scores, const int *is_anomaly, size_t n, double *out);

#ifdef __cplusplus
}
#endif
#endif
