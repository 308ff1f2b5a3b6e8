/* aecl train: train an autoencoder from a model file on IDX images, CSV rows or
 * .npy arrays, validating on held-out data, with a learning-rate schedule, early
 * stopping, the best epoch's weights, checkpoints, a history and an anomaly
 * threshold. Data, training and the weights file go through the public API
 * (aecl.h: aecl_data_*, aecl_training_*); this file turns options into its calls. */
#include "chart.h"
#include "cli.h"
#include "dist.h"
#include "nn/app.h"
#include "nn/train.h"
#include "train_data.h"
#include "train_report.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLAIN_PROGRESS_SECONDS 5.0

static void usage(void)
{
    printf("usage: aecl train MODEL [options]\n"
           "       aecl train [MODEL] --init WEIGHTS [options]\n\n"
           "Trains the autoencoder described by MODEL (see docs/model-format.md) and writes its\n"
           "weights (safetensors, the model and the data scaling inside) to --out. See docs/training.md.\n"
           "Options take their value as --opt VALUE or --opt=VALUE.\n\n"
           "data:\n"
           "  --data PATH          a folder with train-images-idx3-ubyte[.gz], an IDX image file, a CSV\n"
           "                       file (*.csv, *.csv.gz) or a .npy array (float32/64, uint8, int32/64, C or\n"
           "                       Fortran order; n x features) (default " TRAIN_DEFAULT_DATA ")\n"
           "  --label-column C     CSV: the label column, by header name or 0-based index (-1 = last);\n"
           "                       it is left out of the features\n"
           "  --limit N            use the first N training samples (default all)\n"
           "  --class K            train (and validate) on the samples labelled K only: the one-class setup\n"
           "                       for anomaly detection (IDX folders with label files, CSV with --label-column,\n"
           "                       or a .npy or IDX file with --labels)\n"
           "  --labels FILE        the labels of a .npy or IDX image file --data: a .npy of integers (or of whole\n"
           "                       floats) or an IDX labels file, one per sample\n"
           "validation (the monitored loss of early stopping, the plateau schedule and the best weights):\n"
           "  --val-split F        hold out a seeded random fraction F of the training samples (after\n"
           "                       --limit and --class) and validate on it (default 0.1; 0 = no validation)\n"
           "  --val-data FILE      validate on this IDX, .npy or CSV file instead; 'test' names a data\n"
           "                       folder's t10k files (the test set that aecl eval reports: not a held-out\n"
           "                       choice)\n"
           "  --val-limit N        at most N validation samples (default all; 0 = no validation)\n"
           "  --scale KIND         none (default), minmax (each feature to [0,1]) or standard (mean 0,\n"
           "                       std 1), fitted on the training data and stored in the weights file\n"
           "training:\n"
           "  --epochs N           (default: the model file's)\n"
           "  --batch N            (default: the model file's)\n"
           "  --lr X               learning rate (default: the model file's)\n"
           "  --seed S             weights, shuffling, splits, dropout and noise (default: the model file's)\n"
           "  --schedule S         none (default), step:EVERY:GAMMA (lr x GAMMA every EVERY epochs), cosine,\n"
           "                       or plateau:PATIENCE:FACTOR (lr x FACTOR after PATIENCE epochs without\n"
           "                       improvement of the monitored loss)\n"
           "  --patience N         stop after N epochs without improvement (default 0 = off)\n"
           "  --min-delta X        the least decrease of the monitored loss that counts as an improvement\n"
           "                       (default 0: any decrease over 0.01%% of it)\n"
           "  --report-every N     steps between loss reads (default 10; the first step is read too)\n"
           "output:\n"
           "  --out FILE           weights file to write (default model.safetensors)\n"
           "  --keep best|last     with validation, write the best epoch's weights (default) or the last's\n"
           "  --checkpoint-best FILE  with validation, a weights file rewritten at each improvement\n"
           "  --history FILE.csv   per epoch: losses (and their terms), val loss, lr, samples/s, seconds\n"
           "                       (with --resume: continues the file's epochs)\n"
           "  --plot FILE.png      the loss curves as a chart\n"
           "  --contamination C    store an anomaly threshold in the weights file: the (1-C)-quantile of\n"
           "                       the training samples' MSE scores (aecl anomaly uses it by default)\n"
           "  --checkpoint FILE    write a checkpoint (weights, optimizer state, position) at each epoch's end\n"
           "  --checkpoint-every N ... every N steps instead\n"
           "  --checkpoint-epochs N ... every N epochs instead\n"
           "  --init WEIGHTS       start from these weights (an aecl weights file or checkpoint, or safetensors\n"
           "                       with aecl's tensor names, e.g. written from PyTorch) with a fresh optimizer;\n"
           "                       MODEL may be left out when the file holds its model text; the file's data\n"
           "                       scaling is kept (docs/training.md)\n"
           "  --resume FILE        continue a run from its checkpoint (same model, data, batch and seed);\n"
           "                       it keeps checkpointing to FILE unless --checkpoint says otherwise\n"
           "  --device SEL         OpenCL device (see aecl devices); 'local': under mpirun, the device of the\n"
           "                       node-local rank (docs/scaling.md)\n"
           DIST_HELP);
}


