/* conv2d and conv_transpose2d: forward against direct-loop host references on odd
 * shapes and the Fashion-MNIST conv autoencoder shapes, full backward (dx, dw, db)
 * against the same references, finite-difference gradchecks of every input, and
 * shape errors. Everything runs twice: with the device's kernel blocking, and
 * with a GPU's (the device table's conv keys), whose kernel choices differ (few kernels take
 * pixel vectors with 4-wide vectors). */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "compile/compile.h"
#include "gradcheck.h"
#include "graph/plan.h"
#include "ops/conv.h"
#include "ref_ops.h"

#include <stdlib.h>
#include <string.h>

static unsigned seed = 11;

typedef ref_conv cfg;

static aecl_tensor *build(aecl_graph *g, aecl_tensor **x, void *u)
{
    const cfg *c = u;
    aecl_tensor *b = c->bias ? x[2] : NULL;
    if (c->transposed)
        return aecl_conv_transpose2d(g, x[0], x[1], b, c->stride, c->pad, c->out_pad, c->act, 0.1f);
    return aecl_conv2d(g, x[0], x[1], b, c->stride, c->pad, c->act, 0.1f);
}

static void make_inputs(const cfg *c, gc_input *in, float **x, float **w, float **b)
{
    *x = malloc(ref_conv_xsize(c) * sizeof **x);
    *w = malloc(ref_conv_wsize(c) * sizeof **w);
    *b = malloc((size_t)c->K * sizeof **b);
    test_fill_uniform(*x, ref_conv_xsize(c), -1, 1, &seed);
    test_fill_uniform(*w, ref_conv_wsize(c), -0.5f, 0.5f, &seed);
    test_fill_uniform(*b, (size_t)c->K, -0.5f, 0.5f, &seed);
    in[0] = (gc_input){4, {c->N, c->C, c->H, c->W}, *x, 0};
    in[1] = c->transposed ? (gc_input){4, {c->C, c->K, c->kh, c->kw}, *w, 0}
                          : (gc_input){4, {c->K, c->C, c->kh, c->kw}, *w, 0};
    in[2] = (gc_input){1, {c->K}, *b, 0};
}

static const char *describe(const cfg *c, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s N%d C%d %dx%d K%d k%dx%d s%d p%d op%d bias%d %s", c->transposed ? "convT" : "conv",
             c->N, c->C, c->H, c->W, c->K, c->kh, c->kw, c->stride, c->pad, c->out_pad, c->bias,
             aecl_act_name(c->act));
    return buf;
}

static void check_forward(aecl_ctx *ctx, const cfg *c)
{
    gc_input in[3];
    float *x, *w, *b;
    make_inputs(c, in, &x, &w, &b);
    size_t ny = ref_conv_ysize(c);
    float *y = malloc(ny * sizeof *y), *ref = malloc(ny * sizeof *ref);
    char d[160];
    if (!gc_forward(ctx, c->bias ? 3 : 2, in, build, (void *)c, y, ny)) {
        ref_conv_forward(c, x, w, b, 0.1f, ref);
        CHECK_MSG(test_rel_err(y, ref, ny, 1e-5, 1e-4) <= 1, "forward %s", describe(c, d, sizeof d));
    }
    free(x), free(w), free(b), free(y), free(ref);
}

/* Every gradient in full: loss = sum(y * r), through the fused activation
 * (ReLU's kink included: no finite differences here), against the relation.
 * x_input: x is an input, as a network's first layer (no dx). */
