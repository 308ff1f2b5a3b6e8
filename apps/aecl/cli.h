/* The aecl program: one file per subcommand, each a `int cmd_x(int argc, char **argv)`. */
#ifndef AECL_CLI_H
#define AECL_CLI_H

#include "aecl.h"

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} cli_command;

/* Prints "aecl NAME: message" (+ the context's last error) to stderr; returns 1. */
int cli_error(const char *cmd, aecl_status st, const aecl_ctx *ctx, const char *what);

/* Creates the context for --device (NULL: $AECL_DEVICE / default); prints on failure. */
int cli_open_ctx(const char *cmd, const char *device, aecl_ctx **ctx);

/* 1 when argv[i] is --help or -h. */
int cli_wants_help(int argc, char **argv);

/* Option values, parsed whole: 1 when s is a number in [lo, hi], else 0 (*out
 * untouched). A double must be finite and within float's range (the device
 * computes in float32, where 1e39 is infinite); an integer must not overflow.
 * Every command parses its numeric options through these. */
int cli_parse_double(const char *s, double lo, double hi, double *out);
int cli_parse_long(const char *s, long lo, long hi, long *out);

/* 0 when `path` (NULL: none) can be written; else prints why ("the folder 'x'
 * does not exist", "it is a folder") and returns 1. Every command checks its
 * outputs with it before it loads a model or data, so no work is lost to a bad
 * output path. */
int cli_check_output(const char *cmd, const char *path);

/* Seconds on a monotonic clock. */
double cli_now(void);

int cmd_devices(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);          /* eval and reconstruct */
int cmd_encode(int argc, char **argv);
int cmd_denoise(int argc, char **argv);
int cmd_anomaly(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_decompress(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_interpolate(int argc, char **argv);
int cmd_scatter(int argc, char **argv);

/* ---- shared by the application subcommands (app_common.c) ------------------- */

struct aecl_dataset;

#define APP_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

/* The options every application subcommand takes. */
typedef struct app_args {
    const char *weights;          /* the positional weights file */
    const char *data;             /* folder, IDX, CSV or .npy */
    int data_given;               /* --data was on the command line */
    const char *split;            /* "test" or "train" (folders) */
    const char *labels, *label_col;
    long limit, batch;
    const char *device;
} app_args;

/* The help lines of those options. */
extern const char app_common_help[];

void app_args_init(app_args *a);
/* Option k with value v: 1 when it was a common option (the caller skips v),
 * 0 when not, -1 after printing a usage error for a bad value. */
int app_common_option(const char *cmd, app_args *a, const char *k, const char *v);
/* Prints "aecl CMD: message (see aecl CMD --help)"; returns 2 (the usage exit code). */
int app_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int app_is_csv(const char *path);

/* Opens the context and the model of a->weights with a->batch; prints and
 * returns 1 (2 when no weights file was given) on failure, else 0. */
int app_open_model(const char *cmd, const app_args *a, aecl_ctx **ctx, aecl_model **m);
/* Loads `path` (folder: the `split` files) as samples of `expect` values (0: any),
 * with labels when there are some. */
aecl_status app_load_data(aecl_ctx *ctx, const app_args *a, const char *path, const char *split, size_t limit,
                          size_t expect, struct aecl_dataset *d);
/* app_load_data of a->data for the model; prints and returns 1 on failure. */
int app_load_or_fail(const char *cmd, aecl_ctx *ctx, const aecl_model *m, const app_args *a, struct aecl_dataset *d);
/* A PNG grid of n samples in the model's input shape, `cols` per row. */
aecl_status app_write_grid(aecl_ctx *ctx, const aecl_model *m, const char *path, const float *images, size_t n,
                           size_t cols);
/* AECL_ERR_NUMERIC unless all of n samples' `per` values are finite: "WHAT of
 * sample I is NaN (...)" names the first. Results are checked with it before
 * they are printed or written: a NaN is an error, never a figure. */
aecl_status app_check_finite(aecl_ctx *ctx, const char *what, const float *v, size_t n, size_t per);
/* Mean squared difference of n rows of f values. */
double app_mean_mse(const float *a, const float *b, size_t n, size_t f);
int cmd_bench(int argc, char **argv);

#endif