/* ---- options ------------------------------------------------------------------ */

enum {
    O_DATA = CLI_OPT_FIRST, O_OUT, O_DEVICE, O_LABEL_COL, O_VAL_DATA, O_CHECKPOINT, O_RESUME, O_SCALE, O_SCHEDULE,
    O_KEEP, O_CK_BEST, O_HISTORY, O_PLOT, O_INIT, O_LABELS,                             /* strings */
    O_LIMIT, O_VAL_LIMIT, O_EPOCHS, O_BATCH, O_SEED, O_PATIENCE, O_CK_EVERY, O_CK_EPOCHS, O_REPORT, O_CLASS, /* longs */
    O_LR, O_VAL_SPLIT, O_MIN_DELTA, O_CONTAMINATION, O_DIST_TIMEOUT                     /* doubles */
};

static const struct option opts[] = {
    {"data", required_argument, NULL, O_DATA}, {"out", required_argument, NULL, O_OUT},
    {"device", required_argument, NULL, O_DEVICE}, {"label-column", required_argument, NULL, O_LABEL_COL},
    {"val-data", required_argument, NULL, O_VAL_DATA}, {"checkpoint", required_argument, NULL, O_CHECKPOINT},
    {"resume", required_argument, NULL, O_RESUME}, {"scale", required_argument, NULL, O_SCALE},
    {"schedule", required_argument, NULL, O_SCHEDULE}, {"keep", required_argument, NULL, O_KEEP},
    {"checkpoint-best", required_argument, NULL, O_CK_BEST}, {"history", required_argument, NULL, O_HISTORY},
    {"plot", required_argument, NULL, O_PLOT}, {"init", required_argument, NULL, O_INIT},
    {"labels", required_argument, NULL, O_LABELS},
    {"limit", required_argument, NULL, O_LIMIT},
    {"val-limit", required_argument, NULL, O_VAL_LIMIT}, {"epochs", required_argument, NULL, O_EPOCHS},
    {"batch", required_argument, NULL, O_BATCH}, {"seed", required_argument, NULL, O_SEED},
    {"patience", required_argument, NULL, O_PATIENCE}, {"checkpoint-every", required_argument, NULL, O_CK_EVERY},
    {"checkpoint-epochs", required_argument, NULL, O_CK_EPOCHS},
    {"report-every", required_argument, NULL, O_REPORT}, {"class", required_argument, NULL, O_CLASS},
    {"lr", required_argument, NULL, O_LR}, {"val-split", required_argument, NULL, O_VAL_SPLIT},
    {"min-delta", required_argument, NULL, O_MIN_DELTA}, {"contamination", required_argument, NULL, O_CONTAMINATION},
    {"dist-timeout", required_argument, NULL, O_DIST_TIMEOUT},
    CLI_HELP_LONGOPT, {0}};

