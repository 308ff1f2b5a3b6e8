/* Data-parallel training: one rank's collectives and its training step
 * (train_dist.h). */
#include "nn/train_dist.h"
#include "rt/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_BUCKETS = 8,
    /* The floats before the gradients in the host buffer, summed with the last
     * bucket: ranks that failed, the sum of their ranks, of their status codes. */
    STATUS = 4,
    MIN_BUCKET = 16384        /* floats: smaller buckets cost more in calls than they hide */
};

typedef struct bucket {
    size_t off, len;          /* elements of the gradient region */
    int ready;                /* the plan's launches [0, ready) write it */
} bucket;

struct aecl_dist {
    aecl_ctx *ctx;
    const aecl_comm *c;
    aecl_plan *plan;
    int share;                /* this rank's rows of a full global batch */
    cl_mem mem;
    size_t region, elems;     /* the gradient region of the work buffer */
    float *h;                 /* STATUS floats, then the region's copy */
    bucket b[MAX_BUCKETS];    /* in the order they are summed; the last starts at 0 */
    int nb, overlap;
    cl_event ev[MAX_BUCKETS]; /* the read of each bucket (NULL: send zeros) */
    cl_event wrote;           /* the last step's write of the sums from h */
    float weight;             /* this rank's share of the step's rows */
    aecl_status local;        /* this rank's status, sent with the last bucket */
    int read_failed;          /* a bucket's read failed (set by whoever sums it) */
    aecl_status comm_st;      /* a failed collective: none is made after it */
    /* the communication thread (overlap) */
    int threaded, quit;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int posted, done;         /* buckets of the current step */
    aecl_dist_stats stats;
};

static const char *status_name(aecl_status s) { return aecl_status_str(s); }

/* A failed callback: the first one is kept, and no collective follows it. */
static aecl_status comm_failed(aecl_dist *d, aecl_status st, const char *what)
{
    if (d->comm_st == AECL_OK) d->comm_st = st;
    return aecl_fail(d->ctx, st, "data-parallel training: the communicator's %s failed on rank %d (%s)", what,
                     d->c->rank, status_name(st));
}

aecl_status aecl_dist_check(aecl_ctx *ctx, const aecl_comm *c, int batch)
{
    AECL_RETURN_IF(c->size < 1 || c->rank < 0 || c->rank >= c->size, AECL_ERR_INVALID_ARG, ctx,
                   "data-parallel training: rank %d of %d ranks (need 0 <= rank < size)", c->rank, c->size);
    AECL_RETURN_IF(!c->allreduce_f32 || !c->allreduce_f64 || !c->broadcast, AECL_ERR_INVALID_ARG, ctx,
                   "data-parallel training: the communicator lacks a collective (allreduce_f32, allreduce_f64 and "
                   "broadcast are all needed)");
    AECL_RETURN_IF(batch % c->size != 0, AECL_ERR_INVALID_ARG, ctx,
                   "data-parallel training: the batch %d (the global batch) is not divisible by the %d ranks", batch,
                   c->size);
    return AECL_OK;
}

int aecl_dist_rank(const aecl_dist *d) { return d->c->rank; }

int aecl_dist_rows(const aecl_dist *d, int rows, int *first)
{
    int share = d->share;
    *first = d->c->rank * share;
    int left = rows - *first;
    return left <= 0 ? 0 : left < share ? left : share;
}

/* ---- status agreement ------------------------------------------------------------ */

static void put_status(double *v, const aecl_dist *d, aecl_status local)
{
    int bad = local != AECL_OK;
    v[0] = bad;
    v[1] = bad ? d->c->rank : 0;
    v[2] = bad ? (double)local : 0;
}

/* After a sum carrying put_status's values: this rank's own error, or another
 * rank's status with a message naming it. */
static aecl_status agreed(aecl_dist *d, const double *v, aecl_status local)
{
    if (local != AECL_OK) return local;
    if (v[0] < 0.5) return AECL_OK;
    int failed = (int)(v[0] + 0.5);
    if (failed == 1)
        return aecl_fail(d->ctx, (aecl_status)(int)(v[2] + 0.5),
                         "data-parallel training: rank %d failed (%s; its own message says why)", (int)(v[1] + 0.5),
                         status_name((aecl_status)(int)(v[2] + 0.5)));
    return aecl_fail(d->ctx, AECL_ERR_STATE, "data-parallel training: %d ranks failed (their messages say why)",
                     failed);
}

