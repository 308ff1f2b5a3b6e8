/* aecl denoise: reconstructions of noisy inputs, noise added here (seeded,
 * clipped to [0, 1]; by default the noise the model was trained with) or read
 * from a file, with PSNR before and after when the clean data is known. */
#include "chart.h"
#include "cli.h"
#include "io/io.h"
#include "nn/app.h"
#include "nn/train.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FALLBACK_NOISE "gaussian:0.3"

static void usage(void)
{
    printf("usage: aecl denoise WEIGHTS [options]\n\n"
           "Cleans noisy inputs with a trained model (best a denoising one). By default it\n"
           "corrupts the clean --data itself with the noise the model was trained with; with\n"
           "--noisy it reads the noisy inputs from a file (IDX, CSV or .npy) and takes --data,\n"
           "when given, as their clean targets. With clean targets it reports the PSNR of the\n"
           "noisy and of the denoised inputs.\n\n"
           "  --noise SPEC        gaussian:SIGMA, mask:P (zeroed with probability P) or\n"
           "                      saltpepper:P (set to 0 or 1); default: the model's training\n"
           "                      noise (stored in its weights file), else " FALLBACK_NOISE "\n"
           "  --seed S            the noise's seed (default 1)\n"
           "  --noisy FILE        already-noisy inputs instead\n"
           "  --grid FILE.png     a picture: rows of noisy, denoised and clean samples (none unless asked)\n"
           "  --out FILE          the denoised samples: FILE.npy, FILE.csv, or - (CSV on standard output)\n"
           "%s%s",
           app_grid_help, app_common_help);
}

typedef struct denoise_args {
    const char *noise, *noisy, *grid, *out;
    unsigned long long seed;
    app_grid_opts g;
} denoise_args;

/* Where messages go: stderr when --out - owns standard output. */
static FILE *info(const denoise_args *o) { return o->out && !strcmp(o->out, "-") ? stderr : stdout; }

enum { O_NOISE = CLI_OPT_FIRST, O_NOISY, O_GRID, O_OUT, O_SEED };

static const struct option opts[] = {
    APP_COMMON_LONGOPTS, APP_GRID_LONGOPTS, CLI_HELP_LONGOPT,
    {"noise", required_argument, NULL, O_NOISE}, {"noisy", required_argument, NULL, O_NOISY},
    {"grid", required_argument, NULL, O_GRID}, {"out", required_argument, NULL, O_OUT},
    {"seed", required_argument, NULL, O_SEED}, {0}};

static int parse(int argc, char **argv, app_args *a, denoise_args *o, int *help)
{
    const char *v;
    long seed;
    for (int k; (k = app_next_opt("denoise", argc, argv, opts, a, &o->g, &v)) != CLI_OPT_END;) {
        switch (k) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP: *help = 1; return 0;
        case CLI_OPT_ARG: if (cli_positional("denoise", v, &a->weights, 1)) return 2; break;
        case O_NOISE: o->noise = v; break;
        case O_NOISY: o->noisy = v; break;
        case O_GRID: o->grid = v; break;
        case O_OUT: o->out = v; break;
        case O_SEED:
            if (!cli_parse_long(v, 0, LONG_MAX, &seed)) return cli_bad_value("denoise", v);
            o->seed = (unsigned long long)seed;
            break;
        }
    }
    aecl_app_noise nz;
    if (o->noise && o->noisy) return app_usage_error("denoise", "--noise and --noisy exclude each other");
    if (o->noise && aecl_app_noise_parse(o->noise, &nz) != AECL_OK)
        return app_usage_error("denoise", "%s", aecl_ctx_last_error(NULL));
    if (o->grid && chart_check_png_name("denoise", "--grid", o->grid)) return 2;
    return 0;
}

/* The noise to add: --noise, else the model's training noise ("aecl.noise" in
 * its weights file), else FALLBACK_NOISE; *why says which. */
static aecl_status pick_noise(aecl_ctx *ctx, const aecl_model *m, const denoise_args *o, aecl_app_noise *nz,
                              const char **text, const char **why)
{
    const char *stored = aecl_model_meta(m, "aecl.noise");
    *text = o->noise ? o->noise : stored ? stored : FALLBACK_NOISE;
    *why = o->noise ? "--noise" : stored ? "the model's training noise" : "the default: the model has no training noise";
    if (aecl_app_noise_parse(*text, nz) == AECL_OK) return AECL_OK;
    return aecl_fail(ctx, AECL_ERR_FORMAT, "the weights file's aecl.noise: %s", aecl_ctx_last_error(NULL));
}

