/* bench_gemm: SGEMM GFLOP/s of CLBlast, aecl's own kernels and OpenBLAS, side by
 * side, at the shapes of a batch-128 784-512-128-32 autoencoder MLP (encoder and
 * mirrored decoder): the forward product Y = X W^T (NT), and in backward
 * dX = dY W (NN) and dW = dY^T X (TN). Row-major throughout.
 *
 * Every figure is wall time to clFinish (or to the return of cblas_sgemm) of a
 * burst of back-to-back calls, median over rounds; the three contenders take turns
 * within each round so a burst of load from elsewhere hits all alike. "own+epi"
 * is aecl's kernel with the epilogue the training graph fuses there: bias + ReLU
 * of a dense layer (fwd), the ReLU gradient dX * relu'(y) (dX: one more
 * M x N read, the matmul_act_grad of lib/compile/fuse_gemm.c), or the bias
 * gradient db = the row sums of dY^T written beside dW (dW: the GEMM's first
 * column block also sums dY's columns, the bias fusion of fuse_gemm.c).
 *
 * --ab DIR times aecl's own kernels twice, interleaved in every round: as built
 * into this program and as built from the kernel files in DIR (another commit's
 * cl/, read as AECL_KERNEL_DIR would be), in a second context on the same
 * device; it prints the GFLOP/s of both and their ratio per shape (CLBlast and
 * OpenBLAS are left out; so is dW's own+epi, which older kernels lack).
 * Interleaving in one process keeps a noisy machine's load out of the ratio,
 * which alternating whole runs of two builds does not. DIR's gemm.cl must take
 * the same arguments (from the row sums on, this one's).
 *
 * usage: bench_gemm [--json] [--rounds N] [--device SEL] [--batch B] [--ab DIR]
 */
#define _POSIX_C_SOURCE 200809L
#include "ops/gemm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef AECL_HAVE_OPENBLAS
#include <cblas.h>
#endif

typedef struct shape {
    const char *op;      /* "fwd", "dX", "dW" */
    int layer_in, layer_out;
    int M, N, K, ta, tb;
} shape;

typedef struct result {
    double clblast, own, own_epi, openblas; /* GFLOP/s, 0 when not measured */
    double base_own, base_epi;              /* --ab: own and own+epi from DIR's kernel files */
    double ratio_own, ratio_epi;            /* --ab: median over rounds of base time / this time */
    int epi_grad;                           /* own_epi is the gradient epilogue */
    int epi_rsum;                           /* own_epi also writes the bias gradient (dW) */
    aecl_gemm_path auto_path;
} result;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The 18 products of one training step of the MLP (dense layer in -> out). */
static int make_shapes(int batch, shape *s)
{
    static const int dims[][2] = {{784, 512}, {512, 128}, {128, 32}, {32, 128}, {128, 512}, {512, 784}};
    int n = 0;
    for (int i = 0; i < 6; i++) {
        int in = dims[i][0], out = dims[i][1];
        s[n++] = (shape){"fwd", in, out, batch, out, in, 0, 1};  /* Y[B,out] = X[B,in] W[out,in]^T */
        s[n++] = (shape){"dX", in, out, batch, in, out, 0, 0};   /* dX[B,in] = dY[B,out] W[out,in] */
        s[n++] = (shape){"dW", in, out, out, in, batch, 1, 0};   /* dW[out,in] = dY^T X */
    }
    return n;
}

/* ---- contenders -------------------------------------------------------------- */

typedef struct bufs {
    aecl_buffer *a, *b, *c, *bias, *y, *rs;
    float *ha, *hb, *hc;
} bufs;

