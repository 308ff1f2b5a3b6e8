/* aecl decode: latent codes (a .npy or CSV, as aecl encode writes them) to
 * the model's reconstructions, as .npy/CSV rows or a picture. */
#include "chart.h"
#include "cli.h"
#include "io/io.h"
#include "nn/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void usage(void)
{
    printf("usage: aecl decode WEIGHTS CODES --out FILE [options]\n\n"
           "Decodes latent codes into samples: CODES is an n x latent .npy, or a CSV of latent\n"
           "columns (a header, and a last column named label, as aecl encode writes, are allowed).\n"
           "decode(encode(x)) is what aecl reconstruct --mean gives for x.\n\n"
           "  --out FILE          FILE.npy (n x features, float32), FILE.csv (with the codes' labels),\n"
           "                      - (CSV on standard output), or FILE.png: a picture of the samples\n"
           "                      (image models; 8 per row, 2 rows unless --cols/--rows)\n%s"
           "  --batch N, --device SEL\n",
           app_grid_help);
}

static int is_png(const char *p)
{
    size_t n = strlen(p);
    return n > 4 && !strcasecmp(p + n - 4, ".png");
}

/* The codes of `path`: n x L floats, and labels from a CSV's label column. */
static aecl_status read_codes(aecl_ctx *ctx, const char *path, size_t L, float **z, size_t *n, int32_t **labels)
{
    *z = NULL;
    *labels = NULL;
    if (!app_is_csv(path)) {
        aecl_npy a;
        AECL_TRY(aecl_npy_read(ctx, path, &a));
        size_t rows = a.ndim == 2 ? a.shape[0] : a.ndim == 1 ? 1 : 0, cols = rows ? a.count / rows : 0;
        if (rows == 0 || cols != L) {
            aecl_npy_free(&a);
            return aecl_fail(ctx, AECL_ERR_SHAPE, "%s: %s; the model's codes have %zu values (n x %zu expected)", path,
                             rows ? "rows of another length" : "no rows", L, L);
        }
        *z = a.data;
        *n = rows;
        a.data = NULL;
        aecl_npy_free(&a);
        return AECL_OK;
    }
    aecl_csv_opts o = {0};
    aecl_csv c;
    AECL_TRY(aecl_csv_read(ctx, path, &o, &c));
    int has_label = c.names && c.cols == L + 1 && !strcmp(c.names[c.cols - 1], "label");
    if (c.cols != L + (size_t)has_label) {
        aecl_csv_free(&c);
        return aecl_fail(ctx, AECL_ERR_SHAPE, "%s: %zu columns; the model's codes have %zu values", path, c.cols, L);
    }
    float *v = malloc(c.rows * L * sizeof *v);
    int32_t *lab = has_label ? malloc(c.rows * sizeof *lab) : NULL;
    aecl_status st = v && (!has_label || lab) ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; st == AECL_OK && i < c.rows; i++) {
        memcpy(v + i * L, c.data + i * c.cols, L * sizeof *v);
        if (lab) lab[i] = (int32_t)c.data[i * c.cols + L];
    }
    *n = c.rows;
    aecl_csv_free(&c);
    if (st != AECL_OK) { free(v); free(lab); return st; }
    *z = v;
    *labels = lab;
    return AECL_OK;
}

static aecl_status picture(aecl_ctx *ctx, const aecl_model *m, const char *out, const app_grid_opts *g,
                           const char *weights, const char *codes, const float *y, size_t n)
{
    size_t *idx, k;
    AECL_TRY(app_grid_pick(ctx, g, n, &idx, &k));
    char which[128], title[512];
    app_grid_describe(g, idx, k, n, which, sizeof which);
    snprintf(title, sizeof title, "%s decoded by %s, %s", codes, weights, which);
    static const char *const names[1] = {"decoded"};
    aecl_status st = app_draw_bands(ctx, m, out, g, title, &y, names, 1, idx, k);
    if (st == AECL_OK) printf("picture of %s written to %s\n", which, out);
    free(idx);
    return st;
}

int cmd_decode(int argc, char **argv)
{
    const char *cmd = "decode", *out = NULL, *pos[2] = {NULL, NULL}, *v;
    app_grid_opts g;
    app_grid_init(&g, 8, 2);
    app_args a;
    app_args_init(&a);
    enum { OPT_OUT = CLI_OPT_FIRST };
    static const struct option opts[] = {APP_DEVICE_LONGOPTS, APP_GRID_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"out", required_argument, NULL, OPT_OUT}, {0}};
    for (int opt; (opt = app_next_opt(cmd, argc, argv, opts, &a, &g, &v)) != CLI_OPT_END;) {
        if (opt == CLI_OPT_BAD) return 2;
        if (opt == CLI_OPT_HELP) { usage(); return 0; }
        if (opt == CLI_OPT_ARG && cli_positional(cmd, v, pos, 2)) return 2;
        if (opt == OPT_OUT) out = v;
    }
    a.weights = pos[0];
    if (!pos[1]) return app_usage_error(cmd, "give the weights file and the codes file");
    if (!out) return app_usage_error(cmd, "no --out FILE given (.npy, .csv, - or .png)");
    if (!is_png(out) && app_check_rows_name(cmd, "--out", out)) return 2;
    if (cli_check_output(cmd, out)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    int rc = app_open_model(cmd, &a, &ctx, &m);
    if (rc) return rc;
    if ((rc = is_png(out) ? app_refuse_picture(cmd, m, a.weights, "--out", out) : 0)) {
        aecl_model_free(m);
        aecl_ctx_free(ctx);
        return rc;
    }
    size_t n = 0, L = aecl_model_latent_size(m), f = aecl_model_input_size(m);
    float *z = NULL, *y = NULL;
    int32_t *labels = NULL;
    aecl_status st = read_codes(ctx, pos[1], L, &z, &n, &labels);
    if (st == AECL_OK) st = app_check_finite(ctx, "the code", z, n, L);
    if (st == AECL_OK && !(y = malloc(n * f * sizeof *y))) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_decode(m, z, n, y);
    if (st == AECL_OK) st = app_check_finite(ctx, "the decoded sample", y, n, f);
    if (st == AECL_OK && is_png(out)) st = picture(ctx, m, out, &g, a.weights, pos[1], y, n);
    else if (st == AECL_OK) st = app_write_rows(ctx, out, y, n, f, "x", labels);
    if (st == AECL_OK && !is_png(out))
        fprintf(strcmp(out, "-") ? stdout : stderr, "%zu codes decoded to %s\n", n, out);
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "decoding failed");
    free(z); free(y); free(labels);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
