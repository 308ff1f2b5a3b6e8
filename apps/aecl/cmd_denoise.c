/* aecl denoise: reconstructions of noisy inputs, noise added here (seeded,
 * clipped to [0, 1]) or read from a file, with PSNR before and after when the
 * clean data is known. */
#include "cli.h"
#include "io/io.h"
#include "nn/app.h"
#include "nn/train.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf("usage: aecl denoise WEIGHTS [options]\n\n"
           "Cleans noisy inputs with a trained model (best a denoising one). By default it\n"
           "corrupts the clean --data itself; with --noisy it reads the noisy inputs from a file\n"
           "(IDX, CSV or .npy) and takes --data, when given, as their clean targets.\n"
           "With clean targets it reports the PSNR of the noisy and of the denoised inputs.\n\n"
           "  --noise SPEC        gaussian:SIGMA, mask:P (zeroed with probability P) or\n"
           "                      saltpepper:P (set to 0 or 1); default gaussian:0.3\n"
           "  --seed S            the noise's seed (default 1)\n"
           "  --noisy FILE        already-noisy inputs instead\n"
           "  --grid FILE         PNG rows: noisy, denoised, clean (default denoise.png)\n"
           "  --out FILE.npy      the denoised samples\n%s",
           app_common_help);
}

typedef struct denoise_args {
    const char *noise, *noisy, *grid, *out;
    unsigned long long seed;
} denoise_args;

static int parse(int argc, char **argv, app_args *a, denoise_args *o, int *help)
{
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) { *help = 1; return 0; }
        if (k[0] != '-' && !a->weights) { a->weights = k; continue; }
        int r = app_common_option("denoise", a, k, v);
        if (r < 0) return 2;
        long seed;
        if (r == 0 && v && !strcmp(k, "--noise")) o->noise = v;
        else if (r == 0 && v && !strcmp(k, "--noisy")) o->noisy = v;
        else if (r == 0 && v && !strcmp(k, "--grid")) o->grid = v;
        else if (r == 0 && v && !strcmp(k, "--out")) o->out = v;
        else if (r == 0 && v && !strcmp(k, "--seed")) {
            if (!cli_parse_long(v, 0, LONG_MAX, &seed)) return app_usage_error("denoise", "bad value for --seed: '%s'", v);
            o->seed = (unsigned long long)seed;
        } else if (r == 0) return app_usage_error("denoise", "unknown option or missing value: %s", k);
        i++;
    }
    aecl_app_noise nz;
    if (o->noise && o->noisy) return app_usage_error("denoise", "--noise and --noisy exclude each other");
    if (!o->noisy && aecl_app_noise_parse(o->noise ? o->noise : "gaussian:0.3", &nz) != AECL_OK)
        return app_usage_error("denoise", "%s", aecl_ctx_last_error(NULL));
    return 0;
}

/* Noisy inputs and (maybe) clean targets: *clean->x is NULL without targets. */
static aecl_status load_inputs(aecl_ctx *ctx, const aecl_model *m, const app_args *a, const denoise_args *o,
                               aecl_dataset *noisy, aecl_dataset *clean)
{
    size_t f = aecl_model_input_size(m);
    memset(clean, 0, sizeof *clean);
    if (o->noisy) {
        app_args na = *a;
        na.labels = NULL;
        AECL_TRY(app_load_data(ctx, &na, o->noisy, a->split, (size_t)a->limit, f, noisy));
        if (!a->data_given) return AECL_OK;
        AECL_TRY(app_load_data(ctx, a, a->data, a->split, (size_t)a->limit, f, clean));
        AECL_RETURN_IF(clean->n != noisy->n, AECL_ERR_SHAPE, ctx, "%zu noisy samples but %zu clean ones", noisy->n,
                       clean->n);
        return AECL_OK;
    }
    AECL_TRY(app_load_data(ctx, a, a->data, a->split, (size_t)a->limit, f, clean));
    noisy->n = clean->n;
    noisy->features = f;
    noisy->x = malloc(clean->n * f * sizeof *noisy->x);
    AECL_RETURN_IF(!noisy->x, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    memcpy(noisy->x, clean->x, clean->n * f * sizeof *noisy->x);
    aecl_app_noise nz;
    aecl_app_noise_parse(o->noise ? o->noise : "gaussian:0.3", &nz);
    aecl_app_noise_apply(&nz, noisy->x, noisy->n, f, o->seed);
    return AECL_OK;
}

/* Rows of up to 8: noisy, denoised, clean (when known). */
static aecl_status write_grid(aecl_ctx *ctx, const aecl_model *m, const char *path, const aecl_dataset *noisy,
                              const float *den, const aecl_dataset *clean)
{
    size_t f = noisy->features, k = noisy->n < 8 ? noisy->n : 8, rows = clean->x ? 3 : 2;
    float *img = malloc(rows * k * f * sizeof *img);
    AECL_RETURN_IF(!img, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    memcpy(img, noisy->x, k * f * sizeof *img);
    memcpy(img + k * f, den, k * f * sizeof *img);
    if (clean->x) memcpy(img + 2 * k * f, clean->x, k * f * sizeof *img);
    aecl_status st = app_write_grid(ctx, m, path, img, rows * k, k);
    free(img);
    return st;
}

int cmd_denoise(int argc, char **argv)
{
    const char *cmd = "denoise";
    app_args a;
    app_args_init(&a);
    denoise_args o = {.grid = "denoise.png", .seed = 1};
    int help = 0, rc = parse(argc, argv, &a, &o, &help);
    if (help) { usage(); return 0; }
    if (rc) return rc;
    if (cli_check_output(cmd, o.grid) || cli_check_output(cmd, o.out)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    if ((rc = app_open_model(cmd, &a, &ctx, &m))) return rc;
    aecl_dataset noisy = {0}, clean = {0};
    float *den = NULL;
    aecl_status st = load_inputs(ctx, m, &a, &o, &noisy, &clean);
    if (st == AECL_OK && !(den = malloc(noisy.n * noisy.features * sizeof *den)))
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_reconstruct(m, noisy.x, noisy.n, den);
    if (st == AECL_OK) st = app_check_finite(ctx, "the denoised sample", den, noisy.n, noisy.features);
    if (st == AECL_OK) {
        printf("denoised %zu samples%s%s\n", noisy.n, o.noisy ? " of " : " with noise ", o.noisy ? o.noisy : o.noise ? o.noise : "gaussian:0.3");
        if (clean.x)
            printf("PSNR noisy %.2f dB -> denoised %.2f dB\n", aecl_psnr(app_mean_mse(noisy.x, clean.x, noisy.n, noisy.features)),
                   aecl_psnr(app_mean_mse(den, clean.x, noisy.n, noisy.features)));
        if (o.grid) st = write_grid(ctx, m, o.grid, &noisy, den, &clean);
        if (st == AECL_OK && o.grid) printf("grid written to %s (rows: noisy, denoised%s)\n", o.grid, clean.x ? ", clean" : "");
        if (st == AECL_OK && o.out) st = aecl_npy_write_2d(ctx, o.out, den, noisy.n, noisy.features);
        if (st == AECL_OK && o.out) printf("denoised samples written to %s\n", o.out);
    }
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "denoising failed");
    free(den);
    aecl_dataset_free(&noisy);
    aecl_dataset_free(&clean);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
