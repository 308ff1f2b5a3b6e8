/* The public data-set and model-text calls (aecl.h "data sets", "model texts"):
 * thin handles over the internal loaders of data.c and the spec parser. */
#include "io/io.h"
#include "nn/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int aecl_data_is_csv(const char *path)
{
    return strstr(path, ".csv") != NULL || strstr(path, ".CSV") != NULL;
}

/* "DIR/name.gz" when it exists, else "DIR/name" (a path too long is cut: its open fails naming it). */
static void idx_path(char *buf, size_t cap, const char *dir, const char *name)
{
    int len = snprintf(buf, cap, "%s/%s.gz", dir, name);
    if (len < 0 || (size_t)len >= cap || access(buf, R_OK) == 0) return;
    len = snprintf(buf, cap, "%s/%s", dir, name);
    (void)len;
}

/* A folder's train (or t10k) images, with the labels file when there is one. */
static aecl_status load_dir(aecl_ctx *ctx, const char *dir, const aecl_data_opts *o, aecl_dataset *d)
{
    char img[4200], lab[4200], name[64];
    const char *set = o->test_set ? "t10k" : "train";
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", set);
    idx_path(img, sizeof img, dir, name);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", set);
    idx_path(lab, sizeof lab, dir, name);
    int has_labels = access(lab, R_OK) == 0;
    return aecl_dataset_load_idx(ctx, img, has_labels ? lab : NULL, o->limit, o->features, d);
}

static aecl_status load_csv(aecl_ctx *ctx, const char *path, const aecl_data_opts *o, aecl_dataset *d)
{
    aecl_csv_opts c = {0};
    if (o->label_column) {
        char *end;
        long idx = strtol(o->label_column, &end, 10);
        c.has_label = 1;
        if (*end || end == o->label_column) c.label_name = o->label_column;
        else c.label_index = (int)idx;
    }
    return aecl_dataset_load_csv(ctx, path, &c, o->limit, o->features, d);
}

static aecl_status load_any(aecl_ctx *ctx, const char *path, const aecl_data_opts *o, aecl_dataset *d)
{
    int dir = is_dir(path), csv = !dir && aecl_data_is_csv(path);
    AECL_RETURN_IF(o->label_column && !csv, AECL_ERR_INVALID_ARG, ctx,
                   "a label column is for CSV data, not '%s'", path);
    AECL_RETURN_IF(o->labels && (dir || csv), AECL_ERR_INVALID_ARG, ctx,
                   "a labels file is for .npy or IDX file data; '%s' has its own (a folder's label files, CSV's label "
                   "column)", path);
    if (dir) return load_dir(ctx, path, o, d);
    if (csv) return load_csv(ctx, path, o, d);
    if (aecl_io_is_npy(path)) AECL_TRY(aecl_dataset_load_npy(ctx, path, o->limit, o->features, d));
    else AECL_TRY(aecl_dataset_load_idx(ctx, path, NULL, o->limit, o->features, d));
    return o->labels ? aecl_dataset_load_labels(ctx, o->labels, d) : AECL_OK;
}

static aecl_status data_new(aecl_ctx *ctx, aecl_data **out)
{
    *out = calloc(1, sizeof **out);
    AECL_RETURN_IF(!*out, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    (*out)->ctx = ctx;
    return AECL_OK;
}

aecl_status aecl_data_load(aecl_ctx *ctx, const char *path, const aecl_data_opts *opts, aecl_data **out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_data_load: out is NULL");
    *out = NULL;
    AECL_RETURN_IF(!ctx || !path, AECL_ERR_INVALID_ARG, ctx, "aecl_data_load: NULL context or path");
    const aecl_data_opts none = {0};
    aecl_data *d;
    AECL_TRY(data_new(ctx, &d));
    aecl_status st = load_any(ctx, path, opts ? opts : &none, &d->d);
    if (st == AECL_OK && !(d->name = strdup(path))) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st != AECL_OK) { aecl_data_free(d); return st; }
    *out = d;
    return AECL_OK;
}

