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

/* ---- options: getopt_long ------------------------------------------------------
 * Every command lists its options in a getopt_long table (struct option, ending
 * in {0}) and reads them with cli_next_opt, so every command takes "--opt value"
 * and "--opt=value" (and a unique prefix, as getopt_long does), positional
 * arguments anywhere, and "--" before positionals that start with '-'. An
 * unknown option, a missing value or a value given to a flag is a usage error:
 * a message naming it and exit code 2. The pattern:
 *
 *     enum { OPT_GRID = CLI_OPT_FIRST, OPT_MEAN };
 *     static const struct option opts[] = {
 *         APP_COMMON_LONGOPTS, CLI_HELP_LONGOPT,
 *         {"grid", required_argument, NULL, OPT_GRID}, {"mean", no_argument, NULL, OPT_MEAN}, {0}};
 *     const char *v;   // app_next_opt: cli_next_opt that also stores the shared options in a
 *     for (int o; (o = app_next_opt(cmd, argc, argv, opts, &a, NULL, &v)) != CLI_OPT_END;) {
 *         switch (o) {
 *         case CLI_OPT_BAD: return 2;                 // message already printed
 *         case CLI_OPT_HELP: usage(); return 0;
 *         case CLI_OPT_ARG: if (cli_positional(cmd, v, &a.weights, 1)) return 2; break;
 *         case OPT_GRID: grid = v; break;
 *         case OPT_MEAN: mean = 1; break;
 *         case OPT_N: if (!cli_parse_long(v, 1, 1000, &n)) return cli_bad_value(cmd, v); break;
 *         }
 *     }
 *
 * (A command without the shared options calls cli_next_opt the same way.)
 * Command-specific option values start at CLI_OPT_FIRST; the shared app options
 * (APP_COMMON_LONGOPTS, APP_GRID_LONGOPTS below) use values from 1000. */
#include <getopt.h>

enum {
    CLI_OPT_END = -1,   /* no more arguments */
    CLI_OPT_BAD = -2,   /* a usage error was printed: return 2 */
    CLI_OPT_ARG = 1,    /* a positional argument, in *value */
    CLI_OPT_HELP = 'h', /* -h or --help */
    CLI_OPT_FIRST = 256 /* the first value of a command's own options */
};
#define CLI_HELP_LONGOPT {"help", no_argument, NULL, CLI_OPT_HELP}

/* The next option of argv (argv[0] is the subcommand's name; the first call
 * starts over): its `val` from `opts` with its value (NULL for a flag) in
 * *value, CLI_OPT_ARG with a positional argument, CLI_OPT_END, or CLI_OPT_BAD
 * after printing "aecl CMD: unknown option '--x' (see aecl CMD --help)". */
int cli_next_opt(const char *cmd, int argc, char **argv, const struct option *opts, const char **value);
/* "--name" of the option cli_next_opt returned last (for messages). */
const char *cli_opt_name(void);
/* Prints "aecl CMD: bad value for --name: 'v' (see aecl CMD --help)"; returns 2. */
int cli_bad_value(const char *cmd, const char *v);
/* Stores positional `v` in the first NULL of slots[0..n); 2 after a message
 * when all are taken ("unexpected argument"), else 0. */