static void check_backward(aecl_ctx *ctx, const cfg *c, int x_input)
{
    gc_input in[3];
    float *x, *w, *b;
    make_inputs(c, in, &x, &w, &b);
    size_t ny = ref_conv_ysize(c), nx = ref_conv_xsize(c), nw = ref_conv_wsize(c);
    float *r = malloc(ny * sizeof *r);
    test_fill_uniform(r, ny, -1, 1, &seed);
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    aecl_tensor *t[3];
    for (int i = 0; i < 3; i++) t[i] = aecl_param(g, i == 0 ? "x" : i == 1 ? "w" : "b", in[i].ndim, in[i].shape);
    if (x_input) t[0]->flags &= ~(unsigned)AECL_T_GRAD;
    aecl_tensor *y = build(g, t, (void *)c);
    int Ho, Wo;
    ref_conv_out_size(c, &Ho, &Wo);
    int ys[4] = {c->N, c->K, Ho, Wo};
    aecl_tensor *rt = aecl_input(g, "r", 4, ys);
    aecl_backward(g, aecl_sum(g, aecl_mul(g, y, rt)));
    for (int i = x_input; i < 3; i++) aecl_mark(t[i]->grad, AECL_T_OUTPUT);
    aecl_plan *p = NULL;
    aecl_plan_options opt = {.seed = 1, .poison = 1};
    CHECK_OK(ctx, aecl_graph_status(g));
    if (aecl_graph_status(g) == AECL_OK) CHECK_OK(ctx, aecl_plan_compile(g, &opt, &p));
    float *gx = calloc(nx, sizeof *gx), *gw = calloc(nw, sizeof *gw), gb[64] = {0};
    float *rx = calloc(nx, sizeof *rx), *rw = calloc(nw, sizeof *rw), rb[64] = {0};
    char d[160];
    if (p) {
        for (int i = 0; i < 3; i++) aecl_plan_write(p, t[i], in[i].data);
        aecl_plan_write(p, rt, r);
        CHECK_OK(ctx, aecl_plan_run(p));
        if (!x_input) aecl_plan_read(p, t[0]->grad, gx);
        aecl_plan_read(p, t[1]->grad, gw);
        aecl_plan_read(p, t[2]->grad, gb);
        ref_conv_backward(c, x, w, b, 0.1f, r, rx, rw, rb);
        describe(c, d, sizeof d);
        if (!x_input) CHECK_MSG(test_rel_err(gx, rx, nx, 1e-4, 1e-4) <= 1, "dx %s", d);
        CHECK_MSG(test_rel_err(gw, rw, nw, 1e-3, 1e-4) <= 1, "dw %s", d);
        if (c->bias) CHECK_MSG(test_rel_err(gb, rb, (size_t)c->K, 1e-3, 1e-4) <= 1, "db %s", d);
    }
    aecl_plan_free(p);
    aecl_graph_free(g);
    free(x), free(w), free(b), free(r), free(gx), free(gw), free(rx), free(rw);
}

/* Two convolutions in a row: where the first one's output has no other reader
 * (forward only; in training, a first conv without activation, whose output
 * gradient's copy the second one's input gradient then writes too), it writes
 * the second one's padded input itself (compile/pad_fold.c). Against the same graph
 * compiled without folding (no_fuse: the copy is a launch of its own; one
 * copy launched more, bit for bit the same result) and, forward, against the host
 * reference. Work memory starts as NaN (poison): an output element the folded
 * kernel missed, or a border it overwrote, shows. train: the result is the
 * gradients of sum(y * r) for both weights, else y. */
static int chain_run(aecl_ctx *ctx, const cfg *c1, const cfg *c2, float *const in[5], int train, int no_fuse,
                     float *res, int *launches)
{
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    int xs[4] = {c1->N, c1->C, c1->H, c1->W}, w1s[4] = {c1->K, c1->C, c1->kh, c1->kw};
    int w2s[4] = {c2->K, c2->C, c2->kh, c2->kw}, Ho, Wo;
    if (c1->transposed) w1s[0] = c1->C, w1s[1] = c1->K;
    if (c2->transposed) w2s[0] = c2->C, w2s[1] = c2->K;
    ref_conv_out_size(c2, &Ho, &Wo);
    int ys[4] = {c2->N, c2->K, Ho, Wo};
    aecl_tensor *(*weight)(aecl_graph *, const char *, int, const int *) = train ? aecl_param : aecl_input;
    aecl_tensor *x = aecl_input(g, "x", 4, xs), *w1 = weight(g, "w1", 4, w1s), *w2 = weight(g, "w2", 4, w2s);
    aecl_tensor *b1 = weight(g, "b1", 1, &c1->K), *b2 = weight(g, "b2", 1, &c2->K), *r = aecl_input(g, "r", 4, ys);
    aecl_tensor *t[3] = {x, w1, b1};
    aecl_tensor *h = build(g, t, (void *)c1);
    t[0] = h, t[1] = w2, t[2] = b2;
    aecl_tensor *out = build(g, t, (void *)c2);
    if (train) {
        aecl_backward(g, aecl_sum(g, aecl_mul(g, out, r)));
        aecl_mark(w1->grad, AECL_T_OUTPUT), aecl_mark(w2->grad, AECL_T_OUTPUT);
    } else {
        aecl_mark(out, AECL_T_OUTPUT);
    }
    aecl_plan *p = NULL;
    aecl_plan_options opt = {.seed = 1, .poison = 1, .no_fuse = no_fuse};
    int ok = aecl_graph_status(g) == AECL_OK && aecl_plan_compile(g, &opt, &p) == AECL_OK;
    aecl_tensor *ins[5] = {x, w1, w2, b1, r};
    for (int i = 0; ok && i < 5; i++) aecl_plan_write(p, ins[i], in[i]);
    if (ok) aecl_plan_write(p, b2, in[3] + c1->K);
    ok = ok && aecl_plan_run(p) == AECL_OK;
    if (ok && train) ok = aecl_plan_read(p, w1->grad, res) == AECL_OK &&
                          aecl_plan_read(p, w2->grad, res + ref_conv_wsize(c1)) == AECL_OK;
    else if (ok) ok = aecl_plan_read(p, out, res) == AECL_OK;
    *launches = 0; /* padded copies */
    for (int i = 0; ok && i < aecl_plan_launch_count(p); i++) *launches += !strcmp(aecl_plan_launch_label(p, i), "conv_pad");
    aecl_plan_free(p);
    aecl_graph_free(g);
    return ok;
}

