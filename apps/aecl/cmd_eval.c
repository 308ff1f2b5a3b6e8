/* aecl eval / aecl reconstruct: per-sample and mean loss, MSE and PSNR of a
 * trained model (for a tabular model: the scaled-space MSE and R^2 instead of
 * PSNR), the reconstructions as .npy/CSV (--out), and a picture of inputs above
 * their reconstructions (--grid) when asked. */
#include "chart.h"
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
    printf("usage: aecl %s WEIGHTS [options]\n\n"
           "Evaluates a trained model (a weights file from aecl train) on data: mean loss (the\n"
           "training objective; a VAE decodes one draw of z per sample, as in training), MSE per\n"
           "value and PSNR: of the mean MSE, and per image (mean and median). A tabular model\n"
           "(rows of features) gets no PSNR and no picture: its MSE is in the model's scaled space,\n"
           "with R^2 (the share of the data's variance the reconstructions explain).\n"
           "%s\n"
           "  --mean              VAE: decode the mean code instead (deterministic)\n"
           "  --out FILE          the reconstructions: FILE.npy (n x features, float32), FILE.csv,\n"
           "                      or - (CSV on standard output), in the data's units\n"
           "  --grid FILE.png     a picture: rows of inputs above rows of their reconstructions,\n"
           "                      8 samples per row, 2 rows of samples unless --cols/--rows\n"
           "  --per-sample FILE   CSV of index,loss,mse,psnr(,label) per sample (no psnr: tabular)\n%s%s",
           cmd,
           strcmp(cmd, "reconstruct") ? "" : "\naecl reconstruct is aecl eval; it writes only what --out and --grid ask for.\n",
           app_grid_help, app_common_help);
}

static aecl_status write_per_sample(aecl_ctx *ctx, const char *path, const aecl_dataset *d, const float *loss,
                                    const float *mse, int image)
{
    size_t cols = image ? 4 : 3;
    float *rows = malloc(d->n * cols * sizeof *rows);
    AECL_RETURN_IF(!rows, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    for (size_t i = 0; i < d->n; i++) {
        rows[cols * i] = (float)i;
        rows[cols * i + 1] = loss[i];
        rows[cols * i + 2] = mse[i];
        if (image) rows[cols * i + 3] = (float)aecl_psnr(mse[i]);
    }
    static const char *const names[] = {"index", "loss", "mse", "psnr"};
    aecl_status st = aecl_csv_write(ctx, path, rows, d->n, cols, names, d->labels, "label");
    free(rows);
    return st;
}

typedef struct eval_opts {
    const char *grid, *per_sample, *out;
    int mean;
    app_grid_opts g;
} eval_opts;

/* Returns 0, or the exit code of a usage error (printed). */
static int parse(const char *cmd, int argc, char **argv, app_args *a, eval_opts *o, int *help)
{
    enum { OPT_MEAN = CLI_OPT_FIRST, OPT_GRID, OPT_PER_SAMPLE, OPT_OUT };
    static const struct option opts[] = {APP_COMMON_LONGOPTS, APP_GRID_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"mean", no_argument, NULL, OPT_MEAN},
                                         {"grid", required_argument, NULL, OPT_GRID},
                                         {"per-sample", required_argument, NULL, OPT_PER_SAMPLE},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {0}};
    const char *v;
    for (int opt; (opt = app_next_opt(cmd, argc, argv, opts, a, &o->g, &v)) != CLI_OPT_END;) {
        switch (opt) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP: *help = 1; return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a->weights, 1)) return 2; break;
        case OPT_MEAN: o->mean = 1; break;
        case OPT_GRID: o->grid = v; break;
        case OPT_PER_SAMPLE: o->per_sample = v; break;
        case OPT_OUT: o->out = v; break;
        }
    }
    if (chart_check_png_name(cmd, "--grid", o->grid)) return 2;
    return app_check_rows_name(cmd, "--out", o->out);
}

/* The summary line(s): PSNR for images, scaled-space MSE and R^2 for tabular rows. */
static void report(const app_args *a, const aecl_dataset *d, const aecl_model *m, const float *recon, const float *loss,
                   const float *mse, int vae_note, FILE *to)
{
    double ml = 0, mm = 0;
    for (size_t i = 0; i < d->n; i++) { ml += loss[i]; mm += mse[i]; }
    ml /= (double)d->n;
    mm /= (double)d->n;
    if (app_is_image_model(m)) {
        double pm, pmed;
        app_psnr_per_image(mse, d->n, &pm, &pmed);
        fprintf(to, "%s on %zu samples: loss %.5f  MSE %.5f  PSNR %.2f dB (of the mean MSE); per image %.2f dB mean, "
                "%.2f dB median%s\n", a->weights, d->n, ml, mm, aecl_psnr(mm), pm, pmed,
                vae_note == 1 ? " (at the mean code)" : vae_note == 2 ? " (one draw of z per sample)" : "");
        return;
    }
    fprintf(to, "%s on %zu rows of %zu features: loss %.5f  MSE %.5f  RMSE %.5f (in the model's scaled space); "
            "R^2 %.4f%s\n", a->weights, d->n, d->features, ml, mm, sqrt(mm),
            app_r_squared(d->x, recon, d->n, d->features),
            vae_note == 1 ? " (at the mean code)" : vae_note == 2 ? " (one draw of z per sample)" : "");
    fprintf(to, "no PSNR: a tabular model's values are not intensities in [0, 1]\n");
}

