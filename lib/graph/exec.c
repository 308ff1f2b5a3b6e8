/* Replaying a compiled plan, and moving tensors between host and device. */
#include "graph/plan_internal.h"

#include <stdlib.h>
#include <string.h>

static aecl_status set_dynamic(aecl_plan *p)
{
    cl_uint step = (cl_uint)p->step, rows = (cl_uint)p->valid_rows, off = p->row_offset;
    for (int i = 0; i < p->n_dyn; i++) {
        char kind = p->dyn[i].kind;
        const cl_uint *v = kind == 'S' ? &step : kind == 'V' ? &rows : &off;
        AECL_CL_TRY(p->ctx, clSetKernelArg(p->dyn[i].kernel, p->dyn[i].index, sizeof *v, v));
    }
    return AECL_OK;
}

/* ---- watching the first launch of each kind ------------------------------------------ */

/* What a driver compiles once: a kernel function of a program at a group size. */
typedef struct kind_key {
    cl_program prog;
    char name[64];
    size_t local[3];
} kind_key;

static int kind_of(const aecl_launch *l, kind_key *k)
{
    memset(k, 0, sizeof *k);
    if (!l->kernel || clGetKernelInfo(l->kernel, CL_KERNEL_PROGRAM, sizeof k->prog, &k->prog, NULL) != CL_SUCCESS ||
        clGetKernelInfo(l->kernel, CL_KERNEL_FUNCTION_NAME, sizeof k->name, k->name, NULL) != CL_SUCCESS)
        return 0;
    for (cl_uint d = 0; d < l->dim && d < 3; d++) k->local[d] = l->local[d];
    return 1;
}

