/* aecl decompress: the samples of a codes file (aecl compress) restored by
 * decoding, to .npy/CSV (--out) and, when asked, a picture (--grid). */
#include "chart.h"
#include "cli.h"
#include "io/io.h"
#include "nn/app.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf("usage: aecl decompress WEIGHTS CODES [options]\n\n"
           "Restores the samples of a codes file written by aecl compress with the same model\n"
           "(file versions 1 and 2).\n\n"
           "  --out FILE          the restored samples: FILE.npy (n x features, float32), FILE.csv,\n"
           "                      or - (CSV on standard output)\n"
           "  --grid FILE.png     a picture of restored samples (8 per row, 2 rows unless --cols/--rows)\n"
           "  --force             decode even if the file names another model (same latent size)\n%s"
           "  --batch N, --device SEL\n",
           app_grid_help);
}

/* The file must match the model: latent size always, shape and hash unless forced. */
static aecl_status check_match(aecl_ctx *ctx, const aecl_model *m, const char *path, const aecl_codes *cf, int force)
{
    int c, h, w;
    aecl_model_input_shape(m, &c, &h, &w);
    AECL_RETURN_IF(cf->latent != aecl_model_latent_size(m), AECL_ERR_INVALID_ARG, ctx,
                   "%s holds codes of %zu values, the model's latent size is %zu", path, cf->latent, aecl_model_latent_size(m));
    AECL_RETURN_IF(!force && (cf->c != c || cf->h != h || cf->w != w), AECL_ERR_INVALID_ARG, ctx,
                   "%s was written for inputs %dx%dx%d, the model takes %dx%dx%d", path, cf->c, cf->h, cf->w, c, h, w);
    AECL_RETURN_IF(!force && cf->model_hash != aecl_model_hash(m), AECL_ERR_INVALID_ARG, ctx,
                   "%s was written by another model (hash %016" PRIx64 ", this one %016" PRIx64 "); --force decodes anyway",
                   path, cf->model_hash, aecl_model_hash(m));
    return AECL_OK;
}

typedef struct decompress_opts {
    const char *codes, *out, *grid;
    int force;
    app_grid_opts g;
} decompress_opts;

static int parse(const char *cmd, int argc, char **argv, app_args *a, decompress_opts *o, int *help)
{
    enum { OPT_FORCE = CLI_OPT_FIRST, OPT_OUT, OPT_GRID };
    static const struct option opts[] = {APP_DEVICE_LONGOPTS, APP_GRID_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"force", no_argument, NULL, OPT_FORCE},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"grid", required_argument, NULL, OPT_GRID},
                                         {0}};
    const char *v, *pos[2] = {NULL, NULL};
    for (int opt; (opt = app_next_opt(cmd, argc, argv, opts, a, &o->g, &v)) != CLI_OPT_END;) {
        switch (opt) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP: *help = 1; return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, pos, 2)) return 2; break;
        case OPT_FORCE: o->force = 1; break;
        case OPT_OUT: o->out = v; break;
        case OPT_GRID: o->grid = v; break;
        }
    }
    a->weights = pos[0];
    o->codes = pos[1];
    if (!o->codes) return app_usage_error(cmd, "give the weights file and the codes file");
    if (chart_check_png_name(cmd, "--grid", o->grid)) return 2;
    return app_check_rows_name(cmd, "--out", o->out);
}

static aecl_status outputs(aecl_ctx *ctx, const aecl_model *m, const decompress_opts *o, const char *weights,
                           const aecl_codes *cf, const float *y)
{
    size_t f = aecl_model_input_size(m);
    FILE *to = o->out && !strcmp(o->out, "-") ? stderr : stdout;
    fprintf(to, "%zu samples restored from %s (version %u file, %u-bit codes of %zu values)\n", cf->n, o->codes,
            cf->version, cf->bits, cf->latent);
    if (o->out) AECL_TRY(app_write_rows(ctx, o->out, y, cf->n, f, "x", NULL));
    if (o->out) fprintf(to, "samples written to %s\n", o->out);
    if (!o->grid) return AECL_OK;
    size_t *idx, k;
    AECL_TRY(app_grid_pick(ctx, &o->g, cf->n, &idx, &k));
    char which[128], title[512];
    app_grid_describe(&o->g, idx, k, cf->n, which, sizeof which);
    snprintf(title, sizeof title, "%s restored by %s, %s", o->codes, weights, which);
    static const char *const names[1] = {"restored"};
    aecl_status st = app_draw_bands(ctx, m, o->grid, &o->g, title, &y, names, 1, idx, k);
    if (st == AECL_OK) fprintf(to, "picture written to %s (%s)\n", o->grid, which);
    free(idx);
    return st;
}

int cmd_decompress(int argc, char **argv)
{
    const char *cmd = "decompress";
    decompress_opts o = {0};
    app_grid_init(&o.g, 8, 2);
    app_args a;
    app_args_init(&a);
    int help = 0, rc = parse(cmd, argc, argv, &a, &o, &help);
    if (help) { usage(); return 0; }
    if (rc) return rc;
    if (cli_check_output(cmd, o.out) || cli_check_output(cmd, o.grid)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    if ((rc = app_open_model(cmd, &a, &ctx, &m))) return rc;
    if ((rc = app_refuse_picture(cmd, m, a.weights, "--grid", o.grid))) {
        aecl_model_free(m);
        aecl_ctx_free(ctx);
        return rc;
    }
    aecl_codes cf;
    float *y = NULL;
    aecl_status st = aecl_codes_read(ctx, o.codes, &cf);
    if (st == AECL_OK) st = check_match(ctx, m, o.codes, &cf, o.force);
    size_t f = aecl_model_input_size(m);
    if (st == AECL_OK && !(y = malloc(cf.n * f * sizeof *y))) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_decode(m, cf.z, cf.n, y);
    if (st == AECL_OK) st = app_check_finite(ctx, "the restored sample", y, cf.n, f);
    if (st == AECL_OK) st = outputs(ctx, m, &o, a.weights, &cf, y);
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "decompression failed");
    free(y);
    aecl_codes_free(&cf);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
