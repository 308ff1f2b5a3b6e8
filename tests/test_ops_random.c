/* Dropout, input noise and reparameterisation against host references that
 * regenerate the op's random numbers with the host Philox (ops/philox.h), their
 * statistics, their dependence on the step counter, and their gradients; for the
 * device's own Philox blocks per work-item and for others (AECL_RNG_BLOCKS). */
#include "compile/compile.h"
#include "gradcheck.h"
#include "ops/random.h"
#include "ref_ops.h"

#include <stdlib.h>
#include <string.h>

#define SEED 20240611u
static unsigned fill_seed = 11;

/* A one-op graph: inputs x[0..n_in) (params, so gradients exist), y = build(x),
 * and optionally the gradients of sum(y * r) (r = ones) as outputs. */
typedef struct rig {
    aecl_graph *g;
    aecl_plan *p;
    aecl_tensor *x[2], *y, *r;
} rig;

static int rig_make(aecl_ctx *ctx, rig *R, int n_in, const int *shape, gc_build_fn build, void *arg, int grads)
{
    memset(R, 0, sizeof *R);
    aecl_graph_create(ctx, &R->g);
    for (int i = 0; i < n_in; i++) R->x[i] = aecl_param(R->g, i ? "x1" : "x0", 2, shape);
    R->y = aecl_mark(build(R->g, R->x, arg), AECL_T_OUTPUT);
    if (grads && R->y) {
        R->r = aecl_input(R->g, "r", R->y->ndim, R->y->shape);
        aecl_backward(R->g, aecl_sum(R->g, aecl_mul(R->g, R->y, R->r)));
        for (int i = 0; i < n_in; i++) aecl_mark(R->x[i]->grad, AECL_T_OUTPUT);
    }
    aecl_plan_options opt = {.seed = SEED, .poison = 1};
    aecl_status st = aecl_graph_status(R->g);
    if (st == AECL_OK) st = aecl_plan_compile(R->g, &opt, &R->p);
    CHECK_MSG(st == AECL_OK, "graph: %s", aecl_ctx_last_error(ctx));
    return st == AECL_OK ? 0 : -1;
}

static void rig_free(rig *R)
{
    aecl_plan_free(R->p);
    aecl_graph_free(R->g);
}

static int rig_run(aecl_ctx *ctx, rig *R, float *y)
{
    aecl_status st = aecl_plan_run(R->p);
    if (st == AECL_OK) st = aecl_plan_read(R->p, R->y, y);
    CHECK_MSG(st == AECL_OK, "run: %s", aecl_ctx_last_error(ctx));
    return st == AECL_OK ? 0 : -1;
}

/* ---- dropout ------------------------------------------------------------------------ */

static aecl_tensor *b_dropout(aecl_graph *g, aecl_tensor **x, void *arg)
{
    return aecl_dropout(g, x[0], *(const float *)arg);
}

static aecl_tensor *b_two_dropouts(aecl_graph *g, aecl_tensor **x, void *arg)
{
    float p = *(const float *)arg;
    return aecl_sub(g, aecl_dropout(g, x[0], p), aecl_dropout(g, x[0], p));
}

/* Mismatches of y against the host dropout of x at (step, op). */
static int dropout_mismatches(const float *x, const float *y, size_t n, float p, uint32_t step, uint32_t op,
                              size_t *kept)
{
    int bad = 0;
    *kept = 0;
    for (size_t i = 0; i < n; i++) {
        float want = ref_dropout(x[i], p, SEED, step, op, (uint32_t)i);
        *kept += ref_dropout(1.0f, p, SEED, step, op, (uint32_t)i) != 0.0f;
        bad += memcmp(&want, &y[i], sizeof want) != 0;
    }
    return bad;
}

