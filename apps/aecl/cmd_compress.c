/* aecl compress / decompress: samples stored as quantized latent codes
 * (lib/nn/app_codes.c has the file format) and restored by decoding. */
#include "cli.h"
#include "io/io.h"
#include "nn/app.h"
#include "nn/train.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage_compress(void)
{
    printf("usage: aecl compress WEIGHTS --out FILE [options]\n\n"
           "Stores each sample as its latent code (a VAE: the mean), quantized to 8 or 16 bits per\n"
           "value with per-dimension ranges, in a small checked file (docs/applications.md).\n"
           "Reports bytes per sample and the PSNR of the restored samples.\n\n"
           "  --out FILE          the codes file (required)\n"
           "  --bits B            8 (default) or 16\n"
           "  --grid FILE         PNG rows: originals, restored\n%s",
           app_common_help);
}

static void usage_decompress(void)
{
    printf("usage: aecl decompress WEIGHTS CODES [options]\n\n"
           "Restores the samples of a codes file written by aecl compress with the same model.\n\n"
           "  --out FILE.npy      the restored samples (n x features, float32)\n"
           "  --grid FILE         PNG grid of the first 64 restored samples (default restored.png)\n"
           "  --cols N            samples per grid row (default 8)\n"
           "  --force             decode even if the file names another model (same latent size)\n"
           "  --batch N, --device SEL\n");
}

static aecl_status grid_pairs(aecl_ctx *ctx, const aecl_model *m, const char *path, const float *x, const float *y, size_t n)
{
    size_t f = aecl_model_input_size(m), k = n < 8 ? n : 8;
    float *img = malloc(2 * k * f * sizeof *img);
    if (!img) return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    memcpy(img, x, k * f * sizeof *img);
    memcpy(img + k * f, y, k * f * sizeof *img);
    aecl_status st = app_write_grid(ctx, m, path, img, 2 * k, k);
    free(img);
    return st;
}

int cmd_compress(int argc, char **argv)
{
    const char *cmd = "compress", *out = NULL, *grid = NULL;
    long bits = 8;
    app_args a;
    app_args_init(&a);
    enum { OPT_OUT = CLI_OPT_FIRST, OPT_GRID, OPT_BITS };
    static const struct option opts[] = {APP_COMMON_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"grid", required_argument, NULL, OPT_GRID},
                                         {"bits", required_argument, NULL, OPT_BITS},
                                         {0}};
    const char *v;
    for (int o; (o = cli_next_opt(cmd, argc, argv, opts, &v)) != CLI_OPT_END;) {
        int r = app_common_opt(cmd, &a, o, v);
        if (r < 0 || o == CLI_OPT_BAD) return 2;
        if (r > 0) continue;
        switch (o) {
        case CLI_OPT_HELP: usage_compress(); return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a.weights, 1)) return 2; break;
        case OPT_OUT: out = v; break;
        case OPT_GRID: grid = v; break;
        case OPT_BITS:
            bits = !strcmp(v, "8") ? 8 : !strcmp(v, "16") ? 16 : 0;
            if (!bits) return app_usage_error(cmd, "--bits must be 8 or 16, not '%s'", v);
            break;
        }
    }
    if (!out) return app_usage_error(cmd, "no --out FILE given");
    if (cli_check_output(cmd, out) || cli_check_output(cmd, grid)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    int rc = app_open_model(cmd, &a, &ctx, &m);
    if (rc) return rc;
    aecl_dataset d;
    if (app_load_or_fail(cmd, ctx, m, &a, &d)) { aecl_model_free(m); aecl_ctx_free(ctx); return 1; }
    size_t L = aecl_model_latent_size(m), f = d.features, bytes = 0;
    int c, h, w;
    aecl_model_input_shape(m, &c, &h, &w);
    float *z = malloc(d.n * L * sizeof *z), *zq = malloc(d.n * L * sizeof *zq), *y = malloc(d.n * f * sizeof *y);
    float *y0 = malloc(d.n * f * sizeof *y0);
    aecl_status st = z && zq && y && y0 ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_encode(m, d.x, d.n, z, 0);
    if (st == AECL_OK) st = app_check_finite(ctx, "the code", z, d.n, L);
    if (st == AECL_OK) st = aecl_codes_write(ctx, out, z, d.n, L, (unsigned)bits, aecl_model_hash(m), c, h, w, zq, &bytes);
    if (st == AECL_OK) st = aecl_model_decode(m, zq, d.n, y);
    if (st == AECL_OK) st = aecl_model_decode(m, z, d.n, y0);
    if (st == AECL_OK) {
        printf("%zu samples -> %s: %zu bytes, %.1f bytes per sample (%zu as 8-bit values: %.1fx smaller)\n", d.n, out,
               bytes, (double)bytes / d.n, f, (double)f * d.n / bytes);
        printf("restored: PSNR %.2f dB (%d-bit codes; unquantized codes: %.2f dB)\n",
               aecl_psnr(app_mean_mse(y, d.x, d.n, f)), (int)bits, aecl_psnr(app_mean_mse(y0, d.x, d.n, f)));
        if (grid) st = grid_pairs(ctx, m, grid, d.x, y, d.n);
        if (st == AECL_OK && grid) printf("grid written to %s (rows: originals, restored)\n", grid);
    }
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "compression failed");
    free(z); free(zq); free(y); free(y0);
    aecl_dataset_free(&d);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
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

