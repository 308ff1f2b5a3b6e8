/* Which GEMM path (CLBlast or aecl's kernels) is faster for a device and shape,
 * decided by measurement the first time and remembered twice: in the context
 * (one malloc'd table in a context slot) and in a text file in the aecl cache
 * folder, beside the kernel binaries (gemm_choice_file.c: one line a decision,
 * added under a lock so concurrent processes keep each other's lines).
 * AECL_CACHE=0 turns the file off (measure once per context). */
#define _POSIX_C_SOURCE 200809L
#include "ops/gemm.h"
#include "ops/gemm_choice_file.h"
#include "rt/program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CLBlast must beat aecl's kernel by this factor to be chosen: timing noise should
 * not flip the choice, and aecl's path needs no CLBlast kernels at all. */
#define CLBLAST_MARGIN 1.05

typedef aecl_gemm_choice_key choice_key;

typedef struct choice {
    choice_key key;
    aecl_gemm_path path;
} choice;

/* The per-context table: one allocation (ctx_free frees it with free()). */
typedef struct choice_table {
    size_t n, cap;
    choice e[];
} choice_table;

static choice_key make_key(const aecl_gemm_desc *d, int has_bias)
{
    choice_key k = {d->M, d->N, d->K, d->trans_a, d->trans_b, has_bias || d->act != AECL_ACT_NONE};
    return k;
}

static int same_key(const choice_key *a, const choice_key *b)
{
    return a->M == b->M && a->N == b->N && a->K == b->K && a->ta == b->ta && a->tb == b->tb && a->epi == b->epi;
}

static const char table_owner; /* its address keys the context slot */

static int table_find(const aecl_ctx *ctx, const choice_key *k, aecl_gemm_path *out)
{
    const choice_table *t = aecl_ctx_slot_get(ctx, &table_owner);
    for (size_t i = 0; t && i < t->n; i++)
        if (same_key(&t->e[i].key, k)) {
            *out = t->e[i].path;
            return 1;
        }
    return 0;
}

void aecl_gemm_select_forget(aecl_ctx *ctx)
{
    free(aecl_ctx_slot_get(ctx, &table_owner));
    aecl_ctx_slot_set(ctx, &table_owner, NULL, NULL);
}

/* Best effort: when memory runs out the choice is simply measured again. */
static void table_add(aecl_ctx *ctx, const choice_key *k, aecl_gemm_path path)
{
    choice_table *t = aecl_ctx_slot_get(ctx, &table_owner);
    if (!t || t->n == t->cap) {
        size_t cap = t ? t->cap * 2 : 16;
        choice_table *nt = realloc(t, sizeof *t + cap * sizeof(choice));
        if (!nt) return;
        if (!t) nt->n = 0;
        nt->cap = cap;
        /* A first set can fail (a replacement cannot): then nothing is kept. */
        if (!aecl_ctx_slot_set(ctx, &table_owner, nt, free)) { free(nt); return; }
        t = nt;
    }
    t->e[t->n].key = *k;
    t->e[t->n].path = path;
    t->n++;
}

/* ---- the file ------------------------------------------------------------------ */

static int choice_path(char *path, size_t cap)
{
    aecl_bincache c;
    aecl_bincache_init(&c);
    if (!c.enabled) return 0;
    return snprintf(path, cap, "%s/%s", c.dir, AECL_GEMM_CHOICE_FILE) < (int)cap;
}

static int file_find(const aecl_ctx *ctx, const choice_key *k, aecl_gemm_path *out)
{
    char path[1200];
    return choice_path(path, sizeof path) &&
           aecl_gemm_choice_file_find(path, ctx->info.name, ctx->info.driver_version, k, out);
}

/* Best effort: the cache is an optimisation, a failure only means measuring
 * again next time. */
static void file_add(aecl_ctx *ctx, const choice_key *k, aecl_gemm_path path, const aecl_gemm_timing *t)
{
    char file[1200];
    aecl_bincache c;
    aecl_bincache_init(&c);
    if (!choice_path(file, sizeof file) || !aecl_bincache_make_dir(&c)) return;
    aecl_gemm_choice_line line = {ctx->info.name, ctx->info.driver_version, *k, path, t->own_s * 1e6,
                                  t->clblast_s * 1e6};
    (void)aecl_gemm_choice_file_add(ctx, file, &line);
}

/* ---- measuring ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Seconds per call of `reps` back-to-back enqueues (wall time, to clFinish). */
static aecl_status time_launch(aecl_ctx *ctx, const aecl_launch *l, int reps, double *secs)
{
    double t0 = aecl_now_s();
    for (int r = 0; r < reps; r++) AECL_TRY(aecl_launch_enqueue(ctx, l, NULL));
    AECL_CL_TRY(ctx, clFinish(ctx->queue));
    *secs = (aecl_now_s() - t0) / reps;
    return AECL_OK;
}

typedef struct scratch {
    cl_mem a, b, c, bias;
} scratch;

static void scratch_free(scratch *s)
{
    cl_mem *m[4] = {&s->a, &s->b, &s->c, &s->bias};
    for (int i = 0; i < 4; i++)
        if (*m[i]) clReleaseMemObject(*m[i]);
}

static aecl_status scratch_buffer(aecl_ctx *ctx, size_t n, cl_mem *out)
{
    cl_int err;
    size_t bytes;
    AECL_RETURN_IF(!aecl_mul_size(n, sizeof(float), &bytes), AECL_ERR_HOST_MEMORY, ctx, "gemm: size overflow");
    *out = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) return aecl_fail_cl(ctx, err, "clCreateBuffer", __FILE__, __LINE__);
    /* Small values: no overflow or denormals whatever the activation. */
    float v = 1.0f / 64;
    AECL_CL_TRY(ctx, clEnqueueFillBuffer(ctx->queue, *out, &v, sizeof v, 0, bytes, 0, NULL, NULL));
    return AECL_OK;
}

