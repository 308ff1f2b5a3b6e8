/* The model API (aecl.h, "trained models") on weights files written from seeded
 * initial weights: shapes, reconstruct == decode(encode) (a VAE at its mean),
 * scores against aecl_evaluate and a host computation, a short last batch
 * against a full one, VAE draws, a model with a data scaling, errors. */
#include "check.h"
#include "nn/app.h"
#include "nn/train.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA "/usr/share/datasets/fashion-mnist/"
enum { N = 130 };   /* two batches of 64 and a short one of 2 */

/* A weights file of `model` with initial weights from `seed`, optionally scaled. */
static int write_weights(aecl_ctx *ctx, const char *model, uint64_t seed, const aecl_scaling *sc, char *path)
{
    char mp[512];
    snprintf(mp, sizeof mp, "%s/models/%s", getenv("AECL_SOURCE_DIR") ? getenv("AECL_SOURCE_DIR") : "..", model);
    aecl_model_spec *s = NULL;
    aecl_net *n = NULL;
    CHECK_OK(ctx, aecl_spec_parse_file(ctx, mp, &s));
    if (s) CHECK_OK(ctx, aecl_net_build(ctx, s, 1, AECL_NET_EVAL, 1, &n));
    float *w = n ? malloc(aecl_net_param_floats(n) * sizeof *w) : NULL;
    int ok = w != NULL;
    if (ok) {
        CHECK_OK(ctx, aecl_net_init_params(n, seed));
        CHECK_OK(ctx, aecl_net_read_params(n, w));
        int fd = mkstemp(path);
        if (fd >= 0) close(fd);
        CHECK_OK(ctx, aecl_weights_save_scaled(ctx, path, n, w, sc));
    }
    free(w);
    aecl_net_free(n);
    aecl_spec_free(s);
    return ok;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void mlp(aecl_ctx *ctx, const aecl_dataset *d)
{
    char path[] = "/tmp/aecl-model-mlp-XXXXXX";
    if (!write_weights(ctx, "mlp.model", 3, NULL, path)) return;
    aecl_model *m = NULL;
    CHECK_OK(ctx, aecl_model_load(ctx, path, &m));
    if (!m) return;
    int c, h, wd;
    CHECK(aecl_model_input_shape(m, &c, &h, &wd) == 3 && c == 1 && h == 28 && wd == 28);
    CHECK(aecl_model_input_size(m) == 784 && aecl_model_latent_size(m) == 32);
    CHECK(aecl_model_get_kind(m) == AECL_MODEL_VANILLA && !strcmp(aecl_model_kind_name(m), "vanilla"));
    CHECK_OK(ctx, aecl_model_set_batch(m, 64));
    size_t F = 784, L = 32;
    float *z = malloc(N * L * sizeof *z), *y = malloc(N * F * sizeof *y), *y2 = malloc(N * F * sizeof *y2);
    float *mse = malloc(N * sizeof *mse), *loss = malloc(N * sizeof *loss), *one = malloc(N * sizeof *one);
    CHECK_OK(ctx, aecl_model_encode(m, d->x, N, z, 0));
    CHECK_OK(ctx, aecl_model_decode(m, z, N, y));
    CHECK_OK(ctx, aecl_model_reconstruct(m, d->x, N, y2));
    CHECK_MSG(max_abs_diff(y, y2, N * F) < 1e-5, "reconstruct vs decode(encode): %g", max_abs_diff(y, y2, N * F));
    /* MSE scores from the host, and the loss (MSE per pixel here) against aecl_evaluate. */
    CHECK_OK(ctx, aecl_model_scores(m, d->x, N, AECL_SCORE_MSE, mse));
    CHECK_OK(ctx, aecl_model_scores(m, d->x, N, AECL_SCORE_LOSS, loss));
    double host_worst = 0, mean_loss = 0, mean_mse = 0;
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (size_t k = 0; k < F; k++) s += (double)(d->x[i * F + k] - y2[i * F + k]) * (d->x[i * F + k] - y2[i * F + k]);
        host_worst = fmax(host_worst, fabs(s / F - mse[i]) / (s / F));
        mean_loss += loss[i] / (double)N;
        mean_mse += mse[i] / (double)N;
    }
    CHECK_MSG(host_worst < 1e-5, "MSE score vs host: relative %g", host_worst);
    /* An MSE model's loss is its MSE per value: device loss rows vs host sums. */
    CHECK_MSG(max_abs_diff(loss, mse, N) < 1e-6, "loss vs MSE scores: %g", max_abs_diff(loss, mse, N));
    aecl_eval_result r;
    float *w = NULL;
    aecl_model_spec *spec = NULL;
    aecl_dataset sub = {.x = d->x, .n = N, .features = F};
    CHECK_OK(ctx, aecl_weights_load(ctx, path, &spec, &w));
    if (w) CHECK_OK(ctx, aecl_evaluate(ctx, spec, w, &sub, 50, NULL, &r));
    CHECK_MSG(w && fabs(mean_loss - r.loss) < 1e-5 * r.loss, "mean loss score %g vs aecl_evaluate %g", mean_loss, r.loss);
    CHECK_MSG(w && fabs(mean_mse - r.mse) < 1e-5 * r.mse, "mean MSE %g vs aecl_evaluate %g", mean_mse, r.mse);
    free(w);
    aecl_spec_free(spec);
    /* Per sample, the short last batch (2 of 64) and a batch of 1 agree with the full batches. */
    CHECK_OK(ctx, aecl_model_set_batch(m, 1));
    for (int i = N - 3; i < N; i++) {
        CHECK_OK(ctx, aecl_model_scores(m, d->x + (size_t)i * F, 1, AECL_SCORE_MSE, one));
        CHECK_MSG(fabs(one[0] - mse[i]) <= 1e-5 * mse[i], "sample %d: %g alone, %g in a batch", i, one[0], mse[i]);
    }
    CHECK_OK(ctx, aecl_model_encode(m, d->x + (size_t)(N - 1) * F, 1, one, 0));
    CHECK(max_abs_diff(one, z + (size_t)(N - 1) * L, L) < 1e-5);
    /* Misuse. */
    CHECK(aecl_model_sample(m, 2, 1, y) == AECL_ERR_INVALID_ARG);
    CHECK(strstr(aecl_ctx_last_error(ctx), "variational") != NULL);
    CHECK(aecl_model_scores(m, d->x, N, AECL_SCORE_ELBO, loss) == AECL_ERR_INVALID_ARG);
    CHECK(aecl_model_encode(m, d->x, 0, z, 0) == AECL_ERR_INVALID_ARG);
    CHECK(aecl_model_encode(m, d->x, 1, z, 1) == AECL_ERR_INVALID_ARG);
    CHECK(aecl_model_set_batch(m, 0) == AECL_ERR_INVALID_ARG);
    free(z); free(y); free(y2); free(mse); free(loss); free(one);
    aecl_model_free(m);
    unlink(path);
}