int cmd_decompress(int argc, char **argv)
{
    const char *cmd = "decompress", *codes = NULL, *out = NULL, *grid = "restored.png";
    long cols = 8;
    int force = 0;
    app_args a;
    app_args_init(&a);
    enum { OPT_FORCE = CLI_OPT_FIRST, OPT_OUT, OPT_GRID, OPT_COLS };
    static const struct option opts[] = {APP_DEVICE_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"force", no_argument, NULL, OPT_FORCE},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"grid", required_argument, NULL, OPT_GRID},
                                         {"cols", required_argument, NULL, OPT_COLS},
                                         {0}};
    const char *v, *pos[2] = {NULL, NULL};
    for (int o; (o = cli_next_opt(cmd, argc, argv, opts, &v)) != CLI_OPT_END;) {
        int r = app_common_opt(cmd, &a, o, v);
        if (r < 0 || o == CLI_OPT_BAD) return 2;
        if (r > 0) continue;
        switch (o) {
        case CLI_OPT_HELP: usage_decompress(); return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, pos, 2)) return 2; break;
        case OPT_FORCE: force = 1; break;
        case OPT_OUT: out = v; break;
        case OPT_GRID: grid = v; break;
        case OPT_COLS: if (!cli_parse_long(v, 1, 16384, &cols)) return cli_bad_value(cmd, v); break;
        }
    }
    a.weights = pos[0];
    codes = pos[1];
    if (!codes) return app_usage_error(cmd, "give the weights file and the codes file");
    if (cli_check_output(cmd, out) || cli_check_output(cmd, grid)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    int rc = app_open_model(cmd, &a, &ctx, &m);
    if (rc) return rc;
    aecl_codes cf;
    float *y = NULL;
    aecl_status st = aecl_codes_read(ctx, codes, &cf);
    if (st == AECL_OK) st = check_match(ctx, m, codes, &cf, force);
    size_t f = aecl_model_input_size(m);
    if (st == AECL_OK && !(y = malloc(cf.n * f * sizeof *y))) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_decode(m, cf.z, cf.n, y);
    if (st == AECL_OK) st = app_check_finite(ctx, "the restored sample", y, cf.n, f);
    if (st == AECL_OK) {
        printf("%zu samples restored from %s (%u-bit codes of %zu values)\n", cf.n, codes, cf.bits, cf.latent);
        if (out) st = aecl_npy_write_2d(ctx, out, y, cf.n, f);
        if (st == AECL_OK && out) printf("samples written to %s\n", out);
        if (st == AECL_OK && grid) st = app_write_grid(ctx, m, grid, y, cf.n < 64 ? cf.n : 64, (size_t)cols);
        if (st == AECL_OK && grid) printf("grid written to %s\n", grid);
    }
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "decompression failed");
    free(y);
    aecl_codes_free(&cf);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
