/* aecl bench: the device's FP32 peak (an FMA kernel), GEMM GFLOP/s (aecl's
 * kernels and CLBlast) at the reference models' shapes, and training/inference
 * samples/s, GFLOP/s and share of the peak, device time per op, host overhead
 * and planned device memory of the four reference models. Medians of several
 * runs. --json prints one JSON object instead of tables. */
#include "cli.h"
#include "nn/net.h"
#include "ops/gemm.h"
#include "rt/rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct gemm_shape { const char *what; int M, N, K, ta, tb; } gemm_shape;

/* batch 128, MLP 784-512-128-32: forward (x W^T), input gradients (NN), weight gradients (TN) */
static const gemm_shape shapes[] = {
    {"fwd 784->512", 128, 512, 784, 0, 1}, {"fwd 512->128", 128, 128, 512, 0, 1}, {"fwd 128->32", 128, 32, 128, 0, 1},
    {"fwd 32->128", 128, 128, 32, 0, 1},   {"fwd 128->512", 128, 512, 128, 0, 1}, {"fwd 512->784", 128, 784, 512, 0, 1},
    {"dX 512->784", 128, 784, 512, 0, 0},  {"dX 128->512", 128, 512, 128, 0, 0},  {"dW 784x512", 512, 784, 128, 1, 0},
    {"dW 512x128", 128, 512, 128, 1, 0},   {"dW 512x784", 784, 512, 128, 1, 0},
};
enum { N_SHAPES = sizeof shapes / sizeof shapes[0] };

static const char *models[] = {"mlp.model", "denoising.model", "vae.model", "conv.model"};
enum { N_MODELS = 4 };

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

/* GFLOP/s of one path: `reps` launches between two waits, median of `runs`. */
static aecl_status gemm_rate(aecl_ctx *ctx, const gemm_shape *s, aecl_gemm_path path, int runs, double *gflops)
{
    aecl_buffer *a = NULL, *b = NULL, *c = NULL;
    size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
    aecl_status st = aecl_buffer_create(ctx, na, 4, &a);
    if (st == AECL_OK) st = aecl_buffer_create(ctx, nb, 4, &b);
    if (st == AECL_OK) st = aecl_buffer_create(ctx, nc, 4, &c);
    aecl_gemm_desc d = aecl_gemm_desc_default();
    d.M = s->M; d.N = s->N; d.K = s->K; d.trans_a = s->ta; d.trans_b = s->tb; d.path = path;
    aecl_launch l = {0};
    if (st == AECL_OK) st = aecl_gemm_prepare(ctx, &d, aecl_buffer_cl(a), 0, aecl_buffer_cl(b), 0, aecl_buffer_cl(c), 0, NULL, 0, &l);
    double t[32];
    enum { REPS = 10 };
    for (int r = 0; st == AECL_OK && r <= runs; r++) {
        double t0 = cli_now();
        for (int i = 0; i < REPS && st == AECL_OK; i++) st = aecl_launch_enqueue(ctx, &l, NULL);
        if (st == AECL_OK) st = aecl_ctx_finish(ctx);
        if (r > 0) t[r - 1] = (cli_now() - t0) / REPS; /* run 0 warms up */
    }
    if (st == AECL_OK) *gflops = 2.0 * s->M * s->N * s->K / median(t, runs) * 1e-9;
    aecl_launch_release(&l);
    aecl_buffer_free(a); aecl_buffer_free(b); aecl_buffer_free(c);
    return st;
}

typedef struct model_figures {
    double train_sps, infer_sps, host_ms, step_ms;
    double train_gflops, infer_gflops; /* the plan's GEMM and conv FLOPs over the step's wall time */
    double busy;                       /* profiled device time over the step's wall time */
    size_t train_bytes, infer_bytes, unplanned_bytes;
    int launches, report_only; /* a training step's; those run only when its loss is read */
    char top_ops[4096], infer_ops[4096];
} model_figures;

/* Wall time of a step as a user's loop sees it, measured the way
 * scripts/torch_tuned.py measures PyTorch: a warm-up round, then `runs` rounds of
 * `steps` back-to-back steps with one wait per round (training replays its plan
 * without waiting on each step, docs/architecture.md); the median round over its
 * steps. As `aecl train` by default, one step in 10 computes the loss terms
 * (aecl_plan_set_reporting). The host part is the time to enqueue a step. */