/* One option's value into *a: 1, or 0 when the value is bad. */
static int set_opt(train_args *a, int o, const char *v)
{
    const char **strs[] = {&a->data, &a->out, &a->device, &a->label_col, &a->val_data, &a->checkpoint, &a->resume,
                           &a->scale, &a->schedule, &a->keep, &a->checkpoint_best, &a->history, &a->plot, &a->init,
                           &a->labels};
    if (o >= O_DATA && o <= O_LABELS) { *strs[o - O_DATA] = v; return *v != 0; }
    long *nums[] = {&a->limit, &a->val_limit, &a->epochs, &a->batch, &a->seed, &a->patience, &a->ck_every,
                    &a->ck_epochs, &a->report_every, &a->klass};
    static const long num_min[] = {0, 0, 1, 1, 0, 0, 1, 1, 1, 0};
    /* Those the trainer keeps in an int stop at INT_MAX. */
    static const long num_max[] = {LONG_MAX, LONG_MAX, INT_MAX, INT_MAX, LONG_MAX, INT_MAX, LONG_MAX, INT_MAX,
                                   INT_MAX, INT_MAX};
    if (o >= O_LIMIT && o <= O_CLASS) return cli_parse_long(v, num_min[o - O_LIMIT], num_max[o - O_LIMIT], nums[o - O_LIMIT]);
    switch (o) {
    case O_LR: return cli_parse_double(v, 0, HUGE_VAL, &a->lr) && a->lr > 0;
    case O_VAL_SPLIT: return cli_parse_double(v, 0, 1, &a->val_split) && a->val_split < 1;
    case O_MIN_DELTA: return cli_parse_double(v, 0, HUGE_VAL, &a->min_delta);
    case O_DIST_TIMEOUT: return cli_parse_double(v, 0, HUGE_VAL, &a->dist_timeout) && a->dist_timeout > 0;
    case O_CONTAMINATION:
        return cli_parse_double(v, 0, 1, &a->contamination) && a->contamination > 0 && a->contamination < 1;
    }
    return 0;
}

static int bad(const char *fmt, const char *what)
{
    fprintf(stderr, "aecl train: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (see aecl train --help)\n");
    return 2;
}

/* The combinations that cannot work; 0 or 2 after a message. */
static int check_args(train_args *a, aecl_scale_kind *scale, aecl_schedule *sched)
{
    if (!a->model && !a->init) return bad("%s", "no model file given");
    if (a->init && a->resume)
        return bad("%s", "--init and --resume exclude each other: --resume continues a checkpoint's run, "
                         "--init starts a new run from weights");
    /* --scale left out is NULL: --init tells it from a --scale that contradicts its file. */
    if (aecl_scale_parse(NULL, a->scale ? a->scale : "none", scale) != AECL_OK)
        return bad("%s", aecl_ctx_last_error(NULL));
    if (aecl_schedule_parse(NULL, a->schedule, sched) != AECL_OK) return bad("%s", aecl_ctx_last_error(NULL));
    if (a->val_data && a->val_split >= 0) return bad("%s", "--val-data and --val-split exclude each other");
    if (a->label_col && !train_is_csv(a->data)) return bad("--label-column needs CSV data, not '%s'", a->data);
    if (a->klass >= 0 && train_is_csv(a->data) && !a->label_col) return bad("%s", "--class on CSV data needs --label-column");
    if (a->labels && (train_is_csv(a->data) || train_is_dir(a->data)))
        return bad("--labels is for .npy or IDX file data; '%s' has its own (a folder's label files, CSV's --label-column)",
                   a->data);
    if ((a->ck_every || a->ck_epochs) && !a->checkpoint && !a->resume)
        return bad("%s", "--checkpoint-every and --checkpoint-epochs need --checkpoint FILE");
    if (a->ck_every && a->ck_epochs) return bad("%s", "--checkpoint-every and --checkpoint-epochs exclude each other");
    if (strcmp(a->keep, "best") && strcmp(a->keep, "last")) return bad("--keep '%s': expected best or last", a->keep);
    if (a->plot && chart_check_png_name("train", "--plot", a->plot)) return 2;
    if (a->checkpoint_best && (a->val_limit == 0 || a->val_split == 0))
        return bad("%s", "--checkpoint-best keeps the best validation loss's weights: it needs validation");
    if (a->val_data && !strcmp(a->val_data, "test") && !train_is_dir(a->data))
        return bad("--val-data test names the t10k files of a data folder; '%s' is not a folder", a->data);
    if (!a->checkpoint) a->checkpoint = a->resume;
    return 0;
}

