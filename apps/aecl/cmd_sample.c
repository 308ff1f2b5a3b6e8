/* aecl sample / aecl interpolate (variational models): PNG grids of decodes of
 * codes drawn from the prior, and of walks between the codes of two inputs. */
#include "cli.h"
#include "io/io.h"
#include "nn/train.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage_sample(void)
{
    printf("usage: aecl sample WEIGHTS [options]\n\n"
           "Decodes codes drawn from N(0, I): new samples of a variational model, as a PNG grid.\n\n"
           "  --n N               how many (default 64)\n"
           "  --cols N            per grid row (default 8)\n"
           "  --seed S            (default 1)\n"
           "  --out FILE          the PNG (default samples.png)\n"
           "  --npy FILE          also the samples as an n x features .npy\n"
           "  --batch N, --device SEL\n");
}

static void usage_interpolate(void)
{
    printf("usage: aecl interpolate WEIGHTS [options]\n\n"
           "Walks in a straight line from the mean code of sample I to that of sample J of --data\n"
           "and decodes each step: one PNG row, the input I, the steps, the input J.\n"
           "Variational models only.\n\n"
           "  --from I            index of the first sample (default 0)\n"
           "  --to J              index of the last sample (default 1)\n"
           "  --steps N           decoded codes, both ends included (default 10, at least 2)\n"
           "  --out FILE          the PNG (default interpolation.png)\n%s",
           app_common_help);
}

static int need_vae(const char *cmd, aecl_ctx *ctx, aecl_model *m, const char *path)
{
    if (aecl_model_get_kind(m) == AECL_MODEL_VARIATIONAL) return 0;
    fprintf(stderr, "aecl %s: needs a variational model; %s is %s\n", cmd, path, aecl_model_kind_name(m));
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return 2;
}

int cmd_sample(int argc, char **argv)
{
    const char *cmd = "sample", *out = "samples.png", *npy = NULL;
    long n = 64, cols = 8, seed = 1;
    app_args a;
    app_args_init(&a);
    enum { OPT_N = CLI_OPT_FIRST, OPT_COLS, OPT_SEED, OPT_OUT, OPT_NPY };
    static const struct option opts[] = {APP_DEVICE_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"n", required_argument, NULL, OPT_N},
                                         {"cols", required_argument, NULL, OPT_COLS},
                                         {"seed", required_argument, NULL, OPT_SEED},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"npy", required_argument, NULL, OPT_NPY},
                                         {0}};
    const char *v;
    for (int o; (o = cli_next_opt(cmd, argc, argv, opts, &v)) != CLI_OPT_END;) {
        int r = app_common_opt(cmd, &a, o, v), ok = 1;
        if (r < 0 || o == CLI_OPT_BAD) return 2;
        if (r > 0) continue;
        switch (o) {
        case CLI_OPT_HELP: usage_sample(); return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a.weights, 1)) return 2; break;
        case OPT_N: ok = cli_parse_long(v, 1, 1000000, &n); break;
        case OPT_COLS: ok = cli_parse_long(v, 1, 16384, &cols); break;
        case OPT_SEED: ok = cli_parse_long(v, 0, LONG_MAX, &seed); break;
        case OPT_OUT: out = v; break;
        case OPT_NPY: npy = v; break;
        }
        if (!ok) return cli_bad_value(cmd, v);
    }
    if (cli_check_output(cmd, out) || cli_check_output(cmd, npy)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    int rc = app_open_model(cmd, &a, &ctx, &m);
    if (rc || (rc = need_vae(cmd, ctx, m, a.weights))) return rc;
    size_t f = aecl_model_input_size(m);
    float *x = malloc((size_t)n * f * sizeof *x);
    aecl_status st = x ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_sample(m, (size_t)n, (uint64_t)seed, x);
    if (st == AECL_OK) st = app_check_finite(ctx, "the sample", x, (size_t)n, f);
    if (st == AECL_OK) st = app_write_grid(ctx, m, out, x, (size_t)n, (size_t)cols);
    if (st == AECL_OK) printf("%ld samples (seed %ld) written to %s\n", n, seed, out);
    if (st == AECL_OK && npy) st = aecl_npy_write_2d(ctx, npy, x, (size_t)n, f);
    if (st == AECL_OK && npy) printf("samples written to %s\n", npy);
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "sampling failed");
    free(x);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}

