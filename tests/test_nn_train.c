/* End to end on a Fashion-MNIST subset: each kind of autoencoder trains to a test
 * loss under a fixed bar, training is reproducible, and a weights file gives back
 * the same model and numbers. */
#include "check.h"
#include "nn/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA "/usr/share/datasets/fashion-mnist/"

static aecl_model_spec *load_model(aecl_ctx *ctx, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models/%s", getenv("AECL_SOURCE_DIR") ? getenv("AECL_SOURCE_DIR") : "..", name);
    aecl_model_spec *s = NULL;
    CHECK_OK(ctx, aecl_spec_parse_file(ctx, path, &s));
    return s;
}

/* Trains `model` on n_train samples for `epochs`, returns the test loss (or NaN). */
static double train_eval(aecl_ctx *ctx, aecl_model_spec *s, const aecl_dataset *tr, const aecl_dataset *te, int epochs,
                         float **w_out, aecl_eval_result *r)
{
    aecl_train_opts o = {.epochs = epochs, .batch = 64, .seed = 5, .report_every = 10};
    float *w = NULL;
    CHECK_OK(ctx, aecl_train(ctx, s, tr, NULL, &o, &w));
    if (!w) return NAN;
    CHECK_OK(ctx, aecl_evaluate(ctx, s, w, te, 100, NULL, r));
    if (w_out) *w_out = w;
    else free(w);
    return r->loss;
}

/* Views of the first 300 samples (training) and the next 100 (validation). */
static void split_300_100(const aecl_dataset *all, aecl_dataset *tr, aecl_dataset *val)
{
    *tr = *val = *all;
    tr->n = 300;
    val->x += 300 * all->features;
    val->n = 100;
}

/* Validation reuses one eval net across epochs: each epoch's validation loss
 * must be, bit for bit, what a fresh evaluation of that epoch's weights gives
 * (a VAE also checks that its random draws restart), and validating must not
 * change the trained weights. */
typedef struct val_log {
    int n;
    double loss[8];
} val_log;

static void log_val(void *user, const aecl_train_progress *p)
{
    val_log *v = user;
    if (p->epoch_done && v->n < 8) v->loss[v->n++] = p->val_loss;
}

static void test_validation(aecl_ctx *ctx, const char *model, const aecl_dataset *all)
{
    aecl_model_spec *s = load_model(ctx, model);
    if (!s) return;
    aecl_dataset tr, val;
    split_300_100(all, &tr, &val);
    enum { EPOCHS = 3 };
    val_log log = {0};
    aecl_train_opts o = {.epochs = EPOCHS, .batch = 64, .seed = 11, .keep_last = 1, .cb = log_val, .user = &log};
    float *w = NULL;
    CHECK_OK(ctx, aecl_train(ctx, s, &tr, &val, &o, &w));
    CHECK(log.n == EPOCHS);
    for (int e = 1; e <= EPOCHS && w && log.n == EPOCHS; e++) {
        aecl_train_opts oe = {.epochs = e, .batch = 64, .seed = 11};
        float *we = NULL;
        aecl_eval_result r = {0};
        CHECK_OK(ctx, aecl_train(ctx, s, &tr, NULL, &oe, &we));
        CHECK_OK(ctx, aecl_evaluate(ctx, s, we, &val, 64, NULL, &r));
        CHECK_MSG(r.loss == log.loss[e - 1], "%s epoch %d: validated %.9g, evaluated %.9g", model, e, log.loss[e - 1],
                  r.loss);
        if (e == EPOCHS && we) {
            aecl_net *n = NULL;
            CHECK_OK(ctx, aecl_net_build(ctx, s, 1, AECL_NET_EVAL, 1, &n));
            CHECK(n && memcmp(w, we, aecl_net_param_floats(n) * sizeof *w) == 0);
            aecl_net_free(n);
        }
        free(we);
    }
    free(w);
    aecl_spec_free(s);
}

/* A checkpoint that cannot be written does not end the run: each failed write
 * is reported once through the progress callback, and the weights come back. */
typedef struct ck_log {
    int failures, reports;
    char first[256];
} ck_log;

static void log_ck(void *user, const aecl_train_progress *p)
{
    ck_log *l = user;
    l->reports++;
    if (!p->checkpoint_error) return;
    CHECK(!p->checkpointed);
    if (!l->failures++) snprintf(l->first, sizeof l->first, "%s", p->checkpoint_error);
}