static int bufs_make(aecl_ctx *ctx, const shape *s, bufs *b)
{
    size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
    memset(b, 0, sizeof *b);
    b->ha = malloc(na * 4);
    b->hb = malloc(nb * 4);
    b->hc = calloc(nc, 4);
    if (!b->ha || !b->hb || !b->hc) return 0;
    unsigned st = 1;
    for (size_t i = 0; i < na; i++) b->ha[i] = (float)((st = st * 1664525u + 1013904223u) >> 9) * 0x1p-23f - 0.5f;
    for (size_t i = 0; i < nb; i++) b->hb[i] = (float)((st = st * 1664525u + 1013904223u) >> 9) * 0x1p-23f - 0.5f;
    return aecl_buffer_create(ctx, na, 4, &b->a) == AECL_OK && aecl_buffer_create(ctx, nb, 4, &b->b) == AECL_OK &&
           aecl_buffer_create(ctx, nc, 4, &b->c) == AECL_OK &&
           aecl_buffer_create(ctx, (size_t)s->N, 4, &b->bias) == AECL_OK &&
           aecl_buffer_create(ctx, (size_t)s->M, 4, &b->rs) == AECL_OK &&
           aecl_buffer_create(ctx, nc, 4, &b->y) == AECL_OK && aecl_buffer_upload(b->y, 0, b->hc, nc * 4) == AECL_OK &&
           aecl_buffer_upload(b->a, 0, b->ha, na * 4) == AECL_OK &&
           aecl_buffer_upload(b->b, 0, b->hb, nb * 4) == AECL_OK &&
           aecl_buffer_upload(b->c, 0, b->hc, nc * 4) == AECL_OK &&
           aecl_buffer_upload(b->bias, 0, b->hc, (size_t)s->N * 4) == AECL_OK;
}

static void bufs_free(bufs *b)
{
    aecl_buffer_free(b->a);
    aecl_buffer_free(b->b);
    aecl_buffer_free(b->c);
    aecl_buffer_free(b->bias);
    aecl_buffer_free(b->y);
    aecl_buffer_free(b->rs);
    free(b->ha);
    free(b->hb);
    free(b->hc);
}

/* A contender: a prepared launch, or OpenBLAS on the host arrays (launch unused). */
typedef struct contender {
    int kind;            /* 0 launch, 1 OpenBLAS */
    aecl_ctx *ctx;       /* the launch's context */
    const bufs *b;       /* its operands */
    aecl_launch l;
    int reps;            /* calls per timed burst */
    double t[64];        /* seconds per call, per round */
    int ok;
} contender;

static int run_burst(const shape *s, contender *c, int reps, double *secs)
{
    aecl_ctx *ctx = c->ctx;
    const bufs *b = c->b;
    double t0 = aecl_now_s();
    if (c->kind == 1) {
#ifdef AECL_HAVE_OPENBLAS
        for (int r = 0; r < reps; r++)
            cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, s->M,
                        s->N, s->K, 1.0f, b->ha, s->ta ? s->M : s->K, b->hb, s->tb ? s->K : s->N, 0.0f, b->hc,
                        s->N);
#else
        (void)s;
        (void)b;
        return 0;
#endif
    } else {
        for (int r = 0; r < reps; r++)
            if (aecl_launch_enqueue(ctx, &c->l, NULL) != AECL_OK) return 0;
        if (aecl_ctx_finish(ctx) != AECL_OK) return 0;
    }
    *secs = (aecl_now_s() - t0) / reps;
    return 1;
}

/* Warm-up (compiles, caches) and a burst length of about 5 ms. */
static void warm(const shape *s, contender *c)
{
    double t = 0;
    c->ok = run_burst(s, c, 1, &t) && run_burst(s, c, 2, &t);
    c->reps = !c->ok || t > 5e-3 ? 1 : t < 5e-3 / 200 ? 200 : (int)(5e-3 / t);
}

/* epi: 1 bias + ReLU, 2 the ReLU gradient epilogue (Y = b->y), 3 the row sums
 * of op(A) into b->rs. */
static int prepare(aecl_ctx *ctx, const shape *s, const bufs *b, aecl_gemm_path path, int epi, contender *c)
{
    aecl_gemm_desc d = aecl_gemm_desc_make(s->M, s->N, s->K, s->ta, s->tb);
    d.path = path;
    if (epi == 1) d.act = AECL_ACT_RELU;
    if (epi == 2) d.grad_act = AECL_ACT_RELU;
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    c->b = b;
    aecl_gemm_bufs io = {aecl_buffer_cl(b->a), aecl_buffer_cl(b->b), aecl_buffer_cl(b->c),
                         epi == 1 ? aecl_buffer_cl(b->bias) : NULL, aecl_buffer_cl(b->y),
                         epi == 3 ? aecl_buffer_cl(b->rs) : NULL, 0, 0, 0, 0, 0, 0};
    if (aecl_gemm_prepare_bufs(ctx, &d, &io, &c->l) != AECL_OK) {
        fprintf(stderr, "bench_gemm: %s\n", aecl_ctx_last_error(ctx));
        return 0;
    }
    return 1;
}