/* Returns 0, or 2 after a message. */
static int parse_args(int argc, char **argv, train_args *a, aecl_scale_kind *scale, aecl_schedule *sched, int *help)
{
    *a = (train_args){.data = TRAIN_DEFAULT_DATA, .out = "model.safetensors", .val_limit = -1, .epochs = -1, .batch = -1,
                .seed = -1, .lr = -1, .val_split = -1, .schedule = "none", .klass = -1,
                .keep = "best", .contamination = NAN};
    const char *v;
    for (int o; (o = cli_next_opt("train", argc, argv, opts, &v)) != CLI_OPT_END;) {
        if (o == CLI_OPT_BAD) return 2;
        if (o == CLI_OPT_HELP) { *help = 1; return 0; }
        if (o == CLI_OPT_ARG) {
            if (cli_positional("train", v, &a->model, 1)) return 2;
            continue;
        }
        if (!set_opt(a, o, v)) return cli_bad_value("train", v);
    }
    return check_args(a, scale, sched);
}

/* ---- the command ------------------------------------------------------------------- */

/* The model in messages: its file, or the --init file whose model text it is. */
static const char *model_name(const train_args *a) { return a->model ? a->model : a->init; }

static void print_init(const train_args *a, const aecl_training_info *in)
{
    printf("starting from the weights in %s (%s)", a->init,
           !in->init_has_text ? "no model text inside: its tensors fit the model by name and shape"
           : a->model         ? "its model text describes the same network"
                              : "and the model text inside it");
    if (in->scale_from_file) printf("; its %s scaling is kept", in->scale);
    printf("\n");
}

/* What validation measures: a denoising model's objective on noisy inputs. */
static void val_measure(const aecl_model_spec *spec, char *buf, size_t cap)
{
    char noise[64];
    aecl_spec_noise_text(spec, noise, sizeof noise);
    const char *loss = spec->loss == AECL_LOSS_MSE ? "MSE per value" : "BCE per sample";
    if (noise[0]) snprintf(buf, cap, "%s of the clean target reconstructed from a noisy input (%s)", loss, noise);
    else if (spec->kind == AECL_AE_VARIATIONAL) snprintf(buf, cap, "%s + beta KL (the negative ELBO's estimate)", loss);
    else snprintf(buf, cap, "%s of the reconstruction", loss);
}

static void print_header(aecl_ctx *ctx, const train_args *a, const aecl_training *t, const train_val *vc)
{
    aecl_training_info in;
    aecl_training_info_get(t, &in);
    printf("training %s (%s, %lld parameters) on %zu samples of %s", model_name(a), in.kind, (long long)in.params,
           in.train_rows, a->data);
    if (a->klass >= 0) printf(" (class %ld)", a->klass);
    const aecl_device_info *d = aecl_ctx_device(ctx);
    /* The device and why it was chosen: a slow simulator or a device named by a
     * stray $AECL_DEVICE shows here before the epochs start. */
    if (a->device)
        printf(", device %s (--device %s%s)\n", d->name, a->device,
               d->is_simulator ? ", a simulator" : d->failed_selftest ? ", failed selftest" : "");
    else
        printf(", device %s (%s)\n", d->name, d->chosen_because);
    char measure[256];
    val_measure(aecl_training_spec(t), measure, sizeof measure);
    if (vc->what[0]) printf("validating on %s; val loss = %s\n", vc->what, measure);
    else printf("no validation (--val-limit 0 or --val-split 0): the monitored loss is the training loss\n");
    if (a->resume) printf("resuming from %s\n", a->resume);
    if (a->init) print_init(a, &in);
    dist_print_header();
    fflush(stdout);
}