static void test_checkpoint_failure(aecl_ctx *ctx, const aecl_dataset *tr)
{
    aecl_model_spec *s = load_model(ctx, "mlp.model");
    if (!s) return;
    ck_log log = {0};
    aecl_train_opts o = {.epochs = 2, .batch = 64, .seed = 3, .report_every = 5, .cb = log_ck, .user = &log,
                         .checkpoint = "/nonexistent-aecl-folder/ck.safetensors"};
    float *w = NULL;
    CHECK_OK(ctx, aecl_train(ctx, s, tr, NULL, &o, &w));
    CHECK(w != NULL);
    CHECK_MSG(log.failures == 2, "%d checkpoint failures reported, want one per epoch", log.failures);
    CHECK_MSG(strstr(log.first, "nonexistent-aecl-folder"), "the reason names the file: %s", log.first);
    free(w);
    aecl_spec_free(s);
}

/* Best weights: with validation and early stopping, the weights handed back
 * (and the --checkpoint-best file) are those of the epoch with the lowest
 * validation loss: re-evaluated, they give exactly that loss. The progress
 * starts with the kernel build and shows the first step. */
typedef struct best_log {
    int reports, building_first, first_step, n;
    double val[16];
} best_log;

static void log_best(void *user, const aecl_train_progress *p)
{
    best_log *l = user;
    if (l->reports++ == 0) l->building_first = p->building;
    if (!p->building && !l->first_step) l->first_step = (int)p->step; /* after the first step's compiles */
    if (p->epoch_done && l->n < 16) l->val[l->n++] = p->val_loss;
}

static void test_best_weights(aecl_ctx *ctx, const aecl_dataset *all)
{
    aecl_model_spec *s = load_model(ctx, "mlp.model");
    if (!s) return;
    aecl_dataset tr, val;
    split_300_100(all, &tr, &val);
    char best_path[] = "/tmp/aecl-test-best-XXXXXX";
    int fd = mkstemp(best_path);
    if (fd >= 0) close(fd);
    best_log log = {0};
    aecl_train_summary sm = {0};
    /* A rate high enough to overshoot: the validation loss goes up and down. */
    aecl_train_opts o = {.epochs = 12, .batch = 32, .seed = 4, .lr = 0.02, .patience = 3, .cb = log_best,
                         .user = &log, .checkpoint_best = best_path, .summary = &sm};
    float *w = NULL;
    CHECK_OK(ctx, aecl_train(ctx, s, &tr, &val, &o, &w));
    CHECK_MSG(log.building_first && log.first_step == 1, "progress: building %d, first step %d", log.building_first,
              log.first_step);
    int best = 0;
    for (int e = 1; e < log.n; e++) if (log.val[e] < log.val[best]) best = e;
    printf("best weights: %d epochs run, val losses", log.n);
    for (int e = 0; e < log.n; e++) printf(" %.5f", log.val[e]);
    printf("; best epoch %d, last %d\n", best + 1, log.n);
    CHECK_MSG(best + 1 < log.n, "the run must end after a worse epoch for this test to mean anything (best %d of %d)",
              best + 1, log.n);
    CHECK(sm.validated && sm.best_epoch == best + 1 && sm.weights_epoch == best + 1 && sm.epochs_run == log.n &&
          sm.best_loss == log.val[best]);
    aecl_eval_result r = {0};
    if (w) CHECK_OK(ctx, aecl_evaluate(ctx, s, w, &val, 32, NULL, &r));
    CHECK_MSG(r.loss == log.val[best], "returned weights evaluate to %.9g, the best epoch's val loss is %.9g", r.loss,
              log.val[best]);
    aecl_model_spec *s2 = NULL;
    float *wb = NULL;
    CHECK_OK(ctx, aecl_weights_load(ctx, best_path, &s2, &wb));
    aecl_net *n = NULL;
    CHECK_OK(ctx, aecl_net_build(ctx, s, 1, AECL_NET_EVAL, 1, &n));
    CHECK(w && wb && n && memcmp(w, wb, aecl_net_param_floats(n) * sizeof *w) == 0);
    /* --keep last: the last epoch's weights, another loss. */
    aecl_train_opts ol = o;
    ol.keep_last = 1;
    ol.checkpoint_best = NULL;
    ol.cb = NULL;
    float *wl = NULL;
    CHECK_OK(ctx, aecl_train(ctx, s, &tr, &val, &ol, &wl));
    aecl_eval_result rl = {0};
    if (wl) CHECK_OK(ctx, aecl_evaluate(ctx, s, wl, &val, 32, NULL, &rl));
    CHECK_MSG(rl.loss == log.val[log.n - 1] && sm.weights_epoch == log.n, "last weights: %.9g vs %.9g, epoch %d",
              rl.loss, log.val[log.n - 1], sm.weights_epoch);
    unlink(best_path);
    aecl_net_free(n);
    aecl_spec_free(s2);
    free(wl);
    free(wb);
    free(w);
    aecl_spec_free(s);
}