/* Noisy inputs and (maybe) clean targets: *clean->x is NULL without targets. */
static aecl_status load_inputs(aecl_ctx *ctx, const aecl_model *m, const app_args *a, const denoise_args *o,
                               aecl_dataset *noisy, aecl_dataset *clean, const char **what)
{
    size_t f = aecl_model_input_size(m);
    memset(clean, 0, sizeof *clean);
    if (o->noisy) {
        app_args na = *a;
        na.labels = NULL;
        *what = o->noisy;
        AECL_TRY(app_load_data(ctx, &na, o->noisy, a->split, (size_t)a->limit, f, noisy));
        if (!a->data_given) return AECL_OK;
        AECL_TRY(app_load_data(ctx, a, a->data, a->split, (size_t)a->limit, f, clean));
        AECL_RETURN_IF(clean->n != noisy->n, AECL_ERR_SHAPE, ctx, "%zu noisy samples but %zu clean ones", noisy->n,
                       clean->n);
        return AECL_OK;
    }
    aecl_app_noise nz;
    const char *why;
    AECL_TRY(pick_noise(ctx, m, o, &nz, what, &why));
    fprintf(info(o), "noise %s (%s), seed %llu\n", *what, why, o->seed);
    AECL_TRY(app_load_data(ctx, a, a->data, a->split, (size_t)a->limit, f, clean));
    noisy->n = clean->n;
    noisy->features = f;
    noisy->x = malloc(clean->n * f * sizeof *noisy->x);
    AECL_RETURN_IF(!noisy->x, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    memcpy(noisy->x, clean->x, clean->n * f * sizeof *noisy->x);
    aecl_app_noise_apply(&nz, noisy->x, noisy->n, f, o->seed);
    return AECL_OK;
}

/* Bands of noisy, denoised and (when known) clean samples. */
static aecl_status write_grid(aecl_ctx *ctx, const aecl_model *m, const denoise_args *o, const char *weights,
                              const aecl_dataset *noisy, const float *den, const aecl_dataset *clean)
{
    size_t *idx, k;
    AECL_TRY(app_grid_pick(ctx, &o->g, noisy->n, &idx, &k));
    char which[128], title[512];
    app_grid_describe(&o->g, idx, k, noisy->n, which, sizeof which);
    snprintf(title, sizeof title, "%s: denoising, %s", weights, which);
    const float *groups[3] = {noisy->x, den, clean->x};
    static const char *const names[3] = {"noisy", "denoised", "clean"};
    aecl_status st = app_draw_bands(ctx, m, o->grid, &o->g, title, groups, names, clean->x ? 3 : 2, idx, k);
    if (st == AECL_OK)
        printf("picture written to %s (%s; rows: noisy, denoised%s)\n", o->grid, which, clean->x ? ", clean" : "");
    free(idx);
    return st;
}

static aecl_status outputs(aecl_ctx *ctx, const aecl_model *m, const denoise_args *o, const app_args *a,
                           const aecl_dataset *noisy, const float *den, const aecl_dataset *clean, const char *what)
{
    FILE *to = info(o);
    size_t n = noisy->n, f = noisy->features;
    fprintf(to, "denoised %zu samples %s %s\n", n, o->noisy ? "of" : "with noise", what);
    if (clean->x && app_is_image_model(m))
        fprintf(to, "PSNR noisy %.2f dB -> denoised %.2f dB\n", aecl_psnr(app_mean_mse(noisy->x, clean->x, n, f)),
                aecl_psnr(app_mean_mse(den, clean->x, n, f)));
    else if (clean->x)
        fprintf(to, "MSE to the clean data (the data's units): noisy %.6g -> denoised %.6g\n",
                app_mean_mse(noisy->x, clean->x, n, f), app_mean_mse(den, clean->x, n, f));
    aecl_status st = AECL_OK;
    if (o->out) st = app_write_rows(ctx, o->out, den, n, f, "x", NULL);
    if (st == AECL_OK && o->out) fprintf(to, "denoised samples written to %s\n", o->out);
    if (st == AECL_OK && o->grid) st = write_grid(ctx, m, o, a->weights, noisy, den, clean);
    return st;
}

int cmd_denoise(int argc, char **argv)
{
    const char *cmd = "denoise";
    app_args a;
    app_args_init(&a);
    denoise_args o = {.seed = 1};
    app_grid_init(&o.g, 8, 1);
    int help = 0, rc = parse(argc, argv, &a, &o, &help);
    if (help) { usage(); return 0; }
    if (rc) return rc;
    if (cli_check_output(cmd, o.grid) || cli_check_output(cmd, o.out)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    if ((rc = app_open_model(cmd, &a, &ctx, &m))) return rc;
    if ((rc = app_refuse_picture(cmd, m, a.weights, "--grid", o.grid))) {
        aecl_model_free(m);
        aecl_ctx_free(ctx);
        return rc;
    }
    aecl_dataset noisy = {0}, clean = {0};
    float *den = NULL;
    const char *what = "";
    aecl_status st = load_inputs(ctx, m, &a, &o, &noisy, &clean, &what);
    if (st == AECL_OK && !(den = malloc(noisy.n * noisy.features * sizeof *den)))
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_reconstruct(m, noisy.x, noisy.n, den);
    if (st == AECL_OK) st = app_check_finite(ctx, "the denoised sample", den, noisy.n, noisy.features);
    if (st == AECL_OK) st = outputs(ctx, m, &o, &a, &noisy, den, &clean, what);
    if (st == AECL_OK && !o.out && !o.grid)
        printf("nothing written: --out FILE keeps the denoised samples, --grid FILE.png draws them\n");
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "denoising failed");
    free(den);
    aecl_dataset_free(&noisy);
    aecl_dataset_free(&clean);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