/* The --ab side: a second context whose programs come from the kernel files in dir. */
typedef struct ab_side {
    aecl_ctx *ctx;
    const char *dir;
} ab_side;

/* prepare() in the --ab context, its kernels read from ab->dir. */
static int prepare_base(const ab_side *ab, const shape *s, const bufs *b, int epi, contender *c)
{
    const char *was = getenv("AECL_KERNEL_DIR");
    char *keep = was ? strdup(was) : NULL;
    setenv("AECL_KERNEL_DIR", ab->dir, 1);
    int ok = prepare(ab->ctx, s, b, AECL_GEMM_OWN, epi, c);
    if (keep) setenv("AECL_KERNEL_DIR", keep, 1);
    else unsetenv("AECL_KERNEL_DIR");
    free(keep);
    return ok;
}

/* Contenders: 0 CLBlast, 1 own, 2 own+epi, 3 OpenBLAS; with --ab (CLBlast and
 * OpenBLAS left out) 4 own and 5 own+epi from ab->dir. */
static result bench_shape(aecl_ctx *ctx, const ab_side *ab, const shape *s, int rounds)
{
    result res = {0, 0, 0, 0, 0, 0, 0, 0, !strcmp(s->op, "dX"), !strcmp(s->op, "dW"), AECL_GEMM_AUTO};
    int epi = strcmp(s->op, "dW") ? (res.epi_grad ? 2 : 1) : 3;
    bufs b, bb;
    contender c[6];
    memset(&bb, 0, sizeof bb);
    if (!bufs_make(ctx, s, &b) || (ab && !bufs_make(ab->ctx, s, &bb))) {
        fprintf(stderr, "bench_gemm: buffers: %s\n", aecl_ctx_last_error(ctx));
        bufs_free(&b);
        bufs_free(&bb);
        return res;
    }
    int have[6] = {!ab && prepare(ctx, s, &b, AECL_GEMM_CLBLAST, 0, &c[0]),
                   prepare(ctx, s, &b, AECL_GEMM_OWN, 0, &c[1]),
                   epi && prepare(ctx, s, &b, AECL_GEMM_OWN, epi, &c[2]),
                   0,
                   ab && prepare_base(ab, s, &bb, 0, &c[4]),
                   ab && epi != 3 && prepare_base(ab, s, &bb, epi, &c[5])};
#ifdef AECL_HAVE_OPENBLAS
    memset(&c[3], 0, sizeof c[3]);
    c[3].kind = 1;
    c[3].b = &b;
    have[3] = !ab;
#endif
    for (int i = 0; i < 6; i++)
        if (have[i]) warm(s, &c[i]);
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < 6; i++)
            if (have[i] && c[i].ok) c[i].ok = run_burst(s, &c[i], c[i].reps, &c[i].t[r]);
    double flop = 2.0 * s->M * s->N * s->K;
    double *out[6] = {&res.clblast, &res.own, &res.own_epi, &res.openblas, &res.base_own, &res.base_epi};
    /* --ab: the ratio of the bursts run next to each other in a round (before
     * median() sorts the times), which cancels load that lasts longer than a round */
    double *pair[2] = {&res.ratio_own, &res.ratio_epi}, q[64];
    for (int i = 1; i <= 2; i++)
        if (have[i] && c[i].ok && have[i + 3] && c[i + 3].ok) {
            for (int r = 0; r < rounds; r++) q[r] = c[i + 3].t[r] / c[i].t[r];
            *pair[i - 1] = median(q, rounds);
        }
    for (int i = 0; i < 6; i++) {
        if (have[i] && c[i].ok) *out[i] = flop / median(c[i].t, rounds) * 1e-9;
        if (have[i] && !c[i].kind) aecl_launch_release(&c[i].l);
    }
    aecl_gemm_desc d = aecl_gemm_desc_make(s->M, s->N, s->K, s->ta, s->tb);
    if (aecl_gemm_select(ctx, &d, 0, &res.auto_path) != AECL_OK) res.auto_path = AECL_GEMM_AUTO;
    bufs_free(&b);
    bufs_free(&bb);
    return res;
}