static void check_chain(aecl_ctx *ctx, const cfg *c1, const cfg *c2)
{
    size_t nx = ref_conv_xsize(c1), nw1 = ref_conv_wsize(c1), nw2 = ref_conv_wsize(c2), nh = ref_conv_ysize(c1);
    size_t ny = ref_conv_ysize(c2), nr = ny > nw1 + nw2 ? ny : nw1 + nw2;
    float *x = malloc(nx * sizeof *x), *w1 = malloc(nw1 * sizeof *w1), *w2 = malloc(nw2 * sizeof *w2);
    float *b = malloc((size_t)(c1->K + c2->K) * sizeof *b), *h = malloc(nh * sizeof *h), *r = malloc(ny * sizeof *r);
    float *ref = malloc(ny * sizeof *ref), *y = malloc(nr * sizeof *y), *yu = malloc(nr * sizeof *yu);
    test_fill_uniform(x, nx, -1, 1, &seed);
    test_fill_uniform(w1, nw1, -0.5f, 0.5f, &seed);
    test_fill_uniform(w2, nw2, -0.5f, 0.5f, &seed);
    test_fill_uniform(b, (size_t)(c1->K + c2->K), -0.5f, 0.5f, &seed);
    test_fill_uniform(r, ny, -1, 1, &seed);
    float *in[5] = {x, w1, w2, b, r};
    char d1[160], d2[160];
    describe(c1, d1, sizeof d1), describe(c2, d2, sizeof d2);
    for (int train = 0; train < 2; train++) {
        /* training folds conv 1's output copy (its gradient's copy then reads
         * conv 1's output there for the activation's derivative) and, where
         * conv 1 has no activation, its output gradient's copy too (which conv
         * 2's input gradient writes) */
        int lf = 0, lu = 0, want = 1 + (train && c1->act == AECL_ACT_NONE);
        size_t n = train ? nw1 + nw2 : ny;
        int ok = chain_run(ctx, c1, c2, in, train, 0, y, &lf) && chain_run(ctx, c1, c2, in, train, 1, yu, &lu);
        CHECK_MSG(ok, "chain %s -> %s (train %d): %s", d1, d2, train, aecl_ctx_last_error(ctx));
        if (!ok) continue;
        CHECK_MSG(lf == lu - want, "chain %s -> %s (train %d): %d copies launched folded, %d not", d1, d2, train, lf,
                  lu);
        CHECK_MSG(!memcmp(y, yu, n * sizeof *y), "chain %s -> %s (train %d): folded and unfolded differ", d1, d2,
                  train);
        if (train) continue;
        ref_conv_forward(c1, x, w1, b, 0.1f, h);
        ref_conv_forward(c2, h, w2, b + c1->K, 0.1f, ref);
        CHECK_MSG(test_rel_err(y, ref, ny, 1e-4, 1e-4) <= 1, "chain %s -> %s: against the reference", d1, d2);
    }
    free(x), free(w1), free(w2), free(b), free(h), free(r), free(ref), free(y), free(yu);
}