aecl_status aecl_data_from_array(aecl_ctx *ctx, const float *x, size_t n, size_t features, const int32_t *labels,
                                 aecl_data **out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_data_from_array: out is NULL");
    *out = NULL;
    AECL_RETURN_IF(!ctx || !x || !n || !features, AECL_ERR_INVALID_ARG, ctx,
                   "aecl_data_from_array: NULL context or rows, or no samples or features");
    AECL_RETURN_IF(n > SIZE_MAX / sizeof(float) / features, AECL_ERR_HOST_MEMORY, ctx, "%zu x %zu values overflow",
                   n, features);
    aecl_data *d;
    AECL_TRY(data_new(ctx, &d));
    d->d = (aecl_dataset){.x = malloc(n * features * sizeof(float)), .n = n, .features = features};
    if (labels) d->d.labels = malloc(n * sizeof *labels);
    if (!d->d.x || (labels && !d->d.labels)) {
        aecl_data_free(d);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    memcpy(d->d.x, x, n * features * sizeof(float));
    if (labels) memcpy(d->d.labels, labels, n * sizeof *labels);
    *out = d;
    return AECL_OK;
}

void aecl_data_free(aecl_data *d)
{
    if (!d) return;
    aecl_dataset_free(&d->d);
    free(d->name);
    free(d);
}

const char *aecl_data_name(const aecl_data *d) { return d->name ? d->name : "an array"; }

size_t aecl_data_count(const aecl_data *d) { return d ? d->d.n : 0; }
size_t aecl_data_features(const aecl_data *d) { return d ? d->d.features : 0; }
const float *aecl_data_rows(const aecl_data *d) { return d ? d->d.x : NULL; }
const int32_t *aecl_data_labels(const aecl_data *d) { return d ? d->d.labels : NULL; }

aecl_status aecl_data_keep_class(aecl_data *d, int32_t label)
{
    AECL_RETURN_IF(!d, AECL_ERR_INVALID_ARG, NULL, "aecl_data_keep_class: NULL data set");
    return aecl_dataset_keep_label(d->ctx, &d->d, label);
}

aecl_status aecl_data_keep_first(aecl_data *d, size_t n)
{
    AECL_RETURN_IF(!d || !n, AECL_ERR_INVALID_ARG, d ? d->ctx : NULL, "aecl_data_keep_first: NULL data set or n = 0");
    if (n < d->d.n) d->d.n = n;
    return AECL_OK;
}

aecl_status aecl_data_split(aecl_data *d, double fraction, uint64_t seed, aecl_data **val)
{
    AECL_RETURN_IF(!val, AECL_ERR_INVALID_ARG, d ? d->ctx : NULL, "aecl_data_split: val is NULL");
    *val = NULL;
    AECL_RETURN_IF(!d, AECL_ERR_INVALID_ARG, NULL, "aecl_data_split: NULL data set");
    aecl_data *v;
    AECL_TRY(data_new(d->ctx, &v));
    aecl_dataset all = d->d, tr;
    aecl_status st = aecl_dataset_split(d->ctx, &all, fraction, seed, &tr, &v->d);
    if (st != AECL_OK) { aecl_data_free(v); return st; }  /* all is untouched on failure */
    d->d = tr;
    *val = v;
    return AECL_OK;
}

/* ---- model texts ------------------------------------------------------------------ */

aecl_status aecl_model_spec_parse(aecl_ctx *ctx, const char *text, const char *name, aecl_model_spec **out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_model_spec_parse: out is NULL");
    *out = NULL;
    AECL_RETURN_IF(!text, AECL_ERR_INVALID_ARG, ctx, "aecl_model_spec_parse: text is NULL");
    return aecl_spec_parse_string(ctx, text, name ? name : "<model text>", out);
}

/* 1 when the file begins as safetensors do: an 8-byte little-endian header size, then '{'. */
static int looks_like_safetensors(const char *path)
{
    unsigned char b[9];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    return got == sizeof b && b[8] == '{' && b[6] == 0 && b[7] == 0;
}

/* The model text inside a weights file or checkpoint. */
static aecl_status spec_of_weights(aecl_ctx *ctx, const char *path, aecl_model_spec **out)
{
    aecl_safetensors st;
    AECL_TRY(aecl_safetensors_read(ctx, path, &st));
    const char *text = aecl_safetensors_meta(&st, "aecl.model");
    aecl_status r = text ? aecl_spec_parse_string(ctx, text, path, out)
                         : aecl_fail(ctx, AECL_ERR_INVALID_ARG, "%s has no model text (aecl.model): give the model file too", path);
    aecl_safetensors_free(&st);
    return r;
}

aecl_status aecl_model_spec_load(aecl_ctx *ctx, const char *path, aecl_model_spec **out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_model_spec_load: out is NULL");
    *out = NULL;
    AECL_RETURN_IF(!path, AECL_ERR_INVALID_ARG, ctx, "aecl_model_spec_load: path is NULL");
    if (looks_like_safetensors(path)) return spec_of_weights(ctx, path, out);
    return aecl_spec_parse_file(ctx, path, out);
}

void aecl_model_spec_free(aecl_model_spec *spec) { aecl_spec_free(spec); }

char *aecl_model_spec_text(const aecl_model_spec *spec)
{
    char *text = NULL;
    return spec && aecl_spec_print(spec, &text) == AECL_OK ? text : NULL;
}

size_t aecl_model_spec_input_size(const aecl_model_spec *spec)
{
    return spec ? aecl_spec_shape_numel(spec->input) : 0;
}

void aecl_model_spec_train_defaults(const aecl_model_spec *spec, int *epochs, int *batch, double *lr, uint64_t *seed)
{
    if (epochs) *epochs = spec->train.epochs;
    if (batch) *batch = spec->train.batch;
    if (lr) *lr = spec->train.lr;
    if (seed) *seed = spec->train.seed;
}
