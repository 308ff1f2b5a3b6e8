/* Checkpoints, schedules and early stopping on a small Fashion-MNIST subset:
 * a resumed run (from an epoch boundary or mid-epoch) ends with the very weights
 * of the uninterrupted run; a diverging run stops with AECL_ERR_NUMERIC and leaves
 * the last good checkpoint loadable; schedules match their closed forms; early
 * stopping stops after `patience` epochs without improvement. */
#include "check.h"
#include "nn/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DATA "/usr/share/datasets/fashion-mnist/"

/* Noise, dropout and Adam: every piece of state a resume must restore. */
static const char *model_text = "kind = denoising\ninput = 784\nlatent = 8\nloss = mse\noutput_activation = sigmoid\n"
                                "[encoder]\ndense 32 relu dropout=0.1\n[decoder]\nmirror\n"
                                "[train]\noptimizer = adam\nlr = 3e-3\nnoise = gaussian 0.3\n";

typedef struct log_state { int epochs_seen, stopping, ck_mask; double last_lr[8], val[8]; } log_state;

static void on_progress(void *user, const aecl_train_progress *p)
{
    log_state *l = user;
    if (!p->epoch_done) return;
    if (p->epoch - 1 < 8) l->val[p->epoch - 1] = p->val_loss;
    l->epochs_seen++;
    l->stopping = p->stopping;
    if (p->checkpointed) l->ck_mask |= 1 << (p->epoch - 1);
    if (p->epoch - 1 < 8) l->last_lr[p->epoch - 1] = p->lr;
}

static char *tmp_path(const char *tag)
{
    static char paths[4][64];
    static int k;
    char *p = paths[k++ % 4];
    snprintf(p, 64, "/tmp/aecl-ck-%s-XXXXXX", tag);
    int fd = mkstemp(p);
    if (fd >= 0) close(fd);
    unlink(p); /* the trainer creates it */
    return p;
}

static float *train(aecl_ctx *ctx, const aecl_model_spec *s, const aecl_dataset *tr, const aecl_dataset *val,
                    aecl_train_opts o, aecl_status *st_out)
{
    float *w = NULL;
    aecl_status st = aecl_train(ctx, s, tr, val, &o, &w);
    if (st_out) *st_out = st;
    else CHECK_OK(ctx, st);
    return w;
}