static void check_grad(aecl_ctx *ctx, const cfg *c)
{
    gc_input in[3];
    float *x, *w, *b;
    make_inputs(c, in, &x, &w, &b);
    char d[160];
    gc_gradcheck(ctx, describe(c, d, sizeof d), c->bias ? 3 : 2, in, build, (void *)c, 1e-3f, 1e-2, 12);
    free(x), free(w), free(b);
}

static aecl_tensor *b_conv_bad(aecl_graph *g, int which)
{
    int xs[4] = {2, 3, 7, 5}, ws[4] = {4, 2, 3, 3}, wt[4] = {3, 4, 3, 3}, bs[1] = {5};
    aecl_tensor *x = aecl_input(g, "x", 4, xs);
    switch (which) {
    case 0: return aecl_conv2d(g, x, aecl_param(g, "w", 4, ws), NULL, 1, 0, AECL_ACT_NONE, 0);
    case 1: return aecl_conv2d(g, x, aecl_param(g, "w", 4, wt), aecl_param(g, "b", 1, bs), 1, 0, AECL_ACT_NONE, 0);
    case 2: return aecl_conv_transpose2d(g, x, aecl_param(g, "w", 4, wt), NULL, 2, 1, 2, AECL_ACT_NONE, 0);
    case 3: return aecl_conv2d(g, x, aecl_param(g, "w", 4, (int[4]){4, 3, 9, 3}), NULL, 1, 0, AECL_ACT_NONE, 0);
    default: return aecl_conv_transpose2d(g, x, aecl_param(g, "w", 4, ws), NULL, 1, 0, 0, AECL_ACT_NONE, 0);
    }
}

/* Bad shapes fail with a message naming the op and the shapes. */
static void test_errors(aecl_ctx *ctx)
{
    const char *want[5][2] = {{"conv2d", "4x2x3x3"}, {"conv2d", "5"}, {"conv_transpose2d", "output padding 2"},
                              {"conv2d", "4x3x9x3"}, {"conv_transpose2d", "4x2x3x3"}};
    for (int i = 0; i < 5; i++) {
        aecl_graph *g;
        aecl_graph_create(ctx, &g);
        CHECK(b_conv_bad(g, i) == NULL);
        CHECK(aecl_graph_status(g) == AECL_ERR_SHAPE);
        const char *m = aecl_ctx_last_error(ctx);
        CHECK_MSG(strstr(m, want[i][0]) && strstr(m, want[i][1]) && strstr(m, "2x3x7x5"), "case %d: %s", i, m);
        aecl_graph_free(g);
    }
}

static void run_chains(aecl_ctx *ctx)
{
    /* every forward kernel writing the next one's padded copy, NCHW or channels
     * last (with channels past C: 20 of a 16-channel vector pair), as the
     * autoencoder has them and on odd shapes; in training, the gradient copies
     * (NCHW and channels last) reading an activation's output from either */
    const cfg chains[][2] = {
        {{0, 2, 1, 28, 28, 32, 3, 3, 2, 1, 0, 1, AECL_ACT_RELU}, {0, 2, 32, 14, 14, 64, 3, 3, 2, 1, 0, 1, AECL_ACT_RELU}},
        {{1, 2, 64, 7, 7, 32, 3, 3, 2, 1, 1, 1, AECL_ACT_RELU}, {1, 2, 32, 14, 14, 1, 3, 3, 2, 1, 1, 1, AECL_ACT_SIGMOID}},
        {{0, 2, 3, 7, 5, 20, 3, 3, 1, 1, 0, 1, AECL_ACT_TANH}, {0, 2, 20, 7, 5, 1, 3, 3, 1, 1, 0, 1, AECL_ACT_NONE}},
        {{0, 2, 3, 9, 9, 1, 3, 3, 1, 1, 0, 1, AECL_ACT_NONE}, {0, 2, 1, 9, 9, 5, 3, 3, 2, 1, 0, 1, AECL_ACT_RELU}},
        {{1, 2, 3, 5, 4, 1, 3, 3, 2, 1, 1, 0, AECL_ACT_NONE}, {0, 2, 1, 10, 8, 6, 3, 3, 1, 1, 0, 1, AECL_ACT_ELU}},
        {{0, 2, 8, 7, 6, 20, 3, 3, 1, 1, 0, 1, AECL_ACT_RELU}, {0, 2, 20, 7, 6, 16, 3, 3, 1, 1, 0, 1, AECL_ACT_NONE}},
        {{0, 2, 8, 6, 7, 20, 3, 3, 2, 1, 0, 1, AECL_ACT_ELU}, {0, 2, 20, 3, 4, 1, 3, 3, 1, 1, 0, 1, AECL_ACT_NONE}},
    };
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) check_chain(ctx, &chains[i][0], &chains[i][1]);
}

