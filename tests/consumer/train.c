/* Training through the installed header alone (docs/api.md shows this file
 * verbatim): a model text, host rows, a progress callback, the weights file and
 * the trained model used at once. Usage: train OUT.safetensors */
#include <aecl.h>
#include <math.h>
#include <stdio.h>

static const char model_text[] = "kind = vanilla\ninput = 4\nlatent = 2\nloss = mse\n"
                                 "output_activation = none\n[encoder]\ndense 8 relu\n[decoder]\nmirror\n"
                                 "[train]\nlr = 1e-2\nbatch = 32\nepochs = 5\n";

static int on_progress(void *user, const aecl_training_progress *p)
{
    (void)user;
    if (p->epoch_done) printf("epoch %d: loss %.4f\n", p->epoch, p->train_loss);
    return 0;   /* nonzero would cancel the run (AECL_ERR_CANCELED) */
}

static int fail(aecl_ctx *ctx, aecl_status st)
{
    fprintf(stderr, "%s: %s\n", aecl_status_str(st), aecl_ctx_last_error(ctx));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: train OUT.safetensors\n"); return 2; }
    enum { N = 256, F = 4 };
    static float x[N * F];
    for (int i = 0; i < N; i++)       /* points near a plane: two numbers describe each */
        for (int j = 0; j < F; j++) x[i * F + j] = sinf(0.1f * i) * (j + 1) + cosf(0.07f * i) * (F - j);
    aecl_ctx *ctx;
    aecl_status st = aecl_ctx_create(NULL, &ctx);
    if (st) return fail(NULL, st);
    aecl_model_spec *spec = NULL;
    aecl_data *data = NULL;
    aecl_training *t = NULL;
    aecl_model *model = NULL;
    aecl_training_options opts = {.scale = "standard", .seed = 1, .use_seed = 1, .progress = on_progress};
    float z[2 * 2];
    st = aecl_model_spec_parse(ctx, model_text, "inline model", &spec);
    if (!st) st = aecl_data_from_array(ctx, x, N, F, NULL, &data);
    if (!st) st = aecl_training_create(ctx, spec, data, NULL, &opts, &t);
    if (!st) st = aecl_training_run(t);
    if (!st) st = aecl_training_save(t, argv[1]);
    if (!st) st = aecl_training_model(t, &model);
    if (!st) st = aecl_model_encode(model, x, 2, z, 0);
    if (!st) printf("trained: %s; first code %.3f %.3f\n", argv[1], z[0], z[1]);
    int rc = st ? fail(ctx, st) : 0;
    aecl_model_free(model);
    aecl_training_free(t);
    aecl_data_free(data);
    aecl_model_spec_free(spec);
    aecl_ctx_free(ctx);
    return rc;
}
