/* aecl eval / aecl reconstruct: test loss, MSE and PSNR of a trained model, and a
 * PNG grid of inputs (top rows) beside their reconstructions (bottom rows). */
#include "cli.h"
#include "io/io.h"
#include "nn/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(const char *cmd)
{
    printf("usage: aecl %s WEIGHTS [options]\n\n"
           "Evaluates a trained model (a weights file from aecl train) on the test images:\n"
           "mean loss, MSE per pixel and PSNR%s.\n\n"
           "  --data DIR     folder with t10k-images-idx3-ubyte[.gz] (default /usr/share/datasets/fashion-mnist)\n"
           "  --limit N      the first N test samples (default all)\n"
           "  --grid FILE    PNG of 16 inputs (top) and their reconstructions (bottom)%s\n"
           "  --batch N      evaluation batch (default 128)\n"
           "  --device SEL   OpenCL device\n",
           cmd, !strcmp(cmd, "reconstruct") ? ", and the reconstruction grid" : "",
           !strcmp(cmd, "reconstruct") ? " (default reconstruction.png)" : "");
}

static aecl_status write_grid(aecl_ctx *ctx, const char *path, const aecl_model_spec *spec, const aecl_dataset *d,
                              const float *recon)
{
    enum { COLS = 8, ROWS = 2 };
    size_t n = d->n < COLS * ROWS ? d->n : COLS * ROWS, f = d->features;
    float *img = malloc(2 * n * f * sizeof *img);
    AECL_RETURN_IF(!img, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    /* Rows of inputs, then the same layout of reconstructions. */
    memcpy(img, d->x, n * f * sizeof *img);
    memcpy(img + n * f, recon, n * f * sizeof *img);
    int c = spec->input.rank == 3 ? spec->input.c : 1;
    size_t h = spec->input.rank == 3 ? (size_t)spec->input.h : 1, w = spec->input.rank == 3 ? (size_t)spec->input.w : f;
    aecl_status st = aecl_png_write_grid(ctx, path, img, 2 * n, c, h, w, n < COLS ? n : COLS, 1, 1.0f);
    free(img);
    return st;
}

int cmd_eval(int argc, char **argv)
{
    const char *cmd = argv[0], *weights = NULL, *data = "/usr/share/datasets/fashion-mnist", *device = NULL;
    const char *grid = !strcmp(cmd, "reconstruct") ? "reconstruction.png" : NULL;
    long limit = 0, batch = 128;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(cmd); return 0; }
        if (a[0] != '-' && !weights) { weights = a; continue; }
        int ok = v != NULL;
        if (!ok) ;
        else if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--grid")) grid = v;
        else if (!strcmp(a, "--device")) device = v;
        else if (!strcmp(a, "--limit")) { limit = strtol(v, &end, 10); ok = !*end && limit >= 0; }
        else if (!strcmp(a, "--batch")) { batch = strtol(v, &end, 10); ok = !*end && batch > 0; }
        else ok = 0;
        if (!ok) { fprintf(stderr, "aecl %s: bad option or value: %s %s\n", cmd, a, v ? v : ""); return 2; }
        i++;
    }
    if (!weights) { fprintf(stderr, "aecl %s: no weights file given (see aecl %s --help)\n", cmd, cmd); return 2; }
    aecl_ctx *ctx;
    if (cli_open_ctx(cmd, device, &ctx)) return 1;
    aecl_model_spec *spec = NULL;
    float *w = NULL, *recon = NULL;
    aecl_dataset d = {0};
    aecl_eval_result r;
    char te[1200];
    snprintf(te, sizeof te, "%s/t10k-images-idx3-ubyte.gz", data);
    if (access(te, R_OK)) snprintf(te, sizeof te, "%s/t10k-images-idx3-ubyte", data);
    aecl_status st = aecl_weights_load(ctx, weights, &spec, &w);
    if (st == AECL_OK) st = aecl_dataset_load_idx(ctx, te, NULL, (size_t)limit, aecl_spec_shape_numel(spec->input), &d);
    if (st == AECL_OK && !(recon = malloc(d.n * d.features * sizeof *recon)))
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_evaluate(ctx, spec, w, &d, (int)batch, recon, &r);
    if (st == AECL_OK) {
        printf("%s on %zu test samples: loss %.5f  MSE per pixel %.5f  PSNR %.2f dB\n", weights, d.n, r.loss, r.mse, r.psnr);
        if (grid) st = write_grid(ctx, grid, spec, &d, recon);
        if (st == AECL_OK && grid) printf("reconstructions written to %s (inputs on top)\n", grid);
    }
    int rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "evaluation failed");
    free(recon);
    free(w);
    aecl_dataset_free(&d);
    aecl_spec_free(spec);
    aecl_ctx_free(ctx);
    return rc;
}
