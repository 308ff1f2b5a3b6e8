/* aecl: autoencoders on any OpenCL device.
 *
 * The one public header. Every name is prefixed aecl_/AECL_. Handles are opaque,
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

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AECL_VERSION_MAJOR 0
#define AECL_VERSION_MINOR 1
#define AECL_VERSION_PATCH 0
#define AECL_VERSION_NUMBER (AECL_VERSION_MAJOR * 10000 + AECL_VERSION_MINOR * 100 + AECL_VERSION_PATCH)
#define AECL_VERSION_STRING "0.1.0"

/* Run-time version: AECL_VERSION_NUMBER of the library actually linked. */
unsigned aecl_version_number(void);
const char *aecl_version_string(void);

typedef enum aecl_status {
    AECL_OK = 0,
    AECL_ERR_INVALID_ARG,       /* a bad argument from the caller */
    AECL_ERR_NO_DEVICE,         /* no platform/device, or a selector matched none */
    AECL_ERR_OPENCL,            /* an OpenCL call failed (message names it) */
    AECL_ERR_BUILD,             /* a kernel program failed to build (message has the log) */
    AECL_ERR_HOST_MEMORY,       /* malloc failed or a size overflowed */
    AECL_ERR_DEVICE_MEMORY,     /* the device cannot hold the allocation */
    AECL_ERR_IO,                /* a file could not be opened, read or written */
    AECL_ERR_FORMAT,            /* a file or text is malformed (message has file:line) */
    AECL_ERR_SHAPE,             /* tensor shapes do not fit together */
    AECL_ERR_UNSUPPORTED,       /* the device or build lacks a needed feature */
    AECL_ERR_NUMERIC,           /* a NaN or infinity appeared (e.g. the loss) */
    AECL_ERR_STATE              /* a call made in the wrong order */
} aecl_status;

/* Static text for a status code; never NULL. */
const char *aecl_status_str(aecl_status s);

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
} aecl_device_info;

/* Lists every device of every platform into a malloc'd array (free with free()).
 * On a machine with no OpenCL platform, returns AECL_ERR_NO_DEVICE. */
aecl_status aecl_devices_list(aecl_device_info **out, size_t *count);

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
aecl_status aecl_ctx_create(const char *selector, aecl_ctx **out);

/* Adopts a caller's context and in-order queue. aecl retains them while it uses
 * them and releases only its own references: the caller's objects stay valid after
 * aecl_ctx_free. */
aecl_status aecl_ctx_create_from_cl(cl_context context, cl_command_queue queue, aecl_ctx **out);

/* Waits for the context's queue, then frees its programs and memory and releases
 * aecl's references to its OpenCL objects. Free the context's buffers and models
 * first. NULL-safe. */
void aecl_ctx_free(aecl_ctx *ctx);

/* The last error message of this context (or of this thread when ctx is NULL).
 * Empty string if none. Valid until the next failing call on the same context. */
const char *aecl_ctx_last_error(const aecl_ctx *ctx);

/* Messages the library would log (program builds, cache misses) go to fn. */
void aecl_ctx_set_log(aecl_ctx *ctx, aecl_log_fn fn, void *user, int max_level);

/* The OpenCL objects in use (not retained for the caller). */
cl_context aecl_ctx_cl_context(const aecl_ctx *ctx);
cl_command_queue aecl_ctx_cl_queue(const aecl_ctx *ctx);
cl_device_id aecl_ctx_cl_device(const aecl_ctx *ctx);
/* Info of the device in use. */
const aecl_device_info *aecl_ctx_device(const aecl_ctx *ctx);

/* Waits until all work queued by aecl on this context is done. */
aecl_status aecl_ctx_finish(aecl_ctx *ctx);

/* ---- kernel programs ------------------------------------------------------ */

/* Builds (or fetches from the in-memory and disk caches) the program made from
 * kernel file `file` (e.g. "selftest.cl") with compiler options `options`.
 * The returned program is owned by the context: do not release it. */
aecl_status aecl_program_get(aecl_ctx *ctx, const char *file, const char *options, cl_program *out);

typedef struct aecl_program_stats {
    unsigned builds_from_source;   /* compiled by the OpenCL compiler */
    unsigned loads_from_disk;      /* created from a cached binary */
    unsigned memory_hits;          /* served from this context's table */
    unsigned cache_rejects;        /* disk entries found bad and rebuilt */
} aecl_program_stats;
void aecl_ctx_program_stats(const aecl_ctx *ctx, aecl_program_stats *out);

