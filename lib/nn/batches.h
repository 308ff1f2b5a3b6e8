/* Running a plan compiled for a fixed batch over any number of rows: the rows go
 * through in chunks of the batch size, and the last, short chunk runs with the
 * plan's valid-row count set (losses average over its rows only) and gives back
 * only its rows. Used by evaluation (train.c), the model API (model.c) and the
 * zero-copy calls (model_cl.c).
 *
 * Rows come from and go to host arrays or device buffers. Host input rows are
 * padded with zeros up to the batch; device input rows are copied device to
 * device, and the padding rows of a short chunk keep what the previous chunk
 * left there (every op is row-wise or masked by the valid-row count, so they
 * never reach a valid row's output). A pass may also chain up to
 * AECL_BATCHES_MAX_STAGES plans (a scaling step, a net, an unscaling step): each
 * stage's `out` rows are copied on the device into the next stage's `in`. */
#ifndef AECL_NN_BATCHES_H
#define AECL_NN_BATCHES_H

#include "graph/plan.h"

#define AECL_BATCHES_MAX_STAGES 3
#define AECL_BATCHES_MAX_OUTS 6

typedef struct aecl_batches_stage {
    aecl_plan *plan;
    const aecl_tensor *in;     /* [batch, ...]: the pass's input (first stage) or the previous stage's out */
    const aecl_tensor *out;    /* copied into the next stage's in; unused in the last stage */
} aecl_batches_stage;

/* The pass's input rows: host floats, or else a device buffer at a byte offset. */
typedef struct aecl_batches_in {
    const float *host;
    cl_mem mem;
    size_t off;
} aecl_batches_in;

/* One output: a [batch, ...] tensor of the last stage's plan, its rows copied to
 * `host` (all rows of the pass) or else to device buffer `mem` at byte offset
 * `off`; with neither, the rows are only read into `chunk` (for on_chunk). */
typedef struct aecl_batches_out {
    const aecl_tensor *t;
    float *host;
    cl_mem mem;
    size_t off;
    float *chunk;              /* set by the runner for host outputs: the current chunk's rows */
} aecl_batches_out;

typedef struct aecl_batches aecl_batches;
/* Called after each chunk's outputs are in (host outputs are read with blocking
 * copies, so their `chunk` rows are there); rows [from, from + rows). */
typedef aecl_status (*aecl_batches_fn)(void *user, const aecl_batches *b, size_t from, int rows);

struct aecl_batches {
    int batch;                 /* the plans' batch size */
    size_t rows;               /* rows of the pass (>= 1) */
    int n_stages;
    aecl_batches_stage stage[AECL_BATCHES_MAX_STAGES];
    aecl_batches_in in;
    int n_out;
    aecl_batches_out out[AECL_BATCHES_MAX_OUTS];
    /* Device ends only: the wait list gates the first input copy, *done (when not
     * NULL) gets the event of the last output copy (the last output must then be a
     * device one). The context's queue is in order, so these bound the whole pass. */
    cl_uint n_wait;
    const cl_event *wait;
    cl_event *done;
    aecl_batches_fn on_chunk;  /* may be NULL */
    void *user;
    size_t failed_at;          /* after a failure: the first row of the chunk that failed */
};

/* Runs the pass. The caller sets the plans' step counters (random streams) as
 * it wants them: each chunk advances them by one, as a plan run does. */
aecl_status aecl_batches_run(aecl_batches *b);

#endif