/* Row: input I, decodes of (1 - t) z_I + t z_J for t = 0 .. 1 in `steps` steps, input J. */
static aecl_status walk(aecl_ctx *ctx, aecl_model *m, const aecl_dataset *d, long from, long to, long steps,
                        const char *out)
{
    size_t f = d->features, L = aecl_model_latent_size(m);
    float zz[2 * 4096], *z = malloc((size_t)steps * L * sizeof *z), *img = malloc((size_t)(steps + 2) * f * sizeof *img);
    aecl_status st = z && img ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK && L > 4096) st = aecl_fail(ctx, AECL_ERR_UNSUPPORTED, "latent size %zu: at most 4096", L);
    if (st == AECL_OK) st = aecl_model_encode(m, d->x + (size_t)from * f, 1, zz, 0);
    if (st == AECL_OK) st = aecl_model_encode(m, d->x + (size_t)to * f, 1, zz + L, 0);
    for (long s = 0; st == AECL_OK && s < steps; s++) {
        float t = (float)s / (float)(steps - 1);
        for (size_t k = 0; k < L; k++) z[(size_t)s * L + k] = (1 - t) * zz[k] + t * zz[L + k];
    }
    if (st == AECL_OK) st = aecl_model_decode(m, z, (size_t)steps, img + f);
    if (st == AECL_OK) st = app_check_finite(ctx, "the decoded step", img + f, (size_t)steps, f);
    if (st == AECL_OK) {
        memcpy(img, d->x + (size_t)from * f, f * sizeof *img);
        memcpy(img + (size_t)(steps + 1) * f, d->x + (size_t)to * f, f * sizeof *img);
        st = app_write_grid(ctx, m, out, img, (size_t)steps + 2, (size_t)steps + 2);
    }
    free(z);
    free(img);
    return st;
}

int cmd_interpolate(int argc, char **argv)
{
    const char *cmd = "interpolate", *out = "interpolation.png";
    long from = 0, to = 1, steps = 10;
    app_args a;
    app_args_init(&a);
    enum { OPT_FROM = CLI_OPT_FIRST, OPT_TO, OPT_STEPS, OPT_OUT };
    static const struct option opts[] = {APP_COMMON_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"from", required_argument, NULL, OPT_FROM},
                                         {"to", required_argument, NULL, OPT_TO},
                                         {"steps", required_argument, NULL, OPT_STEPS},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {0}};
    const char *v;
    for (int o; (o = cli_next_opt(cmd, argc, argv, opts, &v)) != CLI_OPT_END;) {
        int r = app_common_opt(cmd, &a, o, v), ok = 1;
        if (r < 0 || o == CLI_OPT_BAD) return 2;
        if (r > 0) continue;
        switch (o) {
        case CLI_OPT_HELP: usage_interpolate(); return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a.weights, 1)) return 2; break;
        case OPT_FROM: ok = cli_parse_long(v, 0, LONG_MAX - 1, &from); break;
        case OPT_TO: ok = cli_parse_long(v, 0, LONG_MAX - 1, &to); break;
        case OPT_STEPS: ok = cli_parse_long(v, 2, 1000, &steps); break;
        case OPT_OUT: out = v; break;
        }
        if (!ok) return cli_bad_value(cmd, v);
    }
    if (cli_check_output(cmd, out)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    int rc = app_open_model(cmd, &a, &ctx, &m);
    if (rc || (rc = need_vae(cmd, ctx, m, a.weights))) return rc;
    aecl_dataset d;
    long need = (from > to ? from : to) + 1;
    app_args la = a;
    if (!la.limit || la.limit > need) la.limit = need;   /* read no more than needed */
    if (app_load_or_fail(cmd, ctx, m, &la, &d)) { aecl_model_free(m); aecl_ctx_free(ctx); return 1; }
    aecl_status st = AECL_OK;
    if ((long)d.n < need) {
        fprintf(stderr, "aecl interpolate: sample %ld asked for, %s has %zu\n", need - 1, a.data, d.n);
        rc = 1;
    } else {
        st = walk(ctx, m, &d, from, to, steps, out);
        if (st == AECL_OK) printf("walk from sample %ld to %ld in %ld steps written to %s\n", from, to, steps, out);
        rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "interpolation failed");
    }
    aecl_dataset_free(&d);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
