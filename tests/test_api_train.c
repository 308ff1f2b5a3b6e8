/* The public data and training calls (aecl.h "data sets", "model texts",
 * "training"), through aecl.h alone: training from host arrays equals training
 * from the same rows in a .npy file; the model handed over equals the saved
 * file loaded back; the history and summary; the threshold against a host
 * quantile of the model's own scores; a cancel from the callback; errors. */
#include "check.h"

#include <stdlib.h>
#include <string.h>

static const char model_text[] = "kind = vanilla\ninput = 5\nlatent = 2\nloss = mse\noutput_activation = none\n\n"
                                 "[encoder]\ndense 6 tanh\n\n[decoder]\nmirror\n\n"
                                 "[train]\noptimizer = adam\nlr = 1e-2\nbatch = 16\nepochs = 3\nseed = 5\n";
enum { N = 100, F = 5 };

/* A float32 C-order .npy of n x f values. */
static void write_npy(const char *path, const float *x, size_t n, size_t f)
{
    char head[128];
    int len = snprintf(head, sizeof head, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", n, f);
    size_t total = 10 + (size_t)len + 1, pad = (64 - total % 64) % 64;
    size_t hl = (size_t)len + pad + 1, bytes = 10 + hl + n * f * sizeof *x;
    unsigned char *b = malloc(bytes);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)(hl & 255);
    b[9] = (unsigned char)(hl >> 8);
    memcpy(b + 10, head, (size_t)len);
    memset(b + 10 + len, ' ', pad);
    b[10 + hl - 1] = '\n';
    memcpy(b + 10 + hl, x, n * f * sizeof *x);
    test_write_file(path, b, bytes);
    free(b);
}

typedef struct seen {
    int reports, epochs_done, building;
    int steps_seen, cancel_at;                     /* reports after the build; cancel_at of them cancels (0: never) */
    int kernels_done, kernels_total, kernels_ok;   /* the first step's building reports */
} seen;

static int on_progress(void *user, const aecl_training_progress *p)
{
    seen *s = user;
    s->reports++;
    s->building += p->building;
    s->epochs_done += p->epoch_done;
    if (p->building && p->kernels_total) {
        /* one report per kind of kernel, counting up to the same total */
        if (p->kernels_done != s->kernels_done + 1 || (s->kernels_total && p->kernels_total != s->kernels_total))
            s->kernels_ok = 0;
        s->kernels_done = p->kernels_done, s->kernels_total = p->kernels_total;
    } else if (p->kernels_done || p->kernels_total) {
        s->kernels_ok = 0;
    }
    s->steps_seen += !p->building;
    return s->cancel_at && !p->building && s->steps_seen == s->cancel_at;
}

