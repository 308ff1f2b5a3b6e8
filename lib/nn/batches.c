/* The chunked, padded batch loop shared by evaluation, the model API and the
 * zero-copy calls (batches.h). */
#include "nn/batches.h"
#include "rt/error.h"

#include <stdlib.h>
#include <string.h>

static size_t row_floats(const aecl_batches *b, const aecl_tensor *t) { return t->size / (size_t)b->batch; }
static aecl_ctx *ctx_of(const aecl_batches *b) { return aecl_plan_ctx(b->stage[0].plan); }
static int on_device(const aecl_batches_out *o) { return !o->host && o->mem; }

static aecl_status copy(const aecl_batches *b, cl_mem from, size_t from_at, cl_mem to, size_t to_at, size_t bytes,
                        cl_uint n_wait, const cl_event *wait, cl_event *ev)
{
    aecl_ctx *ctx = ctx_of(b);
    AECL_CL_TRY(ctx, clEnqueueCopyBuffer(aecl_ctx_cl_queue(ctx), from, to, from_at, to_at, bytes, n_wait, wait, ev));
    return AECL_OK;
}

/* Host rows need no wait per chunk when no host code reads a chunk in between
 * (no on_chunk callback, every host output has its array): full chunks are
 * written from the caller's rows and read into the caller's arrays without
 * blocking, and one wait ends the pass, so the device runs the chunks back to
 * back instead of idling while the host copies. The queue is in order: chunk
 * k's reads come before chunk k+1's run overwrites its outputs. */
static int streams(const aecl_batches *b)
{
    if (b->on_chunk) return 0;
    for (int k = 0; k < b->n_out; k++)
        if (!on_device(&b->out[k]) && !b->out[k].host) return 0;
    return 1;
}

/* Whether the pass reads or writes host memory (then a streamed pass waits at its end). */
static int touches_host(const aecl_batches *b)
{
    int host = b->in.host != NULL;
    for (int k = 0; k < b->n_out; k++) host |= !on_device(&b->out[k]);
    return host;
}

/* Rows [r, r + n) into the first stage's input; `stage_buf` holds a host batch
 * (a short chunk's, padded with zeros; it is the last chunk, so a non-blocking
 * write from it is done before the pass's wait). */
static aecl_status load(const aecl_batches *b, float *stage_buf, size_t r, int n)
{
    const aecl_batches_stage *s = &b->stage[0];
    size_t cols = row_floats(b, s->in);
    if (b->in.host) {
        const float *rows = b->in.host + r * cols;
        if (n < b->batch || !streams(b)) {
            memcpy(stage_buf, rows, (size_t)n * cols * sizeof *stage_buf);
            memset(stage_buf + (size_t)n * cols, 0, (size_t)(b->batch - n) * cols * sizeof *stage_buf);
            rows = stage_buf;
        }
        return streams(b) ? aecl_plan_write_event(s->plan, s->in, rows, NULL) : aecl_plan_write(s->plan, s->in, rows);
    }
    cl_mem mem;
    int off;
    aecl_plan_tensor_mem(s->plan, s->in, &mem, &off);
    int first = r == 0;
    return copy(b, b->in.mem, b->in.off + r * cols * sizeof(float), mem, (size_t)off * sizeof(float),
                (size_t)n * cols * sizeof(float), first ? b->n_wait : 0, first ? b->wait : NULL, NULL);
}

/* Every stage on n valid rows, each one's output passed on to the next. */
static aecl_status run_stages(const aecl_batches *b, int n)
{
    for (int i = 0; i < b->n_stages; i++) {
        const aecl_batches_stage *s = &b->stage[i];
        aecl_plan_set_valid_rows(s->plan, n);
        AECL_TRY(aecl_plan_run(s->plan));
        if (i + 1 == b->n_stages) break;
        const aecl_batches_stage *next = &b->stage[i + 1];
        cl_mem from, to;
        int from_off, to_off;
        aecl_plan_tensor_mem(s->plan, s->out, &from, &from_off);
        aecl_plan_tensor_mem(next->plan, next->in, &to, &to_off);
        AECL_TRY(copy(b, from, (size_t)from_off * sizeof(float), to, (size_t)to_off * sizeof(float),
                      (size_t)n * row_floats(b, s->out) * sizeof(float), 0, NULL, NULL));
    }
    return AECL_OK;
}