static void test_resume(aecl_ctx *ctx, const aecl_model_spec *s, const aecl_dataset *tr, const aecl_dataset *val,
                        size_t nw)
{
    /* 300 samples, batch 64: 5 steps per epoch, the last one short. */
    aecl_train_opts base = {.epochs = 3, .batch = 64, .seed = 11, .report_every = 2,
                            .schedule = {AECL_SCHED_PLATEAU, 1, 0.5}};
    float *full = train(ctx, s, tr, val, base, NULL);
    char *ck = tmp_path("a");

    /* Checkpoints at steps 7 and 14 (epochs 2 and 3, mid-epoch) do not change the run. */
    aecl_train_opts o = base;
    o.checkpoint = ck;
    o.checkpoint_every = 7;
    float *w = train(ctx, s, tr, val, o, NULL);
    CHECK(full && w && !memcmp(full, w, nw * sizeof *w));
    free(w);
    /* The file now holds step 14 = epoch 3, step 4: resume from it. */
    o = base;
    o.resume = ck;
    w = train(ctx, s, tr, val, o, NULL);
    CHECK_MSG(full && w && !memcmp(full, w, nw * sizeof *w), "mid-epoch resume differs");
    free(w);

    /* An epoch-boundary checkpoint after epoch 1 of a 1-epoch run, resumed to 3. */
    o = base;
    o.epochs = 1;
    o.checkpoint = ck;
    free(train(ctx, s, tr, val, o, NULL));
    o = base;
    o.resume = ck;
    log_state l = {0};
    o.cb = on_progress;
    o.user = &l;
    w = train(ctx, s, tr, val, o, NULL);
    CHECK_MSG(full && w && !memcmp(full, w, nw * sizeof *w), "epoch-boundary resume differs");
    CHECK(l.epochs_seen == 2);
    free(w);

    /* Every 2nd epoch: only epoch 2 of 3 is saved; resuming from it ends the same. */
    o = base;
    o.checkpoint = ck;
    o.checkpoint_epochs = 2;
    l = (log_state){0};
    o.cb = on_progress;
    o.user = &l;
    free(train(ctx, s, tr, val, o, NULL));
    CHECK_MSG(l.ck_mask == 2, "checkpointed epochs mask %d", l.ck_mask);
    o = base;
    o.resume = ck;
    l = (log_state){0};
    o.cb = on_progress;
    o.user = &l;
    w = train(ctx, s, tr, val, o, NULL);
    CHECK(full && w && !memcmp(full, w, nw * sizeof *w) && l.epochs_seen == 1);
    free(w);

    /* Resuming with another seed or batch is refused. */
    o.seed = 12;
    float *bad = NULL;
    CHECK(aecl_train(ctx, s, tr, val, &o, &bad) == AECL_ERR_INVALID_ARG && !bad);
    CHECK(strstr(aecl_ctx_last_error(ctx), "seed") != NULL);
    /* A checkpoint is also a weights file (its parameters). */
    aecl_model_spec *s2 = NULL;
    float *w2 = NULL;
    CHECK_OK(ctx, aecl_weights_load(ctx, ck, &s2, &w2));
    CHECK(s2 && aecl_spec_equal(s, s2));
    aecl_spec_free(s2);
    free(w2);
    unlink(ck);
    free(full);
}

static int all_finite(const float *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(w[i])) return 0;
    return 1;
}

static void test_nan(aecl_ctx *ctx, const aecl_model_spec *s, const aecl_dataset *tr, size_t nw)
{
    char *ck = tmp_path("nan");
    aecl_train_opts o = {.epochs = 1, .batch = 64, .seed = 3, .report_every = 1, .checkpoint = ck};
    float *good = train(ctx, s, tr, NULL, o, NULL);
    /* A huge rate diverges: the run stops, the checkpoint keeps epoch 1's state
     * (per-step checkpoints are refused once the weights are no longer finite). */
    o.lr = 1e12;
    o.epochs = 2;
    o.checkpoint_every = 1;
    aecl_status st;
    float *w = train(ctx, s, tr, NULL, o, &st);
    CHECK(st == AECL_ERR_NUMERIC && !w);
    const char *msg = aecl_ctx_last_error(ctx);
    CHECK_MSG(strstr(msg, "loss became") && strstr(msg, "lower the learning rate"), "%s", msg);
    aecl_model_spec *s2 = NULL;
    float *w2 = NULL;
    CHECK_OK(ctx, aecl_weights_load(ctx, ck, &s2, &w2));
    CHECK(w2 && all_finite(w2, nw));
    aecl_spec_free(s2);
    free(w2);
    /* Without per-step checkpoints the file is exactly epoch 1's. */
    o.checkpoint_every = 0;
    o.epochs = 1;
    o.lr = 0;
    free(train(ctx, s, tr, NULL, o, NULL));
    o.lr = 1e12;
    o.epochs = 2;
    w = train(ctx, s, tr, NULL, o, &st);
    CHECK(st == AECL_ERR_NUMERIC && !w);
    CHECK_OK(ctx, aecl_weights_load(ctx, ck, &s2, &w2));
    CHECK(good && w2 && !memcmp(good, w2, nw * sizeof *w2));
    aecl_spec_free(s2);
    free(w2);
    free(good);
    unlink(ck);
}

