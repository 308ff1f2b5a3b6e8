/* aecl scatter: a 2-D plot of the latent codes coloured by label (the codes
 * themselves for a latent size of 2, else their first two principal components). */
#include "chart.h"
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
           "Encodes --data (a VAE: mean codes) and plots the codes in 2-D with axes, ticks, a title\n"
           "and a legend: one colour per label (matplotlib's tab10 for the first ten labels present,\n"
           "then ten more, then grey). A latent size of 2 is plotted as is (z0, z1); larger codes\n"
           "are projected on their first two principal components (PC1, PC2). Labels are named by\n"
           "--class-names, or by Fashion-MNIST's classes when the data is its folder.\n\n"
           "  --out FILE.png      the picture (default scatter.png)\n"
           "  --size WxH          pixels (default 800x500, each 200..16384)\n"
           "  --class-names LIST  names of labels 0, 1, ... (comma-separated)\n%s",
           app_common_help);
}

static const char *const fashion_names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

/* Splits "a,b,c" in place into names[] (at most cap); returns how many. */
static size_t split_names(char *list, const char **names, size_t cap)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t && n < cap; t = strtok_r(NULL, ",", &save)) names[n++] = t;
    return n;
}

static aecl_status plot(aecl_ctx *ctx, const char *out, const app_args *a, const aecl_dataset *d, const float *xy,
                        size_t L, unsigned long width, unsigned long height, const char *class_list)
{
    const char *names[256];
    size_t nn = 0;
    char *list = class_list ? strdup(class_list) : NULL;
    AECL_RETURN_IF(class_list && !list, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    if (list) nn = split_names(list, names, 256);
    else if (strstr(a->data, "fashion") && !app_is_csv(a->data)) {
        memcpy(names, fashion_names, sizeof fashion_names);
        nn = 10;
    }
    char title[512];
    snprintf(title, sizeof title, "%s: codes of %zu samples%s", a->weights, d->n,
             L == 2 ? "" : ", first two principal components");
    chart_frame f = {.title = title, .xlabel = L == 2 ? "z0" : "PC1", .ylabel = L == 2 ? "z1" : "PC2",
                     .width = (int)width, .height = (int)height};
    aecl_status st = chart_scatter_png(ctx, out, &f, xy, d->n, d->labels, names, nn);
    free(list);
    return st;
}

int cmd_scatter(int argc, char **argv)
{
    const char *cmd = "scatter", *out = "scatter.png";
    const char *class_list = NULL;
    unsigned long width = 800, height = 500;
    app_args a;
    app_args_init(&a);
    enum { OPT_OUT = CLI_OPT_FIRST, OPT_SIZE, OPT_NAMES };
    static const struct option opts[] = {APP_COMMON_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"size", required_argument, NULL, OPT_SIZE},
                                         {"class-names", required_argument, NULL, OPT_NAMES},
                                         {0}};
    const char *v;
    for (int o; (o = app_next_opt(cmd, argc, argv, opts, &a, NULL, &v)) != CLI_OPT_END;) {
        char extra;
        switch (o) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP: usage(); return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a.weights, 1)) return 2; break;
        case OPT_OUT: out = v; break;
        case OPT_SIZE:
            if (sscanf(v, "%lux%lu%c", &width, &height, &extra) != 2 || width < 200 || height < 200 || width > 16384 ||
                height > 16384)
                return app_usage_error(cmd, "bad value for --size: '%s' (WxH, 200..16384)", v);
            break;
        case OPT_NAMES: class_list = v; break;
        }
    }
    if (chart_check_png_name(cmd, "--out", out)) return 2;
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
    if (st == AECL_OK) st = plot(ctx, out, &a, &d, xy, L, width, height, class_list);
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
