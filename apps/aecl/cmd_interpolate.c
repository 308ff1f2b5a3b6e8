/* aecl interpolate (every kind of model): decodes of a straight walk between
 * the codes of two samples (a VAE: their mean codes), as a picture with the
 * walk's weight t on an axis, and as rows (.npy/CSV). */
#include "chart.h"
#include "cli.h"
#include "io/io.h"
#include "nn/train.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf("usage: aecl interpolate WEIGHTS [options]\n\n"
           "Walks in a straight line from the code of sample I to that of sample J of --data (a\n"
           "VAE: the mean codes) and decodes each step. The picture is one row: input I, the\n"
           "decoded steps with their weight t on an axis (code = (1 - t) z_I + t z_J), input J.\n"
           "A tabular model gets no picture: give --npy.\n\n"
           "  --from I            index of the first sample (default 0)\n"
           "  --to J              index of the last sample (default 1)\n"
           "  --steps N           decoded codes, both ends included (default 10, 2..1000)\n"
           "  --out FILE.png      the picture (default interpolation.png; image models)\n"
           "  --npy FILE          the decoded steps: FILE.npy (steps x features), FILE.csv or -\n"
           "  --zoom Z            each image pixel drawn as Z x Z pixels (default 4; 1..64)\n%s",
           app_common_help);
}

typedef struct interp_opts {
    const char *out, *npy;
    int out_given;
    long from, to, steps, zoom;
} interp_opts;

static int parse(const char *cmd, int argc, char **argv, app_args *a, interp_opts *o, int *help)
{
    enum { OPT_FROM = CLI_OPT_FIRST, OPT_TO, OPT_STEPS, OPT_OUT, OPT_NPY, OPT_ZOOM };
    static const struct option opts[] = {APP_COMMON_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"from", required_argument, NULL, OPT_FROM},
                                         {"to", required_argument, NULL, OPT_TO},
                                         {"steps", required_argument, NULL, OPT_STEPS},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"npy", required_argument, NULL, OPT_NPY},
                                         {"zoom", required_argument, NULL, OPT_ZOOM},
                                         {0}};
    const char *v;
    for (int opt; (opt = app_next_opt(cmd, argc, argv, opts, a, NULL, &v)) != CLI_OPT_END;) {
        int ok = 1;
        switch (opt) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP: *help = 1; return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a->weights, 1)) return 2; break;
        case OPT_FROM: ok = cli_parse_long(v, 0, LONG_MAX - 1, &o->from); break;
        case OPT_TO: ok = cli_parse_long(v, 0, LONG_MAX - 1, &o->to); break;
        case OPT_STEPS: ok = cli_parse_long(v, 2, 1000, &o->steps); break;
        case OPT_ZOOM: ok = cli_parse_long(v, 1, 64, &o->zoom); break;
        case OPT_OUT: o->out = v; o->out_given = 1; break;
        case OPT_NPY: o->npy = v; break;
        }
        if (!ok) return cli_bad_value(cmd, v);
    }
    if (chart_check_png_name(cmd, "--out", o->out)) return 2;
    return app_check_rows_name(cmd, "--npy", o->npy);
}

/* img: input I, the decodes of (1 - t) z_I + t z_J for t = 0 .. 1 in `steps` steps, input J. */
static aecl_status walk(aecl_ctx *ctx, aecl_model *m, const aecl_dataset *d, const interp_opts *o, float *img)
{
    size_t f = d->features, L = aecl_model_latent_size(m), steps = (size_t)o->steps;
    float *zz = malloc(2 * L * sizeof *zz), *z = malloc(steps * L * sizeof *z);
    aecl_status st = zz && z ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_encode(m, d->x + (size_t)o->from * f, 1, zz, 0);
    if (st == AECL_OK) st = aecl_model_encode(m, d->x + (size_t)o->to * f, 1, zz + L, 0);
    for (size_t s = 0; st == AECL_OK && s < steps; s++) {
        float t = (float)s / (float)(steps - 1);
        for (size_t k = 0; k < L; k++) z[s * L + k] = (1 - t) * zz[k] + t * zz[L + k];
    }
    if (st == AECL_OK) st = aecl_model_decode(m, z, steps, img + f);
    if (st == AECL_OK) st = app_check_finite(ctx, "the decoded step", img + f, steps, f);
    if (st == AECL_OK) {
        memcpy(img, d->x + (size_t)o->from * f, f * sizeof *img);
        memcpy(img + (steps + 1) * f, d->x + (size_t)o->to * f, f * sizeof *img);
    }
    free(zz);
    free(z);
    return st;
}

