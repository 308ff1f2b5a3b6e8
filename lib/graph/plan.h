/* A compiled graph: a memory plan (two device buffers: persistent tensors, and a
 * work arena whose regions are reused as tensors die) and a flat list of launches
 * with arguments bound once. A step enqueues the list; only the per-step scalars
 * registered as dynamic (the step counter for random numbers and Adam, the count
 * of valid rows of a short batch) are re-set. */
#ifndef AECL_GRAPH_PLAN_H
#define AECL_GRAPH_PLAN_H

#include "graph/graph.h"
#include "rt/launch.h"

typedef struct aecl_plan_options {
    uint32_t seed;        /* key of the random streams (dropout, noise, eps) */
    int poison;           /* debug: fill each work tensor with NaN when it dies */
    int no_reuse;         /* debug: every work tensor gets its own region */
    int no_fuse;          /* debug: keep every pointwise node its own launch (the
                             fusion rewrites the graph, so it applies to a graph's
                             first compile) */
} aecl_plan_options;

typedef struct aecl_plan_stats {
    size_t persist_bytes;     /* inputs, parameters, optimizer state, constants */
    size_t work_bytes;        /* peak of the work arena under the plan */
    size_t unplanned_bytes;   /* the same tensors, each in its own region */
    int n_launches;           /* launches per step (poison fills excluded) */
    int n_inplace;            /* tensors that took their input's storage */
    int n_fused;              /* nodes folded into fused kernels (pointwise groups,
                                 activation gradients into GEMM epilogues) and padded
                                 copies their producer writes */
    int n_report_only;        /* launches skipped while the plan does not report */
} aecl_plan_stats;

/* aecl_plan_compile (lib/compile/compile.h) builds a plan. */
void aecl_plan_free(aecl_plan *p);
const aecl_plan_stats *aecl_plan_get_stats(const aecl_plan *p);

/* Enqueues one step (no host wait). The step counter then advances by one. */
aecl_status aecl_plan_run(aecl_plan *p);
/* Whether the next steps compute the outputs marked AECL_T_REPORT (on by
 * default). Off, the launches that only those outputs need (a training step's
 * loss value and per-sample loss terms: the gradients do not read them) are
 * skipped, and those outputs keep stale values: a training loop turns it on for
 * the steps whose loss it reads. Profiled runs run every launch. */
void aecl_plan_set_reporting(aecl_plan *p, int on);
/* Like aecl_plan_run, then waits and adds each launch's device time (seconds,
 * from event profiling) into times[n_launches] (may be NULL). */
aecl_status aecl_plan_run_profiled(aecl_plan *p, double *times);
/* Launch i alone (its arguments as the last step left them), then waits: its
 * device time in *seconds. For comparing a launch with its time inside a step
 * (apps/bench_alone.c). It writes what it writes in a step: an optimizer
 * launch updates the parameters once more. */
aecl_status aecl_plan_run_launch_profiled(aecl_plan *p, int i, double *seconds);
/* All launches, poison fills included: the length of run_profiled's times. */
int aecl_plan_launch_count(const aecl_plan *p);
const char *aecl_plan_launch_label(const aecl_plan *p, int i);
double aecl_plan_launch_flops(const aecl_plan *p, int i);

/* Watching a first run's kernel compiles. A driver may compile a kernel when it
 * is first launched (PoCL: once per kernel and work-group size, 0.3-0.5 s each),
 * which makes a plan's first step take seconds. With a watch set, each launch
 * that is the first of its kind in the plan (its kernel function, from its
 * program, at its work-group size) is waited for, and then fn(user, done,
 * total) is called: done of the plan's total kinds have run. The watch ends
 * after the last kind (one step for a plan that runs every launch); later
 * steps run unwatched. fn NULL ends it. Host memory runs out: AECL_ERR_HOST_MEMORY. */
typedef void (*aecl_plan_first_fn)(void *user, int done, int total);
aecl_status aecl_plan_watch_first_launches(aecl_plan *p, aecl_plan_first_fn fn, void *user);

/* A step in parts (data-parallel training works on the gradients between the
 * backward pass and the optimizer): enqueues launches [from, to) with the
 * dynamic arguments of the current step; aecl_plan_end_step then advances the
 * step counter. aecl_plan_run is the whole range and the end. */