static void train_both_ways(aecl_ctx *ctx, const float *x)
{
    aecl_model_spec *spec = NULL;
    CHECK_OK(ctx, aecl_model_spec_parse(ctx, model_text, "test.model", &spec));
    if (!spec) return;
    CHECK(aecl_model_spec_input_size(spec) == F);
    write_npy(test_path("x.npy"), x, N, F);
    aecl_data *a = NULL, *b = NULL;
    CHECK_OK(ctx, aecl_data_from_array(ctx, x, N, F, NULL, &a));
    aecl_data_opts o = {.features = F};
    CHECK_OK(ctx, aecl_data_load(ctx, test_path("x.npy"), &o, &b));
    CHECK(a && b && aecl_data_count(b) == N && aecl_data_features(b) == F && !aecl_data_labels(b));
    seen s = {.kernels_ok = 1};
    aecl_training_options opts = {.scale = "standard", .progress = on_progress, .user = &s};
    aecl_training *ta = NULL, *tb = NULL;
    CHECK_OK(ctx, aecl_training_create(ctx, spec, a, NULL, &opts, &ta));
    CHECK_OK(ctx, aecl_training_create(ctx, spec, b, NULL, &opts, &tb));
    if (!ta || !tb) goto done;
    aecl_training_info in;
    aecl_training_info_get(ta, &in);
    CHECK(in.epochs == 3 && in.batch == 16 && in.seed == 5 && in.train_rows == N && !strcmp(in.scale, "standard"));
    CHECK_OK(ctx, aecl_training_run(ta));
    /* building: the report before the build, then one per kind of kernel the
     * first step ran (a dense net's GEMMs, loss and optimizer: several) */
    CHECK_MSG(s.kernels_ok && s.kernels_total >= 3 && s.kernels_done == s.kernels_total &&
                  s.building == 1 + s.kernels_total && s.epochs_done == 3,
              "progress: %d building reports, kinds of kernel %d of %d (%s)", s.building, s.kernels_done,
              s.kernels_total, s.kernels_ok ? "in order" : "out of order");
    CHECK(aecl_training_run(ta) == AECL_ERR_STATE);
    CHECK_OK(ctx, aecl_training_run(tb));
    CHECK_OK(ctx, aecl_training_save(ta, test_path("a.st")));
    CHECK_OK(ctx, aecl_training_save(tb, test_path("b.st")));
    char fa[65536], fb[65536];
    size_t la = test_read_file(test_path("a.st"), fa, sizeof fa), lb = test_read_file(test_path("b.st"), fb, sizeof fb);
    /* The same weights; only the data's name ("an array" or the file) differs. */
    CHECK(la != (size_t)-1 && la + strlen(test_path("x.npy")) == lb + strlen("an array"));
    aecl_training_summary sm;
    aecl_training_summary_get(ta, &sm);
    CHECK(sm.epochs_run == 3 && !sm.validated && sm.weights_epoch == 3);
    size_t nh = 0;
    const aecl_training_epoch *h = aecl_training_history(ta, &nh);
    CHECK(nh == 3 && h[0].epoch == 1 && h[2].epoch == 3 && isnan(h[0].val) && h[2].loss < h[0].loss);
    /* The threshold is the 0.9-quantile of the model's MSE scores of the training rows. */
    float scores[N], ms[N];
    double thr = 0;
    size_t flagged = 0;
    CHECK_OK(ctx, aecl_training_fit_threshold(ta, 0.1, &thr, scores, &flagged));
    aecl_model *m = NULL, *mf = NULL;
    CHECK_OK(ctx, aecl_training_model(ta, &m));
    CHECK_OK(ctx, aecl_training_save(ta, test_path("t.st")));
    CHECK_OK(ctx, aecl_model_load(ctx, test_path("t.st"), &mf));
    if (m && mf) {
        CHECK_OK(ctx, aecl_model_scores(m, x, N, AECL_SCORE_MSE, ms));
        int same = 1, below = 0;
        for (int i = 0; i < N; i++) {
            same &= fabsf(ms[i] - scores[i]) <= 1e-6f * (1 + scores[i]);
            below += scores[i] <= thr;
        }
        CHECK(same && below == N - (int)flagged && flagged == 10);
        CHECK(aecl_model_hash(m) == aecl_model_hash(mf));
        CHECK(aecl_model_get_meta(mf, "aecl.anomaly.threshold") && aecl_model_get_meta(m, "aecl.anomaly.threshold") &&
              !strcmp(aecl_model_get_meta(m, "aecl.anomaly.threshold"), aecl_model_get_meta(mf, "aecl.anomaly.threshold")));
        CHECK(!strcmp(aecl_model_get_meta(m, "aecl.train.epochs"), "3 of 3"));
        CHECK(aecl_model_set_meta(m, "aecl.model", "x") == AECL_ERR_INVALID_ARG);
        CHECK_OK(ctx, aecl_model_set_meta(m, "user.note", "kept"));
        CHECK_OK(ctx, aecl_model_save(m, test_path("m.st")));
        aecl_model *back = NULL;
        CHECK_OK(ctx, aecl_model_load(ctx, test_path("m.st"), &back));
        CHECK(back && !strcmp(aecl_model_get_meta(back, "user.note"), "kept") && aecl_model_hash(back) == aecl_model_hash(m));
        aecl_model_free(back);
    }
    aecl_model_free(m);
    aecl_model_free(mf);
done:
    aecl_training_free(ta);
    aecl_training_free(tb);
    aecl_data_free(a);
    aecl_data_free(b);
    aecl_model_spec_free(spec);
}

