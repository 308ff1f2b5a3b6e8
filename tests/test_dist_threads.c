/* Data-parallel training (aecl_train_opts.comm) with N ranks as threads, each
 * with its own context on its own PoCL device (POCL_DEVICES="pthread pthread",
 * set for this test in tests/CMakeLists.txt), joined by a thread communicator
 * (a barrier and the ranks' buffers, summed in rank order). After an epoch the
 * weights of every rank must equal those of a one-process run with the same
 * global batch (max |difference| / max |weight| per tensor <= 1e-5): the MLP
 * with dropout and gradient clipping, the denoising model's input noise and the
 * VAE's samples, over 300 Fashion-MNIST rows with a short last batch that
 * leaves a rank without rows and row offsets that start mid-block of the random
 * streams. Then: validation, best weights and checkpoints (rank 0 writes; the
 * decisions agree), resuming a 2-rank checkpoint, a global batch the ranks do not divide, a communicator that
 * fails on one rank, and a rank that stops (every rank must end with an error,
 * none may hang). */
#include "check.h"
#include "nn/comm_threads.h"
#include "nn/net.h"
#include "nn/train.h"
#include "nn/train_dist.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DATA "/usr/share/datasets/fashion-mnist/"
enum { MAX_RANKS = 3 };

/* ---- the threads' communicator, with a failure to inject ------------------------ */

typedef struct fault {
    int rank;                 /* this rank's allreduce_f32 call number `call` fails (-1: none) */
    long call;
} fault;

typedef struct trank {
    aecl_comm_threads *t;
    const aecl_comm *inner;
    const fault *f;
    int rank;
    long f32_calls;
} trank;

static aecl_status sum_f32(void *user, float *data, size_t n)
{
    trank *r = user;
    if (r->rank == r->f->rank && r->f32_calls++ == r->f->call) {
        aecl_comm_threads_break(r->t);
        return AECL_ERR_IO;
    }
    return r->inner->allreduce_f32(r->inner->user, data, n);
}

static aecl_status sum_f64(void *user, double *data, size_t n)
{
    const trank *r = user;
    return r->inner->allreduce_f64(r->inner->user, data, n);
}

static aecl_status bcast(void *user, void *data, size_t bytes, int root)
{
    const trank *r = user;
    return r->inner->broadcast(r->inner->user, data, bytes, root);
}

/* ---- runs ------------------------------------------------------------------------ */

typedef struct run_cfg {
    const aecl_model_spec *spec;
    const aecl_dataset *train, *val;
    aecl_train_opts o;
    int cancel_rank;          /* this rank stops before its first step (-1: none) */
    int overlap;              /* the ranks' dist_overlap (the MLP's gradients make 2 buckets) */
} run_cfg;

typedef struct rank_job {
    const run_cfg *cfg;
    trank tr;
    aecl_comm comm;
    char device[32];
    aecl_status st;
    char msg[512];
    float *w;
    aecl_train_summary sum;
    int epochs_seen;
    double val_loss[4];
} rank_job;

static void on_progress(void *user, const aecl_train_progress *p)
{
    rank_job *j = user;
    if (p->epoch_done && j->epochs_seen < 4) j->val_loss[j->epochs_seen++] = p->val_loss;
}

static void *rank_main(void *arg)
{
    rank_job *j = arg;
    aecl_ctx *ctx = NULL;
    j->st = aecl_ctx_create(j->device, &ctx);
    if (j->st == AECL_OK) j->st = aecl_ctx_tune(ctx, j->cfg->overlap ? "dist_overlap=1" : "dist_overlap=0");
    if (j->st != AECL_OK) {
        snprintf(j->msg, sizeof j->msg, "%s", aecl_ctx_last_error(ctx));
        aecl_comm_threads_break(j->tr.t);
        return NULL;
    }
    aecl_train_opts o = j->cfg->o;
    static const volatile int stop = 1;
    if (j->tr.rank == j->cfg->cancel_rank) o.cancel = &stop;
    o.comm = &j->comm;
    o.summary = &j->sum;
    o.cb = on_progress;
    o.user = j;
    /* Only rank 0 writes: the others get paths of their own that must stay unwritten. */
    char ck[600], best[600];
    if (j->tr.rank && o.checkpoint) {
        snprintf(ck, sizeof ck, "%s.rank%d", o.checkpoint, j->tr.rank);
        o.checkpoint = ck;
    }
    if (j->tr.rank && o.checkpoint_best) {
        snprintf(best, sizeof best, "%s.rank%d", o.checkpoint_best, j->tr.rank);
        o.checkpoint_best = best;
    }
    j->st = aecl_train(ctx, j->cfg->spec, j->cfg->train, j->cfg->val, &o, &j->w);
    snprintf(j->msg, sizeof j->msg, "%s", aecl_ctx_last_error(ctx));
    aecl_ctx_free(ctx);
    return NULL;
}

