/* aecl scatter: a 2-D plot of the latent codes coloured by label (the codes
 * themselves for a latent size of 2, else their first two principal components). */
#include "cli.h"
#include "io/io.h"
#include "nn/app.h"
#include "nn/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf("usage: aecl scatter WEIGHTS [options]\n\n"
           "Encodes --data (a VAE: mean codes) and plots the codes in 2-D, one colour per label\n"
           "(labels 0-9: matplotlib's tab10; others black). A latent size of 2 is plotted as\n"
           "is; larger codes are projected on their first two principal components.\n\n"
           "  --out FILE          the PNG (default scatter.png)\n"
           "  --size WxH          pixels (default 640x480, each at least 32)\n%s",
           app_common_help);
}

int cmd_scatter(int argc, char **argv)
{
    const char *cmd = "scatter", *out = "scatter.png";
    unsigned long width = 640, height = 480;
    app_args a;
    app_args_init(&a);
    enum { OPT_OUT = CLI_OPT_FIRST, OPT_SIZE };
    static const struct option opts[] = {APP_COMMON_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"size", required_argument, NULL, OPT_SIZE},
                                         {0}};
    const char *v;
    for (int o; (o = cli_next_opt(cmd, argc, argv, opts, &v)) != CLI_OPT_END;) {
        int r = app_common_opt(cmd, &a, o, v);
        if (r < 0 || o == CLI_OPT_BAD) return 2;
        if (r > 0) continue;
        char extra;
        switch (o) {
        case CLI_OPT_HELP: usage(); return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a.weights, 1)) return 2; break;
        case OPT_OUT: out = v; break;
        case OPT_SIZE:
            if (sscanf(v, "%lux%lu%c", &width, &height, &extra) != 2 || width < 32 || height < 32 || width > 16384 ||
                height > 16384)
                return app_usage_error(cmd, "bad value for --size: '%s' (WxH, 32..16384)", v);
            break;
        }
    }
    if (cli_check_output(cmd, out)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    int rc = app_open_model(cmd, &a, &ctx, &m);
    if (rc) return rc;
    size_t L = aecl_model_latent_size(m);
    if (L < 2) {
        fprintf(stderr, "aecl scatter: the latent size is %zu: nothing to plot in 2-D\n", L);
        aecl_model_free(m);
        aecl_ctx_free(ctx);
        return 1;
    }
    aecl_dataset d;
    if (app_load_or_fail(cmd, ctx, m, &a, &d)) { aecl_model_free(m); aecl_ctx_free(ctx); return 1; }
    float *z = malloc(d.n * L * sizeof *z), *xy = malloc(d.n * 2 * sizeof *xy);
    aecl_status st = z && xy ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_encode(m, d.x, d.n, z, 0);
    if (st == AECL_OK) st = app_check_finite(ctx, "the code", z, d.n, L);
    if (st == AECL_OK) st = aecl_pca2(ctx, z, d.n, L, xy);
    if (st == AECL_OK) st = aecl_png_write_scatter(ctx, out, xy, d.n, d.labels, width, height);
    if (st == AECL_OK)
        printf("%zu codes %s written to %s (%lux%lu%s)\n", d.n, L == 2 ? "(latent 2)" : "(first two principal components)",
               out, width, height, d.labels ? ", coloured by label" : ", no labels");
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "scatter plot failed");
    free(z);
    free(xy);
    aecl_dataset_free(&d);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