/* The anomaly threshold (the (1 - C)-quantile of the training samples' MSE scores), stored with the weights. */
static aecl_status fit_threshold(aecl_training *t, const train_args *a)
{
    double thr;
    size_t flagged;
    AECL_TRY(aecl_training_fit_threshold(t, a->contamination, &thr, NULL, &flagged));
    aecl_training_info in;
    aecl_training_info_get(t, &in);
    char v[4300];
    snprintf(v, sizeof v, "%zu training samples of %s", in.train_rows, a->data);
    AECL_TRY(aecl_training_set_meta(t, "aecl.anomaly.fitted_on", v));
    printf("anomaly threshold %.6g: the %.4g-quantile of the %zu training samples' MSE scores (%zu above it)\n", thr,
           1.0 - a->contamination, in.train_rows, flagged);
    return AECL_OK;
}

/* The command line's words for the data in the weights file's training summary. */
static aecl_status summary_meta(aecl_training *t, const train_args *a, const train_val *vc)
{
    aecl_training_info in;
    aecl_training_info_get(t, &in);
    char v[4400];
    snprintf(v, sizeof v, "%zu samples of %s%s", in.train_rows, a->data, a->klass >= 0 ? " (one class)" : "");
    AECL_TRY(aecl_training_set_meta(t, "aecl.train.data", v));
    if (a->klass >= 0) {
        snprintf(v, sizeof v, "%ld", a->klass);
        AECL_TRY(aecl_training_set_meta(t, "aecl.train.class", v));
    }
    return aecl_training_set_meta(t, "aecl.train.validation", vc->what[0] ? vc->what : "none");
}

static void print_written(const train_args *a, const aecl_training *t, const train_progress *ps)
{
    aecl_training_summary sm;
    aecl_training_summary_get(t, &sm);
    if (sm.validated)
        printf("weights of epoch %d (%s; best val loss %.5f at epoch %d) written to %s\n", sm.weights_epoch,
               sm.weights_epoch == sm.best_epoch ? "the best" : "the last, --keep last", sm.best_loss, sm.best_epoch,
               a->out);
    else
        printf("weights of epoch %d written to %s\n", sm.weights_epoch, a->out);
    if (a->history && ps->history_status == AECL_OK) printf("history written to %s\n", a->history);
}

static aecl_status save(aecl_ctx *ctx, const train_args *a, aecl_training *t, const train_val *vc,
                        train_progress *ps)
{
    AECL_TRY(summary_meta(t, a, vc));
    if (!isnan(a->contamination)) AECL_TRY(fit_threshold(t, a));
    AECL_TRY(aecl_training_save(t, a->out));
    print_written(a, t, ps);
    if (!a->plot) return AECL_OK;
    char title[512];
    const char *base = strrchr(model_name(a), '/');
    snprintf(title, sizeof title, "%s: loss per epoch", base ? base + 1 : model_name(a));
    AECL_TRY(train_history_plot(ctx, a->plot, &ps->hist, title));
    printf("loss curves drawn in %s\n", a->plot);
    return AECL_OK;
}

static aecl_status train_and_save(aecl_ctx *ctx, const train_args *a, aecl_training *t, const train_val *vc,
                                  train_progress *ps)
{
    print_header(ctx, a, t, vc);
    AECL_TRY(aecl_training_run(t));
    /* Data-parallel: rank 0 alone writes; its result is every rank's (dist.h). */
    return dist_agree(ctx, dist_rank() == 0 ? save(ctx, a, t, vc, ps) : AECL_OK);
}