static aecl_status time_steps(aecl_ctx *ctx, aecl_net *n, int runs, int steps, double *wall, double *host)
{
    double w[64], h[64];
    for (int r = -1; r < runs; r++) {
        double t0 = cli_now(), enq = 0;
        for (int i = 0; i < steps; i++) {
            double e0 = cli_now();
            aecl_plan_set_reporting(n->plan, i % 10 == 0);
            AECL_TRY(aecl_plan_run(n->plan));
            enq += cli_now() - e0;
        }
        AECL_TRY(aecl_ctx_finish(ctx));
        if (r < 0) continue; /* the warm-up round */
        w[r] = (cli_now() - t0) / steps;
        h[r] = enq / steps;
    }
    aecl_plan_set_reporting(n->plan, 1);
    *wall = median(w, runs);
    *host = median(h, runs);
    return AECL_OK;
}

/* The FLOPs of one run of the plan: its GEMM and convolution products (each
 * launch records its own; elementwise ops, losses and the optimizer count 0). */
static double plan_flops(const aecl_plan *p)
{
    double f = 0;
    for (int i = 0; i < aecl_plan_launch_count(p); i++) f += aecl_plan_launch_flops(p, i);
    return f;
}

/* Device time per op label over a profiled step (mean of 3), largest first, with
 * the GFLOP/s of ops that do products; *busy_s is the step's total device time. */
static aecl_status op_profile(aecl_net *n, char *out, size_t cap, double *busy_s)
{
    int nl = aecl_plan_launch_count(n->plan);
    double *t = calloc((size_t)nl, sizeof *t), total = 0;
    if (!t) return AECL_ERR_HOST_MEMORY;
    aecl_status st = AECL_OK;
    for (int r = 0; r < 3 && st == AECL_OK; r++) st = aecl_plan_run_profiled(n->plan, t);
    const char *labels[64];
    double sums[64], flops[64];
    int nlab = 0;
    for (int i = 0; i < nl; i++) {
        const char *lab = aecl_plan_launch_label(n->plan, i);
        int k = 0;
        while (k < nlab && strcmp(labels[k], lab)) k++;
        if (k == nlab && nlab < 64) { labels[nlab] = lab; sums[nlab] = flops[nlab] = 0; nlab++; }
        if (k < 64) { sums[k] += t[i] / 3; flops[k] += aecl_plan_launch_flops(n->plan, i); }
        total += t[i] / 3;
    }
    size_t len = 0;
    out[0] = 0;
    for (int pick = 0; pick < nlab; pick++) {
        int best = 0;
        for (int k = 1; k < nlab; k++) if (sums[k] > sums[best]) best = k;
        len += (size_t)snprintf(out + len, cap - len, "%s%s %.2f ms (%.0f%%", pick ? ", " : "", labels[best],
                                sums[best] * 1e3, 100 * sums[best] / (total > 0 ? total : 1));
        if (len < cap && flops[best] > 0 && sums[best] > 0)
            len += (size_t)snprintf(out + len, cap - len, ", %.0f GFLOP/s", flops[best] / sums[best] * 1e-9);
        if (len < cap) len += (size_t)snprintf(out + len, cap - len, ")");
        sums[best] = -1;
        if (len >= cap) break;
    }
    *busy_s = total;
    free(t);
    return st;
}

static aecl_status bench_model(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, int runs, int steps,
                               model_figures *f)
{
    aecl_net *n = NULL;
    double wall, host;
    AECL_TRY(aecl_net_build(ctx, spec, batch, AECL_NET_TRAIN, 1, &n));
    aecl_status st = aecl_net_init_params(n, 1);
    if (st == AECL_OK) st = time_steps(ctx, n, runs, steps, &wall, &host);
    double busy = 0;
    if (st == AECL_OK) st = op_profile(n, f->top_ops, sizeof f->top_ops, &busy);
    if (st == AECL_OK) {
        const aecl_plan_stats *s = aecl_plan_get_stats(n->plan);
        f->train_sps = batch / wall;
        f->train_gflops = plan_flops(n->plan) / wall * 1e-9;
        f->busy = busy / wall;
        f->step_ms = wall * 1e3;
        f->host_ms = host * 1e3;
        f->train_bytes = s->persist_bytes + s->work_bytes;
        f->unplanned_bytes = s->unplanned_bytes;
        f->launches = s->n_launches;
        f->report_only = s->n_report_only;
    }
    aecl_net_free(n);
    n = NULL;
    /* Inference: the forward pass to the reconstruction (a VAE's at its mean
     * code), as PyTorch's model(x) in the yardstick; four times the steps. */
    if (st == AECL_OK) st = aecl_net_build(ctx, spec, batch, AECL_NET_RECON, 1, &n);
    if (st == AECL_OK) st = time_steps(ctx, n, runs, 4 * steps, &wall, &host);
    if (st == AECL_OK) st = op_profile(n, f->infer_ops, sizeof f->infer_ops, &busy);
    if (st == AECL_OK) {
        const aecl_plan_stats *s = aecl_plan_get_stats(n->plan);
        f->infer_sps = batch / wall;
        f->infer_gflops = plan_flops(n->plan) / wall * 1e-9;
        f->infer_bytes = s->persist_bytes + s->work_bytes;
    }
    aecl_net_free(n);
    return st;
}

