/* aecl train's options and its data: the training set, the validation set
 * (a seeded held-out split by default), read through the public data calls
 * (train_data.c; the scaling is the training API's). */
#ifndef AECL_APP_TRAIN_DATA_H
#define AECL_APP_TRAIN_DATA_H

#include "aecl.h"

#define TRAIN_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
#define TRAIN_DEFAULT_VAL_SPLIT 0.1

/* The command line, as parsed (-1 / NaN / NULL: not given). */
typedef struct train_args {
    const char *model, *data, *out, *device, *label_col, *val_data, *checkpoint, *resume, *scale, *schedule;
    const char *keep, *checkpoint_best, *history, *plot, *init;
    const char *labels;       /* --labels: labels of .npy or IDX file data (for --class) */
    long limit, val_limit, epochs, batch, seed, patience, ck_every, ck_epochs, report_every, klass;
    double lr, val_split, min_delta, contamination;
    double dist_timeout;      /* --dist-timeout (0: the default; dist.h) */
} train_args;

/* Which data validates, in words, for the header and the weights file. */
typedef struct train_val {
    double split;             /* > 0: a held-out fraction of the training samples */
    const char *file;         /* else a file, "test" (a folder's t10k files), or NULL: none */
    char what[4400];          /* filled by train_load_data ("" without validation) */
} train_val;

int train_is_csv(const char *path);
int train_is_dir(const char *path);
/* What validates: --val-data, --val-split, the default split, or nothing. */
void train_val_decide(const train_args *a, train_val *vc);
/* The training samples (--data, --limit, --class) and the validation samples vc
 * names (a split takes them out of the training samples, seeded by `seed`);
 * *val stays NULL without validation. */
aecl_status train_load_data(aecl_ctx *ctx, const train_args *a, size_t expect, uint64_t seed, train_val *vc,
                            aecl_data **tr, aecl_data **val);

#endif
