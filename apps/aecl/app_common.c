/* What the application subcommands share: the common options (weights, data,
 * labels, limit, batch, device), loading data of any supported kind, opening the
 * model, and image grids in the model's input shape. */
#include "cli.h"
#include "io/io.h"
#include "nn/app.h"
#include "nn/train.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char app_common_help[] =
    "  --data PATH         a folder with [t10k|train]-images-idx3-ubyte[.gz] (+ labels), an IDX image\n"
    "                      file, a CSV file (*.csv[.gz]) or a .npy array (default " APP_DEFAULT_DATA ")\n"
    "  --split S           test (default) or train: which files of a folder\n"
    "  --labels FILE       labels (IDX, or .npy) for an IDX or .npy --data (default: beside the images)\n"
    "  --label-column C    CSV: the label column, by header name or 0-based index (-1 = last)\n"
    "  --limit N           the first N samples (default all)\n"
    "  --batch N           samples per device batch (default 128)\n"
    "  --device SEL        OpenCL device (see aecl devices)\n";

/* 1: stored, 0: not a common option, -1: a bad value. */
static int common_opt(app_args *a, int opt, const char *v)
{
    int ok = 1;
    switch (opt) {
    case APP_OPT_DATA: a->data = v; a->data_given = 1; break;
    case APP_OPT_SPLIT: a->split = v; ok = !strcmp(v, "test") || !strcmp(v, "train"); break;
    case APP_OPT_LABELS: a->labels = v; break;
    case APP_OPT_LABEL_COLUMN: a->label_col = v; break;
    case APP_OPT_LIMIT: ok = cli_parse_long(v, 0, LONG_MAX, &a->limit); break;
    case APP_OPT_BATCH: ok = cli_parse_long(v, 1, 65536, &a->batch); break;
    case APP_OPT_DEVICE: a->device = v; break;
    default: return 0;
    }
    return ok ? 1 : -1;
}

int app_common_opt(const char *cmd, app_args *a, int opt, const char *v)
{
    int r = common_opt(a, opt, v);
    if (r < 0) cli_bad_value(cmd, v);
    return r;
}

int app_next_opt(const char *cmd, int argc, char **argv, const struct option *opts, app_args *a, app_grid_opts *g,
                 const char **v)
{
    for (;;) {
        int o = cli_next_opt(cmd, argc, argv, opts, v), r = o > CLI_OPT_ARG ? app_common_opt(cmd, a, o, *v) : 0;
        if (r == 0 && g && o > CLI_OPT_ARG) r = app_grid_opt(cmd, g, o, *v);
        if (r < 0) return CLI_OPT_BAD;
        if (r == 0) return o;
    }
}

void app_args_init(app_args *a)
{
    memset(a, 0, sizeof *a);
    a->data = APP_DEFAULT_DATA;
    a->split = "test";
    a->batch = 128;
}

int app_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "aecl %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see aecl %s --help)\n", cmd);
    va_end(ap);
    return 2;
}

int app_is_csv(const char *path) { return strstr(path, ".csv") || strstr(path, ".CSV"); }

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* dir/name.gz if readable, else dir/name (a missing file is reported by its reader). */
static void pick_file(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s.gz", dir, name);
    if (access(out, R_OK)) snprintf(out, cap, "%s/%s", dir, name);
}

static void csv_opts(const app_args *a, aecl_csv_opts *c)
{
    memset(c, 0, sizeof *c);
    if (!a->label_col) return;
    char *end;
    long idx = strtol(a->label_col, &end, 10);
    c->has_label = 1;
    if (*end || !*a->label_col) c->label_name = a->label_col;
    else c->label_index = (int)idx;
}

aecl_status app_load_data(aecl_ctx *ctx, const app_args *a, const char *path, const char *split, size_t limit,
                          size_t expect, aecl_dataset *d)
{
    memset(d, 0, sizeof *d);
    char img[1200], lab[1200] = "";
    if (app_is_csv(path)) {
        aecl_csv_opts o;
        csv_opts(a, &o);
        return aecl_dataset_load_csv(ctx, path, &o, limit, expect, d);
    }
    AECL_RETURN_IF(a->label_col, AECL_ERR_INVALID_ARG, ctx, "--label-column needs CSV data, not '%s'", path);
    aecl_status st;
    if (aecl_io_is_npy(path)) st = aecl_dataset_load_npy(ctx, path, limit, expect, d);
    else {
        if (is_dir(path)) {
            char name[64];
            snprintf(name, sizeof name, "%s-images-idx3-ubyte", !strcmp(split, "train") ? "train" : "t10k");
            pick_file(img, sizeof img, path, name);
            snprintf(name, sizeof name, "%s-labels-idx1-ubyte", !strcmp(split, "train") ? "train" : "t10k");
            pick_file(lab, sizeof lab, path, name);
        } else {
            /* An IDX image file's labels beside it: ...-images-idx3-... -> ...-labels-idx1-... */
            snprintf(img, sizeof img, "%s", path);
            char *p = strstr(img, "images-idx3");
            if (p) { snprintf(lab, sizeof lab, "%.*slabels-idx1%s", (int)(p - img), img, p + 11); }
        }
        st = aecl_dataset_load_idx(ctx, img, NULL, limit, expect, d);
    }
    const char *labels = a->labels ? a->labels : lab[0] && !access(lab, R_OK) ? lab : NULL;
    if (st == AECL_OK && labels && !d->labels) st = aecl_dataset_load_labels(ctx, labels, d);
    if (st != AECL_OK) aecl_dataset_free(d);
    return st;
}