/* PoCL's devices ("P:D" selectors): as many as there are, up to MAX_RANKS. */
static int n_devices;
static char devices[MAX_RANKS][32];

static void find_devices(void)
{
    aecl_device_info *info = NULL;
    size_t n = 0;
    if (aecl_devices_list(&info, &n) != AECL_OK) return;
    for (size_t i = 0; i < n && n_devices < MAX_RANKS; i++)
        if (strstr(info[i].platform_name, "Portable Computing Language"))
            snprintf(devices[n_devices++], sizeof devices[0], "%u:%u", info[i].platform_index,
                     info[i].device_index);
    free(info);
}

/* N ranks of cfg; jobs[r] holds each rank's outcome (the caller frees w). */
static void run_ranks(const run_cfg *cfg, int n, rank_job *jobs, const fault *f)
{
    aecl_comm_threads *t = NULL;
    CHECK(aecl_comm_threads_create(n, &t) == AECL_OK);
    if (!t) return;
    pthread_t th[MAX_RANKS];
    for (int r = 0; r < n; r++) {
        const aecl_comm *inner = aecl_comm_threads_rank(t, r);
        jobs[r] = (rank_job){.cfg = cfg, .tr = {t, inner, f, r, 0}};
        jobs[r].comm = (aecl_comm){.rank = r, .size = n, .allreduce_f32 = sum_f32, .allreduce_f64 = sum_f64,
                                   .broadcast = bcast, .user = &jobs[r].tr};
        snprintf(jobs[r].device, sizeof jobs[r].device, "%s", devices[r % n_devices]);
        pthread_create(&th[r], NULL, rank_main, &jobs[r]);
    }
    for (int r = 0; r < n; r++) pthread_join(th[r], NULL);
    aecl_comm_threads_free(t);
}

/* The weights of a one-process run (on the test's context). */
static float *one_process(const run_cfg *cfg, aecl_train_summary *sum)
{
    aecl_ctx *ctx = test_ctx();
    aecl_train_opts o = cfg->o;
    o.summary = sum;
    float *w = NULL;
    CHECK_OK(ctx, aecl_train(ctx, cfg->spec, cfg->train, cfg->val, &o, &w));
    return w;
}

/* max |a - b| / max |b| per tensor of the model's layout, the worst. */
static double worst_tensor_diff(const aecl_model_spec *spec, const float *a, const float *b)
{
    aecl_net_layout lay;
    if (aecl_net_layout_of(test_ctx(), spec, &lay) != AECL_OK) return INFINITY;
    double worst = 0;
    for (int t = 0; t < lay.n; t++) {
        double d = 0, m = 0;
        for (size_t i = lay.offset[t]; i < lay.offset[t] + lay.size[t]; i++) {
            d = fmax(d, fabs((double)a[i] - b[i]));
            m = fmax(m, fabs((double)b[i]));
        }
        worst = fmax(worst, m > 0 ? d / m : d);
    }
    return worst;
}

static aecl_model_spec *parse(const char *text, const char *name)
{
    aecl_model_spec *s = NULL;
    CHECK_OK(test_ctx(), aecl_spec_parse_string(test_ctx(), text, name, &s));
    return s;
}

static const char *const MLP =
    "kind = vanilla\ninput = 1x28x28\nlatent = 6\nloss = mse\noutput_activation = sigmoid\n"
    "[encoder]\nflatten\ndense 30 relu dropout=0.25\n[decoder]\nmirror\n"
    "[train]\noptimizer = sgd\nmomentum = 0.9\nlr = 0.05\nclip_norm = 0.05\n";
static const char *const DENOISING =
    "kind = denoising\ninput = 1x28x28\nlatent = 6\nloss = mse\noutput_activation = sigmoid\n"
    "[encoder]\nflatten\ndense 30 relu\n[decoder]\nmirror\n"
    "[train]\noptimizer = sgd\nmomentum = 0.9\nlr = 0.05\nnoise = gaussian 0.3\nnoise_clip = true\n";
static const char *const VAE =
    "kind = variational\ninput = 1x28x28\nlatent = 5\nloss = bce\n"
    "[encoder]\nflatten\ndense 30 relu\n[decoder]\nmirror\n"
    "[train]\noptimizer = adam\nlr = 1e-3\nbeta = 1\n";

