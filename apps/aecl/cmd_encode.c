/* aecl encode: the latent codes of data, to CSV or .npy. */
#include "cli.h"
#include "io/io.h"
#include "nn/train.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf("usage: aecl encode WEIGHTS [options]\n\n"
           "Writes the latent code of every sample: a VAE's mean code, or a draw with --sample.\n"
           "A CSV gets a header z0,z1,... and a last label column when the data has labels;\n"
           "a .npy gets an n x latent float32 array.\n\n"
           "  --out FILE          codes.csv (default), a .npy file, or - (CSV on standard output)\n"
           "  --sample            VAE: draw z = mu + sigma * eps instead of the mean\n"
           "  --seed S            the draws' seed (default: the model's)\n%s",
           app_common_help);
}

int cmd_encode(int argc, char **argv)
{
    const char *cmd = "encode", *out = "codes.csv";
    int sample = 0;
    long seed = -1;
    app_args a;
    app_args_init(&a);
    enum { OPT_SAMPLE = CLI_OPT_FIRST, OPT_OUT, OPT_SEED };
    static const struct option opts[] = {APP_COMMON_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"sample", no_argument, NULL, OPT_SAMPLE},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"seed", required_argument, NULL, OPT_SEED},
                                         {0}};
    const char *v;
    for (int o; (o = app_next_opt(cmd, argc, argv, opts, &a, NULL, &v)) != CLI_OPT_END;) {
        switch (o) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP: usage(); return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a.weights, 1)) return 2; break;
        case OPT_SAMPLE: sample = 1; break;
        case OPT_OUT: out = v; break;
        case OPT_SEED: if (!cli_parse_long(v, 0, LONG_MAX, &seed)) return cli_bad_value(cmd, v); break;
        }
    }
    if (app_check_rows_name(cmd, "--out", out)) return 2;
    if (cli_check_output(cmd, out)) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    int rc = app_open_model(cmd, &a, &ctx, &m);
    if (rc) return rc;
    if (sample && aecl_model_get_kind(m) != AECL_MODEL_VARIATIONAL) {
        fprintf(stderr, "aecl encode: --sample needs a variational model; %s is %s\n", a.weights, aecl_model_kind_name(m));
        aecl_model_free(m);
        aecl_ctx_free(ctx);
        return 2;
    }
    if (seed >= 0) aecl_model_set_seed(m, (uint64_t)seed);
    aecl_dataset d;
    if (app_load_or_fail(cmd, ctx, m, &a, &d)) { aecl_model_free(m); aecl_ctx_free(ctx); return 1; }
    size_t L = aecl_model_latent_size(m);
    float *z = malloc(d.n * L * sizeof *z);
    aecl_status st = z ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_encode(m, d.x, d.n, z, sample);
    if (st == AECL_OK) st = app_check_finite(ctx, "the code", z, d.n, L);
    if (st == AECL_OK) st = app_write_rows(ctx, out, z, d.n, L, "z", d.labels);
    if (st == AECL_OK)   /* with --out -, the codes own standard output */
        fprintf(strcmp(out, "-") ? stdout : stderr, "%zu codes of %zu values (%s) written to %s%s\n", d.n, L, sample ? "draws" : aecl_model_get_kind(m) == AECL_MODEL_VARIATIONAL ? "means" : "codes", out,
               d.labels && !strstr(out, ".npy") ? " with labels" : "");
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "encoding failed");
    free(z);
    aecl_dataset_free(&d);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}
