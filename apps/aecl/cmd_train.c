/* aecl train: train an autoencoder from a model file on IDX images or CSV rows,
 * with validation, a learning-rate schedule, early stopping and checkpoints. */
#include "cli.h"
#include "nn/train.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

static void usage(void)
{
    printf("usage: aecl train MODEL [options]\n\n"
           "Trains the autoencoder described by MODEL (see docs/model-format.md) and writes its\n"
           "weights (safetensors, the model and the data scaling inside) to --out. See docs/training.md.\n\n"
           "data:\n"
           "  --data PATH          a folder with train-images-idx3-ubyte[.gz] (and t10k-images-idx3-ubyte[.gz]\n"
           "                       to validate on), an IDX image file, or a CSV file (*.csv, *.csv.gz)\n"
           "                       (default " DEFAULT_DATA ")\n"
           "  --label-column C     CSV: the label column, by header name or 0-based index (-1 = last);\n"
           "                       it is left out of the features\n"
           "  --limit N            use the first N training samples (default all)\n"
           "  --class K            train (and validate) on the samples labelled K only: the one-class setup\n"
           "                       for anomaly detection (IDX folders with label files, or CSV with --label-column)\n"
           "  --val-data FILE      validate on this IDX or CSV file (default: a folder's t10k images)\n"
           "  --val-split F        validate on a seeded random fraction F of the training data instead\n"
           "  --val-limit N        the first N validation samples (default 10000, 0 = no validation)\n"
           "  --scale KIND         none (default), minmax (each feature to [0,1]) or standard (mean 0,\n"
           "                       std 1), fitted on the training data and stored in the weights file\n"
           "training:\n"
           "  --epochs N           (default: the model file's)\n"
           "  --batch N            (default: the model file's)\n"
           "  --lr X               learning rate (default: the model file's)\n"
           "  --seed S             weights, shuffling, splits, dropout and noise (default: the model file's)\n"
           "  --schedule S         none (default), step:EVERY:GAMMA (lr x GAMMA every EVERY epochs), cosine,\n"
           "                       or plateau:PATIENCE:FACTOR (lr x FACTOR after PATIENCE epochs without\n"
           "                       improvement of the validation loss)\n"
           "  --patience N         stop after N epochs without improvement (default 0 = off)\n"
           "  --report-every N     steps between loss reads (default 10)\n"
           "output:\n"
           "  --out FILE           weights file to write (default model.safetensors)\n"
           "  --checkpoint FILE    write a checkpoint (weights, optimizer state, position) at each epoch's end\n"
           "  --checkpoint-every N ... every N steps instead\n"
           "  --checkpoint-epochs N ... every N epochs instead\n"
           "  --resume FILE        continue a run from its checkpoint (same model, data, batch and seed);\n"
           "                       it keeps checkpointing to FILE unless --checkpoint says otherwise\n"
           "  --device SEL         OpenCL device (see aecl devices)\n");
}

typedef struct args {
    const char *model, *data, *out, *device, *label_col, *val_data, *checkpoint, *resume, *scale, *schedule;
    long limit, val_limit, epochs, batch, seed, patience, ck_every, ck_epochs, report_every, klass;
    double lr, val_split;
} args;

/* ---- progress --------------------------------------------------------------- */

typedef struct progress_state { int tty; const char *checkpoint; } progress_state;

static void on_progress(void *user, const aecl_train_progress *p)
{
    const progress_state *s = user;
    if (p->checkpoint_error)
        fprintf(stderr, "%swarning: the checkpoint was not written (%s); training goes on and --out will still be "
                "written\n", s->tty ? "\r\033[K" : "", p->checkpoint_error);
    if (p->epoch_done) {
        printf("%sepoch %d/%d  train loss %.5f", s->tty ? "\r\033[K" : "", p->epoch, p->epochs, p->train_loss);
        if (!isnan(p->val_loss)) printf("  val loss %.5f%s", p->val_loss, p->improved ? " *" : "");
        printf("  lr %.3g  %.0f samples/s%s\n", p->lr, p->samples_per_s, p->checkpointed ? "  (checkpoint)" : "");
        if (p->stopping) printf("early stopping: no improvement in the last epochs\n");
        fflush(stdout);
        return;
    }
    if (!s->tty) return;
    int width = 24, filled = (int)(width * p->step / (p->steps_per_epoch ? p->steps_per_epoch : 1));
    double steps_left = (double)(p->epochs - p->epoch) * (double)p->steps_per_epoch + (double)(p->steps_per_epoch - p->step);
    double eta = p->samples_per_s > 0 ? steps_left * p->batch / p->samples_per_s : 0;
    printf("\r\033[Kepoch %d/%d [%.*s%*s] step %ld/%ld  loss %.5f  %.0f samples/s  ETA %dm%02ds", p->epoch, p->epochs,
           filled, "########################", width - filled, "", p->step, p->steps_per_epoch, p->train_loss,
           p->samples_per_s, (int)(eta / 60), (int)fmod(eta, 60));
    fflush(stdout);
}