/* The negative ELBO from the host: BCE of the reconstruction y (at the mean
 * code) plus the KL of mu and logvar read from an encoder-only net. */
static void check_elbo(aecl_ctx *ctx, aecl_model *m, const char *path, const float *x, int n, float *y,
                       const float *elbo)
{
    size_t F = 784, L = aecl_model_latent_size(m);
    aecl_model_spec *spec = NULL;
    float *w = NULL;
    aecl_net *net = NULL;
    aecl_net_layout lay;
    CHECK_OK(ctx, aecl_weights_load(ctx, path, &spec, &w));
    if (spec) CHECK_OK(ctx, aecl_net_build(ctx, spec, n, AECL_NET_ENCODE, 1, &net));
    if (net) CHECK_OK(ctx, aecl_net_layout_of(ctx, spec, &lay));
    float *mu = malloc(n * L * sizeof *mu), *lv = malloc(n * L * sizeof *lv);
    if (net && mu && lv) {
        CHECK(net->recon == NULL && net->rec_rows == NULL && net->n_params == 6);   /* encoder, mu, logvar */
        CHECK_OK(ctx, aecl_net_write_params_layout(net, &lay, w));
        aecl_plan_set_valid_rows(net->plan, n);
        CHECK_OK(ctx, aecl_plan_write(net->plan, net->x, x));
        CHECK_OK(ctx, aecl_plan_run(net->plan));
        CHECK_OK(ctx, aecl_plan_read(net->plan, net->code, mu));
        CHECK_OK(ctx, aecl_plan_read(net->plan, net->logvar, lv));
        CHECK_OK(ctx, aecl_model_reconstruct(m, x, (size_t)n, y));
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double e = 0;
            for (size_t k = 0; k < F; k++) {
                double p = fmin(fmax(y[i * F + k], 1e-7), 1 - 1e-7), t = x[i * F + k];
                e -= t * log(p) + (1 - t) * log(1 - p);
            }
            for (size_t k = 0; k < L; k++) {
                double u = mu[i * L + k], v = lv[i * L + k];
                e += -0.5 * (1 + v - u * u - exp(v));
            }
            worst = fmax(worst, fabs(e - elbo[i]) / e);
        }
        printf("negative ELBO vs host: worst relative difference %.2g\n", worst);
        CHECK_MSG(worst < 1e-3, "ELBO vs host: relative %g", worst);
    }
    free(mu); free(lv); free(w);
    aecl_net_free(net);
    aecl_spec_free(spec);
}

