/* aecl eval / aecl reconstruct: per-sample and mean loss, MSE and PSNR of a
 * trained model, and a PNG grid of inputs (top rows) above their reconstructions
 * (bottom rows). */
#include "cli.h"
#include "io/io.h"
#include "nn/app.h"
#include "nn/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(const char *cmd)
{
    int rec = !strcmp(cmd, "reconstruct");
    printf("usage: aecl %s WEIGHTS [options]\n\n"
           "Evaluates a trained model (a weights file from aecl train) on data: mean loss (the\n"
           "training objective; a VAE decodes one draw of z per sample, as in training), MSE per\n"
           "value and PSNR%s.\n\n"
           "  --mean              VAE: decode the mean code instead (deterministic)\n"
           "  --grid FILE         PNG of 16 inputs (top) and their reconstructions (bottom)%s\n"
           "  --per-sample FILE   CSV of index,loss,mse,psnr(,label) per sample\n%s",
           cmd, rec ? ", and the reconstruction grid" : "", rec ? " (default reconstruction.png)" : "",
           app_common_help);
}

/* Up to 8 inputs, then the same layout of reconstructions, twice over. */
static aecl_status write_grid(aecl_ctx *ctx, const aecl_model *m, const char *path, const aecl_dataset *d,
                              const float *recon)
{
    enum { COLS = 8, ROWS = 2 };
    size_t f = d->features, per = d->n < COLS ? d->n : COLS, rows = d->n >= 2 * COLS ? ROWS : 1, k = 0;
    float *img = malloc(2 * rows * per * f * sizeof *img);
    AECL_RETURN_IF(!img, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    for (size_t r = 0; r < rows; r++) {
        memcpy(img + k * f, d->x + r * per * f, per * f * sizeof *img);
        memcpy(img + (k + per) * f, recon + r * per * f, per * f * sizeof *img);
        k += 2 * per;
    }
    aecl_status st = app_write_grid(ctx, m, path, img, k, per);
    free(img);
    return st;
}

static aecl_status write_per_sample(aecl_ctx *ctx, const char *path, const aecl_dataset *d, const float *loss,
                                    const float *mse)
{
    float *rows = malloc(d->n * 4 * sizeof *rows);
    AECL_RETURN_IF(!rows, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    for (size_t i = 0; i < d->n; i++) {
        rows[4 * i] = (float)i;
        rows[4 * i + 1] = loss[i];
        rows[4 * i + 2] = mse[i];
        rows[4 * i + 3] = (float)aecl_psnr(mse[i]);
    }
    static const char *const names[] = {"index", "loss", "mse", "psnr"};
    aecl_status st = aecl_csv_write(ctx, path, rows, d->n, 4, names, d->labels, "label");
    free(rows);
    return st;
}

int cmd_eval(int argc, char **argv)
{
    const char *cmd = argv[0], *grid = !strcmp(cmd, "reconstruct") ? "reconstruction.png" : NULL, *per_sample = NULL;
    int mean = 0;
    app_args a;
    app_args_init(&a);
    enum { OPT_MEAN = CLI_OPT_FIRST, OPT_GRID, OPT_PER_SAMPLE };
    static const struct option opts[] = {APP_COMMON_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"mean", no_argument, NULL, OPT_MEAN},
                                         {"grid", required_argument, NULL, OPT_GRID},
                                         {"per-sample", required_argument, NULL, OPT_PER_SAMPLE},
                                         {0}};
    const char *v;
    for (int o; (o = cli_next_opt(cmd, argc, argv, opts, &v)) != CLI_OPT_END;) {
        int r = app_common_opt(cmd, &a, o, v);
        if (r < 0 || o == CLI_OPT_BAD) return 2;
        if (r > 0) continue;
        switch (o) {
        case CLI_OPT_HELP: usage(cmd); return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a.weights, 1)) return 2; break;
        case OPT_MEAN: mean = 1; break;
        case OPT_GRID: grid = v; break;
        case OPT_PER_SAMPLE: per_sample = v; break;
        }
    }
    if (cli_check_output(cmd, grid) || cli_check_output(cmd, per_sample)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    int rc = app_open_model(cmd, &a, &ctx, &m);
    if (rc) return rc;
    aecl_dataset d;
    if (app_load_or_fail(cmd, ctx, m, &a, &d)) { aecl_model_free(m); aecl_ctx_free(ctx); return 1; }
    size_t f = d.features;
    float *recon = malloc(d.n * f * sizeof *recon), *loss = malloc(d.n * sizeof *loss), *mse = malloc(d.n * sizeof *mse);
    aecl_status st = recon && loss && mse ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    int vae = aecl_model_get_kind(m) == AECL_MODEL_VARIATIONAL;
    if (st == AECL_OK) st = aecl_model_forward_ex(m, d.x, d.n, vae && !mean, recon, mse, loss, NULL);
    if (st == AECL_OK) st = app_check_finite(ctx, "the loss", loss, d.n, 1);
    if (st == AECL_OK) st = app_check_finite(ctx, "the reconstruction", recon, d.n, f);
    if (st == AECL_OK) {
        double ml = 0, mm = 0;
        for (size_t i = 0; i < d.n; i++) { ml += loss[i]; mm += mse[i]; }
        ml /= (double)d.n;
        mm /= (double)d.n;
        printf("%s on %zu samples: loss %.5f  MSE %.5f  PSNR %.2f dB%s\n", a.weights, d.n, ml, mm, aecl_psnr(mm),
               !vae ? "" : mean ? " (at the mean code)" : " (one draw of z per sample)");
        if (per_sample) st = write_per_sample(ctx, per_sample, &d, loss, mse);
        if (st == AECL_OK && per_sample) printf("per-sample values written to %s\n", per_sample);
        if (st == AECL_OK && grid) st = write_grid(ctx, m, grid, &d, recon);
        if (st == AECL_OK && grid) printf("reconstructions written to %s (inputs above their reconstructions)\n", grid);
    }
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "evaluation failed");
    free(recon); free(loss); free(mse);
    aecl_dataset_free(&d);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