/* ---- options ------------------------------------------------------------------ */

/* One option with its value; 0 when the name or value is bad. */
static int parse_opt(args *a, const char *k, const char *v)
{
    const char **strs[] = {&a->data, &a->out, &a->device, &a->label_col, &a->val_data, &a->checkpoint, &a->resume,
                           &a->scale, &a->schedule};
    static const char *const str_names[] = {"--data", "--out", "--device", "--label-column", "--val-data",
                                            "--checkpoint", "--resume", "--scale", "--schedule"};
    for (int i = 0; i < 9; i++)
        if (!strcmp(k, str_names[i])) { *strs[i] = v; return *v != 0; }
    long *nums[] = {&a->limit, &a->val_limit, &a->epochs, &a->batch, &a->seed, &a->patience, &a->ck_every,
                    &a->ck_epochs, &a->report_every, &a->klass};
    static const char *const num_names[] = {"--limit", "--val-limit", "--epochs", "--batch", "--seed", "--patience",
                                            "--checkpoint-every", "--checkpoint-epochs", "--report-every", "--class"};
    static const long num_min[] = {0, 0, 1, 1, 0, 0, 1, 1, 1, 0};
    /* Those the trainer keeps in an int stop at INT_MAX. */
    static const long num_max[] = {LONG_MAX, LONG_MAX, INT_MAX, INT_MAX, LONG_MAX, INT_MAX, LONG_MAX, INT_MAX,
                                   INT_MAX, INT_MAX};
    for (int i = 0; i < 10; i++)
        if (!strcmp(k, num_names[i])) return cli_parse_long(v, num_min[i], num_max[i], nums[i]);
    if (!strcmp(k, "--lr")) return cli_parse_double(v, 0, HUGE_VAL, &a->lr) && a->lr > 0;
    if (!strcmp(k, "--val-split")) return cli_parse_double(v, 0, 1, &a->val_split) && a->val_split > 0 && a->val_split < 1;
    return -1;
}

static int bad(const char *fmt, const char *what)
{
    fprintf(stderr, "aecl train: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (see aecl train --help)\n");
    return 2;
}

static int is_csv(const char *path)
{
    return strstr(path, ".csv") != NULL || strstr(path, ".CSV") != NULL;
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Returns 0, or 2 after a message. */
static int parse_args(int argc, char **argv, args *a, aecl_scale_kind *scale, aecl_schedule *sched, int *help)
{
    *a = (args){.data = DEFAULT_DATA, .out = "model.safetensors", .val_limit = 10000, .epochs = -1, .batch = -1,
                .seed = -1, .lr = -1, .scale = "none", .schedule = "none", .klass = -1};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) { *help = 1; return 0; }
        if (k[0] != '-') {
            if (a->model) return bad("unexpected argument '%s'", k);
            a->model = k;
            continue;
        }
        int ok = v ? parse_opt(a, k, v) : -1;
        if (ok < 0 && v) return bad("unknown option '%s'", k);
        if (!v) return bad("option '%s' needs a value (or is unknown)", k);
        if (!ok) { fprintf(stderr, "aecl train: bad value for %s: '%s' (see aecl train --help)\n", k, v); return 2; }
        i++;
    }
    if (!a->model) return bad("%s", "no model file given");
    if (aecl_scale_parse(NULL, a->scale, scale) != AECL_OK) return bad("%s", aecl_ctx_last_error(NULL));
    if (aecl_schedule_parse(NULL, a->schedule, sched) != AECL_OK) return bad("%s", aecl_ctx_last_error(NULL));
    if (a->val_data && a->val_split > 0) return bad("%s", "--val-data and --val-split exclude each other");
    if (a->label_col && !is_csv(a->data)) return bad("--label-column needs CSV data, not '%s'", a->data);
    if (a->klass >= 0 && is_csv(a->data) && !a->label_col) return bad("%s", "--class on CSV data needs --label-column");
    if ((a->ck_every || a->ck_epochs) && !a->checkpoint && !a->resume)
        return bad("%s", "--checkpoint-every and --checkpoint-epochs need --checkpoint FILE");
    if (a->ck_every && a->ck_epochs) return bad("%s", "--checkpoint-every and --checkpoint-epochs exclude each other");
    if (!a->checkpoint) a->checkpoint = a->resume;
    return 0;
}