/* aecl train's options as the public training options. */
static aecl_training_options train_options(const train_args *a, train_progress *ps)
{
    return (aecl_training_options){
        .epochs = (int)a->epochs, .batch = (int)a->batch, .lr = a->lr, .seed = (uint64_t)a->seed,
        .use_seed = a->seed >= 0, .schedule = a->schedule, .patience = (int)a->patience, .min_delta = a->min_delta,
        .keep_last = !strcmp(a->keep, "last"), .scale = a->scale, .report_every = (int)a->report_every,
        .checkpoint = a->checkpoint, .checkpoint_every = a->ck_every, .checkpoint_epochs = (int)a->ck_epochs,
        .checkpoint_best = a->checkpoint_best, .resume = a->resume, .init = a->init, .comm = dist_comm(),
        .progress = train_on_progress, .user = ps};
}

/* The global batch (the option's, else the model's). */
static int settled_batch(const aecl_training *t)
{
    aecl_training_info in;
    aecl_training_info_get(t, &in);
    return in.batch;
}

/* Before any training time is spent. */
static int check_outputs(const train_args *a)
{
    const char *outs[] = {a->out, a->checkpoint, a->checkpoint_best, a->history, a->plot};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (cli_check_output("train", outs[i])) return 1;
    return 0;
}

int cmd_train(int argc, char **argv)
{
    train_args a;
    aecl_scale_kind scale;
    aecl_schedule sched;
    int help = 0, rc = parse_args(argc, argv, &a, &scale, &sched, &help);
    if (help) { usage(); return 0; }
    if (rc) return rc;
    if (dist_rank() == 0 && check_outputs(&a)) return 1; /* rank 0 writes them */
    aecl_ctx *ctx;
    char local[32];
    int rc_open = cli_open_ctx("train", dist_device(a.device, local, sizeof local), &ctx);
    if (rc_open) return rc_open;
    /* The model (or the --init file's model text) first: its input width checks
     * the data as it is read, and its seed draws the validation split. */
    aecl_model_spec *spec = NULL;
    aecl_data *tr = NULL, *val = NULL;
    aecl_training *t = NULL;
    train_val vc;
    train_val_decide(&a, &vc);
    aecl_status st = aecl_model_spec_load(ctx, model_name(&a), &spec);
    uint64_t seed = 1;
    if (st == AECL_OK) aecl_model_spec_train_defaults(spec, NULL, NULL, NULL, &seed);
    if (a.seed >= 0) seed = (uint64_t)a.seed;
    if (st == AECL_OK) st = train_load_data(ctx, &a, aecl_model_spec_input_size(spec), seed, &vc, &tr, &val);
    train_progress ps = {.tty = dist_stdout_is_tty(), .plain_every = PLAIN_PROGRESS_SECONDS,
                         .val_label = "val loss", .history_path = dist_rank() == 0 ? a.history : NULL, .ctx = ctx};
    aecl_training_options o = train_options(&a, &ps);
    if (st == AECL_OK) st = aecl_training_create(ctx, a.model ? spec : NULL, tr, val, &o, &t);
    if (st == AECL_OK && a.resume && a.history) st = train_history_read(ctx, a.history, &ps.hist);
    if (st == AECL_OK) st = dist_begin(ctx, settled_batch(t), a.dist_timeout);
    if (st == AECL_OK) st = train_and_save(ctx, &a, t, &vc, &ps);
    if (ps.tty && st != AECL_OK) printf("\n");
    rc = st == AECL_OK ? 0 : cli_error("train", st, ctx, "training failed");
    if (st == AECL_ERR_NUMERIC && a.checkpoint && access(a.checkpoint, R_OK) == 0)
        fprintf(stderr, "aecl train: continue from the last good checkpoint with --resume %s (and a lower --lr)\n",
                a.checkpoint);
    train_history_free(&ps.hist);
    aecl_training_free(t);
    aecl_data_free(tr);
    aecl_data_free(val);
    aecl_model_spec_free(spec);
    aecl_ctx_free(ctx);
    return rc;
}
