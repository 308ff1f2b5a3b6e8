/* aecl train's data through the public data calls: the training samples (a
 * folder's train files, an IDX, .npy or CSV file; --limit, --class), the
 * validation samples (by default a seeded 10% held out of them, else a file or a
 * folder's test files). */
#include "train_data.h"
#include "base/error.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int train_is_csv(const char *path)
{
    return strstr(path, ".csv") != NULL || strstr(path, ".CSV") != NULL;
}

int train_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A file or folder, with --class applied where the samples have labels (a
 * folder's label files, CSV's --label-column, --labels for the training file);
 * --limit counts samples before the selection. */
static aecl_status load(aecl_ctx *ctx, const train_args *a, const char *path, int test_set, const char *labels,
                        long limit, size_t expect, aecl_data **d)
{
    int csv = train_is_csv(path), dir = train_is_dir(path);
    aecl_data_opts o = {.limit = (size_t)limit, .features = expect, .labels = labels,
                        .label_column = csv ? a->label_col : NULL, .test_set = test_set};
    AECL_TRY(aecl_data_load(ctx, path, &o, d));
    if (a->klass < 0 || !(csv || dir || labels)) return AECL_OK;
    return aecl_data_keep_class(*d, (int32_t)a->klass);
}

void train_val_decide(const train_args *a, train_val *vc)
{
    *vc = (train_val){0};
    if (a->val_limit == 0 || a->val_split == 0) return;
    if (a->val_data) vc->file = a->val_data;
    else vc->split = a->val_split > 0 ? a->val_split : TRAIN_DEFAULT_VAL_SPLIT;
}

static aecl_status load_val(aecl_ctx *ctx, const train_args *a, size_t expect, uint64_t seed, train_val *vc,
                            aecl_data *tr, aecl_data **val)
{
    size_t cap = a->val_limit > 0 ? (size_t)a->val_limit : 0;
    if (vc->split > 0) {
        AECL_TRY(aecl_data_split(tr, vc->split, seed, val));
        if (cap) AECL_TRY(aecl_data_keep_first(*val, cap));
        snprintf(vc->what, sizeof vc->what, "%zu samples held out from the training data (--val-split %g, seed %llu)",
                 aecl_data_count(*val), vc->split, (unsigned long long)seed);
        return AECL_OK;
    }
    if (!vc->file) return AECL_OK;
    int test = !strcmp(vc->file, "test");
    AECL_TRY(load(ctx, a, test ? a->data : vc->file, test, NULL, (long)cap, expect, val));
    if (test) snprintf(vc->what, sizeof vc->what, "%zu samples of %s/t10k-images-idx3-ubyte (the test set)",
                       aecl_data_count(*val), a->data);
    else snprintf(vc->what, sizeof vc->what, "%zu samples of %s", aecl_data_count(*val), vc->file);
    return AECL_OK;
}

aecl_status train_load_data(aecl_ctx *ctx, const train_args *a, size_t expect, uint64_t seed, train_val *vc,
                            aecl_data **tr, aecl_data **val)
{
    *tr = *val = NULL;
    AECL_RETURN_IF(a->klass >= 0 && !train_is_dir(a->data) && !train_is_csv(a->data) && !a->labels,
                   AECL_ERR_INVALID_ARG, ctx, "--class needs a data folder (with its label files), CSV data with "
                   "--label-column, or --labels FILE for .npy or IDX file data");
    AECL_TRY(load(ctx, a, a->data, 0, a->labels, a->limit, expect, tr));
    return load_val(ctx, a, expect, seed, vc, *tr, val);
}
