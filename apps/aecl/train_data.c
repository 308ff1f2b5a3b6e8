/* aecl train's data: the training samples (a folder's train files, an IDX,
 * .npy or CSV file; --limit, --class), the validation samples (by default a seeded 10%
 * held out of them, else a file or a folder's test files) and the scaling. */
#include "train_data.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int train_is_csv(const char *path)
{
    return strstr(path, ".csv") != NULL || strstr(path, ".CSV") != NULL;
}

int train_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void csv_opts(const train_args *a, aecl_csv_opts *c)
{
    *c = (aecl_csv_opts){0};
    if (!a->label_col) return;
    char *end;
    long idx = strtol(a->label_col, &end, 10);
    c->has_label = 1;
    if (*end) c->label_name = a->label_col;
    else c->label_index = (int)idx;
}

/* An IDX image file, a .npy array (any dtype aecl reads, either order) or a CSV file. */
static aecl_status load_file(aecl_ctx *ctx, const train_args *a, const char *path, long limit, size_t expect, aecl_dataset *d)
{
    if (aecl_io_is_npy(path)) return aecl_dataset_load_npy(ctx, path, (size_t)limit, expect, d);
    if (!train_is_csv(path)) return aecl_dataset_load_idx(ctx, path, NULL, (size_t)limit, expect, d);
    aecl_csv_opts c;
    csv_opts(a, &c);
    AECL_TRY(aecl_dataset_load_csv(ctx, path, &c, (size_t)limit, expect, d));
    return a->klass >= 0 ? aecl_dataset_keep_label(ctx, d, (int32_t)a->klass) : AECL_OK;
}

/* An IDX image file of a folder, with its labels when a class is selected
 * (--limit counts samples before the selection). */
static aecl_status load_idx_dir(aecl_ctx *ctx, const train_args *a, const char *images, const char *labels, long limit,
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

static aecl_status load_train(aecl_ctx *ctx, const train_args *a, size_t expect, aecl_dataset *tr)
{
    char path[4200], lab[4200];
    if (train_is_dir(a->data)) {
        idx_path(path, sizeof path, a->data, "train-images-idx3-ubyte");
        idx_path(lab, sizeof lab, a->data, "train-labels-idx1-ubyte");
        return load_idx_dir(ctx, a, path, lab, a->limit, expect, tr);
    }
    AECL_RETURN_IF(a->klass >= 0 && !train_is_csv(a->data) && !a->labels, AECL_ERR_INVALID_ARG, ctx,
                   "--class needs a data folder (with its label files), CSV data with --label-column, or --labels "
                   "FILE for .npy or IDX file data");
    AECL_TRY(load_file(ctx, a, a->data, a->limit, expect, tr));
    if (!a->labels) return AECL_OK;
    /* The labels of the samples kept by --limit, then the class among them. */
    AECL_TRY(aecl_dataset_load_labels(ctx, a->labels, tr));
    return a->klass >= 0 ? aecl_dataset_keep_label(ctx, tr, (int32_t)a->klass) : AECL_OK;
}

void train_val_decide(const train_args *a, train_val *vc)
{
    *vc = (train_val){0};
    if (a->val_limit == 0 || a->val_split == 0) return;
    if (a->val_data) vc->file = a->val_data;
    else vc->split = a->val_split > 0 ? a->val_split : TRAIN_DEFAULT_VAL_SPLIT;
}

aecl_status train_load_data(aecl_ctx *ctx, const train_args *a, size_t expect, uint64_t seed, train_val *vc,
                            aecl_dataset *tr, aecl_dataset *val)
{
    AECL_TRY(load_train(ctx, a, expect, tr));
    size_t cap = a->val_limit > 0 ? (size_t)a->val_limit : 0;
    if (vc->split > 0) {
        aecl_dataset all = *tr;
        aecl_status st = aecl_dataset_split(ctx, &all, vc->split, seed, tr, val);
        if (st != AECL_OK) { *tr = all; return st; }
        if (cap && val->n > cap) val->n = cap;
        snprintf(vc->what, sizeof vc->what, "%zu samples held out from the training data (--val-split %g, seed %llu)",
                 val->n, vc->split, (unsigned long long)seed);
        return AECL_OK;
    }
    if (!vc->file) return AECL_OK;
    if (strcmp(vc->file, "test")) {
        AECL_TRY(load_file(ctx, a, vc->file, (long)cap, expect, val));
        snprintf(vc->what, sizeof vc->what, "%zu samples of %s", val->n, vc->file);
        return AECL_OK;
    }
    char te[4200], lab[4200];
    idx_path(te, sizeof te, a->data, "t10k-images-idx3-ubyte");
    idx_path(lab, sizeof lab, a->data, "t10k-labels-idx1-ubyte");
    AECL_TRY(load_idx_dir(ctx, a, te, lab, (long)cap, expect, val));
    snprintf(vc->what, sizeof vc->what, "%zu samples of %s (the test set)", val->n, te);
    return AECL_OK;
}

/* aecl_scaling_apply reports to the thread's slot (it takes no context): its
 * message goes into ctx, where the error printed at exit is read. */
static aecl_status apply_scaling(aecl_ctx *ctx, const aecl_scaling *sc, aecl_dataset *d)
{
    aecl_status st = aecl_scaling_apply(sc, d->x, d->n, d->features);
    return st == AECL_OK ? st : aecl_fail(ctx, st, "%s", aecl_ctx_last_error(NULL));
}

aecl_status train_apply_scaling(aecl_ctx *ctx, const aecl_scaling *sc, aecl_dataset *tr, aecl_dataset *val)
{
    AECL_TRY(apply_scaling(ctx, sc, tr));
    return apply_scaling(ctx, sc, val);
}

/* Fitted on the training data; validation data (none with --val-limit 0) gets the same. */
aecl_status train_scale_data(aecl_ctx *ctx, aecl_scale_kind kind, aecl_dataset *tr, aecl_dataset *val,
                             aecl_scaling *sc)
{
    AECL_TRY(aecl_scaling_fit(ctx, kind, tr->x, tr->n, tr->features, sc));
    return train_apply_scaling(ctx, sc, tr, val);
}