/* One epoch on n ranks against one process: every rank's weights. */
static void same_as_one(const char *what, const char *text, const aecl_dataset *tr, int n, int batch, int overlap)
{
    aecl_model_spec *spec = parse(text, what);
    if (!spec) return;
    run_cfg cfg = {.spec = spec, .train = tr, .o = {.epochs = 1, .batch = batch, .seed = 7, .report_every = 2},
                   .cancel_rank = -1, .overlap = overlap};
    aecl_train_summary s1;
    float *ref = one_process(&cfg, &s1);
    rank_job jobs[MAX_RANKS];
    fault none = {-1, 0};
    run_ranks(&cfg, n, jobs, &none);
    for (int r = 0; r < n; r++) {
        CHECK_MSG(jobs[r].st == AECL_OK, "%s, rank %d of %d: %s", what, r, n, jobs[r].msg);
        if (ref && jobs[r].w) {
            double d = worst_tensor_diff(spec, jobs[r].w, ref);
            CHECK_MSG(d <= 1e-5, "%s, rank %d of %d, batch %d: weights differ from one process by %g", what, r, n,
                      batch, d);
            if (r == 0)
                printf("%-10s %d ranks, batch %3d, overlap %d: max |diff| / max |w| = %.2g\n", what, n, batch, overlap,
                       d);
        }
        free(jobs[r].w);
    }
    free(ref);
    aecl_spec_free(spec);
}

/* Validation, best weights, checkpoints and early stopping: the decisions and the
 * returned (best) weights agree with one process; only rank 0 wrote. */
static void decisions(const aecl_dataset *tr, const aecl_dataset *val)
{
    aecl_model_spec *spec = parse(MLP, "mlp");
    if (!spec) return;
    test_tmp_setup("dist");
    char ck[600], best[600];
    snprintf(ck, sizeof ck, "%s", test_path("ck.safetensors"));
    snprintf(best, sizeof best, "%s", test_path("best.safetensors"));
    run_cfg cfg = {.spec = spec, .train = tr, .val = val,
                   .o = {.epochs = 3, .batch = 96, .seed = 3, .patience = 1, .min_delta = 1e9,
                         .checkpoint = ck, .checkpoint_best = best},
                   .cancel_rank = -1};
    aecl_train_summary s1;
    float *ref = one_process(&cfg, &s1);
    remove(ck);
    remove(best);
    rank_job jobs[2];
    fault none = {-1, 0};
    run_ranks(&cfg, 2, jobs, &none);
    for (int r = 0; r < 2; r++) {
        CHECK_MSG(jobs[r].st == AECL_OK, "rank %d: %s", r, jobs[r].msg);
        /* min_delta huge: epoch 2 cannot improve, patience 1 stops there. */
        CHECK(jobs[r].sum.epochs_run == s1.epochs_run && jobs[r].sum.stopped_early == s1.stopped_early &&
              s1.stopped_early && jobs[r].sum.best_epoch == s1.best_epoch && jobs[r].sum.weights_epoch == 1);
        CHECK(jobs[r].epochs_seen == 2 && jobs[r].val_loss[0] == jobs[0].val_loss[0] &&
              jobs[r].val_loss[1] == jobs[0].val_loss[1]);
        CHECK_NEAR(jobs[r].sum.best_loss, s1.best_loss, 1e-5 * s1.best_loss);
        if (ref && jobs[r].w) CHECK(worst_tensor_diff(spec, jobs[r].w, ref) <= 1e-5);
        free(jobs[r].w);
    }
    char buf[8], other[620];
    CHECK(test_read_file(ck, buf, sizeof buf) != (size_t)-1);
    CHECK(test_read_file(best, buf, sizeof buf) != (size_t)-1);
    snprintf(other, sizeof other, "%s.rank1", ck);
    CHECK(test_read_file(other, buf, sizeof buf) == (size_t)-1);
    snprintf(other, sizeof other, "%s.rank1", best);
    CHECK(test_read_file(other, buf, sizeof buf) == (size_t)-1);
    /* Rank 0 cannot write: every rank ends with its error. */
    cfg.o.checkpoint = cfg.o.checkpoint_best = NULL;
    cfg.o.resume = test_path("missing.safetensors");
    run_ranks(&cfg, 2, jobs, &none);
    for (int r = 0; r < 2; r++) {
        CHECK_MSG(jobs[r].st == AECL_ERR_IO && strstr(jobs[r].msg, "missing.safetensors"), "rank %d: %s: %s", r,
                  aecl_status_str(jobs[r].st), jobs[r].msg);
        free(jobs[r].w);
    }
    free(ref);
    /* Resuming a 2-rank checkpoint of epoch 1 on 2 ranks ends where 2 epochs in
     * one process do. */
    run_cfg two = {.spec = spec, .train = tr, .o = {.epochs = 2, .batch = 96, .seed = 3}, .cancel_rank = -1};
    ref = one_process(&two, &s1);
    remove(ck);
    two.o.epochs = 1;
    two.o.checkpoint = ck;
    run_ranks(&two, 2, jobs, &none);
    for (int r = 0; r < 2; r++) free(jobs[r].w);
    two.o.epochs = 2;
    two.o.checkpoint = NULL;
    two.o.resume = ck;
    run_ranks(&two, 2, jobs, &none);
    for (int r = 0; r < 2; r++) {
        CHECK_MSG(jobs[r].st == AECL_OK && jobs[r].sum.epochs_run == 2, "rank %d: %s", r, jobs[r].msg);
        if (ref && jobs[r].w) {
            double d = worst_tensor_diff(spec, jobs[r].w, ref);
            CHECK_MSG(d <= 1e-5, "resumed rank %d differs from one process by %g", r, d);
        }
        free(jobs[r].w);
    }
    free(ref);
    test_tmp_cleanup();
    aecl_spec_free(spec);
}