static void run_all(aecl_ctx *ctx)
{
    run_chains(ctx); /* first: their plans gather every blocking they use (see main) */
    /* odd sizes: 7x5 images, 3 channels, strides 1 and 2, padding 0/1, out_pad 0/1,
     * batch 1 and 3, kernels 3x3, 2x3, 1x1, every output channel count class */
    const cfg fwd[] = {
        {0, 1, 3, 7, 5, 4, 3, 3, 1, 0, 0, 1, AECL_ACT_NONE},
        {0, 3, 3, 7, 5, 5, 3, 3, 1, 1, 0, 1, AECL_ACT_RELU},
        {0, 3, 3, 7, 5, 9, 3, 3, 2, 1, 0, 0, AECL_ACT_NONE},
        {0, 1, 3, 7, 5, 2, 2, 3, 2, 0, 0, 1, AECL_ACT_TANH},
        {0, 3, 2, 5, 7, 17, 1, 1, 1, 0, 0, 1, AECL_ACT_LEAKY_RELU},
        {0, 2, 3, 9, 9, 3, 5, 5, 3, 2, 0, 1, AECL_ACT_SIGMOID},
        {1, 1, 3, 7, 5, 4, 3, 3, 1, 0, 0, 1, AECL_ACT_NONE},
        {1, 3, 3, 7, 5, 5, 3, 3, 2, 1, 1, 1, AECL_ACT_RELU},
        {1, 3, 3, 7, 5, 9, 3, 3, 2, 1, 0, 0, AECL_ACT_NONE},
        {1, 1, 3, 7, 5, 2, 2, 3, 2, 0, 1, 1, AECL_ACT_TANH},
        {1, 3, 2, 5, 7, 17, 4, 4, 2, 1, 0, 1, AECL_ACT_ELU},
        {1, 2, 3, 4, 3, 3, 5, 5, 3, 2, 2, 1, AECL_ACT_SOFTPLUS},
        /* few output channels (pixel-vector kernels), input channels past a multiple of 4 */
        {0, 3, 3, 7, 5, 1, 3, 3, 1, 1, 0, 1, AECL_ACT_SIGMOID},
        {0, 2, 6, 6, 7, 2, 3, 3, 1, 1, 0, 1, AECL_ACT_ELU},
        {1, 2, 6, 4, 5, 1, 3, 3, 2, 1, 1, 1, AECL_ACT_TANH},
        {1, 1, 9, 3, 6, 3, 2, 2, 1, 0, 0, 0, AECL_ACT_NONE},
        /* few output channels on rows of exactly two pixel blocks, which a _dot
         * item takes whole: rows of 16 and 14 (blocks of 8 and 7 on CPUs), 8
         * (blocks of 4 on GPUs), of the gather and of the transposed conv */
        {0, 2, 20, 5, 16, 2, 3, 3, 1, 1, 0, 1, AECL_ACT_RELU},
        {0, 2, 20, 4, 14, 3, 3, 3, 1, 1, 0, 1, AECL_ACT_TANH},
        {0, 2, 20, 4, 8, 2, 3, 3, 1, 1, 0, 1, AECL_ACT_NONE},
        {1, 2, 20, 3, 16, 1, 3, 3, 2, 1, 1, 1, AECL_ACT_SIGMOID},
        {1, 2, 20, 3, 8, 2, 3, 3, 2, 1, 1, 1, AECL_ACT_NONE},
    };
    /* few input channels (pixel-vector kernels): stride 2 rows of 19 (vectors of
     * 16 and an overlapping last block), stride 3 (gathered inputs), stride 1
     * with 20 output channels (a partial channel block); the first layer of the
     * autoencoder; a 5x5 kernel (the loops, not the unrolled 3x3 taps); and
     * with x an input (no dx) the weight gradient's
     * pixel-vector form, a transposed convolution's for comparison */
    const cfg px[] = {
        {0, 2, 1, 40, 38, 5, 3, 3, 2, 1, 0, 1, AECL_ACT_RELU},
        {0, 2, 2, 11, 13, 3, 3, 3, 3, 1, 0, 1, AECL_ACT_TANH},
        {0, 3, 3, 9, 12, 20, 3, 3, 1, 1, 0, 1, AECL_ACT_NONE},
        {0, 2, 1, 28, 28, 32, 3, 3, 2, 1, 0, 1, AECL_ACT_RELU},
        {1, 2, 3, 7, 5, 5, 3, 3, 2, 1, 1, 1, AECL_ACT_RELU},
        {0, 2, 2, 13, 12, 6, 5, 5, 2, 2, 0, 1, AECL_ACT_RELU},
    };
    /* the Fashion-MNIST conv autoencoder: 1x28x28 -> 32x14x14 -> 64x7x7 -> 32x14x14 -> 1x28x28 */
    const cfg ae[] = {
        {0, 3, 1, 28, 28, 32, 3, 3, 2, 1, 0, 1, AECL_ACT_RELU},
        {0, 3, 32, 14, 14, 64, 3, 3, 2, 1, 0, 1, AECL_ACT_RELU},
        {1, 3, 64, 7, 7, 32, 3, 3, 2, 1, 1, 1, AECL_ACT_RELU},
        {1, 3, 32, 14, 14, 1, 3, 3, 2, 1, 1, 1, AECL_ACT_SIGMOID},
    };
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) check_forward(ctx, &fwd[i]);
    for (size_t i = 0; i < sizeof ae / sizeof ae[0]; i++) check_forward(ctx, &ae[i]);
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) check_backward(ctx, &fwd[i], 0);
    for (size_t i = 0; i < sizeof ae / sizeof ae[0]; i++) {
        cfg c = ae[i];
        c.N = 2;
        check_backward(ctx, &c, 0);
    }
    /* finite differences, every input, through fused activations (h small: ELU's
     * second derivative jumps at 0, and a bias near 0 puts many outputs there) */
    const cfg gc[] = {
        {0, 2, 2, 5, 4, 3, 3, 3, 1, 1, 0, 1, AECL_ACT_TANH},
        {0, 1, 3, 5, 6, 2, 3, 2, 2, 0, 0, 0, AECL_ACT_NONE},
        {0, 2, 2, 5, 5, 2, 3, 3, 2, 1, 0, 1, AECL_ACT_SIGMOID},
        {0, 2, 5, 4, 5, 1, 3, 3, 1, 1, 0, 1, AECL_ACT_LEAKY_RELU},
        {1, 2, 2, 4, 3, 3, 3, 3, 2, 1, 1, 1, AECL_ACT_TANH},
        {1, 1, 3, 3, 4, 2, 2, 3, 1, 0, 0, 0, AECL_ACT_NONE},
        {1, 2, 2, 3, 3, 2, 3, 3, 2, 0, 1, 1, AECL_ACT_ELU},
        {0, 1, 1, 9, 10, 3, 3, 3, 2, 1, 0, 1, AECL_ACT_SIGMOID},
    };
    /* their own inputs, whatever the checks before drew: ELU's slope (0.1) jumps
     * at 0, so a point drawn next to it fails a finite difference (adding a
     * forward case before them once did) */
    seed = 11;
    for (size_t i = 0; i < sizeof gc / sizeof gc[0]; i++) check_grad(ctx, &gc[i]);
    for (size_t i = 0; i < sizeof px / sizeof px[0]; i++) {
        check_forward(ctx, &px[i]);
        check_backward(ctx, &px[i], 0);
        check_backward(ctx, &px[i], 1);
    }
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    run_all(ctx);
    /* The plans' blockings came in shared programs (the gathering pass,
     * lib/compile/compile.c): every result above was computed by them. */
    aecl_program_stats ps;
    aecl_ctx_program_stats(ctx, &ps);
    CHECK_MSG(ps.variants_shared >= 2, "%u conv blockings in shared programs", ps.variants_shared);
    CHECK_OK(ctx, aecl_ctx_tune(ctx, "conv_vw=4,conv_p=4,conv_kv=1,conv_wj=4"));
    run_all(ctx);
    CHECK_OK(ctx, aecl_ctx_tune(ctx, NULL));
    test_errors(ctx);
    return test_finish();
}