aecl_status aecl_dist_sum(aecl_dist *d, double *v, int n, aecl_status local)
{
    AECL_RETURN_IF(n < 0 || n > 16, AECL_ERR_INVALID_ARG, d->ctx, "aecl_dist_sum: %d values (at most 16)", n);
    if (d->comm_st != AECL_OK) return d->comm_st;
    double buf[16 + 3];
    for (int i = 0; i < n; i++) buf[i] = local == AECL_OK ? v[i] : 0.0;
    put_status(buf + n, d, local);
    aecl_status st = d->c->allreduce_f64(d->c->user, buf, (size_t)n + 3);
    if (st != AECL_OK) return comm_failed(d, st, "allreduce_f64");
    AECL_TRY(agreed(d, buf + n, local));
    if (n) memcpy(v, buf, (size_t)n * sizeof *v);
    return AECL_OK;
}

/* What rank 0 sends before the data of a broadcast. */
typedef struct bcast_head {
    int32_t status;
    char msg[508];
} bcast_head;

aecl_status aecl_dist_bcast(aecl_dist *d, void *data, size_t bytes, aecl_status root)
{
    if (d->comm_st != AECL_OK) return d->comm_st;
    bcast_head h = {.status = root};
    if (d->c->rank == 0 && root != AECL_OK) snprintf(h.msg, sizeof h.msg, "%s", aecl_ctx_last_error(d->ctx));
    aecl_status st = d->c->broadcast(d->c->user, &h, sizeof h, 0);
    if (st != AECL_OK) return comm_failed(d, st, "broadcast");
    h.msg[sizeof h.msg - 1] = 0;
    if (h.status != AECL_OK)
        return d->c->rank == 0 ? (aecl_status)h.status
                               : aecl_fail(d->ctx, (aecl_status)h.status, "rank 0: %s", h.msg);
    if (!bytes) return AECL_OK;
    st = d->c->broadcast(d->c->user, data, bytes, 0);
    return st == AECL_OK ? AECL_OK : comm_failed(d, st, "broadcast");
}

aecl_status aecl_dist_bcast_tensors(aecl_dist *d, const aecl_tensor *const *t, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) total += t[i]->size;
    float *buf = malloc((total ? total : 1) * sizeof *buf);
    aecl_status st = buf ? AECL_OK : aecl_fail(d->ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    float *p = buf;
    for (int i = 0; i < n && st == AECL_OK && d->c->rank == 0; p += t[i]->size, i++)
        st = aecl_plan_read(d->plan, t[i], p);
    /* A rank without the buffer still takes part (its status goes with the sum). */
    double v[1] = {(double)total};
    aecl_status agree = aecl_dist_sum(d, v, 1, st);
    if (agree == AECL_OK && v[0] != (double)total * d->c->size)
        agree = aecl_fail(d->ctx, AECL_ERR_STATE,
                          "data-parallel training: the ranks' models differ (%zu parameter and state floats here)",
                          total);
    st = agree;
    if (st == AECL_OK) st = aecl_dist_bcast(d, buf, total * sizeof *buf, AECL_OK);
    p = buf;
    for (int i = 0; i < n && st == AECL_OK && d->c->rank != 0; p += t[i]->size, i++)
        st = aecl_plan_write(d->plan, t[i], p);
    free(buf);
    return st;
}

/* ---- buckets ------------------------------------------------------------------------ */

/* Gradients in region order, cut from the end (the last layers' gradients are
 * ready first) into buckets of at least an eighth of the region (MIN_BUCKET
 * floats at least); the rest, from offset 0, is summed last, after the whole
 * backward pass, and carries the status. Buckets are sorted by readiness. */
static void make_buckets(aecl_dist *d, int overlap)
{
    const aecl_plan_grad *g;
    int n = aecl_plan_grads(d->plan, &g), start = aecl_plan_update_start(d->plan);
    size_t target = d->elems / 8 > MIN_BUCKET ? d->elems / 8 : MIN_BUCKET, end = d->elems;
    d->nb = 0;
    int last = n; /* grads [i, last) are the open bucket */
    for (int i = n - 1; overlap && i > 0 && d->nb < MAX_BUCKETS - 1; i--) {
        if (end - g[i].off < target) continue;
        bucket b = {g[i].off, end - g[i].off, 0};
        for (int k = i; k < last; k++) b.ready = b.ready > g[k].ready ? b.ready : g[k].ready;
        d->b[d->nb++] = b;
        end = g[i].off;
        last = i;
    }
    for (int i = 1; i < d->nb; i++) /* insertion sort by readiness */
        for (int k = i; k > 0 && d->b[k].ready < d->b[k - 1].ready; k--) {
            bucket t = d->b[k]; d->b[k] = d->b[k - 1]; d->b[k - 1] = t;
        }
    d->b[d->nb++] = (bucket){0, end, start};
}

