/* aecl train: train an autoencoder from a model file on IDX image data. */
#include "cli.h"
#include "nn/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

static void usage(void)
{
    printf("usage: aecl train MODEL [options]\n\n"
           "Trains the autoencoder described by MODEL (see docs/model-format.md) and writes its\n"
           "weights (safetensors, the model inside) to --out.\n\n"
           "  --data DIR       folder with train-images-idx3-ubyte[.gz] and t10k-images-idx3-ubyte[.gz]\n"
           "                   (default " DEFAULT_DATA ")\n"
           "  --limit N        use the first N training samples (default all)\n"
           "  --val-limit N    validate on the first N test samples after each epoch (default 10000, 0 = off)\n"
           "  --epochs N       (default: the model file's)\n"
           "  --batch N        (default: the model file's)\n"
           "  --lr X           learning rate (default: the model file's)\n"
           "  --seed S         weights, shuffling, dropout and noise (default: the model file's)\n"
           "  --out FILE       weights file to write (default model.safetensors)\n"
           "  --device SEL     OpenCL device (see aecl devices)\n");
}

typedef struct progress_state { int tty; } progress_state;

static void on_progress(void *user, const aecl_train_progress *p)
{
    const progress_state *s = user;
    if (p->epoch_done) {
        printf("%sepoch %d/%d  train loss %.5f  val loss %.5f  %.0f samples/s\n", s->tty ? "\r\033[K" : "", p->epoch,
               p->epochs, p->train_loss, p->val_loss, p->samples_per_s);
        fflush(stdout);
        return;
    }
    if (!s->tty) return;
    int width = 30, filled = (int)(width * p->step / (p->steps_per_epoch ? p->steps_per_epoch : 1));
    double eta = p->samples_per_s > 0 ? (double)(p->steps_per_epoch - p->step) * 128.0 / p->samples_per_s : 0;
    printf("\r\033[Kepoch %d/%d [%.*s%*s] step %ld/%ld loss %.5f  %.0f samples/s  ETA %.0fs", p->epoch, p->epochs,
           filled, "##############################", width - filled, "", p->step, p->steps_per_epoch,
           p->train_loss, p->samples_per_s, eta);
    fflush(stdout);
}

static int parse_int(const char *s, long *v)
{
    char *end;
    *v = strtol(s, &end, 10);
    return *s && !*end;
}

int cmd_train(int argc, char **argv)
{
    const char *model = NULL, *data = DEFAULT_DATA, *out = "model.safetensors", *device = NULL;
    long limit = 0, val_limit = 10000, epochs = -1, batch = -1, seed = -1;
    double lr = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(); return 0; }
        else if (a[0] != '-' && !model) { model = a; continue; }
        else if (!v) ok = 0;
        else if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--device")) device = v;
        else if (!strcmp(a, "--limit")) ok = parse_int(v, &limit) && limit >= 0;
        else if (!strcmp(a, "--val-limit")) ok = parse_int(v, &val_limit) && val_limit >= 0;
        else if (!strcmp(a, "--epochs")) ok = parse_int(v, &epochs) && epochs > 0;
        else if (!strcmp(a, "--batch")) ok = parse_int(v, &batch) && batch > 0;
        else if (!strcmp(a, "--seed")) ok = parse_int(v, &seed) && seed >= 0;
        else if (!strcmp(a, "--lr")) { char *e; lr = strtod(v, &e); ok = *v && !*e && lr > 0; }
        else ok = 0;
        if (!ok) { fprintf(stderr, "aecl train: bad option or value: %s %s\n", a, v ? v : ""); return 2; }
        i++;
    }
    if (!model) { fprintf(stderr, "aecl train: no model file given (see aecl train --help)\n"); return 2; }
    aecl_ctx *ctx;
    if (cli_open_ctx("train", device, &ctx)) return 1;
    aecl_model_spec *spec = NULL;
    aecl_dataset train = {0}, val = {0};
    float *w = NULL;
    char tr[1200], te[1200];
    snprintf(tr, sizeof tr, "%s/train-images-idx3-ubyte.gz", data);
    snprintf(te, sizeof te, "%s/t10k-images-idx3-ubyte.gz", data);
    if (access(tr, R_OK)) snprintf(tr, sizeof tr, "%s/train-images-idx3-ubyte", data);
    if (access(te, R_OK)) snprintf(te, sizeof te, "%s/t10k-images-idx3-ubyte", data);
    aecl_status st = aecl_spec_parse_file(ctx, model, &spec);
    if (st == AECL_OK) st = aecl_dataset_load_idx(ctx, tr, NULL, (size_t)limit, aecl_spec_shape_numel(spec->input), &train);
    if (st == AECL_OK && val_limit > 0)
        st = aecl_dataset_load_idx(ctx, te, NULL, (size_t)val_limit, aecl_spec_shape_numel(spec->input), &val);
    progress_state ps = {isatty(1)};
    aecl_train_opts o = {.epochs = epochs > 0 ? (int)epochs : spec ? spec->train.epochs : 1,
                         .batch = batch > 0 ? (int)batch : spec ? spec->train.batch : 128,
                         .lr = lr, .seed = seed >= 0 ? (uint64_t)seed : spec ? spec->train.seed : 1,
                         .report_every = 10, .cb = on_progress, .user = &ps};
    if (st == AECL_OK) {
        printf("training %s (%s, %lld parameters) on %zu samples of %s, device %s\n", model,
               aecl_spec_kind_name(spec->kind), (long long)spec->n_params, train.n, data, aecl_ctx_device(ctx)->name);
        fflush(stdout);
        st = aecl_train(ctx, spec, &train, val.n ? &val : NULL, &o, &w);
    }
    aecl_net *n = NULL;
    if (st == AECL_OK) st = aecl_net_build(ctx, spec, 1, AECL_NET_EVAL, 1, &n);
    if (st == AECL_OK) st = aecl_weights_save(ctx, out, n, w);
    if (st == AECL_OK) printf("weights written to %s\n", out);
    int rc = st == AECL_OK ? 0 : cli_error("train", st, ctx, "training failed");
    aecl_net_free(n);
    free(w);
    aecl_dataset_free(&train);
    aecl_dataset_free(&val);
    aecl_spec_free(spec);
    aecl_ctx_free(ctx);
    return rc;
}