/* Builds every kernel file with its default options: a self-test that the device
 * can compile aecl's kernels. */
aecl_status aecl_build_all_kernels(aecl_ctx *ctx, unsigned *n_programs);

/* Runs a small kernel and checks its result against the host. */
aecl_status aecl_selftest(aecl_ctx *ctx);

/* ---- buffers -------------------------------------------------------------- */

typedef struct aecl_buffer aecl_buffer;

/* A device buffer of `count` elements of `elem_size` bytes (the product is
 * overflow-checked). Fails with AECL_ERR_DEVICE_MEMORY when the device cannot hold it. */
aecl_status aecl_buffer_create(aecl_ctx *ctx, size_t count, size_t elem_size, aecl_buffer **out);
/* Releases the buffer; NULL-safe. */
void aecl_buffer_free(aecl_buffer *buf);
/* Its size in bytes, and its OpenCL buffer (owned by aecl: do not release it). */
size_t aecl_buffer_bytes(const aecl_buffer *buf);
cl_mem aecl_buffer_cl(const aecl_buffer *buf);
/* Blocking copies of `bytes` bytes at byte `offset`. */
aecl_status aecl_buffer_upload(aecl_buffer *buf, size_t offset, const void *src, size_t bytes);
aecl_status aecl_buffer_download(aecl_buffer *buf, size_t offset, void *dst, size_t bytes);

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
    AECL_SCORE_MSE = 0,   /* mean over features of (x - y)^2 */
    AECL_SCORE_LOSS = 1,  /* the training objective of the sample: MSE per feature, or
                             BCE summed over features; + beta * KL for a VAE */
    AECL_SCORE_ELBO = 2   /* VAE only: the negative ELBO at the mean code: reconstruction
                             loss summed over features (BCE: nats) + KL */
} aecl_score_kind;

/* Loads a weights file. Fails with AECL_ERR_IO / AECL_ERR_FORMAT (not an aecl
 * weights file, missing or misshapen tensors). On failure *out is NULL. */
aecl_status aecl_model_load(aecl_ctx *ctx, const char *path, aecl_model **out);
/* Frees the model and the networks it built (NULL-safe); the context stays. */
void aecl_model_free(aecl_model *model);

/* The kind of autoencoder the model file declares. */
aecl_model_kind aecl_model_get_kind(const aecl_model *model);
/* "vanilla", "denoising", "convolutional", "variational". */
const char *aecl_model_kind_name(const aecl_model *model);
/* Input shape: rank 3 (c, h, w) for images, rank 1 (c features, h = w = 1). */
int aecl_model_input_shape(const aecl_model *model, int *c, int *h, int *w);
size_t aecl_model_input_size(const aecl_model *model);   /* c * h * w */
size_t aecl_model_latent_size(const aecl_model *model);
/* A 64-bit FNV-1a hash of the model text and weights: tells models apart. */
uint64_t aecl_model_hash(const aecl_model *model);
/* Largest batch sent to the device at once (default 128; 1..65536). */
aecl_status aecl_model_set_batch(aecl_model *model, int batch);
/* Seed of the random draws of aecl_model_encode(..., sample = 1) (default: the
 * model's training seed). Sample i's draw depends on the seed and i only. */
void aecl_model_set_seed(aecl_model *model, uint64_t seed);

/* z[n * latent] = the codes of x[n * input_size]. A VAE gives its mean code, or
 * with sample != 0 a draw mu + exp(logvar / 2) * eps (sample must be 0 for other
 * kinds). */
aecl_status aecl_model_encode(aecl_model *model, const float *x, size_t n, float *z, int sample);
/* x[n * input_size] = the decoder's output for codes z[n * latent]. */
aecl_status aecl_model_decode(aecl_model *model, const float *z, size_t n, float *x);
/* y[n * input_size] = decode(encode(x)) (a VAE: at the mean code). */
aecl_status aecl_model_reconstruct(aecl_model *model, const float *x, size_t n, float *y);
/* scores[n]: one per sample, of the kind asked. */
aecl_status aecl_model_scores(aecl_model *model, const float *x, size_t n, aecl_score_kind kind, float *scores);
/* VAE only: x[n * input_size] = decodes of n codes drawn from N(0, I) with seed. */
aecl_status aecl_model_sample(aecl_model *model, size_t n, uint64_t seed, float *x);