int cli_positional(const char *cmd, const char *v, const char **slots, int n);

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
int cmd_decode(int argc, char **argv);
int cmd_denoise(int argc, char **argv);
int cmd_anomaly(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_decompress(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_interpolate(int argc, char **argv);
int cmd_scatter(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* ---- shared by the application subcommands (app_common.c) ------------------- */

struct aecl_dataset;
struct app_grid_opts; /* below, with the pictures */

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

/* Their getopt_long entries (put them in a command's table) and their values. */
enum { APP_OPT_DATA = 1000, APP_OPT_SPLIT, APP_OPT_LABELS, APP_OPT_LABEL_COLUMN, APP_OPT_LIMIT, APP_OPT_BATCH,
       APP_OPT_DEVICE };
#define APP_DEVICE_LONGOPTS                                                                                          \
    {"batch", required_argument, NULL, APP_OPT_BATCH}, {"device", required_argument, NULL, APP_OPT_DEVICE}
#define APP_COMMON_LONGOPTS                                                                                          \
    {"data", required_argument, NULL, APP_OPT_DATA}, {"split", required_argument, NULL, APP_OPT_SPLIT},             \
        {"labels", required_argument, NULL, APP_OPT_LABELS},                                                         \
        {"label-column", required_argument, NULL, APP_OPT_LABEL_COLUMN},                                             \
        {"limit", required_argument, NULL, APP_OPT_LIMIT}, APP_DEVICE_LONGOPTS

/* The help lines of those options. */
extern const char app_common_help[];

void app_args_init(app_args *a);
/* Option `opt` (a cli_next_opt result) with value v: 1 when it was a common
 * option, now stored in *a; 0 when not one; -1 after printing a usage error
 * for a bad value. */
int app_common_opt(const char *cmd, app_args *a, int opt, const char *v);
/* cli_next_opt with the shared options handled: the common ones are stored in
 * *a, the grid options in *g (NULL: the command has none). Returns the next
 * option the command handles itself (CLI_OPT_HELP, CLI_OPT_ARG, its own),
 * CLI_OPT_END, or CLI_OPT_BAD after a message (return 2). The loop:
 *     for (int o; (o = app_next_opt(cmd, argc, argv, opts, &a, &g, &v)) != CLI_OPT_END;)
 *         switch (o) { case CLI_OPT_BAD: return 2; case CLI_OPT_HELP: ...; }  */
int app_next_opt(const char *cmd, int argc, char **argv, const struct option *opts, app_args *a,
                 struct app_grid_opts *g, const char **v);
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

/* ---- pictures of samples (app_grid.c) ----------------------------------------
 * Image grids are drawn by the chart module (chart.h) at an integer zoom (4 by
 * default: a 28x28 image becomes 112x112 pixels) with a title and row labels.
 * The commands that draw them take --zoom, --cols, --rows and choose which
 * samples with --start I (consecutive from I) or --random SEED (a seeded random
 * pick, shown in index order). Only image models (input C x H x W) get
 * pictures; a tabular model's --grid is a usage error. */
typedef struct app_grid_opts {
    long zoom, cols, rows; /* cols x rows samples (commands set their defaults) */
    long start;            /* first sample shown */
    long seed;             /* --random SEED; -1: consecutive from start */
} app_grid_opts;
enum { APP_OPT_ZOOM = 1100, APP_OPT_COLS, APP_OPT_ROWS, APP_OPT_START, APP_OPT_RANDOM };
#define APP_GRID_LONGOPTS                                                                                            \
    {"zoom", required_argument, NULL, APP_OPT_ZOOM}, {"cols", required_argument, NULL, APP_OPT_COLS},               \
        {"rows", required_argument, NULL, APP_OPT_ROWS}, {"start", required_argument, NULL, APP_OPT_START},         \
        {"random", required_argument, NULL, APP_OPT_RANDOM}
/* The help lines of those options. */
extern const char app_grid_help[];
void app_grid_init(app_grid_opts *g, long cols, long rows);
/* As app_common_opt, for the grid options. */
int app_grid_opt(const char *cmd, app_grid_opts *g, int opt, const char *v);
/* The indices (ascending) of the samples a grid of g shows out of n: up to
 * cols x rows of them (*k; malloc'd, freed by the caller). --start past the
 * data is AECL_ERR_INVALID_ARG. */
aecl_status app_grid_pick(aecl_ctx *ctx, const app_grid_opts *g, size_t n, size_t **idx, size_t *k);
/* "samples 0-15 of 10000" or "16 samples picked at random (seed 3) of 10000". */
void app_grid_describe(const app_grid_opts *g, const size_t *idx, size_t k, size_t n, char *out, size_t cap);

/* What a picture says besides its images (NULL: nothing). */
typedef struct app_picture {
    const char *title;
    const char *const *row_labels, *const *col_labels;
    const char *xlabel;
    const double *xticks;
    long zoom; /* 0: 4 */
} app_picture;
/* 1 when the model takes images (C x H x W), 0 for tabular rows. */
int app_is_image_model(const aecl_model *m);
/* 0, or 2 after "aecl CMD: MODEL takes N features, not images: no picture"
 * when `path` asks for a picture of a tabular model. */
int app_refuse_picture(const char *cmd, const aecl_model *m, const char *weights, const char *option, const char *path);
/* A PNG grid of n samples in the model's input shape, `cols` per row. */
aecl_status app_draw_grid(aecl_ctx *ctx, const aecl_model *m, const char *path, const float *images, size_t n,
                          size_t cols, const app_picture *p);
/* Bands of the k samples idx[0..k): for every `cols` of them one row per
 * group (e.g. "input", "reconstruction"), group j's sample i at
 * groups[j] + idx[i] * features. */
aecl_status app_draw_bands(aecl_ctx *ctx, const aecl_model *m, const char *path, const app_grid_opts *g,
                           const char *title, const float *const *groups, const char *const *names, int ngroups,
                           const size_t *idx, size_t k);
/* AECL_ERR_NUMERIC unless all of n samples' `per` values are finite: "WHAT of
 * sample I is NaN (...)" names the first. Results are checked with it before
 * they are printed or written: a NaN is an error, never a figure. */
aecl_status app_check_finite(aecl_ctx *ctx, const char *what, const float *v, size_t n, size_t per);
/* Mean squared difference of n rows of f values. */
double app_mean_mse(const float *a, const float *b, size_t n, size_t f);
/* PSNR per image (data in [0, 1]) from n per-sample MSEs: their mean and
 * median. An exact reconstruction (MSE 0) counts as 100 dB, so one perfect
 * image cannot make the mean infinite. */
void app_psnr_per_image(const float *mse, size_t n, double *mean, double *median);
/* The figures a tabular model's reconstructions support (no PSNR: the values
 * are not intensities in [0, 1]): R^2, the share of the data's variance per
 * feature that the reconstructions explain, in the data's units. */
double app_r_squared(const float *x, const float *y, size_t n, size_t f);
/* n rows of f values to a .npy (n x f float32) or a CSV (header PREFIX0,
 * PREFIX1, ... and a last label column when labels is not NULL), by the name's
 * ending; "-" is CSV on standard output, and so is any other path written in
 * place (/dev/null, a FIFO, /dev/stdout: aecl_io_is_stream) unless it ends in
 * .npy. Any other name is AECL_ERR_INVALID_ARG. */
aecl_status app_write_rows(aecl_ctx *ctx, const char *path, const float *v, size_t n, size_t f, const char *prefix,
                           const int32_t *labels);
/* 0 when app_write_rows takes `path` (NULL: none); else 2 after a usage error. */
int app_check_rows_name(const char *cmd, const char *option, const char *path);
int cmd_bench(int argc, char **argv);

#endif
