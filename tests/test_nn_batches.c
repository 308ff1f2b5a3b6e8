/* The batch runner (lib/nn/batches.c): a plan of batch 4 run over 10 rows gives
 * every row's output, pads a host input's short last chunk with zeros, sets the
 * valid-row count (a masked mean sees only the chunk's rows), and chains two
 * plans on device buffers at byte offsets with an end event; misuse is refused. */
#include "compile/compile.h"
#include "check.h"
#include "nn/batches.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

enum { B = 4, F = 3, N = 10 };

/* y = alpha x + beta and its per-row squared distance to x, and their masked mean. */
typedef struct affine_plan {
    aecl_graph *g;
    aecl_plan *p;
    aecl_tensor *x, *y, *rows, *mean;
} affine_plan;

static void build(aecl_ctx *ctx, affine_plan *a, float alpha, float beta)
{
    int shape[2] = {B, F};
    memset(a, 0, sizeof *a);
    CHECK_OK(ctx, aecl_graph_create(ctx, &a->g));
    a->x = aecl_input(a->g, "x", 2, shape);
    a->y = aecl_mark(aecl_affine(a->g, a->x, alpha, beta), AECL_T_OUTPUT);
    a->rows = aecl_mark(aecl_loss_rows(a->g, AECL_LOSS_MSE, a->y, a->x), AECL_T_OUTPUT);
    a->mean = aecl_mark(aecl_masked_mean(a->g, a->rows, 1.0f), AECL_T_OUTPUT);
    CHECK_OK(ctx, aecl_graph_status(a->g));
    aecl_plan_options opt = {0};
    CHECK_OK(ctx, aecl_plan_compile(a->g, &opt, &a->p));
}

static void destroy(affine_plan *a)
{
    aecl_plan_free(a->p);
    aecl_graph_free(a->g);
}

typedef struct seen {
    affine_plan *a;
    const float *x;
    int calls, bad_rows, bad_pad, bad_mean;
    size_t from[8];
} seen;

/* Each chunk: its place, its rows in the chunk buffer, zero padding (y = beta = 1)
 * and a masked mean over the chunk's rows only. */
static aecl_status on_chunk(void *user, const aecl_batches *b, size_t from, int rows)
{
    seen *s = user;
    if (s->calls < 8) s->from[s->calls] = from;
    s->calls++;
    const float *y = b->out[0].chunk, *r = b->out[1].chunk;
    double sum = 0;
    for (int i = 0; i < B; i++) {
        double d2 = 0;
        for (int k = 0; k < F; k++) {
            float x = i < rows ? s->x[(from + (size_t)i) * F + (size_t)k] : 0.0f;
            if (y[i * F + k] != 2.0f * x + 1.0f) *(i < rows ? &s->bad_rows : &s->bad_pad) += 1;
            d2 += (double)(x + 1.0f) * (x + 1.0f);
        }
        if (i < rows && fabs(r[i] - d2) > 1e-5 * d2) s->bad_rows++;
        if (i < rows) sum += d2;
    }
    float mean = 0;
    AECL_TRY(aecl_plan_read(s->a->p, s->a->mean, &mean));
    if (fabs(mean - sum / rows) > 1e-5 * sum / rows) s->bad_mean++;
    return AECL_OK;
}

static void test_host(aecl_ctx *ctx, const float *x)
{
    affine_plan a;
    build(ctx, &a, 2.0f, 1.0f);
    float y[N * F], rows[N];
    memset(y, 0, sizeof y);
    seen s = {.a = &a, .x = x};
    aecl_batches b = {.batch = B, .rows = N, .n_stages = 1, .stage = {{a.p, a.x, NULL}}, .in = {.host = x},
                      .n_out = 2, .on_chunk = on_chunk, .user = &s};
    b.out[0] = (aecl_batches_out){.t = a.y, .host = y};
    b.out[1] = (aecl_batches_out){.t = a.rows, .host = rows};
    CHECK_OK(ctx, aecl_batches_run(&b));
    CHECK(s.calls == 3 && s.from[0] == 0 && s.from[1] == 4 && s.from[2] == 8);
    CHECK_MSG(!s.bad_rows && !s.bad_pad && !s.bad_mean, "bad rows %d, padding %d, masked means %d", s.bad_rows,
              s.bad_pad, s.bad_mean);
    int bad = 0;
    for (int i = 0; i < N * F; i++) bad += y[i] != 2.0f * x[i] + 1.0f;
    CHECK_MSG(bad == 0, "%d outputs wrong", bad);
    CHECK(b.out[0].chunk == NULL);
    /* Misuse: no rows, a wait list on a host input, an end event on a host output. */
    b.rows = 0;
    CHECK(aecl_batches_run(&b) == AECL_ERR_INVALID_ARG);
    b.rows = N;
    cl_event ev = NULL;
    b.n_wait = 1;
    b.wait = &ev;
    CHECK(aecl_batches_run(&b) == AECL_ERR_INVALID_ARG);
    b.n_wait = 0;
    b.done = &ev;
    CHECK(aecl_batches_run(&b) == AECL_ERR_INVALID_ARG && ev == NULL);
    destroy(&a);
}

