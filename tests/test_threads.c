/* Thread-safety as aecl.h states it: different contexts may be used from different
 * threads at the same time. Two threads, each with its own context, run the
 * self-test and build, compile and run plans (a dense layer with ReLU) over and
 * over, each checking its results against the host; plus the run-time version
 * against the header's. */
#include "compile/compile.h"
#include "check.h"
#include "graph/plan.h"
#include "ops/ops.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { N = 13, IN = 37, OUT = 19, ROUNDS = 4 };

typedef struct job {
    int id;
    int failures;             /* counted per thread: CHECK's counters are not atomic */
    char message[512];
} job;

static void fail(job *j, const char *what, aecl_ctx *ctx)
{
    if (!j->failures++) snprintf(j->message, sizeof j->message, "thread %d: %s: %s", j->id, what, aecl_ctx_last_error(ctx));
}

/* y = relu(x W^T + b) on the host. */
static void host_dense(const float *x, const float *w, const float *b, float *y)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OUT; o++) {
            double s = b[o];
            for (int k = 0; k < IN; k++) s += (double)x[n * IN + k] * w[o * IN + k];
            y[n * OUT + o] = s > 0 ? (float)s : 0.0f;
        }
}

/* Builds, compiles and runs one plan; 0 when the device agrees with the host. */
static int one_plan(job *j, aecl_ctx *ctx, unsigned seed)
{
    float x[N * IN], w[OUT * IN], b[OUT], y[N * OUT], ref[N * OUT];
    test_fill_uniform(x, N * IN, -1, 1, &seed);
    test_fill_uniform(w, OUT * IN, -0.5f, 0.5f, &seed);
    test_fill_uniform(b, OUT, -0.1f, 0.1f, &seed);
    host_dense(x, w, b, ref);
    aecl_graph *g = NULL;
    aecl_plan *p = NULL;
    int xs[2] = {N, IN}, ws[2] = {OUT, IN}, bs[1] = {OUT}, bad = 1;
    if (aecl_graph_create(ctx, &g) != AECL_OK) { fail(j, "graph", ctx); return 1; }
    aecl_tensor *tx = aecl_input(g, "x", 2, xs), *tw = aecl_param(g, "w", 2, ws), *tb = aecl_param(g, "b", 1, bs);
    aecl_tensor *ty = aecl_mark(aecl_dense(g, tx, tw, tb, AECL_ACT_RELU, 0), AECL_T_OUTPUT);
    aecl_plan_options opt = {.seed = seed};
    if (aecl_graph_status(g) == AECL_OK && aecl_plan_compile(g, &opt, &p) == AECL_OK &&
        aecl_plan_write(p, tx, x) == AECL_OK && aecl_plan_write(p, tw, w) == AECL_OK &&
        aecl_plan_write(p, tb, b) == AECL_OK && aecl_plan_run(p) == AECL_OK && aecl_plan_read(p, ty, y) == AECL_OK) {
        bad = test_rel_err(y, ref, N * OUT, 1e-5, 1e-4) > 1;
        if (bad) fail(j, "dense result differs from the host", ctx);
    } else {
        fail(j, "plan", ctx);
    }
    aecl_plan_free(p);
    aecl_graph_free(g);
    return bad;
}

static void *worker(void *arg)
{
    job *j = arg;
    aecl_ctx *ctx = NULL;
    if (aecl_ctx_create(NULL, &ctx) != AECL_OK) {
        fail(j, "context", NULL);
        return NULL;
    }
    for (int r = 0; r < ROUNDS; r++) {
        if (aecl_selftest(ctx) != AECL_OK) fail(j, "selftest", ctx);
        one_plan(j, ctx, (unsigned)(j->id * 1000 + r + 1));
    }
    aecl_ctx_free(ctx);
    return NULL;
}

static void test_two_contexts(void)
{
    job jobs[2] = {{.id = 1}, {.id = 2}};
    pthread_t t[2];
    int started[2];
    for (int i = 0; i < 2; i++) started[i] = pthread_create(&t[i], NULL, worker, &jobs[i]) == 0;
    for (int i = 0; i < 2; i++) {
        CHECK(started[i]);
        if (started[i]) pthread_join(t[i], NULL);
        CHECK_MSG(jobs[i].failures == 0, "%d failures; first: %s", jobs[i].failures, jobs[i].message);
    }
}

/* Messages of calls without a context are kept per thread. */
static void *bad_selector(void *arg)
{
    aecl_ctx *ctx = NULL;
    *(int *)arg = aecl_ctx_create("no-such-device-xyz", &ctx) == AECL_ERR_NO_DEVICE &&
                  strstr(aecl_ctx_last_error(NULL), "no-such-device-xyz") != NULL;
    return NULL;
}

static void test_thread_error_slot(void)
{
    aecl_ctx *ctx = NULL;
    CHECK(aecl_ctx_create("other-missing-device", &ctx) == AECL_ERR_NO_DEVICE);
    int ok = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, bad_selector, &ok) == 0 && pthread_join(t, NULL) == 0);
    CHECK(ok);
    CHECK(strstr(aecl_ctx_last_error(NULL), "other-missing-device") != NULL);   /* ours is untouched */
}

static void test_version(void)
{
    char s[32];
    snprintf(s, sizeof s, "%d.%d.%d", AECL_VERSION_MAJOR, AECL_VERSION_MINOR, AECL_VERSION_PATCH);
    CHECK(aecl_version_number() == AECL_VERSION_NUMBER);
    CHECK(AECL_VERSION_NUMBER == AECL_VERSION_MAJOR * 10000 + AECL_VERSION_MINOR * 100 + AECL_VERSION_PATCH);
    CHECK(strcmp(aecl_version_string(), AECL_VERSION_STRING) == 0 && strcmp(s, AECL_VERSION_STRING) == 0);
}

int main(void)
{
    test_version();
    test_ctx();   /* a device is there (exits as a failure otherwise) */
    test_two_contexts();
    test_thread_error_slot();
    return test_finish();
}