/* A denoising model validates what it is trained for: the clean target from
 * a noisy input (the VALIDATE net), not the clean reconstruction that
 * aecl_evaluate reports. */
static void test_denoising_validation(aecl_ctx *ctx, const aecl_dataset *all)
{
    aecl_model_spec *s = load_model(ctx, "denoising.model");
    if (!s) return;
    aecl_dataset tr, val;
    split_300_100(all, &tr, &val);
    val_log log = {0};
    aecl_train_opts o = {.epochs = 1, .batch = 64, .seed = 2, .cb = log_val, .user = &log};
    float *w = NULL;
    CHECK_OK(ctx, aecl_train(ctx, s, &tr, &val, &o, &w));
    aecl_eval_result clean = {0};
    if (w) CHECK_OK(ctx, aecl_evaluate(ctx, s, w, &val, 64, NULL, &clean));
    aecl_net *n = NULL;
    double noisy = NAN;
    CHECK_OK(ctx, aecl_eval_net_build_mode(ctx, s, 64, AECL_NET_VALIDATE, &n));
    if (n && w) CHECK_OK(ctx, aecl_net_write_params(n, w));
    if (n && w) CHECK_OK(ctx, aecl_evaluate_net_loss(n, &val, &noisy));
    printf("denoising validation: val loss %.6f (noisy input), evaluated noisy %.6f, clean %.6f\n", log.loss[0], noisy,
           clean.loss);
    CHECK(log.n == 1 && log.loss[0] == noisy);
    CHECK_MSG(fabs(noisy - clean.loss) > 0.02 * clean.loss, "noisy-input loss %g vs the clean one %g: the noise is "
              "missing", noisy, clean.loss);
    aecl_net_free(n);
    free(w);
    aecl_spec_free(s);
}

/* A training step computes the loss terms only when its loss is read
 * (aecl_plan_set_reporting): reading every step or every 4th gives, bit for bit,
 * the same weights, and the same loss at the first step (read in both). The
 * plan must skip something for this to test it: the VAE's loss, KL and their
 * means, the MLP's loss rows and mean. */
typedef struct first_loss {
    int seen;
    double loss;
} first_loss;

static void log_first(void *user, const aecl_train_progress *p)
{
    first_loss *f = user;
    if (!f->seen && p->step == 1 && !p->building) { f->seen = 1; f->loss = p->train_loss; }
}