static void test_dropout(aecl_ctx *ctx)
{
    enum { R = 100, C = 1001, N = R * C };
    const int shape[2] = {R, C};
    float p = 0.3f;
    float *x = malloc(N * sizeof *x), *y0 = malloc(N * sizeof *y0), *y1 = malloc(N * sizeof *y1);
    test_fill_uniform(x, N, 0.5f, 2.0f, &fill_seed); /* nonzero: a zero output means dropped */
    rig Rg;
    if (!rig_make(ctx, &Rg, 1, shape, b_dropout, &p, 0)) {
        uint32_t op = (uint32_t)Rg.y->id;
        size_t kept;
        aecl_plan_write(Rg.p, Rg.x[0], x);
        aecl_plan_set_step(Rg.p, 0);
        if (!rig_run(ctx, &Rg, y0)) {
            CHECK_MSG(dropout_mismatches(x, y0, N, p, 0, op, &kept) == 0, "dropout differs from the host reference");
            double frac = (double)kept / N;
            printf("dropout p=%.2f: kept %.4f of %d\n", (double)p, frac, N);
            CHECK_NEAR(frac, 1.0 - p, 0.005);
        }
        /* same step: the same mask; the step then advances to 1: another mask */
        aecl_plan_set_step(Rg.p, 0);
        if (!rig_run(ctx, &Rg, y1)) CHECK(memcmp(y0, y1, N * sizeof *y0) == 0);
        CHECK(aecl_plan_step(Rg.p) == 1);
        if (!rig_run(ctx, &Rg, y1)) {
            CHECK_MSG(dropout_mismatches(x, y1, N, p, 1, op, &kept) == 0, "step 1 differs from the host reference");
            size_t differ = 0;
            for (size_t i = 0; i < N; i++) differ += (y0[i] == 0) != (y1[i] == 0);
            CHECK_NEAR((double)differ / N, 2 * p * (1 - p), 0.01); /* independent masks */
        }
    }
    rig_free(&Rg);
    /* two dropout nodes on the same input draw different masks */
    if (!rig_make(ctx, &Rg, 1, shape, b_two_dropouts, &p, 0)) {
        aecl_plan_write(Rg.p, Rg.x[0], x);
        size_t nz = 0;
        if (!rig_run(ctx, &Rg, y0))
            for (size_t i = 0; i < N; i++) nz += y0[i] != 0;
        CHECK_NEAR((double)nz / N, 2 * p * (1 - p), 0.01);
    }
    rig_free(&Rg);
    free(x);
    free(y0);
    free(y1);
}

/* The gradient uses the forward's mask: dx = r * mask * scale, exactly. */
static void test_dropout_grad(aecl_ctx *ctx)
{
    enum { R = 7, C = 129, N = R * C };
    const int shape[2] = {R, C};
    float p = 0.5f;
    float x[N], r[N], y[N], gx[N];
    test_fill_uniform(x, N, 0.5f, 2.0f, &fill_seed);
    test_fill_uniform(r, N, -1.0f, 1.0f, &fill_seed);
    rig Rg;
    if (!rig_make(ctx, &Rg, 1, shape, b_dropout, &p, 1)) {
        aecl_plan_write(Rg.p, Rg.x[0], x);
        aecl_plan_write(Rg.p, Rg.r, r);
        aecl_plan_set_step(Rg.p, 5);
        if (!rig_run(ctx, &Rg, y)) {
            size_t kept;
            CHECK(dropout_mismatches(x, y, N, p, 5, (uint32_t)Rg.y->id, &kept) == 0);
            CHECK_OK(ctx, aecl_plan_read(Rg.p, Rg.x[0]->grad, gx));
            CHECK(dropout_mismatches(r, gx, N, p, 5, (uint32_t)Rg.y->id, &kept) == 0);
        }
    }
    rig_free(&Rg);
    gc_input in = {2, {R, C}, x, 0};
    gc_gradcheck(ctx, "dropout", 1, &in, b_dropout, &p, 1e-2f, 1e-2, 64);
    /* p = 0 is the identity; p outside [0, 1) is an error */
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    aecl_tensor *t = aecl_input(g, "x", 2, shape);
    CHECK(aecl_dropout(g, t, 0.0f) == t);
    CHECK(aecl_dropout(g, t, 1.0f) == NULL);
    CHECK(aecl_graph_status(g) == AECL_ERR_INVALID_ARG);
    CHECK(strstr(aecl_ctx_last_error(ctx), "dropout") != NULL);
    aecl_graph_free(g);
}

/* ---- noise ----------------------------------------------------------------------------- */

typedef struct noise_arg {
    aecl_noise_kind kind;
    float param;
    int clip;
} noise_arg;

static aecl_tensor *b_noise(aecl_graph *g, aecl_tensor **x, void *arg)
{
    const noise_arg *a = arg;
    return aecl_noise(g, x[0], a->kind, a->param, a->clip);
}

/* Runs the noise op over x (with gradient of sum(y * r)), compares y and dx
 * with the host (tol: 0 = exact), and returns y in out. */