static void vae(aecl_ctx *ctx, const aecl_dataset *d)
{
    char path[] = "/tmp/aecl-model-vae-XXXXXX";
    if (!write_weights(ctx, "vae.model", 4, NULL, path)) return;
    aecl_model *m = NULL;
    CHECK_OK(ctx, aecl_model_load(ctx, path, &m));
    if (!m) return;
    size_t F = 784, L = aecl_model_latent_size(m);
    CHECK(L == 20 && aecl_model_get_kind(m) == AECL_MODEL_VARIATIONAL);
    enum { n = 70 };
    float *z = malloc(n * L * sizeof *z), *zs = malloc(n * L * sizeof *zs), *zs2 = malloc(n * L * sizeof *zs2);
    float *y = malloc(n * F * sizeof *y), *y2 = malloc(n * F * sizeof *y2), *loss = malloc(n * sizeof *loss),
          *elbo = malloc(n * sizeof *elbo);
    CHECK_OK(ctx, aecl_model_set_batch(m, 32));
    CHECK_OK(ctx, aecl_model_encode(m, d->x, n, z, 0));
    CHECK_OK(ctx, aecl_model_decode(m, z, n, y));
    CHECK_OK(ctx, aecl_model_reconstruct(m, d->x, n, y2));
    CHECK_MSG(max_abs_diff(y, y2, n * F) < 1e-5, "VAE reconstruct vs decode(mean): %g", max_abs_diff(y, y2, n * F));
    /* reconstruct runs the forward pass alone (AECL_NET_RECON: the sigmoid in the
     * output layer's GEMM epilogue); with scores asked for, the net that keeps the
     * logits for the BCE (a separate sigmoid) gives the same reconstruction. */
    CHECK_OK(ctx, aecl_model_forward(m, d->x, n, y, NULL, NULL, elbo));
    CHECK_MSG(max_abs_diff(y, y2, n * F) < 1e-6, "VAE reconstruct vs forward with scores: %g", max_abs_diff(y, y2, n * F));
    /* Draws: reproducible with a seed, different from the mean, about the right spread. */
    CHECK_OK(ctx, aecl_model_encode(m, d->x, n, zs, 1));
    CHECK_OK(ctx, aecl_model_encode(m, d->x, n, zs2, 1));
    CHECK(memcmp(zs, zs2, n * L * sizeof *zs) == 0);
    CHECK(max_abs_diff(zs, z, n * L) > 0.1);
    aecl_model_set_seed(m, 99);
    CHECK_OK(ctx, aecl_model_encode(m, d->x, n, zs2, 1));
    CHECK(memcmp(zs, zs2, n * L * sizeof *zs) != 0);
    /* BCE with beta 1: the training loss of a sample is its negative ELBO. */
    CHECK_OK(ctx, aecl_model_scores(m, d->x, n, AECL_SCORE_LOSS, loss));
    CHECK_OK(ctx, aecl_model_scores(m, d->x, n, AECL_SCORE_ELBO, elbo));
    CHECK(max_abs_diff(loss, elbo, n) < 1e-3 && elbo[0] > 100);
    check_elbo(ctx, m, path, d->x, n, y, elbo);
    /* With one draw of z per sample, the mean loss is aecl_evaluate's (same batch size). */
    aecl_model_spec *spec = NULL;
    float *w = NULL;
    aecl_eval_result r;
    aecl_dataset sub = {.x = d->x, .n = n, .features = F};
    CHECK_OK(ctx, aecl_weights_load(ctx, path, &spec, &w));
    if (w) CHECK_OK(ctx, aecl_evaluate(ctx, spec, w, &sub, 32, NULL, &r));
    for (int pass = 0; w && pass < 2; pass++) {   /* twice: the draws restart with each call */
        CHECK_OK(ctx, aecl_model_forward_ex(m, d->x, n, 1, NULL, NULL, loss, NULL));
        double mean = 0;
        for (int i = 0; i < n; i++) mean += loss[i] / n;
        CHECK_MSG(fabs(mean - r.loss) < 1e-5 * r.loss, "sampled loss %g vs aecl_evaluate %g", mean, r.loss);
    }
    free(w);
    aecl_spec_free(spec);
    CHECK_OK(ctx, aecl_model_sample(m, 5, 7, y));
    CHECK_OK(ctx, aecl_model_sample(m, 5, 7, y2));
    CHECK(memcmp(y, y2, 5 * F * sizeof *y) == 0);
    int in01 = 1;
    for (size_t i = 0; i < 5 * F; i++) in01 &= y[i] >= 0 && y[i] <= 1;
    CHECK(in01);
    free(z); free(zs); free(zs2); free(y); free(y2); free(loss); free(elbo);
    aecl_model_free(m);
    unlink(path);
}