/* Ranking metrics of anomaly scores (higher = more anomalous) against labels
 * (is_anomaly[i] != 0): exact, with tied scores handled (AUROC counts a tied
 * pair as one half; AUPRC is the average precision over distinct thresholds).
 * AECL_ERR_INVALID_ARG when either class is empty or a score is NaN
 * (message in the thread slot, aecl_ctx_last_error(NULL)). */
aecl_status aecl_auroc(const float *scores, const int *is_anomaly, size_t n, double *out);
aecl_status aecl_auprc(const float *scores, const int *is_anomaly, size_t n, double *out);

/* ---- zero-copy calls on the caller's OpenCL buffers --------------------------- */
/* For applications that keep their data on the device: a trained model runs on
 * cl_mem buffers the caller owns, with no copy through the host. The caller's
 * buffers must belong to the OpenCL context of the aecl context (adopt the
 * application's own with aecl_ctx_create_from_cl); all work is enqueued on that
 * context's queue (in order), after the caller's wait list. Buffers hold float
 * rows; offsets are in bytes, as in OpenCL. aecl never retains or releases the
 * caller's buffers or events (except the event it returns, which the caller
 * releases). Like every object of a context, an aecl_cl_model is used by one
 * thread at a time. */

typedef struct aecl_cl_model aecl_cl_model;

/* Loads a weights file written by `aecl train` (the model text is inside it) and
 * prepares the network for batches of up to `batch` rows (larger calls run in
 * chunks of `batch`). Its networks are built here, so the calls below only
 * enqueue work and never wait on the host. Data is in the data's own units: a
 * model trained with feature scaling scales its inputs and unscales its
 * reconstructions on the device, as aecl_model_* do on the host.
 * Errors: AECL_ERR_IO / AECL_ERR_FORMAT for the file, AECL_ERR_INVALID_ARG for
 * batch < 1, device errors while building. On failure *out is NULL. */
aecl_status aecl_cl_model_load(aecl_ctx *ctx, const char *weights_path, int batch, aecl_cl_model **out);
/* Frees aecl's objects only (after finishing its queued work); NULL-safe. */
void aecl_cl_model_free(aecl_cl_model *m);
/* Floats per sample (input and reconstruction), per latent code, and the batch. */
size_t aecl_cl_model_features(const aecl_cl_model *m);
size_t aecl_cl_model_latent(const aecl_cl_model *m);
int aecl_cl_model_batch(const aecl_cl_model *m);

/* Encodes `rows` samples, read from x at byte x_off (rows * features floats), into
 * their latent codes (a VAE: the mean), written to code at byte code_off
 * (rows * latent floats). The first command waits on the n_wait events of `wait`;
 * if `done` is not NULL it receives an event of the last command (release it with
 * clReleaseEvent). Returns once the work is enqueued: no host wait.
 * Errors: AECL_ERR_INVALID_ARG for NULL buffers, rows of 0, a buffer or event of
 * another OpenCL context than the aecl context's, or a buffer too small for the
 * rows at its offset; AECL_ERR_OPENCL when an enqueue fails. */
aecl_status aecl_cl_model_encode(aecl_cl_model *m, cl_mem x, size_t x_off, size_t rows, cl_mem code,
                                 size_t code_off, cl_uint n_wait, const cl_event *wait, cl_event *done);
/* Decodes `rows` latent codes (rows * latent floats at byte code_off) into
 * reconstructions in data space (rows * features floats at byte recon_off).
 * Ordering, events and errors as aecl_cl_model_encode. */
aecl_status aecl_cl_model_decode(aecl_cl_model *m, cl_mem code, size_t code_off, size_t rows, cl_mem recon,
                                 size_t recon_off, cl_uint n_wait, const cl_event *wait, cl_event *done);
/* Anomaly scores: for each of `rows` samples of x, the reconstruction loss of the
 * model summed over its features (squared error for an MSE model, binary cross
 * entropy for a BCE one; a VAE at its mean code; in the model's scaled space),
 * one float per row written at byte scores_off.
 * Ordering, events and errors as aecl_cl_model_encode. */
aecl_status aecl_cl_model_scores(aecl_cl_model *m, cl_mem x, size_t x_off, size_t rows, cl_mem scores,
                                 size_t scores_off, cl_uint n_wait, const cl_event *wait, cl_event *done);

#ifdef __cplusplus
}
#endif
#endif