/* ---- data ----------------------------------------------------------------------- */

static void csv_opts(const args *a, aecl_csv_opts *c)
{
    *c = (aecl_csv_opts){0};
    if (!a->label_col) return;
    char *end;
    long idx = strtol(a->label_col, &end, 10);
    c->has_label = 1;
    if (*end) c->label_name = a->label_col;
    else c->label_index = (int)idx;
}

/* An IDX image file or a CSV file. */
static aecl_status load_file(aecl_ctx *ctx, const args *a, const char *path, long limit, size_t expect, aecl_dataset *d)
{
    if (!is_csv(path)) return aecl_dataset_load_idx(ctx, path, NULL, (size_t)limit, expect, d);
    aecl_csv_opts c;
    csv_opts(a, &c);
    AECL_TRY(aecl_dataset_load_csv(ctx, path, &c, (size_t)limit, expect, d));
    return a->klass >= 0 ? aecl_dataset_keep_label(ctx, d, (int32_t)a->klass) : AECL_OK;
}

/* An IDX image file of a folder, with its labels when a class is selected
 * (--limit counts samples before the selection). */
static aecl_status load_idx_dir(aecl_ctx *ctx, const args *a, const char *images, const char *labels, long limit,
                                size_t expect, aecl_dataset *d)
{
    if (a->klass < 0) return aecl_dataset_load_idx(ctx, images, NULL, (size_t)limit, expect, d);
    AECL_TRY(aecl_dataset_load_idx(ctx, images, labels, (size_t)limit, expect, d));
    return aecl_dataset_keep_label(ctx, d, (int32_t)a->klass);
}

/* "DIR/name.gz" when it exists, else "DIR/name". */
static void idx_path(char *buf, size_t cap, const char *dir, const char *name)
{
    snprintf(buf, cap, "%s/%s.gz", dir, name);
    if (access(buf, R_OK)) snprintf(buf, cap, "%s/%s", dir, name);
}

static aecl_status load_data(aecl_ctx *ctx, const args *a, size_t expect, uint64_t seed, aecl_dataset *tr,
                             aecl_dataset *val)
{
    char path[4200], te[4200], lab[4200];
    int dir = is_dir(a->data);
    if (dir) {
        idx_path(path, sizeof path, a->data, "train-images-idx3-ubyte");
        idx_path(lab, sizeof lab, a->data, "train-labels-idx1-ubyte");
        AECL_TRY(load_idx_dir(ctx, a, path, lab, a->limit, expect, tr));
    } else {
        AECL_RETURN_IF(a->klass >= 0 && !is_csv(a->data), AECL_ERR_INVALID_ARG, ctx,
                       "--class needs a data folder (with its label files) or CSV data with --label-column");
        AECL_TRY(load_file(ctx, a, a->data, a->limit, expect, tr));
    }
    if (a->val_split > 0) {
        aecl_dataset all = *tr;
        aecl_status st = aecl_dataset_split(ctx, &all, a->val_split, seed, tr, val);
        if (st != AECL_OK) { *tr = all; return st; }
        if (a->val_limit && val->n > (size_t)a->val_limit) val->n = (size_t)a->val_limit;
        return AECL_OK;
    }
    if (!a->val_limit) return AECL_OK;
    if (a->val_data) return load_file(ctx, a, a->val_data, a->val_limit, expect, val);
    if (!dir) return AECL_OK;
    idx_path(te, sizeof te, a->data, "t10k-images-idx3-ubyte");
    idx_path(lab, sizeof lab, a->data, "t10k-labels-idx1-ubyte");
    return access(te, R_OK) ? AECL_OK : load_idx_dir(ctx, a, te, lab, a->val_limit, expect, val);
}

/* aecl_scaling_apply reports to the thread's slot (it takes no context): its
 * message goes into ctx, where the error printed at exit is read. */
static aecl_status apply_scaling(aecl_ctx *ctx, const aecl_scaling *sc, aecl_dataset *d)
{
    aecl_status st = aecl_scaling_apply(sc, d->x, d->n, d->features);
    return st == AECL_OK ? st : aecl_fail(ctx, st, "%s", aecl_ctx_last_error(NULL));
}

