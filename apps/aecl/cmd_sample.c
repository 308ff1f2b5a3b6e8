/* aecl sample (variational models): a picture of decodes of codes drawn from
 * the prior N(0, I), and the samples as .npy/CSV. */
#include "chart.h"
#include "cli.h"
#include "io/io.h"
#include "nn/train.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf("usage: aecl sample WEIGHTS [options]\n\n"
           "Decodes codes drawn from N(0, I): new samples of a variational model, as a picture.\n\n"
           "  --n N               how many (default 64)\n"
           "  --cols N            per picture row (default 8)\n"
           "  --zoom Z            each image pixel drawn as Z x Z pixels (default 4; 1..64)\n"
           "  --seed S            (default 1)\n"
           "  --out FILE.png      the picture (default samples.png)\n"
           "  --npy FILE          also the samples: FILE.npy (n x features), FILE.csv or -\n"
           "  --batch N, --device SEL\n");
}

typedef struct sample_opts {
    const char *out, *npy;
    long n, cols, zoom, seed;
} sample_opts;

static int parse(const char *cmd, int argc, char **argv, app_args *a, sample_opts *o, int *help)
{
    enum { OPT_N = CLI_OPT_FIRST, OPT_COLS, OPT_ZOOM, OPT_SEED, OPT_OUT, OPT_NPY };
    static const struct option opts[] = {APP_DEVICE_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"n", required_argument, NULL, OPT_N},
                                         {"cols", required_argument, NULL, OPT_COLS},
                                         {"zoom", required_argument, NULL, OPT_ZOOM},
                                         {"seed", required_argument, NULL, OPT_SEED},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"npy", required_argument, NULL, OPT_NPY},
                                         {0}};
    const char *v;
    for (int opt; (opt = app_next_opt(cmd, argc, argv, opts, a, NULL, &v)) != CLI_OPT_END;) {
        int ok = 1;
        switch (opt) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP: *help = 1; return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a->weights, 1)) return 2; break;
        case OPT_N: ok = cli_parse_long(v, 1, 1000000, &o->n); break;
        case OPT_COLS: ok = cli_parse_long(v, 1, 1024, &o->cols); break;
        case OPT_ZOOM: ok = cli_parse_long(v, 1, 64, &o->zoom); break;
        case OPT_SEED: ok = cli_parse_long(v, 0, LONG_MAX, &o->seed); break;
        case OPT_OUT: o->out = v; break;
        case OPT_NPY: o->npy = v; break;
        }
        if (!ok) return cli_bad_value(cmd, v);
    }
    if (chart_check_png_name(cmd, "--out", o->out)) return 2;
    return app_check_rows_name(cmd, "--npy", o->npy);
}

int cmd_sample(int argc, char **argv)
{
    const char *cmd = "sample";
    sample_opts o = {.out = "samples.png", .n = 64, .cols = 8, .zoom = 4, .seed = 1};
    app_args a;
    app_args_init(&a);
    int help = 0, rc = parse(cmd, argc, argv, &a, &o, &help);
    if (help) { usage(); return 0; }
    if (rc) return rc;
    if (cli_check_output(cmd, o.out) || cli_check_output(cmd, o.npy)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    if ((rc = app_open_model(cmd, &a, &ctx, &m))) return rc;
    if (aecl_model_get_kind(m) != AECL_MODEL_VARIATIONAL) {
        fprintf(stderr, "aecl %s: needs a variational model; %s is %s\n", cmd, a.weights, aecl_model_kind_name(m));
        rc = 2;
    } else rc = app_refuse_picture(cmd, m, a.weights, "--out", o.out);
    if (rc) { aecl_model_free(m); aecl_ctx_free(ctx); return rc; }
    size_t f = aecl_model_input_size(m), n = (size_t)o.n;
    float *x = malloc(n * f * sizeof *x);
    aecl_status st = x ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_sample(m, n, (uint64_t)o.seed, x);
    if (st == AECL_OK) st = app_check_finite(ctx, "the sample", x, n, f);
    char title[512];
    snprintf(title, sizeof title, "%s: %zu samples decoded from codes drawn from N(0, I), seed %ld", a.weights, n, o.seed);
    app_picture p = {.title = title, .zoom = o.zoom};
    if (st == AECL_OK) st = app_draw_grid(ctx, m, o.out, x, n, (size_t)o.cols, &p);
    FILE *to = o.npy && !strcmp(o.npy, "-") ? stderr : stdout;   /* --npy - owns standard output */
    if (st == AECL_OK) fprintf(to, "%zu samples (seed %ld) drawn in %s\n", n, o.seed, o.out);
    if (st == AECL_OK && o.npy) st = app_write_rows(ctx, o.npy, x, n, f, "x", NULL);
    if (st == AECL_OK && o.npy) fprintf(to, "samples written to %s\n", o.npy);
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "sampling failed");
    free(x);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