/* Output k's rows [r, r + n) out of the last stage. */
static aecl_status store(const aecl_batches *b, int k, size_t r, int n, int last_chunk)
{
    const aecl_batches_out *o = &b->out[k];
    aecl_plan *plan = b->stage[b->n_stages - 1].plan;
    size_t cols = row_floats(b, o->t);
    if (!on_device(o) && streams(b)) {
        cl_mem mem;
        int off;
        aecl_plan_tensor_mem(plan, o->t, &mem, &off);
        aecl_ctx *ctx = ctx_of(b);
        AECL_CL_TRY(ctx, clEnqueueReadBuffer(aecl_ctx_cl_queue(ctx), mem, CL_FALSE, (size_t)off * sizeof(float),
                                             (size_t)n * cols * sizeof(float), o->host + r * cols, 0, NULL, NULL));
        return AECL_OK;
    }
    if (!on_device(o)) {
        AECL_TRY(aecl_plan_read(plan, o->t, o->chunk));
        if (o->host) memcpy(o->host + r * cols, o->chunk, (size_t)n * cols * sizeof *o->chunk);
        return AECL_OK;
    }
    cl_mem mem;
    int off;
    aecl_plan_tensor_mem(plan, o->t, &mem, &off);
    cl_event *ev = last_chunk && k + 1 == b->n_out ? b->done : NULL;
    return copy(b, mem, (size_t)off * sizeof(float), o->mem, o->off + r * cols * sizeof(float),
                (size_t)n * cols * sizeof(float), 0, NULL, ev);
}

static aecl_status chunk(aecl_batches *b, float *stage_buf, size_t r, int n)
{
    int last = r + (size_t)n >= b->rows;
    AECL_TRY(load(b, stage_buf, r, n));
    AECL_TRY(run_stages(b, n));
    for (int k = 0; k < b->n_out; k++) AECL_TRY(store(b, k, r, n, last));
    return b->on_chunk ? b->on_chunk(b->user, b, r, n) : AECL_OK;
}

static aecl_status check(const aecl_batches *b)
{
    aecl_ctx *ctx = b->n_stages > 0 ? ctx_of(b) : NULL;
    AECL_RETURN_IF(b->n_stages < 1 || b->n_stages > AECL_BATCHES_MAX_STAGES || b->n_out < 0 ||
                       b->n_out > AECL_BATCHES_MAX_OUTS || b->batch < 1 || b->rows == 0,
                   AECL_ERR_INVALID_ARG, ctx, "batch runner: bad pass (%d stages, %d outputs, batch %d, %zu rows)",
                   b->n_stages, b->n_out, b->batch, b->rows);
    AECL_RETURN_IF(!b->in.host && !b->in.mem, AECL_ERR_INVALID_ARG, ctx, "batch runner: no input rows");
    AECL_RETURN_IF(b->n_wait && b->in.host, AECL_ERR_INVALID_ARG, ctx,
                   "batch runner: a wait list needs a device input");
    AECL_RETURN_IF(b->done && (b->n_out == 0 || !on_device(&b->out[b->n_out - 1])), AECL_ERR_INVALID_ARG, ctx,
                   "batch runner: an end event needs a device output last");
    for (int k = 0; k < b->n_out; k++)
        AECL_RETURN_IF(!b->out[k].t, AECL_ERR_INVALID_ARG, ctx, "batch runner: output %d has no tensor", k);
    return AECL_OK;
}

/* One host block: the input batch (host input) and each host output's chunk
 * (none when the pass streams: its reads go straight to the caller's arrays). */
static aecl_status alloc_host(aecl_batches *b, float **block, float **stage_buf)
{
    size_t floats = b->in.host ? (size_t)b->batch * row_floats(b, b->stage[0].in) : 0;
    int chunks = !streams(b);
    for (int k = 0; k < b->n_out; k++)
        if (chunks && !on_device(&b->out[k])) floats += b->out[k].t->size;
    *block = *stage_buf = NULL;
    if (floats == 0) return AECL_OK;
    *block = malloc(floats * sizeof **block);
    AECL_RETURN_IF(!*block, AECL_ERR_HOST_MEMORY, ctx_of(b), "out of host memory");
    float *p = *block;
    if (b->in.host) { *stage_buf = p; p += (size_t)b->batch * row_floats(b, b->stage[0].in); }
    for (int k = 0; k < b->n_out; k++)
        if (chunks && !on_device(&b->out[k])) { b->out[k].chunk = p; p += b->out[k].t->size; }
    return AECL_OK;
}

aecl_status aecl_batches_run(aecl_batches *b)
{
    if (b->done) *b->done = NULL;
    b->failed_at = 0;
    AECL_TRY(check(b));
    float *block, *stage_buf;
    AECL_TRY(alloc_host(b, &block, &stage_buf));
    size_t step = (size_t)b->batch;
    aecl_status st = AECL_OK;
    for (size_t r = 0; r < b->rows && st == AECL_OK; r += step) {
        st = chunk(b, stage_buf, r, (int)(b->rows - r < step ? b->rows - r : step));
        if (st != AECL_OK) b->failed_at = r;
    }
    /* Streamed copies may still be reading the input block or writing the
     * caller's arrays: they end before the block is freed and the call returns. */
    if (streams(b) && touches_host(b)) {
        aecl_status fin = aecl_ctx_finish(ctx_of(b));
        if (st == AECL_OK) st = fin;
    }
    for (int k = 0; k < b->n_out; k++) b->out[k].chunk = NULL;
    free(block);
    return st;
}