/* ---- output ------------------------------------------------------------------- */

static const char *trans_name(const shape *s) { return s->ta ? (s->tb ? "TT" : "TN") : (s->tb ? "NT" : "NN"); }
static const char *path_name(aecl_gemm_path p)
{
    return p == AECL_GEMM_OWN ? "own" : p == AECL_GEMM_CLBLAST ? "clblast" : "?";
}
static double ratio(double a, double b) { return a > 0 && b > 0 ? a / b : 0; }

static void print_table_row(const shape *s, const result *r)
{
    char epi[16] = "      -";
    if (r->own_epi > 0) snprintf(epi, sizeof epi, "%7.1f", r->own_epi);
    printf("%-4s %4d->%-4d %s %4d %4d %4d | %7.1f %7.1f %s %8.1f | %6.2f %7.2f  %s\n", s->op, s->layer_in,
           s->layer_out, trans_name(s), s->M, s->N, s->K, r->clblast, r->own, epi, r->openblas,
           ratio(r->own, r->openblas), ratio(r->own, r->clblast), path_name(r->auto_path));
}

/* --ab: this build's kernels against DIR's, GFLOP/s and this/base. */
static void print_ab_row(const shape *s, const result *r)
{
    printf("%-4s %4d->%-4d %s %4d %4d %4d | %7.1f %7.1f %6.3f", s->op, s->layer_in, s->layer_out, trans_name(s),
           s->M, s->N, s->K, r->base_own, r->own, r->ratio_own);
    if (r->base_epi > 0) printf(" | %7.1f %7.1f %6.3f", r->base_epi, r->own_epi, r->ratio_epi);
    printf("\n");
}

static void print_ab_summary(const result *r, int n)
{
    double l = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        double a = r[i].ratio_own, b = r[i].ratio_epi;
        if (a > 0) { l += log(a); k++; }
        if (b > 0) { l += log(b); k++; }
    }
    if (k) printf("this/base: geometric mean %.3f over %d figures\n", exp(l / k), k);
}

static void print_json(const aecl_device_info *di, const shape *s, const result *r, int n, int rounds)
{
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    printf("{\n  \"device\": \"%s\",\n  \"driver\": \"%s\",\n  \"rounds\": %d,\n", di->name, di->driver_version,
           rounds);
    printf("  \"openblas_coretype\": %s%s%s,\n  \"openblas_l2_size\": %s%s%s,\n  \"results\": [\n", ct ? "\"" : "",
           ct ? ct : "null", ct ? "\"" : "", l2 ? "\"" : "", l2 ? l2 : "null", l2 ? "\"" : "");
    for (int i = 0; i < n; i++)
        printf("    {\"op\": \"%s\", \"layer\": [%d, %d], \"trans\": \"%s\", \"M\": %d, \"N\": %d, \"K\": %d, "
               "\"gflops_clblast\": %.2f, \"gflops_own\": %.2f, \"gflops_own_bias_relu\": %.2f, \"gflops_own_relu_grad\": %.2f, "
               "\"gflops_own_bias_grad\": %.2f, "
               "\"gflops_openblas\": %.2f, \"own_over_openblas\": %.3f, \"own_over_clblast\": %.3f, "
               "\"gflops_own_base\": %.2f, \"gflops_own_epi_base\": %.2f, \"auto\": \"%s\"}%s\n",
               s[i].op, s[i].layer_in, s[i].layer_out, trans_name(&s[i]), s[i].M, s[i].N, s[i].K, r[i].clblast,
               r[i].own, r[i].epi_grad || r[i].epi_rsum ? 0 : r[i].own_epi, r[i].epi_grad ? r[i].own_epi : 0,
               r[i].epi_rsum ? r[i].own_epi : 0, r[i].openblas, ratio(r[i].own, r[i].openblas),
               ratio(r[i].own, r[i].clblast), r[i].base_own, r[i].base_epi, path_name(r[i].auto_path),
               i + 1 < n ? "," : "");
    printf("  ]\n}\n");
}