/* Failures end every rank with an error. */
static void failures(const aecl_dataset *tr)
{
    aecl_model_spec *spec = parse(MLP, "mlp");
    if (!spec) return;
    run_cfg cfg = {.spec = spec, .train = tr, .o = {.epochs = 1, .batch = 50, .seed = 1}, .cancel_rank = -1,
                   .overlap = 1};
    rank_job jobs[MAX_RANKS];
    fault none = {-1, 0};
    run_ranks(&cfg, 3, jobs, &none);
    for (int r = 0; r < 3; r++) {
        CHECK_MSG(jobs[r].st == AECL_ERR_INVALID_ARG && strstr(jobs[r].msg, "not divisible"), "rank %d: %s", r,
                  jobs[r].msg);
        free(jobs[r].w);
    }
    /* Rank 1's third gradient sum fails: the first bucket of the second step, on
     * the communication thread, while the other ranks wait in it. */
    cfg.o.batch = 48;
    fault third = {1, 2};
    run_ranks(&cfg, 3, jobs, &third);
    for (int r = 0; r < 3; r++) {
        CHECK_MSG(jobs[r].st == AECL_ERR_IO && strstr(jobs[r].msg, "communicator"), "rank %d: %s: %s", r,
                  aecl_status_str(jobs[r].st), jobs[r].msg);
        free(jobs[r].w);
    }
    /* Rank 2 stops: it takes part in the step's sums, the others learn why. */
    cfg.cancel_rank = 2;
    run_ranks(&cfg, 3, jobs, &none);
    for (int r = 0; r < 3; r++) {
        CHECK_MSG(jobs[r].st == AECL_ERR_CANCELED && (r == 2 || strstr(jobs[r].msg, "rank 2")), "rank %d: %s: %s", r,
                  aecl_status_str(jobs[r].st), jobs[r].msg);
        free(jobs[r].w);
    }
    aecl_spec_free(spec);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    find_devices();
    CHECK_MSG(n_devices >= 1, "no PoCL device");
    if (n_devices < 2) printf("one PoCL device: the ranks share it (POCL_DEVICES=\"pthread pthread\" gives two)\n");
    aecl_dataset all;
    CHECK_OK(ctx, aecl_dataset_load_idx(ctx, DATA "train-images-idx3-ubyte.gz", NULL, 400, 784, &all));
    if (n_devices && all.x) {
        aecl_dataset tr = all, val = all;
        tr.n = 300;
        val.x += 300 * all.features;
        val.n = 100;
        /* 300 rows: batch 96 on 2 ranks ends with 12 rows (rank 1 has none);
         * batch 45 on 3 ranks with 30 (rank 2 has none), and its ranks start at
         * rows 15 and 30: mid-block for the VAE's 5 numbers per row. */
        for (int overlap = 0; overlap < 2; overlap++) {
            same_as_one("mlp", MLP, &tr, 2, 96, overlap);
            same_as_one("mlp", MLP, &tr, 3, 45, overlap);
        }
        same_as_one("denoising", DENOISING, &tr, 2, 96, 1);
        same_as_one("denoising", DENOISING, &tr, 3, 45, 0);
        same_as_one("vae", VAE, &tr, 2, 96, 0);
        same_as_one("vae", VAE, &tr, 3, 45, 1);
        decisions(&tr, &val);
        failures(&tr);
    }
    aecl_dataset_free(&all);
    return test_finish();
}