/* A model with a minmax scaling equals the plain model on scaled data, its
 * outputs unscaled. */
static void scaled(aecl_ctx *ctx)
{
    enum { n = 9, F = 30 };
    float off[F], sc[F], x[n * F], xs[n * F], y[n * F], ys[n * F];
    unsigned st = 5;
    test_fill_uniform(off, F, -2, 2, &st);
    test_fill_uniform(sc, F, 0.5f, 3, &st);
    test_fill_uniform(x, n * F, -1, 1, &st);
    aecl_scaling scaling = {.kind = AECL_SCALE_MINMAX, .features = F, .offset = off, .scale = sc};
    char p1[] = "/tmp/aecl-model-tab-XXXXXX", p2[] = "/tmp/aecl-model-tab2-XXXXXX";
    if (!write_weights(ctx, "tabular.model", 6, &scaling, p1) || !write_weights(ctx, "tabular.model", 6, NULL, p2)) return;
    aecl_model *ms = NULL, *mp = NULL;
    CHECK_OK(ctx, aecl_model_load(ctx, p1, &ms));
    CHECK_OK(ctx, aecl_model_load(ctx, p2, &mp));
    if (ms && mp) {
        CHECK(aecl_model_hash(ms) == aecl_model_hash(mp));   /* same text and weights */
        CHECK_OK(ctx, aecl_model_reconstruct(ms, x, n, ys));
        for (int i = 0; i < n * F; i++) xs[i] = (x[i] - off[i % F]) * sc[i % F];
        CHECK_OK(ctx, aecl_model_reconstruct(mp, xs, n, y));
        double worst = 0;
        for (int i = 0; i < n * F; i++) worst = fmax(worst, fabs(y[i] / sc[i % F] + off[i % F] - ys[i]));
        CHECK_MSG(worst < 1e-4, "scaled model vs plain: %g", worst);
    }
    aecl_model_free(ms);
    aecl_model_free(mp);
    unlink(p1);
    unlink(p2);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    aecl_dataset d;
    CHECK_OK(ctx, aecl_dataset_load_idx(ctx, DATA "t10k-images-idx3-ubyte.gz", NULL, N, 784, &d));
    aecl_model *m = (aecl_model *)1;
    CHECK(aecl_model_load(ctx, "/nonexistent/model.safetensors", &m) == AECL_ERR_IO && m == NULL);
    if (d.n == N) {
        mlp(ctx, &d);
        vae(ctx, &d);
    }
    scaled(ctx);
    aecl_dataset_free(&d);
    return test_finish();
}