static void check_noise(aecl_ctx *ctx, noise_arg *a, const float *x, const float *r, float *out, int rows,
                        int cols, double tol)
{
    size_t n = (size_t)rows * cols;
    const int shape[2] = {rows, cols};
    float *gx = malloc(n * sizeof *gx);
    rig Rg;
    if (!rig_make(ctx, &Rg, 1, shape, b_noise, a, 1)) {
        aecl_plan_write(Rg.p, Rg.x[0], x);
        aecl_plan_write(Rg.p, Rg.r, r);
        aecl_plan_set_step(Rg.p, 3);
        if (!rig_run(ctx, &Rg, out) && aecl_plan_read(Rg.p, Rg.x[0]->grad, gx) == AECL_OK) {
            int bad_y = 0, bad_g = 0;
            for (size_t i = 0; i < n; i++) {
                float d, v = ref_noise(a->kind, a->param, a->clip, x[i], SEED, 3, (uint32_t)Rg.y->id,
                                       (uint32_t)i, &d);
                bad_y += !(fabs(out[i] - v) <= tol);
                /* a gaussian value within rounding of a clip bound may clip on one side only */
                bad_g += gx[i] != d * r[i] && !(tol > 0 && a->clip && fabs(fabs(v - 0.5) - 0.5) < 1e-5);
            }
            CHECK_MSG(bad_y == 0, "noise kind %d: %d values differ from the host", a->kind, bad_y);
            CHECK_MSG(bad_g == 0, "noise kind %d: %d gradients differ from the host", a->kind, bad_g);
        }
    }
    rig_free(&Rg);
    free(gx);
}

static void test_noise(aecl_ctx *ctx)
{
    enum { R = 64, C = 1563, N = R * C }; /* 100032 elements */
    float *x = malloc(N * sizeof *x), *r = malloc(N * sizeof *r), *y = malloc(N * sizeof *y);
    test_fill_uniform(x, N, 0.05f, 0.95f, &fill_seed);
    test_fill_uniform(r, N, -1.0f, 1.0f, &fill_seed);

    noise_arg mask = {AECL_NOISE_MASK, 0.25f, 0};
    check_noise(ctx, &mask, x, r, y, R, C, 0);
    size_t zeros = 0;
    for (size_t i = 0; i < N; i++) zeros += y[i] == 0;
    CHECK_NEAR((double)zeros / N, 0.25, 0.005);

    noise_arg sp = {AECL_NOISE_SALT_PEPPER, 0.2f, 1};
    check_noise(ctx, &sp, x, r, y, R, C, 0);
    size_t salt = 0, pepper = 0;
    for (size_t i = 0; i < N; i++) {
        salt += y[i] == 1.0f;
        pepper += y[i] == 0.0f;
    }
    CHECK_NEAR((double)(salt + pepper) / N, 0.2, 0.005);
    CHECK_NEAR((double)salt / (double)(salt + pepper), 0.5, 0.02);

    noise_arg gauss = {AECL_NOISE_GAUSSIAN, 0.5f, 0};
    check_noise(ctx, &gauss, x, r, y, R, C, 1e-5);
    double m = 0, s = 0;
    for (size_t i = 0; i < N; i++) {
        double d = (double)y[i] - x[i];
        m += d;
        s += d * d;
    }
    m /= N;
    printf("gaussian noise sigma 0.5: mean %.4f, std %.4f\n", m, sqrt(s / N - m * m));
    CHECK_NEAR(m, 0.0, 0.01);
    CHECK_NEAR(sqrt(s / N - m * m), 0.5, 0.01);

    noise_arg gclip = {AECL_NOISE_GAUSSIAN, 0.5f, 1};
    check_noise(ctx, &gclip, x, r, y, R, C, 1e-5);
    size_t out = 0, at_bounds = 0;
    for (size_t i = 0; i < N; i++) {
        out += y[i] < 0 || y[i] > 1;
        at_bounds += y[i] == 0 || y[i] == 1;
    }
    CHECK(out == 0);
    CHECK(at_bounds > N / 10); /* sigma 0.5 around [0.05, 0.95] clips often */
    free(x);
    free(r);
    free(y);
}

static void test_noise_grad(aecl_ctx *ctx)
{
    enum { R = 5, C = 23, N = R * C };
    float x[N];
    test_fill_uniform(x, N, 0.1f, 0.9f, &fill_seed);
    gc_input in = {2, {R, C}, x, 0};
    noise_arg gauss = {AECL_NOISE_GAUSSIAN, 0.3f, 0}, mask = {AECL_NOISE_MASK, 0.4f, 1};
    gc_gradcheck(ctx, "gaussian noise", 1, &in, b_noise, &gauss, 1e-3f, 1e-2, 64);
    gc_gradcheck(ctx, "mask noise", 1, &in, b_noise, &mask, 1e-3f, 1e-2, 64);
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    const int shape[2] = {R, C};
    aecl_tensor *t = aecl_input(g, "x", 2, shape);
    CHECK(aecl_noise(g, t, AECL_NOISE_GAUSSIAN, 0.0f, 0) == t);
    CHECK(aecl_noise(g, t, AECL_NOISE_MASK, 1.5f, 0) == NULL);
    CHECK(aecl_graph_status(g) == AECL_ERR_INVALID_ARG);
    aecl_graph_free(g);
}