static aecl_status write_grid(aecl_ctx *ctx, const aecl_model *m, const eval_opts *o, const aecl_dataset *d,
                              const float *recon, const char *weights)
{
    size_t *idx, k;
    AECL_TRY(app_grid_pick(ctx, &o->g, d->n, &idx, &k));
    char which[128], title[512];
    app_grid_describe(&o->g, idx, k, d->n, which, sizeof which);
    snprintf(title, sizeof title, "%s: inputs and reconstructions, %s", weights, which);
    const float *groups[2] = {d->x, recon};
    static const char *const names[2] = {"input", "reconstruction"};
    aecl_status st = app_draw_bands(ctx, m, o->grid, &o->g, title, groups, names, 2, idx, k);
    if (st == AECL_OK) printf("picture written to %s (%s; rows: inputs above their reconstructions)\n", o->grid, which);
    free(idx);
    return st;
}

static aecl_status outputs(aecl_ctx *ctx, const aecl_model *m, const eval_opts *o, const app_args *a,
                           const aecl_dataset *d, const float *recon, const float *loss, const float *mse)
{
    FILE *to = o->out && !strcmp(o->out, "-") ? stderr : stdout;   /* --out - owns standard output */
    aecl_status st = AECL_OK;
    if (o->per_sample) st = write_per_sample(ctx, o->per_sample, d, loss, mse, app_is_image_model(m));
    if (st == AECL_OK && o->per_sample) fprintf(to, "per-sample values written to %s\n", o->per_sample);
    if (st == AECL_OK && o->out) st = app_write_rows(ctx, o->out, recon, d->n, d->features, "x", d->labels);
    if (st == AECL_OK && o->out) fprintf(to, "%zu reconstructions written to %s\n", d->n, o->out);
    if (st == AECL_OK && o->grid) st = write_grid(ctx, m, o, d, recon, a->weights);
    return st;
}

int cmd_eval(int argc, char **argv)
{
    const char *cmd = argv[0];
    eval_opts o = {0};
    app_grid_init(&o.g, 8, 2);
    app_args a;
    app_args_init(&a);
    int help = 0, rc = parse(cmd, argc, argv, &a, &o, &help);
    if (help) { usage(cmd); return 0; }
    if (rc) return rc;
    if (cli_check_output(cmd, o.grid) || cli_check_output(cmd, o.per_sample) || cli_check_output(cmd, o.out)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    if ((rc = app_open_model(cmd, &a, &ctx, &m))) return rc;
    aecl_dataset d;
    if ((rc = app_refuse_picture(cmd, m, a.weights, "--grid", o.grid)) || app_load_or_fail(cmd, ctx, m, &a, &d)) {
        aecl_model_free(m);
        aecl_ctx_free(ctx);
        return rc ? rc : 1;
    }
    size_t f = d.features;
    float *recon = malloc(d.n * f * sizeof *recon), *loss = malloc(d.n * sizeof *loss), *mse = malloc(d.n * sizeof *mse);
    aecl_status st = recon && loss && mse ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    int vae = aecl_model_get_kind(m) == AECL_MODEL_VARIATIONAL;
    if (st == AECL_OK) st = aecl_model_forward_ex(m, d.x, d.n, vae && !o.mean, recon, mse, loss, NULL);
    if (st == AECL_OK) st = app_check_finite(ctx, "the loss", loss, d.n, 1);
    if (st == AECL_OK) st = app_check_finite(ctx, "the reconstruction", recon, d.n, f);
    if (st == AECL_OK) {
        report(&a, &d, m, recon, loss, mse, !vae ? 0 : o.mean ? 1 : 2, o.out && !strcmp(o.out, "-") ? stderr : stdout);
        st = outputs(ctx, m, &o, &a, &d, recon, loss, mse);
        if (st == AECL_OK && !strcmp(cmd, "reconstruct") && !o.out && !o.grid)
            printf("nothing written: --out FILE keeps the reconstructions, --grid FILE.png draws them\n");
    }
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "evaluation failed");
    free(recon); free(loss); free(mse);
    aecl_dataset_free(&d);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