static aecl_status scratch_make(aecl_ctx *ctx, const aecl_gemm_desc *d, int has_bias, scratch *s)
{
    memset(s, 0, sizeof *s);
    aecl_status st = scratch_buffer(ctx, (size_t)d->M * d->K, &s->a);
    if (st == AECL_OK) st = scratch_buffer(ctx, (size_t)d->K * d->N, &s->b);
    if (st == AECL_OK) st = scratch_buffer(ctx, (size_t)d->M * d->N, &s->c);
    if (st == AECL_OK && has_bias) st = scratch_buffer(ctx, (size_t)d->N, &s->bias);
    if (st != AECL_OK) scratch_free(s);
    return st;
}

/* Prepares path p on the scratch buffers and runs it twice (the first run compiles
 * whatever the driver compiles lazily); *reps is set so one timed sample takes
 * about a millisecond. Returns 0 when the path cannot run. */
static int warm_path(aecl_ctx *ctx, const aecl_gemm_desc *d, aecl_gemm_path p, const scratch *s, aecl_launch *l,
                     int *reps)
{
    aecl_gemm_desc dd = *d;
    dd.path = p;
    dd.lda = dd.ldb = dd.ldc = 0;
    double t = 0;
    if (aecl_gemm_prepare(ctx, &dd, s->a, 0, s->b, 0, s->c, 0, s->bias, 0, l) != AECL_OK) return 0;
    if (time_launch(ctx, l, 1, &t) != AECL_OK || time_launch(ctx, l, 1, &t) != AECL_OK) {
        aecl_launch_release(l);
        return 0;
    }
    *reps = t > 1e-3 ? 1 : t < 1e-3 / 16 ? 16 : (int)(1e-3 / t);
    return 1;
}

aecl_status aecl_gemm_measure(aecl_ctx *ctx, const aecl_gemm_desc *d, int has_bias, int rounds,
                              aecl_gemm_timing *out)
{
    AECL_RETURN_IF(!ctx || !d || !out, AECL_ERR_INVALID_ARG, ctx, "gemm_measure: NULL argument");
    AECL_RETURN_IF(d->M < 1 || d->N < 1 || d->K < 1, AECL_ERR_SHAPE, ctx, "gemm_measure: bad sizes");
    if (rounds < 1) rounds = 1;
    if (rounds > 64) rounds = 64;
    memset(out, 0, sizeof *out);
    scratch s;
    AECL_TRY(scratch_make(ctx, d, has_bias, &s));
    aecl_launch l[2];
    int ok[2], reps[2] = {1, 1};
    ok[0] = warm_path(ctx, d, AECL_GEMM_OWN, &s, &l[0], &reps[0]);
    ok[1] = warm_path(ctx, d, AECL_GEMM_CLBLAST, &s, &l[1], &reps[1]);
    double t[2][64];
    /* Interleaved rounds: a burst of load from elsewhere hits both paths alike. */
    for (int r = 0; r < rounds; r++)
        for (int p = 0; p < 2; p++)
            if (ok[p] && time_launch(ctx, &l[p], reps[p], &t[p][r]) != AECL_OK) ok[p] = 0;
    for (int p = 0; p < 2; p++) {
        if (!ok[p]) continue;
        qsort(t[p], (size_t)rounds, sizeof(double), cmp_double);
        *(p ? &out->clblast_s : &out->own_s) = t[p][rounds / 2];
    }
    for (int p = 0; p < 2; p++) aecl_launch_release(&l[p]); /* zeroed when never prepared */
    scratch_free(&s);
    return AECL_OK;
}

/* ---- the choice ------------------------------------------------------------------ */

aecl_status aecl_gemm_select(aecl_ctx *ctx, const aecl_gemm_desc *d, int has_bias, aecl_gemm_path *out)
{
    AECL_RETURN_IF(!ctx || !d || !out, AECL_ERR_INVALID_ARG, ctx, "gemm_select: NULL argument");
    choice_key k = make_key(d, has_bias);
    if (table_find(ctx, &k, out)) return AECL_OK;
    if (file_find(ctx, &k, out)) {
        table_add(ctx, &k, *out);
        return AECL_OK;
    }
    aecl_gemm_timing t;
    AECL_TRY(aecl_gemm_measure(ctx, d, has_bias, 5, &t));
    AECL_RETURN_IF(t.own_s == 0 && t.clblast_s == 0, AECL_ERR_OPENCL, ctx,
                   "gemm %dx%dx%d: neither aecl's kernel nor CLBlast could run", d->M, d->N, d->K);
    *out = t.own_s > 0 && (t.clblast_s == 0 || t.clblast_s * CLBLAST_MARGIN >= t.own_s) ? AECL_GEMM_OWN
                                                                                       : AECL_GEMM_CLBLAST;
    aecl_log(ctx, AECL_LOG_INFO, "gemm %dx%dx%d trans %d%d: aecl %.1f us, CLBlast %.1f us -> %s", d->M, d->N, d->K,
             d->trans_a, d->trans_b, t.own_s * 1e6, t.clblast_s * 1e6, *out == AECL_GEMM_OWN ? "aecl" : "CLBlast");
    table_add(ctx, &k, *out);
    file_add(ctx, &k, *out, &t);
    return AECL_OK;
}