static aecl_status draw(aecl_ctx *ctx, const aecl_model *m, const interp_opts *o, const char *weights, const float *img)
{
    size_t cols = (size_t)o->steps + 2;
    double *ticks = malloc(cols * sizeof *ticks);
    const char **labels = calloc(cols, sizeof *labels);
    AECL_RETURN_IF(!ticks || !labels, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    char first[48], last[48], title[512];
    snprintf(first, sizeof first, "sample %ld", o->from);
    snprintf(last, sizeof last, "sample %ld", o->to);
    for (size_t k = 0; k < cols; k++) ticks[k] = k == 0 || k == cols - 1 ? NAN : (double)(k - 1) / (double)(o->steps - 1);
    labels[0] = first;
    labels[cols - 1] = last;
    snprintf(title, sizeof title, "%s: from sample %ld to sample %ld in %ld decoded steps", weights, o->from, o->to,
             o->steps);
    app_picture p = {.title = title, .col_labels = labels, .xticks = ticks, .zoom = o->zoom,
                     .xlabel = aecl_model_get_kind(m) == AECL_MODEL_VARIATIONAL
                                   ? "t: the decoded code is (1 - t) z_I + t z_J, z the mean codes of the two samples"
                                   : "t: the decoded code is (1 - t) z_I + t z_J, z the codes of the two samples"};
    aecl_status st = app_draw_grid(ctx, m, o->out, img, cols, cols, &p);
    free(ticks);
    free(labels);
    return st;
}

int cmd_interpolate(int argc, char **argv)
{
    const char *cmd = "interpolate";
    interp_opts o = {.from = 0, .to = 1, .steps = 10, .zoom = 4};
    app_args a;
    app_args_init(&a);
    int help = 0, rc = parse(cmd, argc, argv, &a, &o, &help);
    if (help) { usage(); return 0; }
    if (rc) return rc;
    aecl_ctx *ctx;
    aecl_model *m;
    if ((rc = app_open_model(cmd, &a, &ctx, &m))) return rc;
    /* The picture by default for images; a tabular model writes rows only. */
    if (!o.out_given && app_is_image_model(m)) o.out = "interpolation.png";
    if (!o.out && !o.npy) rc = app_usage_error(cmd, "%s takes rows of features, not images: give --npy FILE", a.weights);
    if (!rc) rc = app_refuse_picture(cmd, m, a.weights, "--out", o.out);
    if (!rc) rc = cli_check_output(cmd, o.out) || cli_check_output(cmd, o.npy);
    aecl_dataset d;
    long need = (o.from > o.to ? o.from : o.to) + 1;
    app_args la = a;
    if (!la.limit || la.limit > need) la.limit = need;   /* read no more than needed */
    if (rc || app_load_or_fail(cmd, ctx, m, &la, &d)) { aecl_model_free(m); aecl_ctx_free(ctx); return rc ? rc : 1; }
    aecl_status st = AECL_OK;
    float *img = NULL;
    if ((long)d.n < need) {
        fprintf(stderr, "aecl %s: sample %ld asked for, %s has %zu\n", cmd, need - 1, a.data, d.n);
        rc = 1;
    } else {
        size_t f = d.features;
        img = malloc(((size_t)o.steps + 2) * f * sizeof *img);
        st = img ? walk(ctx, m, &d, &o, img) : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
        if (st == AECL_OK && o.out) st = draw(ctx, m, &o, a.weights, img);
        FILE *to = o.npy && !strcmp(o.npy, "-") ? stderr : stdout;   /* --npy - owns standard output */
        if (st == AECL_OK && o.out) fprintf(to, "walk from sample %ld to %ld in %ld steps drawn in %s\n", o.from, o.to, o.steps, o.out);
        if (st == AECL_OK && o.npy) st = app_write_rows(ctx, o.npy, img + f, (size_t)o.steps, f, "x", NULL);
        if (st == AECL_OK && o.npy) fprintf(to, "%ld decoded steps written to %s\n", o.steps, o.npy);
        rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "interpolation failed");
    }
    free(img);
    aecl_dataset_free(&d);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