static void test_reporting(aecl_ctx *ctx, const char *model, const aecl_dataset *all)
{
    aecl_model_spec *s = load_model(ctx, model);
    if (!s) return;
    aecl_net *n = NULL;
    CHECK_OK(ctx, aecl_net_build(ctx, s, 32, AECL_NET_TRAIN, 1, &n));
    CHECK_MSG(n && aecl_plan_get_stats(n->plan)->n_report_only >= 2, "%s: %d report-only launches", model,
              n ? aecl_plan_get_stats(n->plan)->n_report_only : -1);
    size_t nw = n ? aecl_net_param_floats(n) : 0;
    aecl_net_free(n);
    /* Nodes that feed no output are not compiled: a VAE's reconstruction net
     * decodes the mean code and has one launch per dense layer (encoder, mu,
     * two decoder layers), none for the logvar head. */
    if (s && s->kind == AECL_AE_VARIATIONAL) {
        n = NULL;
        CHECK_OK(ctx, aecl_net_build(ctx, s, 32, AECL_NET_RECON, 1, &n));
        int want = 1; /* mu */
        for (size_t i = 0; i < s->n_encoder; i++) want += s->encoder[i].kind == AECL_LAYER_DENSE;
        for (size_t i = 0; i < s->n_decoder; i++) want += s->decoder[i].kind == AECL_LAYER_DENSE;
        CHECK_MSG(n && aecl_plan_launch_count(n->plan) == want, "%s: reconstruction net has %d launches, want %d",
                  model, n ? aecl_plan_launch_count(n->plan) : -1, want);
        aecl_net_free(n);
    }
    aecl_dataset tr = *all;
    tr.n = 300; /* 10 steps of 32, the last short */
    float *w[2] = {NULL, NULL};
    first_loss f[2] = {{0, 0}, {0, 0}};
    for (int k = 0; k < 2; k++) {
        aecl_train_opts o = {.epochs = 2, .batch = 32, .seed = 9, .report_every = k ? 4 : 1, .cb = log_first,
                             .user = &f[k]};
        CHECK_OK(ctx, aecl_train(ctx, s, &tr, NULL, &o, &w[k]));
    }
    CHECK_MSG(w[0] && w[1] && nw && memcmp(w[0], w[1], nw * sizeof *w[0]) == 0,
              "%s: weights differ between reading the loss every step and every 4th", model);
    CHECK_MSG(f[0].seen && f[1].seen && f[0].loss == f[1].loss && isfinite(f[0].loss) && f[0].loss > 0,
              "%s: first step's loss %g vs %g", model, f[0].loss, f[1].loss);
    free(w[0]);
    free(w[1]);
    aecl_spec_free(s);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    aecl_dataset tr, te;
    CHECK_OK(ctx, aecl_dataset_load_idx(ctx, DATA "train-images-idx3-ubyte.gz", DATA "train-labels-idx1-ubyte.gz", 2000,
                                        784, &tr));
    CHECK_OK(ctx, aecl_dataset_load_idx(ctx, DATA "t10k-images-idx3-ubyte.gz", NULL, 500, 784, &te));
    /* Untrained, the MLP reconstructs at MSE ~0.1 and the VAE scores ~543 (784 ln 2)
     * nats: these bars need real learning. */
    struct { const char *model; int epochs; double bar; } kinds[] = {
        {"mlp.model", 3, 0.045}, {"denoising.model", 3, 0.07}, {"conv.model", 2, 0.05}, {"vae.model", 3, 310.0}};
    test_checkpoint_failure(ctx, &tr);
    test_reporting(ctx, "vae.model", &tr);
    test_reporting(ctx, "mlp.model", &tr);
    test_validation(ctx, "mlp.model", &tr);
    test_validation(ctx, "vae.model", &tr);
    test_best_weights(ctx, &tr);
    test_denoising_validation(ctx, &tr);
    float *w = NULL;
    aecl_model_spec *mlp = NULL;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        aecl_model_spec *s = load_model(ctx, kinds[k].model);
        if (!s) continue;
        aecl_eval_result r;
        double loss = train_eval(ctx, s, &tr, &te, kinds[k].epochs, k == 0 ? &w : NULL, &r);
        printf("%-16s test loss %.4f (bar %.4f), MSE %.4f, PSNR %.2f dB\n", kinds[k].model, loss, kinds[k].bar, r.mse, r.psnr);
        CHECK_MSG(loss < kinds[k].bar, "%s: test loss %g above %g", kinds[k].model, loss, kinds[k].bar);
        if (k == 0) mlp = s;
        else aecl_spec_free(s);
    }
    if (mlp && w) {
        /* Same seed, same weights. */
        aecl_train_opts o = {.epochs = 3, .batch = 64, .seed = 5, .report_every = 10};
        float *w2 = NULL;
        CHECK_OK(ctx, aecl_train(ctx, mlp, &tr, NULL, &o, &w2));
        aecl_net *n = NULL;
        CHECK_OK(ctx, aecl_net_build(ctx, mlp, 1, AECL_NET_EVAL, 1, &n));
        size_t nw = n ? aecl_net_param_floats(n) : 0;
        CHECK(w2 && memcmp(w, w2, nw * sizeof *w) == 0);
        /* Save, load: same spec, same numbers. */
        char path[] = "/tmp/aecl-test-weights-XXXXXX";
        int fd = mkstemp(path);
        if (fd >= 0) close(fd);
        CHECK_OK(ctx, aecl_weights_save(ctx, path, n, w));
        aecl_model_spec *s2 = NULL;
        float *w3 = NULL;
        CHECK_OK(ctx, aecl_weights_load(ctx, path, &s2, &w3));
        CHECK(s2 && aecl_spec_equal(mlp, s2));
        CHECK(w3 && memcmp(w, w3, nw * sizeof *w) == 0);
        /* A truncated file is refused, naming the problem. */
        CHECK(truncate(path, 100) == 0);
        aecl_model_spec *s3 = NULL;
        float *w4 = NULL;
        CHECK(aecl_weights_load(ctx, path, &s3, &w4) == AECL_ERR_FORMAT && !s3 && !w4);
        CHECK(strstr(aecl_ctx_last_error(ctx), path) != NULL);
        unlink(path);
        aecl_spec_free(s2);
        free(w2); free(w3);
        aecl_net_free(n);
    }
    free(w);
    aecl_spec_free(mlp);
    aecl_dataset_free(&tr);
    aecl_dataset_free(&te);
    return test_finish();
}