static void cancel_and_errors(aecl_ctx *ctx, const float *x)
{
    aecl_model_spec *spec = NULL;
    CHECK_OK(ctx, aecl_model_spec_parse(ctx, model_text, NULL, &spec));
    aecl_data *a = NULL, *val = NULL;
    int32_t lab[N];
    for (int i = 0; i < N; i++) lab[i] = i % 3;
    CHECK_OK(ctx, aecl_data_from_array(ctx, x, N, F, lab, &a));
    if (!spec || !a) goto done;
    CHECK_OK(ctx, aecl_data_split(a, 0.2, 1, &val));
    CHECK(val && aecl_data_count(val) == 20 && aecl_data_count(a) == 80 && aecl_data_labels(val));
    /* Cancel at the first report after the build (the first step's): no result,
     * the status pinned. */
    seen s = {.cancel_at = 1};
    aecl_training_options o = {.epochs = 50, .progress = on_progress, .user = &s};
    aecl_training *t = NULL;
    CHECK_OK(ctx, aecl_training_create(ctx, spec, a, val, &o, &t));
    if (t) {
        CHECK(aecl_training_run(t) == AECL_ERR_CANCELED);
        CHECK(strstr(aecl_ctx_last_error(ctx), "canceled before epoch 1, step 2") != NULL);
        CHECK(s.steps_seen == 1 && s.reports == s.building + 1 && s.epochs_done == 0);
        CHECK(aecl_training_save(t, test_path("never.st")) == AECL_ERR_STATE);
        aecl_training_free(t);
    }
    t = NULL;
    o = (aecl_training_options){.schedule = "weekly"};
    CHECK(aecl_training_create(ctx, spec, a, NULL, &o, &t) == AECL_ERR_INVALID_ARG && !t);
    o = (aecl_training_options){.init = "x.st", .resume = "y.st"};
    CHECK(aecl_training_create(ctx, spec, a, NULL, &o, &t) == AECL_ERR_INVALID_ARG &&
          strstr(aecl_ctx_last_error(ctx), "exclude") != NULL);
    o = (aecl_training_options){.checkpoint_best = "b.st"};
    CHECK(aecl_training_create(ctx, spec, a, NULL, &o, &t) == AECL_ERR_INVALID_ARG);
    o = (aecl_training_options){.scale = "cubic"};
    CHECK(aecl_training_create(ctx, spec, a, NULL, &o, &t) == AECL_ERR_INVALID_ARG);
    CHECK(aecl_training_create(ctx, NULL, a, NULL, NULL, &t) == AECL_ERR_INVALID_ARG);
    aecl_data *narrow = NULL;
    CHECK_OK(ctx, aecl_data_from_array(ctx, x, N, F - 1, NULL, &narrow));
    CHECK(aecl_training_create(ctx, spec, narrow, NULL, NULL, &t) == AECL_ERR_SHAPE &&
          strstr(aecl_ctx_last_error(ctx), "4 features") != NULL);
    aecl_data_free(narrow);
    CHECK_OK(ctx, aecl_data_keep_class(a, 2));
    CHECK(aecl_data_count(a) > 0 && aecl_data_labels(a)[0] == 2);
    CHECK(aecl_data_keep_class(a, 7) == AECL_ERR_INVALID_ARG);
    aecl_data *bad = NULL;
    test_write_text(test_path("bad.npy"), "not a numpy file");
    CHECK(aecl_data_load(ctx, test_path("bad.npy"), NULL, &bad) == AECL_ERR_FORMAT && !bad &&
          strstr(aecl_ctx_last_error(ctx), "bad.npy") != NULL);
    aecl_data_opts lo = {.label_column = "y"};
    CHECK(aecl_data_load(ctx, test_path("x.npy"), &lo, &bad) == AECL_ERR_INVALID_ARG && !bad);
    aecl_model_spec *bs = NULL;
    CHECK(aecl_model_spec_parse(ctx, "kind = vanilla\ninput = 5\nlatnt = 2\n", "m.model", &bs) != AECL_OK && !bs &&
          strstr(aecl_ctx_last_error(ctx), "m.model:3") != NULL);
done:
    aecl_data_free(a);
    aecl_data_free(val);
    aecl_model_spec_free(spec);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    test_tmp_setup("api_train");
    float x[N * F];
    unsigned state = 11;
    test_fill_uniform(x, N * F, -1, 1, &state);
    train_both_ways(ctx, x);
    cancel_and_errors(ctx, x);
    test_tmp_cleanup();
    return test_finish();
}