static void print_summary(const result *r, int n)
{
    double lob = 0, lcl = 0, worst = 1e30;
    int nob = 0, ncl = 0;
    for (int i = 0; i < n; i++) {
        double a = ratio(r[i].own, r[i].openblas), b = ratio(r[i].own, r[i].clblast);
        if (a > 0) { lob += log(a); nob++; if (a < worst) worst = a; }
        if (b > 0) { lcl += log(b); ncl++; }
    }
    if (nob) printf("own/OpenBLAS: geometric mean %.2f, lowest %.2f\n", exp(lob / nob), worst);
    if (ncl) printf("own/CLBlast:  geometric mean %.2f\n", exp(lcl / ncl));
}

int main(int argc, char **argv)
{
    int json = 0, rounds = 9, batch = 128;
    const char *sel = NULL, *ab_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc) sel = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ab") && i + 1 < argc) ab_dir = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--json] [--rounds N] [--device SEL] [--batch B] [--ab DIR]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || rounds > 64 || batch < 1) {
        fprintf(stderr, "bench_gemm: --rounds must be 1..64 and --batch positive\n");
        return 2;
    }
    aecl_ctx *ctx;
    if (aecl_ctx_create(sel, &ctx) != AECL_OK) {
        fprintf(stderr, "bench_gemm: %s\n", aecl_ctx_last_error(NULL));
        return 1;
    }
    ab_side ab = {NULL, ab_dir};
    if (ab_dir && aecl_ctx_create(sel, &ab.ctx) != AECL_OK) {
        fprintf(stderr, "bench_gemm: %s\n", aecl_ctx_last_error(NULL));
        aecl_ctx_free(ctx);
        return 1;
    }
    const aecl_device_info *di = aecl_ctx_device(ctx);
    shape s[18];
    result r[18];
    int n = make_shapes(batch, s);
    if (!json && ab_dir) {
        printf("device: %s (driver %s), median of %d rounds; base: the kernel files in %s\n", di->name,
               di->driver_version, rounds, ab_dir);
        printf("%-4s %-9s %-2s %4s %4s %4s | %7s %7s %6s | %7s %7s %6s\n", "op", "layer", "tr", "M", "N", "K", "base",
               "own", "ratio", "base+e", "own+epi", "ratio");
    } else if (!json) {
        const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
        printf("device: %s (driver %s), median of %d rounds, wall time to clFinish\n", di->name, di->driver_version,
               rounds);
#ifdef AECL_HAVE_OPENBLAS
        printf("OpenBLAS: %d threads, OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s\n", openblas_get_num_threads(),
               ct ? ct : "(unset)", l2 ? l2 : "(unset)");
#else
        (void)ct;
        (void)l2;
        printf("OpenBLAS: not built in\n");
#endif
        printf("%-4s %-9s %-2s %4s %4s %4s | %7s %7s %7s %8s | %6s %7s  %s\n", "op", "layer", "tr", "M", "N", "K",
               "CLBlast", "own", "own+epi", "OpenBLAS", "own/OB", "own/CLB", "auto");
    }
    for (int i = 0; i < n; i++) {
        r[i] = bench_shape(ctx, ab_dir ? &ab : NULL, &s[i], rounds);
        if (!json) {
            if (ab_dir) print_ab_row(&s[i], &r[i]);
            else print_table_row(&s[i], &r[i]);
            fflush(stdout);
        }
    }
    if (json) print_json(di, s, r, n, rounds);
    else if (ab_dir) {
        printf("(GFLOP/s of aecl's own kernels, medians; ratio: median over rounds of base time / this time,\n"
               " bursts of one round paired; +e: with the fused epilogue)\n");
        print_ab_summary(r, n);
    } else {
        printf("(GFLOP/s; own+epi = aecl's kernel with fused bias + ReLU (fwd) or ReLU gradient (dX))\n");
        print_summary(r, n);
    }
    aecl_ctx_free(ab.ctx);
    aecl_ctx_free(ctx);
    return 0;
}