/* Fitted on the training data; validation data (none with --val-limit 0) gets the same. */
static aecl_status scale_data(aecl_ctx *ctx, aecl_scale_kind kind, aecl_dataset *tr, aecl_dataset *val,
                              aecl_scaling *sc)
{
    AECL_TRY(aecl_scaling_fit(ctx, kind, tr->x, tr->n, tr->features, sc));
    AECL_TRY(apply_scaling(ctx, sc, tr));
    return apply_scaling(ctx, sc, val);
}

/* ---- the command ------------------------------------------------------------------- */

static aecl_status train_and_save(aecl_ctx *ctx, const args *a, const aecl_model_spec *spec, aecl_train_opts *o,
                                  const aecl_dataset *tr, const aecl_dataset *val)
{
    printf("training %s (%s, %lld parameters) on %zu samples of %s", a->model, aecl_spec_kind_name(spec->kind),
           (long long)spec->n_params, tr->n, a->data);
    if (val->n) printf(", validating on %zu", val->n);
    const aecl_device_info *d = aecl_ctx_device(ctx);
    /* The device and why it was chosen: a slow simulator or a device named by a
     * stray $AECL_DEVICE shows here before the epochs start. */
    if (a->device)
        printf(", device %s (--device %s%s)\n", d->name, a->device,
               d->is_simulator ? ", a simulator" : d->failed_selftest ? ", failed selftest" : "");
    else
        printf(", device %s (%s)\n", d->name, d->chosen_because);
    if (a->resume) printf("resuming from %s\n", a->resume);
    fflush(stdout);
    float *w = NULL;
    aecl_net *n = NULL;
    aecl_status st = aecl_train(ctx, spec, tr, val->n ? val : NULL, o, &w);
    if (st == AECL_OK) st = aecl_net_build(ctx, spec, 1, AECL_NET_EVAL, 1, &n);
    if (st == AECL_OK) st = aecl_weights_save_scaled(ctx, a->out, n, w, o->scaling);
    if (st == AECL_OK) printf("weights written to %s\n", a->out);
    aecl_net_free(n);
    free(w);
    return st;
}

int cmd_train(int argc, char **argv)
{
    args a;
    aecl_scale_kind scale;
    aecl_schedule sched;
    int help = 0, rc = parse_args(argc, argv, &a, &scale, &sched, &help);
    if (help) { usage(); return 0; }
    if (rc) return rc;
    /* Before any training time is spent. */
    if (cli_check_output("train", a.out) || cli_check_output("train", a.checkpoint)) return 1;
    aecl_ctx *ctx;
    int rc_open = cli_open_ctx("train", a.device, &ctx);
    if (rc_open) return rc_open;
    aecl_model_spec *spec = NULL;
    aecl_dataset tr = {0}, val = {0};
    aecl_scaling sc = {0};
    aecl_status st = aecl_spec_parse_file(ctx, a.model, &spec);
    uint64_t seed = spec && a.seed >= 0 ? (uint64_t)a.seed : spec ? spec->train.seed : 1;
    if (st == AECL_OK) st = load_data(ctx, &a, aecl_spec_shape_numel(spec->input), seed, &tr, &val);
    if (st == AECL_OK) st = scale_data(ctx, scale, &tr, &val, &sc);
    progress_state ps = {isatty(1), a.checkpoint};
    aecl_train_opts o = {.epochs = a.epochs > 0 ? (int)a.epochs : spec ? spec->train.epochs : 1,
                         .batch = a.batch > 0 ? (int)a.batch : spec ? spec->train.batch : 128,
                         .lr = a.lr, .seed = seed, .report_every = (int)a.report_every, .schedule = sched,
                         .patience = (int)a.patience, .scaling = &sc, .checkpoint = a.checkpoint,
                         .checkpoint_every = a.ck_every, .checkpoint_epochs = (int)a.ck_epochs, .resume = a.resume, .cb = on_progress, .user = &ps};
    if (st == AECL_OK) st = train_and_save(ctx, &a, spec, &o, &tr, &val);
    if (ps.tty && st != AECL_OK) printf("\n");
    rc = st == AECL_OK ? 0 : cli_error("train", st, ctx, "training failed");
    if (st == AECL_ERR_NUMERIC && a.checkpoint && access(a.checkpoint, R_OK) == 0)
        fprintf(stderr, "aecl train: continue from the last good checkpoint with --resume %s (and a lower --lr)\n",
                a.checkpoint);
    aecl_scaling_free(&sc);
    aecl_dataset_free(&tr);
    aecl_dataset_free(&val);
    aecl_spec_free(spec);
    aecl_ctx_free(ctx);
    return rc;
}
