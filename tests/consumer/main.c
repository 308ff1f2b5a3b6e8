/* A complete, minimal aecl application (docs/api.md shows this file verbatim).
 *
 *   app                 checks the library, opens the default device, runs the self-test
 *   app WEIGHTS.st      also encodes a small batch with a trained model on the device
 *
 * Build: find_package(aecl) + target_link_libraries(app aecl::aecl), or
 *        cc main.c $(pkg-config --cflags --libs aecl) */
#include <aecl_cl.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { ROWS = 4 };

/* Encodes ROWS copies of a grey sample: data stays on the device from upload to codes. */
static aecl_status encode_grey(aecl_ctx *ctx, const char *weights)
{
    aecl_cl_model *m = NULL;
    aecl_buffer *x = NULL, *code = NULL;
    float *host = NULL;
    aecl_status st = aecl_cl_model_load(ctx, weights, ROWS, &m);
    size_t f = aecl_cl_model_features(m), l = aecl_cl_model_latent(m);
    if (st == AECL_OK) st = aecl_buffer_create(ctx, ROWS * f, sizeof(float), &x);
    if (st == AECL_OK) st = aecl_buffer_create(ctx, ROWS * l, sizeof(float), &code);
    if (st == AECL_OK && !(host = malloc(ROWS * f * sizeof *host))) st = AECL_ERR_HOST_MEMORY;
    if (st == AECL_OK) {
        for (size_t i = 0; i < ROWS * f; i++) host[i] = 0.5f;
        st = aecl_buffer_upload(x, 0, host, ROWS * f * sizeof *host);
    }
    if (st == AECL_OK)
        st = aecl_cl_model_encode(m, aecl_buffer_cl(x), 0, ROWS, aecl_buffer_cl(code), 0, 0, NULL, NULL);
    if (st == AECL_OK) st = aecl_buffer_download(code, 0, host, ROWS * l * sizeof *host);
    for (size_t j = 0; st == AECL_OK && j < l; j++) {
        /* The same input in every row gives the same code in every row. */
        if (!isfinite(host[j]) || fabsf(host[j] - host[(ROWS - 1) * l + j]) > 1e-5f) st = AECL_ERR_NUMERIC;
        if (j < 4) printf("code[%zu] = %.5f\n", j, host[j]);
    }
    free(host);
    aecl_buffer_free(code);
    aecl_buffer_free(x);
    aecl_cl_model_free(m);
    return st;
}

int main(int argc, char **argv)
{
    if (aecl_version_number() != AECL_VERSION_NUMBER) {
        fprintf(stderr, "aecl.h is %s but the library is %s\n", AECL_VERSION_STRING, aecl_version_string());
        return 1;
    }
    aecl_ctx *ctx = NULL;
    aecl_status st = aecl_ctx_create(NULL, &ctx); /* $AECL_DEVICE, else the first GPU, else a CPU */
    if (st != AECL_OK) {
        fprintf(stderr, "aecl: %s: %s\n", aecl_status_str(st), aecl_ctx_last_error(NULL));
        return 1;
    }
    printf("aecl %s on %s\n", aecl_version_string(), aecl_ctx_device(ctx)->name);
    st = aecl_selftest(ctx);
    if (st == AECL_OK) printf("selftest: ok\n");
    if (st == AECL_OK && argc > 1) st = encode_grey(ctx, argv[1]);
    if (st == AECL_OK && argc > 1) printf("encode: ok\n");
    if (st != AECL_OK) fprintf(stderr, "aecl: %s: %s\n", aecl_status_str(st), aecl_ctx_last_error(ctx));
    aecl_ctx_free(ctx);
    return st == AECL_OK ? 0 : 1;
}