/* ---- summing a bucket (the communication thread, or the caller without overlap) --- */

static void sum_bucket(aecl_dist *d, int k)
{
    bucket *b = &d->b[k];
    float *p = d->h + STATUS + b->off;
    aecl_status own = AECL_OK;
    if (d->ev[k]) {
        if (clWaitForEvents(1, &d->ev[k]) != CL_SUCCESS) own = AECL_ERR_OPENCL;
        clReleaseEvent(d->ev[k]);
        d->ev[k] = NULL;
    } else {
        own = AECL_ERR_STATE; /* nothing was read: zeros go out */
        /* ...into h, which the last step's write may not have copied yet (a read
         * would have waited for it in the queue). */
        if (d->wrote && clWaitForEvents(1, &d->wrote) != CL_SUCCESS) own = AECL_ERR_OPENCL;
    }
    double t0 = aecl_now_s(); /* from the data's arrival: the host's own work */
    if (own != AECL_OK) memset(p, 0, b->len * sizeof *p);
    else if (d->weight != 1.0f)
        for (size_t i = 0; i < b->len; i++) p[i] *= d->weight;
    /* A rank without rows sends zeros and is no failure; a read that failed is. */
    if (own == AECL_ERR_OPENCL) d->read_failed = 1;
    size_t n = b->len;
    if (k == d->nb - 1) {
        /* The caller set d->local before posting this bucket and reads it after. */
        if (d->local == AECL_OK && d->read_failed)
            d->local = aecl_fail(d->ctx, AECL_ERR_OPENCL, "data-parallel training: reading the gradients failed");
        double v[3];
        put_status(v, d, d->local);
        for (int i = 0; i < STATUS; i++) d->h[i] = i < 3 ? (float)v[i] : 0.0f;
        p = d->h;
        n += STATUS;
    }
    if (d->comm_st == AECL_OK) {
        aecl_status st = d->c->allreduce_f32(d->c->user, p, n);
        if (st != AECL_OK) d->comm_st = st;
    }
    d->stats.comm_s += aecl_now_s() - t0;
}