/* Without a callback, host rows stream (non-blocking copies, one wait at the
 * end): every row arrives, the short last chunk's rows only (the arrays end at
 * row N: a write past them would land in the guard values), as with waits. */
static void test_host_streamed(aecl_ctx *ctx, const float *x)
{
    affine_plan a;
    build(ctx, &a, 2.0f, 1.0f);
    float y[N * F + 4], rows[N + 4];
    for (int i = 0; i < N * F + 4; i++) y[i] = NAN;
    for (int i = 0; i < N + 4; i++) rows[i] = NAN;
    aecl_batches b = {.batch = B, .rows = N, .n_stages = 1, .stage = {{a.p, a.x, NULL}}, .in = {.host = x}, .n_out = 2};
    b.out[0] = (aecl_batches_out){.t = a.y, .host = y};
    b.out[1] = (aecl_batches_out){.t = a.rows, .host = rows};
    CHECK_OK(ctx, aecl_batches_run(&b));
    int bad = 0;
    for (int i = 0; i < N * F; i++) bad += y[i] != 2.0f * x[i] + 1.0f;
    for (int i = 0; i < N; i++) {
        double d2 = 0;
        for (int k = 0; k < F; k++) d2 += (double)(x[i * F + k] + 1.0f) * (x[i * F + k] + 1.0f);
        bad += !(fabs(rows[i] - d2) <= 1e-5 * d2);
    }
    for (int i = N * F; i < N * F + 4; i++) bad += !isnan(y[i]);
    for (int i = N; i < N + 4; i++) bad += !isnan(rows[i]);
    CHECK_MSG(bad == 0, "streamed pass: %d values wrong", bad);
    destroy(&a);
}

/* Two stages on device buffers: y = (2x + 1) * 0.5 - 0.5. */
static void test_device(aecl_ctx *ctx, const float *x)
{
    affine_plan a, c;
    build(ctx, &a, 2.0f, 1.0f);
    build(ctx, &c, 0.5f, -0.5f);
    aecl_buffer *in = NULL, *out = NULL;
    CHECK_OK(ctx, aecl_buffer_create(ctx, N * F + 5, sizeof(float), &in));
    CHECK_OK(ctx, aecl_buffer_create(ctx, N * F + 7, sizeof(float), &out));
    if (!in || !out) return;
    CHECK_OK(ctx, aecl_buffer_upload(in, 20, x, N * F * sizeof *x));
    cl_event done = NULL;
    aecl_batches b = {.batch = B, .rows = N, .n_stages = 2, .stage = {{a.p, a.x, a.y}, {c.p, c.x, NULL}},
                      .in = {.mem = aecl_buffer_cl(in), .off = 20}, .n_out = 1, .done = &done};
    b.out[0] = (aecl_batches_out){.t = c.y, .mem = aecl_buffer_cl(out), .off = 28};
    CHECK_OK(ctx, aecl_batches_run(&b));
    CHECK(done != NULL);
    if (done) {
        CHECK(clWaitForEvents(1, &done) == CL_SUCCESS);
        clReleaseEvent(done);
    }
    float y[N * F + 7];
    CHECK_OK(ctx, aecl_buffer_download(out, 0, y, sizeof y));
    int bad = 0;
    for (int i = 0; i < 7; i++) bad += y[i] != 0.0f; /* bytes before the offset untouched */
    for (int i = 0; i < N * F; i++) bad += fabsf(y[7 + i] - x[i]) > 1e-6f;
    CHECK_MSG(bad == 0, "%d device outputs wrong", bad);
    aecl_buffer_free(in);
    aecl_buffer_free(out);
    destroy(&a);
    destroy(&c);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    float x[N * F];
    unsigned st = 7;
    test_fill_uniform(x, N * F, -1, 1, &st);
    test_host(ctx, x);
    test_host_streamed(ctx, x);
    test_device(ctx, x);
    return test_finish();
}