aecl_status aecl_plan_watch_first_launches(aecl_plan *p, aecl_plan_first_fn fn, void *user)
{
    p->watch = NULL;
    free(p->first_kind);
    p->first_kind = NULL;
    p->n_kinds = p->kinds_done = 0;
    if (!fn || !p->n_launches) return AECL_OK;
    kind_key *keys = calloc((size_t)p->n_launches, sizeof *keys);
    p->first_kind = calloc((size_t)p->n_launches, 1);
    if (!keys || !p->first_kind) {
        free(keys);
        return aecl_fail(p->ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    for (int i = 0; i < p->n_launches; i++) {
        if (!kind_of(&p->launches[i], &keys[i])) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = p->first_kind[j] && !memcmp(&keys[i], &keys[j], sizeof keys[i]);
        p->first_kind[i] = (unsigned char)!seen;
        p->n_kinds += !seen;
    }
    free(keys);
    if (p->n_kinds) p->watch = fn, p->watch_user = user;
    return AECL_OK;
}

/* After launch i: when it is a watched first of its kind, wait for it and tell. */
static aecl_status watch_launch(aecl_plan *p, int i)
{
    if (!p->watch || !p->first_kind[i]) return AECL_OK;
    p->first_kind[i] = 0;
    AECL_CL_TRY(p->ctx, clFinish(p->ctx->queue));
    aecl_plan_first_fn fn = p->watch;
    if (++p->kinds_done == p->n_kinds) p->watch = NULL;
    fn(p->watch_user, p->kinds_done, p->n_kinds);
    return AECL_OK;
}

/* ---- replay ---------------------------------------------------------------------------- */

aecl_status aecl_plan_run_range(aecl_plan *p, int from, int to)
{
    AECL_RETURN_IF(from < 0 || to > p->n_launches || from > to, AECL_ERR_INVALID_ARG, p->ctx,
                   "plan: launch range [%d, %d) outside [0, %d)", from, to, p->n_launches);
    if (from == to) return AECL_OK;
    AECL_TRY(set_dynamic(p));
    for (int i = from; i < to; i++) {
        if (!p->reporting && p->report_only[i]) continue;
        aecl_status st = aecl_launch_enqueue(p->ctx, &p->launches[i], NULL);
        if (st == AECL_OK) st = watch_launch(p, i);
        if (st != AECL_OK) {
            aecl_error_append(p->ctx, " (launch %d, %s)", i, p->launches[i].label);
            return st;
        }
    }
    return AECL_OK;
}

void aecl_plan_end_step(aecl_plan *p) { p->step++; }

void aecl_plan_set_reporting(aecl_plan *p, int on) { p->reporting = on != 0; }

aecl_status aecl_plan_run(aecl_plan *p)
{
    AECL_TRY(aecl_plan_run_range(p, 0, p->n_launches));
    aecl_plan_end_step(p);
    return AECL_OK;
}

/* A finished command's device time (start to end), in seconds. */
static cl_int event_seconds(cl_event ev, double *seconds)
{
    cl_ulong t0 = 0, t1 = 0;
    cl_int err = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
    if (err == CL_SUCCESS) err = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
    if (err == CL_SUCCESS) *seconds = (double)(t1 - t0) * 1e-9;
    return err;
}

aecl_status aecl_plan_run_profiled(aecl_plan *p, double *times)
{
    AECL_RETURN_IF(!p->ctx->profiling, AECL_ERR_UNSUPPORTED, p->ctx,
                   "profiling needs a queue created with CL_QUEUE_PROFILING_ENABLE");
    AECL_TRY(set_dynamic(p));
    cl_event *ev = calloc((size_t)p->n_launches + 1, sizeof *ev);
    AECL_RETURN_IF(!ev, AECL_ERR_HOST_MEMORY, p->ctx, "out of host memory");
    aecl_status st = AECL_OK;
    int n = 0;
    for (; n < p->n_launches && st == AECL_OK; n++) st = aecl_launch_enqueue(p->ctx, &p->launches[n], &ev[n]);
    if (st == AECL_OK) st = clFinish(p->ctx->queue) == CL_SUCCESS ? AECL_OK : aecl_fail(p->ctx, AECL_ERR_OPENCL, "clFinish failed");
    for (int i = 0; i < n; i++) {
        double t;
        if (ev[i] && times && st == AECL_OK && event_seconds(ev[i], &t) == CL_SUCCESS) times[i] += t;
        if (ev[i]) clReleaseEvent(ev[i]);
    }
    free(ev);
    if (st == AECL_OK) p->step++;
    return st;
}

aecl_status aecl_plan_run_launch_profiled(aecl_plan *p, int i, double *seconds)
{
    AECL_RETURN_IF(!p->ctx->profiling, AECL_ERR_UNSUPPORTED, p->ctx,
                   "profiling needs a queue created with CL_QUEUE_PROFILING_ENABLE");
    AECL_RETURN_IF(i < 0 || i >= p->n_launches, AECL_ERR_INVALID_ARG, p->ctx, "launch %d of a plan of %d", i,
                   p->n_launches);
    cl_event ev = NULL;
    AECL_TRY(aecl_launch_enqueue(p->ctx, &p->launches[i], &ev));
    *seconds = 0;
    if (!ev) /* a host-side launch that made no event */
        return clFinish(p->ctx->queue) == CL_SUCCESS ? AECL_OK : aecl_fail(p->ctx, AECL_ERR_OPENCL, "clFinish failed");
    cl_int err = clWaitForEvents(1, &ev);
    if (err == CL_SUCCESS) err = event_seconds(ev, seconds);
    clReleaseEvent(ev);
    return err == CL_SUCCESS ? AECL_OK : aecl_fail_cl(p->ctx, err, "clGetEventProfilingInfo", __FILE__, __LINE__);
}

int aecl_plan_launch_count(const aecl_plan *p) { return p->n_launches; }
void aecl_plan_set_step(aecl_plan *p, uint64_t step) { p->step = step; }
uint64_t aecl_plan_step(const aecl_plan *p) { return p->step; }
void aecl_plan_set_valid_rows(aecl_plan *p, int rows) { p->valid_rows = rows; }
void aecl_plan_set_row_offset(aecl_plan *p, uint32_t rows) { p->row_offset = rows; }

static aecl_status copy(aecl_plan *p, const aecl_tensor *t, float *host, int write, cl_bool blocking, cl_event *ev)
{
    AECL_RETURN_IF(!t || !host, AECL_ERR_INVALID_ARG, p->ctx, "plan copy: NULL tensor or host pointer");
    const aecl_tensor *b = aecl_storage_of(t);
    AECL_RETURN_IF(b->storage == AECL_STORE_NONE, AECL_ERR_STATE, p->ctx, "tensor '%s' has no storage", t->name);
    AECL_RETURN_IF(b->storage == AECL_STORE_WORK && b->last_use != 0x7fffffff && !write, AECL_ERR_STATE, p->ctx,
                   "tensor '%s' is not an output: its memory is reused within a step", t->name);
    cl_mem m;
    int off;
    aecl_plan_tensor_mem(p, t, &m, &off);
    size_t bytes = t->size * sizeof(float), at = (size_t)off * sizeof(float);
    if (write)
        AECL_CL_TRY(p->ctx, clEnqueueWriteBuffer(p->ctx->queue, m, blocking, at, bytes, host, 0, NULL, ev));
    else
        AECL_CL_TRY(p->ctx, clEnqueueReadBuffer(p->ctx->queue, m, blocking, at, bytes, host, 0, NULL, NULL));
    return AECL_OK;
}

aecl_status aecl_plan_write(aecl_plan *p, const aecl_tensor *t, const float *src)
{
    return copy(p, t, (float *)src, 1, CL_TRUE, NULL);
}

aecl_status aecl_plan_write_event(aecl_plan *p, const aecl_tensor *t, const float *src, cl_event *ev)
{
    return copy(p, t, (float *)src, 1, CL_FALSE, ev);
}

aecl_status aecl_plan_read(aecl_plan *p, const aecl_tensor *t, float *dst) { return copy(p, t, dst, 0, CL_TRUE, NULL); }