static void test_schedules(aecl_ctx *ctx)
{
    aecl_schedule s;
    CHECK_OK(ctx, aecl_schedule_parse(ctx, "step:3:0.5", &s));
    CHECK(s.kind == AECL_SCHED_STEP && s.every == 3 && s.factor == 0.5);
    for (int e = 0; e < 10; e++) CHECK_NEAR(aecl_schedule_lr(&s, 0.1, e, 10), 0.1 * pow(0.5, e / 3), 1e-15);
    CHECK_OK(ctx, aecl_schedule_parse(ctx, "cosine", &s));
    for (int e = 0; e < 10; e++)
        CHECK_NEAR(aecl_schedule_lr(&s, 0.1, e, 10), 0.05 * (1 + cos(3.14159265358979 * e / 10)), 1e-12);
    CHECK_NEAR(aecl_schedule_lr(&s, 0.1, 5, 10), 0.05, 1e-12);
    CHECK_OK(ctx, aecl_schedule_parse(ctx, "none", &s));
    CHECK(aecl_schedule_lr(&s, 0.1, 7, 10) == 0.1);
    const char *bad[] = {"step", "step:0:0.5", "step:2:1.5", "step:2:0.5x", "plateau:2", "cosine:1", "linear", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(aecl_schedule_parse(ctx, bad[i], &s) == AECL_ERR_INVALID_ARG);
    /* Plateau: after 2 epochs without improvement the rate halves, the count restarts. */
    CHECK_OK(ctx, aecl_schedule_parse(ctx, "plateau:2:0.5", &s));
    aecl_train_monitor m = aecl_monitor_init(1.0);
    double losses[] = {5, 4, 4, 4, 4, 4, 3.9, 3.9999, 3.9};
    double lr[] = {1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125};
    for (int e = 0; e < 9; e++) {
        CHECK(aecl_monitor_update(&m, &s, 0, e + 1, losses[e]) == 0);
        CHECK_MSG(m.lr == lr[e], "epoch %d: lr %g, expected %g", e, m.lr, lr[e]);
    }
    /* Early stopping: patience 2 stops at the second epoch without improvement. */
    aecl_schedule none = {0};
    m = aecl_monitor_init(1.0);
    CHECK(!aecl_monitor_update(&m, &none, 2, 1, 1.0) && !aecl_monitor_update(&m, &none, 2, 2, 0.9));
    CHECK(!aecl_monitor_update(&m, &none, 2, 3, 0.95));
    CHECK(!aecl_monitor_update(&m, &none, 2, 4, 0.8)); /* improvement resets the count */
    CHECK(m.best_epoch == 4);
    CHECK(!aecl_monitor_update(&m, &none, 2, 5, 0.8) && aecl_monitor_update(&m, &none, 2, 6, 0.85));
    CHECK(m.best_epoch == 4 && m.best == 0.8);
    /* min_delta: a decrease of 0.05 does not count when 0.1 is asked, 0.15 does. */
    m = aecl_monitor_init(1.0);
    m.min_delta = 0.1;
    CHECK(!aecl_monitor_update(&m, &none, 0, 1, 1.0) && m.best_epoch == 1);
    CHECK(!aecl_monitor_update(&m, &none, 0, 2, 0.95) && m.best_epoch == 1 && m.bad_epochs == 1);
    CHECK(!aecl_monitor_update(&m, &none, 0, 3, 0.85) && m.best_epoch == 3 && m.bad_epochs == 0);
}

static void test_early_stop(aecl_ctx *ctx, const aecl_model_spec *s, const aecl_dataset *tr, const aecl_dataset *val)
{
    /* A rate too small to move the validation loss by 0.01%: the best is epoch 1,
     * so patience 2 ends the run after epoch 3 of 10. */
    log_state l = {0};
    aecl_train_opts o = {.epochs = 10, .batch = 64, .seed = 3, .lr = 1e-12, .patience = 2, .cb = on_progress, .user = &l};
    free(train(ctx, s, tr, val, o, NULL));
    CHECK_MSG(l.epochs_seen == 3 && l.stopping, "%d epochs, stopping %d", l.epochs_seen, l.stopping);
    /* The step schedule reaches the device: the reported rates are the closed form. */
    l = (log_state){0};
    o = (aecl_train_opts){.epochs = 3, .batch = 64, .seed = 3, .schedule = {AECL_SCHED_STEP, 1, 0.5}, .cb = on_progress,
                          .user = &l};
    free(train(ctx, s, tr, NULL, o, NULL));
    CHECK(l.last_lr[0] == 3e-3 && l.last_lr[1] == 1.5e-3 && l.last_lr[2] == 0.75e-3);
}

static void test_weights_scaling(aecl_ctx *ctx, const aecl_model_spec *s, const aecl_dataset *tr, size_t nw)
{
    aecl_scaling sc, sc2;
    CHECK_OK(ctx, aecl_scaling_fit(ctx, AECL_SCALE_STANDARD, tr->x, tr->n, tr->features, &sc));
    aecl_net *n = NULL;
    CHECK_OK(ctx, aecl_net_build(ctx, s, 1, AECL_NET_EVAL, 1, &n));
    float *w = calloc(nw, sizeof *w);
    for (size_t i = 0; w && i < nw; i++) w[i] = (float)i * 1e-4f;
    char *path = tmp_path("w");
    CHECK_OK(ctx, aecl_weights_save_scaled(ctx, path, n, w, &sc));
    aecl_model_spec *s2 = NULL;
    float *w2 = NULL;
    CHECK_OK(ctx, aecl_weights_load_scaled(ctx, path, &s2, &w2, &sc2));
    CHECK(w2 && !memcmp(w, w2, nw * sizeof *w));
    CHECK(sc2.kind == AECL_SCALE_STANDARD && sc2.features == tr->features);
    CHECK(sc2.offset && !memcmp(sc.offset, sc2.offset, tr->features * sizeof(float)));
    CHECK(sc2.scale && !memcmp(sc.scale, sc2.scale, tr->features * sizeof(float)));
    aecl_scaling_free(&sc2);
    aecl_spec_free(s2);
    free(w2);
    /* Weights holding NaN or infinities are never written: the message names the tensor. */
    w[nw - 3] = NAN;
    char *bad = tmp_path("nanw");
    CHECK(aecl_weights_save(ctx, bad, n, w) == AECL_ERR_NUMERIC);
    const char *msg = aecl_ctx_last_error(ctx);
    CHECK_MSG(strstr(msg, "tensor 'decoder.1.bias' holds NaN or infinite values") && strstr(msg, "not written"), "%s",
              msg);
    CHECK(access(bad, F_OK) != 0);
    unlink(bad);   /* in case it was written after all */
    w[nw - 3] = 0;
    /* Without a scaling: kind none. */
    CHECK_OK(ctx, aecl_weights_save(ctx, path, n, w));
    CHECK_OK(ctx, aecl_weights_load_scaled(ctx, path, &s2, &w2, &sc2));
    CHECK(sc2.kind == AECL_SCALE_NONE && !sc2.offset);
    aecl_spec_free(s2);
    free(w2);
    unlink(path);
    free(w);
    aecl_net_free(n);
    aecl_scaling_free(&sc);
}

/* A copy of checkpoint `from` with metadata `key` set to `value`. */
static void rewrite_meta(const char *from, const char *to, const char *key, const char *value)
{
    aecl_safetensors st;
    CHECK_OK(NULL, aecl_safetensors_read(NULL, from, &st));
    aecl_st_view v[4 * AECL_NET_MAX_PARAMS];
    const char *meta[64];
    for (size_t i = 0; i < st.n_tensors && i < 4 * AECL_NET_MAX_PARAMS; i++) {
        v[i] = (aecl_st_view){.name = st.tensors[i].name, .ndim = st.tensors[i].ndim, .data = st.tensors[i].data};
        memcpy(v[i].shape, st.tensors[i].shape, sizeof v[i].shape);
    }
    for (size_t i = 0; i < st.n_meta && i < 32; i++) {
        meta[2 * i] = st.meta_keys[i];
        meta[2 * i + 1] = strcmp(st.meta_keys[i], key) ? st.meta_values[i] : value;
    }
    CHECK_OK(NULL, aecl_safetensors_write(NULL, to, v, st.n_tensors, meta, st.n_meta));
    aecl_safetensors_free(&st);
}

/* Every field of a checkpoint's position is checked for its type and range on
 * resume, the message naming the field and the value (aecl.epoch=1e300 was
 * undefined behaviour; plan_step -1, loss_reads -5, best nan, seed 1e3 were taken). */
static void test_bad_metadata(aecl_ctx *ctx, const aecl_model_spec *s, const aecl_dataset *tr)
{
    char *ck = tmp_path("meta"), *bad = tmp_path("badmeta");
    aecl_train_opts o = {.epochs = 1, .batch = 64, .seed = 3, .checkpoint = ck};
    free(train(ctx, s, tr, NULL, o, NULL));
    aecl_net *n = NULL;
    CHECK_OK(ctx, aecl_net_build(ctx, s, 64, AECL_NET_TRAIN, 3, &n));
    aecl_checkpoint_info ci;
    rewrite_meta(ck, bad, "aecl.epoch", "1");   /* the same: loads */
    CHECK_OK(ctx, n ? aecl_checkpoint_load(n, bad, &ci) : AECL_ERR_STATE);
    static const char *const cases[][2] = {
        {"aecl.epoch", "1e300"}, {"aecl.epoch", "-1"}, {"aecl.epoch", "1.5"}, {"aecl.epoch", "2147483648"},
        {"aecl.step", "-3"}, {"aecl.plan_step", "-1"}, {"aecl.plan_step", "1e3"}, {"aecl.seed", "1e3"},
        {"aecl.seed", "-1"}, {"aecl.seed", "18446744073709551616"}, {"aecl.batch", "0"}, {"aecl.lr", "nan"},
        {"aecl.lr", "0"}, {"aecl.lr", "inf"}, {"aecl.lr", "1e39"}, {"aecl.loss_sum", "nan"},
        {"aecl.loss_reads", "-5"}, {"aecl.best", "nan"}, {"aecl.best", "-inf"}, {"aecl.bad_epochs", "-1"},
        {"aecl.plateau_bad", "2147483648"}, {"aecl.plateau_lr", "-1"}, {"aecl.seed", " 3"}, {"aecl.step", "0x10"}};
    for (size_t i = 0; n && i < sizeof cases / sizeof cases[0]; i++) {
        rewrite_meta(ck, bad, cases[i][0], cases[i][1]);
        aecl_status st = aecl_checkpoint_load(n, bad, &ci);
        char want[96];
        snprintf(want, sizeof want, "%s is '%s'", cases[i][0], cases[i][1]);
        CHECK_MSG(st == AECL_ERR_FORMAT && strstr(aecl_ctx_last_error(ctx), want), "%s = %s: %s: %s", cases[i][0],
                  cases[i][1], aecl_status_str(st), aecl_ctx_last_error(ctx));
    }
    aecl_net_free(n);
    unlink(ck);
    unlink(bad);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A small file whose model text declares a huge model (2 GB of weights) fails at
 * once, naming what is missing, without allocating for the model (building its net
 * first took 32 s and 1.7 GB). */
static void test_weights_declared(aecl_ctx *ctx)
{
    float one = 1;
    aecl_st_view v = {.name = "encoder.0.weight", .ndim = 1, .shape = {1}, .data = &one};
    const char *meta[2] = {"aecl.model", "kind = vanilla\ninput = 1048576\nlatent = 8\n[encoder]\ndense 512 relu\n"
                                         "[decoder]\nmirror\n"};
    char *path = tmp_path("huge");
    CHECK_OK(ctx, aecl_safetensors_write(ctx, path, &v, 1, meta, 1));
    aecl_model_spec *s = NULL;
    float *w = NULL;
    double t0 = now_s();
    CHECK(aecl_weights_load(ctx, path, &s, &w) == AECL_ERR_FORMAT);
    double took = now_s() - t0;
    const char *msg = aecl_ctx_last_error(ctx);
    CHECK_MSG(strstr(msg, "tensor 'encoder.0.weight' holds 1 values, the model needs 536870912"), "%s", msg);
    CHECK_MSG(took < 5, "refusing the file took %.1f s", took);
    CHECK(!s && !w);
    unlink(path);
}

/* The best weights travel in the checkpoint ("best.<param>"): a run resumed
 * from the best epoch that never improves again hands back that epoch's
 * weights, as the uninterrupted run does. */
static void test_resume_best(aecl_ctx *ctx, const aecl_model_spec *s, const aecl_dataset *tr, const aecl_dataset *val,
                             size_t nw)
{
    enum { E = 6 };
    /* A rate that overshoots, so later epochs do worse than an earlier best. */
    aecl_train_opts base = {.epochs = E, .batch = 32, .seed = 5, .lr = 0.1, .report_every = 3};
    log_state l = {0};
    aecl_train_opts o = base;
    o.cb = on_progress;
    o.user = &l;
    float *full = train(ctx, s, tr, val, o, NULL);
    int best = 0;
    for (int e = 1; e < E; e++) if (l.val[e] < l.val[best]) best = e;
    printf("resume with best weights: val losses");
    for (int e = 0; e < E; e++) printf(" %.5f", l.val[e]);
    printf(" (best epoch %d)\n", best + 1);
    CHECK_MSG(best + 1 < E, "the best epoch must come before the last for this test to mean anything");
    char *ck = tmp_path("best");
    o = base;
    o.epochs = best + 1;
    o.checkpoint = ck;
    free(train(ctx, s, tr, val, o, NULL));
    o = base;
    o.resume = ck;
    float *w = train(ctx, s, tr, val, o, NULL);
    CHECK_MSG(full && w && !memcmp(full, w, nw * sizeof *w), "resumed run's best weights differ");
    /* The checkpoint holds them: they are the weights at the best epoch. */
    aecl_safetensors st;
    CHECK_OK(ctx, aecl_safetensors_read(ctx, ck, &st));
    CHECK(aecl_safetensors_find(&st, "best.encoder.0.weight") != NULL);
    CHECK(aecl_safetensors_meta(&st, "aecl.best_epoch") && atoi(aecl_safetensors_meta(&st, "aecl.best_epoch")) == best + 1);
    aecl_safetensors_free(&st);
    unlink(ck);
    free(w);
    free(full);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    aecl_dataset tr, val;
    CHECK_OK(ctx, aecl_dataset_load_idx(ctx, DATA "train-images-idx3-ubyte.gz", NULL, 300, 784, &tr));
    CHECK_OK(ctx, aecl_dataset_load_idx(ctx, DATA "t10k-images-idx3-ubyte.gz", NULL, 100, 784, &val));
    aecl_model_spec *s = NULL;
    CHECK_OK(ctx, aecl_spec_parse_string(ctx, model_text, "test.model", &s));
    aecl_net *n = NULL;
    if (s) CHECK_OK(ctx, aecl_net_build(ctx, s, 1, AECL_NET_EVAL, 1, &n));
    size_t nw = n ? aecl_net_param_floats(n) : 0;
    aecl_net_free(n);
    test_schedules(ctx);
    test_weights_declared(ctx);
    if (nw) {
        test_resume(ctx, s, &tr, &val, nw);
        test_resume_best(ctx, s, &tr, &val, nw);
        test_nan(ctx, s, &tr, nw);
        test_bad_metadata(ctx, s, &tr);
        test_early_stop(ctx, s, &tr, &val);
        test_weights_scaling(ctx, s, &tr, nw);
    }
    aecl_spec_free(s);
    aecl_dataset_free(&tr);
    aecl_dataset_free(&val);
    return test_finish();
}