/* models/ beside the working directory, the program's source tree or its install. */
static void models_dir(const char *given, char *out, size_t cap)
{
    if (given) { snprintf(out, cap, "%s", given); return; }
    const char *cands[] = {"models", "../models", "/usr/local/share/aecl/models", "/usr/share/aecl/models"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        char p[1100];
        snprintf(p, sizeof p, "%s/mlp.model", cands[i]);
        if (!access(p, R_OK)) { snprintf(out, cap, "%s", cands[i]); return; }
    }
    snprintf(out, cap, "models");
}

static void usage(void)
{
    printf("usage: aecl bench [--device SEL] [--models DIR] [--batch B] [--runs N] [--steps S] [--json] [--no-gemm]\n"
           "                  [--no-models]\n\n"
           "The device's FP32 peak (an FMA kernel), GEMM GFLOP/s of aecl's kernels and CLBlast at the\n"
           "MLP's batch-128 shapes, then training and inference samples/s, their GEMM/conv GFLOP/s and\n"
           "share of the peak, host enqueue time per step, planned device memory and the ops by device\n"
           "time (with the GFLOP/s of products) for models/{mlp,denoising,vae,conv}.model. Medians of\n"
           "N runs (default 7); a model's run is S back-to-back training steps (default 20) or 4*S\n"
           "inference steps (forward passes to the reconstruction) with one wait, after a warm-up run,\n"
           "as scripts/torch_tuned.sh times PyTorch.\n");
}