static void *comm_thread(void *arg)
{
    aecl_dist *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (d->done == d->posted && !d->quit) pthread_cond_wait(&d->cv, &d->mu);
        if (d->done == d->posted) break;
        int k = d->done;
        pthread_mutex_unlock(&d->mu);
        sum_bucket(d, k);
        pthread_mutex_lock(&d->mu);
        d->done++;
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static void post(aecl_dist *d, int k)
{
    if (!d->threaded) {
        sum_bucket(d, k);
        d->done++;
        return;
    }
    pthread_mutex_lock(&d->mu);
    d->posted = k + 1;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static void wait_all(aecl_dist *d)
{
    if (!d->threaded) return;
    double t0 = aecl_now_s();
    pthread_mutex_lock(&d->mu);
    while (d->done < d->nb) pthread_cond_wait(&d->cv, &d->mu);
    pthread_mutex_unlock(&d->mu);
    d->stats.wait_s += aecl_now_s() - t0;
}

/* ---- the step --------------------------------------------------------------------- */

/* Runs the launches up to bucket k's readiness and enqueues its read. */
static aecl_status read_bucket(aecl_dist *d, int k, int *pos)
{
    bucket *b = &d->b[k];
    AECL_TRY(aecl_plan_run_range(d->plan, *pos, b->ready));
    *pos = b->ready;
    AECL_CL_TRY(d->ctx, clEnqueueReadBuffer(aecl_ctx_cl_queue(d->ctx), d->mem, CL_FALSE,
                                            (d->region + b->off) * sizeof(float), b->len * sizeof(float),
                                            d->h + STATUS + b->off, 0, NULL, &d->ev[k]));
    /* The device starts on what is queued while the host waits for the read. */
    AECL_CL_TRY(d->ctx, clFlush(aecl_ctx_cl_queue(d->ctx)));
    return AECL_OK;
}

aecl_status aecl_dist_step(aecl_dist *d, int rows, int total, aecl_status local)
{
    if (d->comm_st != AECL_OK) return d->comm_st;
    d->weight = total > 0 ? (float)((double)rows / (double)total) : 0.0f;
    if (d->threaded) pthread_mutex_lock(&d->mu);
    d->posted = d->done = d->read_failed = 0;
    if (d->threaded) pthread_mutex_unlock(&d->mu);
    int pos = 0;
    aecl_status st = local;
    for (int k = 0; k < d->nb; k++) {
        if (st == AECL_OK && rows > 0) st = read_bucket(d, k, &pos);
        if (k == d->nb - 1) d->local = st;
        post(d, k);
    }
    wait_all(d);
    if (d->comm_st != AECL_OK) return comm_failed(d, d->comm_st, "allreduce_f32");
    double v[3] = {d->h[0], d->h[1], d->h[2]};
    AECL_TRY(agreed(d, v, d->local));
    d->stats.steps++;
    /* In order after the reads: the host copy is not touched again before the
     * next step's reads, which the queue runs after this write. */
    if (d->wrote) clReleaseEvent(d->wrote);
    d->wrote = NULL;
    AECL_CL_TRY(d->ctx, clEnqueueWriteBuffer(aecl_ctx_cl_queue(d->ctx), d->mem, CL_FALSE, d->region * sizeof(float),
                                             d->elems * sizeof(float), d->h + STATUS, 0, NULL, &d->wrote));
    int end = aecl_plan_launch_count(d->plan);
    AECL_TRY(aecl_plan_run_range(d->plan, aecl_plan_update_start(d->plan), end));
    aecl_plan_end_step(d->plan);
    return AECL_OK;
}

/* ---- open and close ----------------------------------------------------------------- */

aecl_status aecl_dist_open(aecl_ctx *ctx, const aecl_comm *comm, int share, int overlap, aecl_dist **out)
{
    *out = calloc(1, sizeof **out);
    AECL_RETURN_IF(!*out, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    aecl_dist *d = *out;
    d->ctx = ctx;
    d->c = comm;
    d->share = share;
    d->overlap = overlap && comm->size > 1;
    return AECL_OK;
}

/* The buckets' thread; without one the buckets are summed in turn on the
 * caller's thread: the same calls, only nothing overlaps. */
static void start_thread(aecl_dist *d)
{
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    d->threaded = pthread_create(&d->th, NULL, comm_thread, d) == 0;
    if (d->threaded) return;
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
}

aecl_status aecl_dist_set_plan(aecl_dist *d, aecl_plan *plan, aecl_status local)
{
    const aecl_plan_grad *g;
    aecl_status st = local;
    if (st == AECL_OK && aecl_plan_grads(plan, &g) == 0)
        st = aecl_fail(d->ctx, AECL_ERR_STATE,
                       "data-parallel training needs a training plan whose parameter gradients are tensors of their own");
    if (st == AECL_OK) {
        d->plan = plan;
        aecl_plan_grad_region(plan, &d->mem, &d->region, &d->elems);
        d->h = malloc((STATUS + d->elems) * sizeof *d->h);
        if (!d->h) st = aecl_fail(d->ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    if (st == AECL_OK) make_buckets(d, d->overlap);
    d->stats.buckets = d->nb;
    d->stats.floats = d->elems;
    /* Every rank must cut the same buckets of the same region. */
    double v[2] = {(double)d->elems, (double)d->nb};
    AECL_TRY(aecl_dist_sum(d, v, 2, st));
    AECL_RETURN_IF(v[0] != (double)d->elems * d->c->size || v[1] != (double)d->nb * d->c->size, AECL_ERR_STATE, d->ctx,
                   "data-parallel training: the ranks' plans differ (%zu gradient floats in %d buckets here)", d->elems,
                   d->nb);
    if (d->nb > 1) start_thread(d);
    return AECL_OK;
}

void aecl_dist_close(aecl_dist *d)
{
    if (!d) return;
    if (d->threaded) {
        pthread_mutex_lock(&d->mu);
        d->quit = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->th, NULL);
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
    }
    if (d->wrote) { clWaitForEvents(1, &d->wrote); clReleaseEvent(d->wrote); } /* it reads d->h */
    free(d->h);
    free(d);
}

void aecl_dist_get_stats(const aecl_dist *d, aecl_dist_stats *out) { *out = d->stats; }