/* ---- reparameterize --------------------------------------------------------------------- */

static aecl_tensor *b_reparam(aecl_graph *g, aecl_tensor **x, void *arg)
{
    return aecl_reparameterize(g, x[0], x[1], arg ? *(const int *)arg : 1);
}

static void test_reparam(aecl_ctx *ctx)
{
    enum { R = 37, C = 11, N = R * C };
    const int shape[2] = {R, C};
    float mu[N], lv[N], z[N], r[N], gmu[N], glv[N];
    test_fill_uniform(mu, N, -2, 2, &fill_seed);
    test_fill_uniform(lv, N, -3, 1.5f, &fill_seed);
    test_fill_uniform(r, N, -1, 1, &fill_seed);
    rig Rg;
    if (!rig_make(ctx, &Rg, 2, shape, b_reparam, NULL, 1)) {
        aecl_plan_write(Rg.p, Rg.x[0], mu);
        aecl_plan_write(Rg.p, Rg.x[1], lv);
        aecl_plan_write(Rg.p, Rg.r, r);
        for (uint32_t step = 0; step < 2; step++) {
            aecl_plan_set_step(Rg.p, step);
            if (rig_run(ctx, &Rg, z)) break;
            CHECK_OK(ctx, aecl_plan_read(Rg.p, Rg.x[0]->grad, gmu));
            CHECK_OK(ctx, aecl_plan_read(Rg.p, Rg.x[1]->grad, glv));
            int bad_z = 0, bad_g = 0;
            double worst = 0;
            for (uint32_t i = 0; i < N; i++) {
                double eps, sd, want = ref_reparam(mu[i], lv[i], SEED, step, (uint32_t)Rg.y->id, i, &eps, &sd);
                double e = fabs(z[i] - want) / (1 + fabs(want));
                if (!(e <= worst)) worst = e;
                bad_z += !(e <= 1e-5);
                double wg = 0.5 * r[i] * eps * sd;
                bad_g += !(fabs(glv[i] - wg) <= 1e-5 * (1 + fabs(wg))) || gmu[i] != r[i];
            }
            printf("reparameterize step %u: worst |z - host| / (1 + |z|) = %.3g\n", step, worst);
            CHECK_MSG(bad_z == 0, "step %u: %d samples differ from the host", step, bad_z);
            CHECK_MSG(bad_g == 0, "step %u: %d gradients differ from the host", step, bad_g);
        }
    }
    rig_free(&Rg);
    gc_input in[2] = {{2, {R, C}, mu, 0}, {2, {R, C}, lv, 0}};
    gc_gradcheck(ctx, "reparameterize", 2, in, b_reparam, NULL, 1e-3f, 1e-2, 64);
    /* sample = 0: the mean itself; shapes must match */
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    const int other[2] = {R, C + 1};
    aecl_tensor *m = aecl_input(g, "mu", 2, shape), *l = aecl_input(g, "lv", 2, shape);
    CHECK(aecl_reparameterize(g, m, l, 0) == m);
    CHECK(aecl_reparameterize(g, m, aecl_input(g, "lv2", 2, other), 1) == NULL);
    CHECK(aecl_graph_status(g) == AECL_ERR_SHAPE);
    CHECK(strstr(aecl_ctx_last_error(ctx), "37x11") && strstr(aecl_ctx_last_error(ctx), "37x12"));
    aecl_graph_free(g);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    test_dropout(ctx);
    test_dropout_grad(ctx);
    test_noise(ctx);
    test_noise_grad(ctx);
    test_reparam(ctx);
    /* The same numbers with other Philox blocks per work-item than this device's
     * choice: 1 (what GPUs run) and 4. The gradchecks add nothing here. */
    const char *blocks[] = {"rng_blocks=1", "rng_blocks=4"};
    for (int i = 0; i < 2; i++) {
        printf("%s\n", blocks[i]);
        CHECK_OK(ctx, aecl_ctx_tune(ctx, blocks[i]));
        test_dropout(ctx);
        test_noise(ctx);
        test_reparam(ctx);
    }
    CHECK_OK(ctx, aecl_ctx_tune(ctx, NULL));
    return test_finish();
}
