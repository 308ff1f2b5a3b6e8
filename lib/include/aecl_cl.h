/* aecl_cl.h: the calls that take or give OpenCL objects, for applications that
 * own an OpenCL context: adopting it, the objects in use, kernel programs, a
 * buffer's cl_mem, and trained models run on the caller's cl_mem buffers with no
 * copy through the host. Everything else is in aecl.h, which a host-only program
 * includes without the OpenCL headers. Same conventions as aecl.h. */
#ifndef AECL_CL_H
#define AECL_CL_H

#include "aecl.h"

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- contexts ------------------------------------------------------------- */

/* Adopts a caller's context and in-order queue. aecl retains them while it uses
 * them and releases only its own references: the caller's objects stay valid after
 * aecl_ctx_free. */
AECL_API aecl_status aecl_ctx_create_from_cl(cl_context context, cl_command_queue queue, aecl_ctx **out);

/* The OpenCL objects in use (not retained for the caller). */
AECL_API cl_context aecl_ctx_cl_context(const aecl_ctx *ctx);
AECL_API cl_command_queue aecl_ctx_cl_queue(const aecl_ctx *ctx);
AECL_API cl_device_id aecl_ctx_cl_device(const aecl_ctx *ctx);

/* ---- kernel programs ------------------------------------------------------ */

/* Builds (or fetches from the in-memory and disk caches) the program made from
 * kernel file `file` (e.g. "selftest.cl") with compiler options `options`.
 * The returned program is owned by the context: do not release it. */
AECL_API aecl_status aecl_program_get(aecl_ctx *ctx, const char *file, const char *options, cl_program *out);

/* ---- buffers -------------------------------------------------------------- */

/* The buffer's OpenCL buffer (owned by aecl: do not release it). */
AECL_API cl_mem aecl_buffer_cl(const aecl_buffer *buf);

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
AECL_API aecl_status aecl_cl_model_load(aecl_ctx *ctx, const char *weights_path, int batch, aecl_cl_model **out);
/* Frees aecl's objects only (after finishing its queued work); NULL-safe. */
AECL_API void aecl_cl_model_free(aecl_cl_model *m);
/* Floats per sample (input and reconstruction), per latent code, and the batch. */
AECL_API size_t aecl_cl_model_features(const aecl_cl_model *m);
AECL_API size_t aecl_cl_model_latent(const aecl_cl_model *m);
AECL_API int aecl_cl_model_batch(const aecl_cl_model *m);

/* Encodes `rows` samples, read from x at byte x_off (rows * features floats), into
 * their latent codes (a VAE: the mean), written to code at byte code_off
 * (rows * latent floats). The first command waits on the n_wait events of `wait`;
 * if `done` is not NULL it receives an event of the last command (release it with
 * clReleaseEvent). Returns once the work is enqueued: no host wait.
 * Errors: AECL_ERR_INVALID_ARG for NULL buffers, rows of 0, a buffer or event of
 * another OpenCL context than the aecl context's, or a buffer too small for the
 * rows at its offset; AECL_ERR_OPENCL when an enqueue fails. */
AECL_API aecl_status aecl_cl_model_encode(aecl_cl_model *m, cl_mem x, size_t x_off, size_t rows, cl_mem code,
                                 size_t code_off, cl_uint n_wait, const cl_event *wait, cl_event *done);
/* Decodes `rows` latent codes (rows * latent floats at byte code_off) into
 * reconstructions in data space (rows * features floats at byte recon_off).
 * Ordering, events and errors as aecl_cl_model_encode. */
AECL_API aecl_status aecl_cl_model_decode(aecl_cl_model *m, cl_mem code, size_t code_off, size_t rows, cl_mem recon,
                                 size_t recon_off, cl_uint n_wait, const cl_event *wait, cl_event *done);
/* Anomaly scores: for each of `rows` samples of x, its AECL_SCORE_MSE score (the
 * mean over features of the squared reconstruction error, a VAE at its mean code,
 * in the model's scaled space): the same numbers as aecl_model_scores(...,
 * AECL_SCORE_MSE, ...), one float per row written at byte scores_off.
 * Ordering, events and errors as aecl_cl_model_encode. */
AECL_API aecl_status aecl_cl_model_scores(aecl_cl_model *m, cl_mem x, size_t x_off, size_t rows, cl_mem scores,
                                 size_t scores_off, cl_uint n_wait, const cl_event *wait, cl_event *done);

#ifdef __cplusplus
}
#endif
#endif