aecl_status aecl_plan_run_range(aecl_plan *p, int from, int to);
void aecl_plan_end_step(aecl_plan *p);

/* A gradient of a trainable parameter. Every one lies in one contiguous region of
 * the work arena, in parameter order, never shared with another tensor within a
 * step, so it can be read, summed across processes and written back between
 * its last write and the optimizer. */
typedef struct aecl_plan_grad {
    const aecl_tensor *param;
    size_t off, size;     /* elements of the work buffer */
    int ready;            /* launches [0, ready) write it completely */
} aecl_plan_grad;

/* The gradients (n; NULL/0 for a plan without them, or whose gradients are not
 * all tensors of their own, e.g. one gradient for two parameters), their region
 * [*off, *off + *elems) of the work buffer (*mem), and the first launch that may
 * read them for the update: launches [0, update_start) are the forward and
 * backward passes. */
int aecl_plan_grads(const aecl_plan *p, const aecl_plan_grad **grads);
void aecl_plan_grad_region(const aecl_plan *p, cl_mem *mem, size_t *off, size_t *elems);
int aecl_plan_update_start(const aecl_plan *p);

void aecl_plan_set_step(aecl_plan *p, uint64_t step);
uint64_t aecl_plan_step(const aecl_plan *p);
/* Rows of the batch that hold data (the rest is padding of a short last batch):
 * losses average over these rows only and give the rest zero gradient. */
void aecl_plan_set_valid_rows(aecl_plan *p, int rows);
/* The index of the batch's first row in a larger batch split across processes
 * (0 by default): random ops draw for row k what row `rows + k` of that batch
 * draws, so the split gives the numbers of the whole batch. */
void aecl_plan_set_row_offset(aecl_plan *p, uint32_t rows);

/* Blocking copies between the host and a tensor (any tensor with storage). */
aecl_status aecl_plan_write(aecl_plan *p, const aecl_tensor *t, const float *src);
aecl_status aecl_plan_read(aecl_plan *p, const aecl_tensor *t, float *dst);
/* Non-blocking upload for inputs in a training loop: src must stay valid until
 * *ev (released by the caller) has completed. */
aecl_status aecl_plan_write_event(aecl_plan *p, const aecl_tensor *t, const float *src, cl_event *ev);

/* The device buffer and element offset holding t (views resolved). */
void aecl_plan_tensor_mem(const aecl_plan *p, const aecl_tensor *t, cl_mem *mem, int *off);
int aecl_plan_has_storage(const aecl_tensor *t);

/* ---- for op emitters ---------------------------------------------------------- */

/* A kernel owned by the plan (released with it). */
aecl_status aecl_plan_kernel(aecl_plan *p, const char *file, const char *options, const char *name, cl_kernel *out);
/* The same for a kernel of generated source text (`what` names it in messages). */
aecl_status aecl_plan_kernel_text(aecl_plan *p, const char *what, const char *src, const char *name, cl_kernel *out);
/* Binds arguments from a format, starting at index 0:
 *   T  tensor      -> two args: (cl_mem, int element offset)
 *   i  int         u  unsigned         f  float (passed as double)
 *   R  the plan's seed (uint)
 *   S  the step counter (uint, dynamic)      V  valid rows (int, dynamic)
 *   O  the row offset (uint, dynamic)
 *   _  an aecl_tensor* that may be NULL: (mem, off) of a 1-float dummy when NULL */
aecl_status aecl_plan_args(aecl_plan *p, cl_kernel k, const char *fmt, ...);
/* Appends a launch of k (plan-owned) with the given geometry. local may be NULL. */
aecl_status aecl_plan_launch(aecl_plan *p, cl_kernel k, cl_uint dim, const size_t *global, const size_t *local,
                             const char *label, double flops);
/* 1-D launch over n items with a work-group size the kernel allows. */
aecl_status aecl_plan_launch_1d(aecl_plan *p, cl_kernel k, size_t n, const char *label);
/* Appends a prepared launch; the plan takes ownership of its kernel and data. */
aecl_status aecl_plan_push(aecl_plan *p, aecl_launch *l);
aecl_ctx *aecl_plan_ctx(const aecl_plan *p);
/* The graph the plan was compiled from. */
const aecl_graph *aecl_plan_graph(const aecl_plan *p);

#endif