int app_open_model(const char *cmd, const app_args *a, aecl_ctx **ctx, aecl_model **m)
{
    *m = NULL;
    if (!a->weights) return app_usage_error(cmd, "no weights file given");
    int rc = cli_open_ctx(cmd, a->device, ctx);
    if (rc) return rc;
    aecl_status st = aecl_model_load(*ctx, a->weights, m);
    if (st == AECL_OK) st = aecl_model_set_batch(*m, (int)a->batch);
    if (st == AECL_OK) return 0;
    cli_error(cmd, st, *ctx, "cannot load the model");
    aecl_model_free(*m);
    *m = NULL;
    aecl_ctx_free(*ctx);
    *ctx = NULL;
    return 1;
}

int app_load_or_fail(const char *cmd, aecl_ctx *ctx, const aecl_model *m, const app_args *a, aecl_dataset *d)
{
    aecl_status st = app_load_data(ctx, a, a->data, a->split, (size_t)a->limit, aecl_model_input_size(m), d);
    if (st != AECL_OK) return cli_error(cmd, st, ctx, "cannot read the data");
    if (d->n) return 0;
    fprintf(stderr, "aecl %s: %s holds no samples\n", cmd, a->data);
    aecl_dataset_free(d);
    return 1;
}

aecl_status app_check_finite(aecl_ctx *ctx, const char *what, const float *v, size_t n, size_t per)
{
    size_t bad = aecl_first_nonfinite(v, n * per), count = 0;
    if (bad == n * per) return AECL_OK;
    for (size_t i = bad; i < n * per; i++) count += !isfinite(v[i]);
    return aecl_fail(ctx, AECL_ERR_NUMERIC, "%s of sample %zu is %s (%zu non-finite values in %zu samples): the "
                     "model's weights or the data hold values it cannot compute with", what, bad / per,
                     aecl_nonfinite_name(v[bad]), count, n);
}

double app_mean_mse(const float *a, const float *b, size_t n, size_t f)
{
    double s = 0;
    for (size_t i = 0; i < n * f; i++) s += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return s / ((double)n * (double)f);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void app_psnr_per_image(const float *mse, size_t n, double *mean, double *median)
{
    double *p = malloc((n ? n : 1) * sizeof *p), s = 0;
    if (!p || n == 0) { free(p); *mean = *median = NAN; return; }
    for (size_t i = 0; i < n; i++) {
        p[i] = aecl_psnr(mse[i] > 1e-10f ? mse[i] : 1e-10);
        s += p[i];
    }
    qsort(p, n, sizeof *p, cmp_double);
    *mean = s / (double)n;
    *median = n % 2 ? p[n / 2] : 0.5 * (p[n / 2 - 1] + p[n / 2]);
    free(p);
}

double app_r_squared(const float *x, const float *y, size_t n, size_t f)
{
    double sse = 0, sst = 0;
    for (size_t k = 0; k < f; k++) {
        double mean = 0;
        for (size_t i = 0; i < n; i++) mean += x[i * f + k];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) {
            double d = x[i * f + k] - mean, e = x[i * f + k] - y[i * f + k];
            sst += d * d;
            sse += e * e;
        }
    }
    return sst > 0 ? 1 - sse / sst : NAN;
}

int app_check_rows_name(const char *cmd, const char *option, const char *path)
{
    if (!path || aecl_io_is_stream(path) || aecl_io_is_npy(path) || app_is_csv(path)) return 0;
    return app_usage_error(cmd, "%s '%s': name a .npy or .csv file (or - for CSV on standard output)", option, path);
}

aecl_status app_write_rows(aecl_ctx *ctx, const char *path, const float *v, size_t n, size_t f, const char *prefix,
                           const int32_t *labels)
{
    if (aecl_io_is_npy(path)) return aecl_npy_write_2d(ctx, path, v, n, f);
    AECL_RETURN_IF(!aecl_io_is_stream(path) && !app_is_csv(path), AECL_ERR_INVALID_ARG, ctx,
                   "'%s': name a .npy or .csv file", path);
    char **names = calloc(f, sizeof *names), *buf = malloc(f * 24);
    aecl_status st = names && buf ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    for (size_t k = 0; st == AECL_OK && k < f; k++) {
        names[k] = buf + 24 * k;
        snprintf(names[k], 24, "%s%zu", prefix, k);
    }
    if (st == AECL_OK) st = aecl_csv_write(ctx, path, v, n, f, (const char *const *)names, labels, "label");
    free(names);
    free(buf);
    return st;
}