int cmd_bench(int argc, char **argv)
{
    const char *device = NULL, *mdir_arg = NULL;
    int json = 0, batch = 128, runs = 7, steps = 20, do_gemm = 1, do_models = 1;
    enum { OPT_JSON = CLI_OPT_FIRST, OPT_NO_GEMM, OPT_NO_MODELS, OPT_DEVICE, OPT_MODELS, OPT_BATCH, OPT_RUNS, OPT_STEPS };
    static const struct option opts[] = {CLI_HELP_LONGOPT,
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"no-gemm", no_argument, NULL, OPT_NO_GEMM},
                                         {"no-models", no_argument, NULL, OPT_NO_MODELS},
                                         {"device", required_argument, NULL, OPT_DEVICE},
                                         {"models", required_argument, NULL, OPT_MODELS},
                                         {"batch", required_argument, NULL, OPT_BATCH},
                                         {"runs", required_argument, NULL, OPT_RUNS},
                                         {"steps", required_argument, NULL, OPT_STEPS},
                                         {0}};
    const char *v, *cmd = "bench";
    for (int o; (o = cli_next_opt(cmd, argc, argv, opts, &v)) != CLI_OPT_END;) {
        long num = 0;
        switch (o) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP: usage(); return 0;
        case CLI_OPT_ARG: return cli_positional(cmd, v, NULL, 0);
        case OPT_JSON: json = 1; break;
        case OPT_NO_GEMM: do_gemm = 0; break;
        case OPT_NO_MODELS: do_models = 0; break;
        case OPT_DEVICE: device = v; break;
        case OPT_MODELS: mdir_arg = v; break;
        case OPT_BATCH:
            if (!cli_parse_long(v, 1, 65536, &num)) return cli_bad_value(cmd, v);
            batch = (int)num;
            break;
        case OPT_RUNS:
            if (!cli_parse_long(v, 1, 31, &num)) return cli_bad_value(cmd, v);
            runs = (int)num;
            break;
        case OPT_STEPS:
            if (!cli_parse_long(v, 1, 10000, &num)) return cli_bad_value(cmd, v);
            steps = (int)num;
            break;
        }
    }
    aecl_ctx *ctx;
    int rc_open = cli_open_ctx("bench", device, &ctx);
    if (rc_open) return rc_open;
    aecl_status st = AECL_OK;
    const char *dev = aecl_ctx_device(ctx)->name;
    aecl_peak_opts po = {.runs = runs};
    aecl_peak peak = {0};
    st = aecl_device_peak(ctx, &po, &peak);
    if (st == AECL_OK && json)
        printf("{\"device\": \"%s\", \"runs\": %d, \"steps\": %d, \"peak_gflops\": %.1f, \"peak_vector_width\": %d, "
               "\"gemm\": [", dev, runs, steps, peak.gflops, peak.vector_width);
    else if (st == AECL_OK)
        printf("device: %s; medians of %d runs (a model's run: %d training or %d inference steps)\n"
               "FP32 peak: %.0f GFLOP/s (FMA chains on float%d, cl/peak.cl)\n", dev, runs, steps, 4 * steps,
               peak.gflops, peak.vector_width);
    for (int i = 0; do_gemm && i < N_SHAPES && st == AECL_OK; i++) {
        double own = 0, blas = 0;
        st = gemm_rate(ctx, &shapes[i], AECL_GEMM_OWN, runs, &own);
        if (st == AECL_OK) st = gemm_rate(ctx, &shapes[i], AECL_GEMM_CLBLAST, runs, &blas);
        if (st != AECL_OK) break;
        if (json)
            printf("%s{\"op\": \"%s\", \"M\": %d, \"N\": %d, \"K\": %d, \"trans_a\": %d, \"trans_b\": %d, \"aecl_gflops\": %.2f, "
                   "\"clblast_gflops\": %.2f}", i ? ", " : "", shapes[i].what, shapes[i].M, shapes[i].N, shapes[i].K,
                   shapes[i].ta, shapes[i].tb, own, blas);
        else {
            if (!i) printf("\nGEMM (GFLOP/s)       M     N     K  op      aecl  CLBlast  ratio\n");
            printf("  %-14s %5d %5d %5d  %s%s  %7.1f  %7.1f  %5.2fx\n", shapes[i].what, shapes[i].M, shapes[i].N,
                   shapes[i].K, shapes[i].ta ? "T" : "N", shapes[i].tb ? "T" : "N", own, blas, own / blas);
        }
    }
    if (json) printf("], \"models\": [");
    char mdir[1024];
    models_dir(mdir_arg, mdir, sizeof mdir);
    for (int m = 0; do_models && m < N_MODELS && st == AECL_OK; m++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", mdir, models[m]);
        aecl_model_spec *spec = NULL;
        model_figures f = {0};
        st = aecl_spec_parse_file(ctx, path, &spec);
        if (st == AECL_OK) st = bench_model(ctx, spec, batch, runs, steps, &f);
        aecl_spec_free(spec);
        if (st != AECL_OK) break;
        if (json)
            printf("%s{\"model\": \"%s\", \"batch\": %d, \"train_samples_per_s\": %.1f, \"infer_samples_per_s\": %.1f, "
                   "\"step_ms\": %.3f, \"host_enqueue_ms\": %.4f, \"launches\": %d, \"report_only_launches\": %d, "
                   "\"train_bytes\": %zu, "
                   "\"unplanned_bytes\": %zu, \"infer_bytes\": %zu, \"train_gflops\": %.1f, \"infer_gflops\": %.1f, "
                   "\"train_peak_share\": %.3f, \"infer_peak_share\": %.3f, \"device_busy\": %.3f, \"ops\": \"%s\", \"infer_ops\": \"%s\"}",
                   m ? ", " : "", models[m], batch, f.train_sps, f.infer_sps, f.step_ms, f.host_ms, f.launches,
                   f.report_only, f.train_bytes, f.unplanned_bytes, f.infer_bytes, f.train_gflops, f.infer_gflops,
                   f.train_gflops / peak.gflops, f.infer_gflops / peak.gflops, f.busy, f.top_ops, f.infer_ops);
        else {
            printf("\n%s, batch %d: train %.0f samples/s (step %.2f ms, host enqueue %.3f ms, %d launches, %d of them "
                   "only when the loss is read), inference %.0f samples/s\n", models[m], batch, f.train_sps, f.step_ms,
                   f.host_ms, f.launches, f.report_only, f.infer_sps);
            printf("  GEMM/conv FLOPs: training %.1f GFLOP/s (%.0f%% of peak), inference %.1f GFLOP/s (%.0f%%); "
                   "device busy %.0f%% of a training step\n", f.train_gflops, 100 * f.train_gflops / peak.gflops,
                   f.infer_gflops, 100 * f.infer_gflops / peak.gflops, 100 * f.busy);
            printf("  device memory: training %.2f MiB planned (%.2f MiB unplanned), inference %.2f MiB\n",
                   f.train_bytes / 1048576.0, f.unplanned_bytes / 1048576.0, f.infer_bytes / 1048576.0);
            printf("  device time per op of a training step: %s\n", f.top_ops);
            printf("  device time per op of an inference step: %s\n", f.infer_ops);
        }
    }
    if (json) printf("]}\n");
    int rc = st == AECL_OK ? 0 : cli_error("bench", st, ctx, "benchmark failed");
    aecl_ctx_free(ctx);
    return rc;
}
