/* Model specs: the shipped models parse, print and parse back equal; shape
 * inference gives the known shapes and parameter counts; every class of bad file
 * fails with AECL_ERR_FORMAT, the right file:line and a phrase that says what. No
 * OpenCL device is needed: ctx is NULL and messages sit in the thread slot. */
#include "check.h"
#include "nn/spec.h"

#include <stdlib.h>
#include <string.h>

static const char *source_dir(void)
{
    const char *d = getenv("AECL_SOURCE_DIR");
    return d ? d : ".";
}

static aecl_spec_shape S1(int n) { return (aecl_spec_shape){1, n, 1, 1}; }
static aecl_spec_shape S3(int c, int h, int w) { return (aecl_spec_shape){3, c, h, w}; }

#define CHECK_SHAPE(got, want)                                                        \
    do {                                                                              \
        char g_[48], w_[48];                                                          \
        CHECK_MSG(aecl_spec_shape_equal((got), (want)), "shape %s, expected %s",      \
                  aecl_spec_shape_str((got), g_, sizeof g_),                          \
                  aecl_spec_shape_str((want), w_, sizeof w_));                        \
    } while (0)

/* parse -> print -> parse gives an equal spec, and printing is stable. */
static void check_round_trip(const aecl_model_spec *s, const char *name)
{
    char *text = NULL, *text2 = NULL;
    aecl_model_spec *back = NULL;
    CHECK_OK(NULL, aecl_spec_print(s, &text));
    if (!text) return;
    aecl_status st = aecl_spec_parse_string(NULL, text, name, &back);
    CHECK_MSG(st == AECL_OK, "%s: printed text does not parse: %s\n%s", name,
              aecl_ctx_last_error(NULL), text);
    if (back) {
        CHECK_MSG(aecl_spec_equal(s, back), "%s: round trip differs:\n%s", name, text);
        CHECK_OK(NULL, aecl_spec_print(back, &text2));
        CHECK_MSG(text2 && strcmp(text, text2) == 0, "%s: printing is not stable", name);
    }
    free(text);
    free(text2);
    aecl_spec_free(back);
}

static aecl_model_spec *load_model(const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s", source_dir(), file);
    aecl_model_spec *s = NULL;
    aecl_status st = aecl_spec_parse_file(NULL, path, &s);
    CHECK_MSG(st == AECL_OK, "%s: %s", file, aecl_ctx_last_error(NULL));
    if (s) check_round_trip(s, file);
    return s;
}

static void test_shipped_models(void)
{
    static const char *const files[] = {"mlp.model", "denoising.model", "conv.model", "vae.model",
                                        "tabular.model"};
    static const int64_t params[] = {944176, 944176, 241441, 652824, 1362};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        aecl_model_spec *s = load_model(files[i]);
        if (!s) continue;
        CHECK_MSG(s->n_params == params[i], "%s: %lld parameters, expected %lld", files[i],
                  (long long)s->n_params, (long long)params[i]);
        CHECK(s->n_decoder > 0 && s->decoder_mirror);
        CHECK_SHAPE(s->decoder[s->n_decoder - 1].out, s->input);
        aecl_spec_free(s);
    }
}

static void test_conv_shapes(void)
{
    aecl_model_spec *s = load_model("conv.model");
    if (!s) return;
    CHECK(s->kind == AECL_AE_CONVOLUTIONAL && s->n_encoder == 3 && s->n_decoder == 4);
    if (s->n_encoder != 3 || s->n_decoder != 4) goto done;
    CHECK_SHAPE(s->encoder[0].in, S3(1, 28, 28));
    CHECK_SHAPE(s->encoder[0].out, S3(32, 14, 14));
    CHECK_SHAPE(s->encoder[1].out, S3(64, 7, 7));
    CHECK_SHAPE(s->encoder[2].out, S1(3136));
    CHECK_SHAPE(s->latent_layer.in, S1(3136));
    CHECK_SHAPE(s->latent_layer.out, S1(32));
    /* mirror: dense 3136 relu, reshape 64x7x7, convT 32 ... relu, convT 1 ... sigmoid */
    const aecl_spec_layer *d = s->decoder;
    CHECK(d[0].kind == AECL_LAYER_DENSE && d[0].units == 3136 && d[0].act == AECL_ACT_RELU);
    CHECK(d[1].kind == AECL_LAYER_RESHAPE);
    CHECK(d[2].kind == AECL_LAYER_CONVT && d[2].units == 32 && d[2].act == AECL_ACT_RELU);
    CHECK(d[3].kind == AECL_LAYER_CONVT && d[3].units == 1 && d[3].act == AECL_ACT_SIGMOID);
    CHECK(d[2].stride_h == 2 && d[2].pad_h == 1 && d[2].outpad_h == 1 && d[2].outpad_w == 1);
    CHECK(d[3].kh == 3 && d[3].kw == 3 && d[3].outpad_h == 1);
    CHECK_SHAPE(d[0].out, S1(3136));
    CHECK_SHAPE(d[1].out, S3(64, 7, 7));
    CHECK_SHAPE(d[2].out, S3(32, 14, 14));
    CHECK_SHAPE(d[3].out, S3(1, 28, 28));
    aecl_spec_shape flat;
    CHECK(aecl_spec_flatten_shape(s, &flat));
    CHECK_SHAPE(flat, S3(64, 7, 7));
    CHECK(aecl_spec_layer_params(&s->encoder[0]) == 320);
    CHECK(aecl_spec_layer_params(&d[2]) == 64 * 32 * 9 + 32);
    char line[160];
    CHECK(strcmp(aecl_spec_layer_str(&d[2], line, sizeof line),
                 "convT 32 3x3 stride=2 pad=1 outpad=1 relu") == 0);
    char *table = NULL;
    CHECK_OK(NULL, aecl_spec_describe(s, &table));
    CHECK(table && strstr(table, "total parameters: 241441"));
    free(table);
done:
    aecl_spec_free(s);
}

static void test_vae_and_mlp(void)
{
    aecl_model_spec *v = load_model("vae.model");
    if (v) {
        CHECK(v->kind == AECL_AE_VARIATIONAL && v->loss == AECL_LOSS_BCE);
        CHECK(v->output_act == AECL_ACT_SIGMOID); /* the default for bce */
        CHECK(v->train.beta == 1 && v->train.beta_warmup == 0);
        CHECK_SHAPE(v->latent_layer.in, S1(400));
        CHECK_SHAPE(v->latent_layer.out, S1(20));
    }
    aecl_spec_free(v);
    aecl_model_spec *m = load_model("mlp.model");
    if (m && m->n_decoder == 4) {
        CHECK(m->decoder[2].units == 784 && m->decoder[2].act == AECL_ACT_SIGMOID);
        CHECK(m->decoder[3].kind == AECL_LAYER_RESHAPE);
        CHECK_SHAPE(m->decoder[3].out, S3(1, 28, 28));
        CHECK(m->train.lr == 1e-3 && m->train.batch == 128 && m->train.optimizer == AECL_OPT_ADAM);
    } else CHECK(m && m->n_decoder == 4);
    aecl_spec_free(m);
    aecl_model_spec *d = load_model("denoising.model");
    if (d) CHECK(d->train.noise == AECL_SPEC_NOISE_GAUSSIAN && d->train.noise_level == 0.5);
    aecl_spec_free(d);
}

/* ---- good texts that exercise the rest of the format --------------------- */

static aecl_model_spec *parse_ok(const char *text, const char *name)
{
    aecl_model_spec *s = NULL;
    aecl_status st = aecl_spec_parse_string(NULL, text, name, &s);
    CHECK_MSG(st == AECL_OK, "%s: %s", name, aecl_ctx_last_error(NULL));
    if (s) check_round_trip(s, name);
    return s;
}

static void test_good_texts(void)
{
    /* explicit decoder, pools/upsample, leaky_relu, per-layer dropout, sgd, CRLF */
    aecl_model_spec *s = parse_ok(
        "\xEF\xBB\xBFkind = denoising\r\ninput = 3x16x12\r\nlatent = 10\r\n"
        "[encoder]\n"
        "conv 8 3x3 pad=1 leaky_relu(0.2) dropout=0.1\n"
        "maxpool 2\n"
        "conv 16 3x1 stride=2x1 pad=1x0 elu\n"
        "flatten\n"
        "dense 64 tanh dropout=0\n"
        "[decoder]\n"
        "dense 384 softplus\n"
        "reshape 16x4x6\n"
        "upsample 2 bilinear\n"
        "convT 8 3x3 stride=2x1 pad=1 outpad=1x0 relu\n"
        "conv 3 3x3 pad=1 sigmoid\n"
        "[train]\n"
        "optimizer = sgd\nmomentum = 0.9\nnesterov = true\ndropout = 0.25\n"
        "noise = saltpepper 0.1\nnoise_clip = false\nseed = 18446744073709551615\n",
        "good_explicit.model");
    if (s) {
        CHECK(s->n_encoder == 5 && s->n_decoder == 5 && !s->decoder_mirror);
        CHECK(s->encoder[0].act == AECL_ACT_LEAKY_RELU && s->encoder[0].act_param == 0.2);
        CHECK(s->encoder[2].act == AECL_ACT_ELU && s->encoder[2].act_param == 1.0);
        CHECK(s->encoder[4].act == AECL_ACT_TANH && s->decoder[0].act == AECL_ACT_SOFTPLUS);
        CHECK(s->encoder[0].dropout == 0.1 && s->encoder[2].dropout == 0.25);
        CHECK(s->encoder[4].dropout == 0);
        CHECK(s->decoder[0].dropout == 0.25 && s->decoder[4].dropout == 0);
        CHECK_SHAPE(s->encoder[1].out, S3(8, 8, 6));
        CHECK_SHAPE(s->encoder[2].out, S3(16, 4, 6));
        CHECK_SHAPE(s->decoder[2].out, S3(16, 8, 12));
        CHECK_SHAPE(s->decoder[3].out, S3(8, 16, 12));
        CHECK(s->output_act == AECL_ACT_SIGMOID);
        CHECK(s->train.seed == UINT64_MAX && s->train.noise == AECL_SPEC_NOISE_SALTPEPPER);
    }
    aecl_spec_free(s);
    /* mirror through pools and an encoder-side upsample */
    s = parse_ok("kind = convolutional\ninput = 1x8x8\nlatent = 4\noutput_activation = tanh\n"
                 "[encoder]\nconv 4 3x3 pad=1 relu\navgpool 2\nupsample 2\nmaxpool 4\nflatten\n"
                 "[decoder]\nmirror\n",
                 "good_pools.model");
    if (s && s->n_decoder == 6) {
        CHECK(s->decoder[2].kind == AECL_LAYER_UPSAMPLE && s->decoder[2].factor == 4);
        CHECK(s->decoder[3].kind == AECL_LAYER_AVGPOOL);
        CHECK(s->decoder[4].kind == AECL_LAYER_UPSAMPLE);
        CHECK(s->decoder[5].kind == AECL_LAYER_CONVT && s->decoder[5].act == AECL_ACT_TANH);
        CHECK(s->decoder[5].outpad_h == 0);
    } else CHECK(s && s->n_decoder == 6);
    aecl_spec_free(s);
    /* a linear autoencoder: empty encoder, flat input */
    s = parse_ok("kind = vanilla\ninput = 5\nlatent = 2\n[encoder]\n[decoder]\nmirror\n",
                 "good_linear.model");
    if (s) CHECK(s->n_decoder == 1 && s->n_params == 5 * 2 + 2 + 2 * 5 + 5);
    aecl_spec_free(s);
}

/* The spec's activation words map to the same codes as the ops' own names. */
static void test_act_names(void)
{
    for (int a = AECL_ACT_NONE; a <= AECL_ACT_SOFTPLUS; a++)
        CHECK_MSG(strcmp(aecl_spec_act_name((aecl_act)a), aecl_act_name((aecl_act)a)) == 0,
                  "code %d: spec says %s, ops say %s", a, aecl_spec_act_name((aecl_act)a),
                  aecl_act_name((aecl_act)a));
}

/* A spec edited in code: infer_shapes re-derives the mirror and reports AECL_ERR_SHAPE. */
static void test_infer_in_code(void)
{
    aecl_model_spec *s = load_model("conv.model");
    if (!s) return;
    s->input = S3(1, 32, 32);
    CHECK_OK(NULL, aecl_spec_infer_shapes(NULL, s));
    CHECK_SHAPE(s->decoder[s->n_decoder - 1].out, S3(1, 32, 32));
    CHECK(s->decoder[3].outpad_h == 1);
    s->decoder_mirror = 0;
    s->decoder[3].outpad_h = 0;
    aecl_status st = aecl_spec_infer_shapes(NULL, s);
    CHECK(st == AECL_ERR_SHAPE);
    CHECK_MSG(strstr(aecl_ctx_last_error(NULL), "expected the input shape 1x32x32"), "%s",
              aecl_ctx_last_error(NULL));
    s->encoder[0].stride_h = 0;
    CHECK(aecl_spec_infer_shapes(NULL, s) == AECL_ERR_SHAPE);
    aecl_spec_free(s);
    aecl_model_spec *none = NULL;
    CHECK(aecl_spec_parse_file(NULL, "/nonexistent/x.model", &none) == AECL_ERR_IO && !none);
}

/* ---- bad files ----------------------------------------------------------- */

#define HEAD "kind = vanilla\ninput = 784\nlatent = 32\n"     /* lines 1-3 */
#define MLP "[encoder]\ndense 128 relu\n[decoder]\nmirror\n"  /* lines +1..+4 */

typedef struct bad_case {
    const char *name;
    const char *text;
    int line;
    const char *phrase;
} bad_case;

static const bad_case bad_cases[] = {
    {"unknown_key", HEAD "latnt = 8\n" MLP, 4, "unknown key `latnt`"},
    {"unknown_section", HEAD MLP "[training]\n", 8, "unknown section [training]"},
    {"not_a_number", "kind = vanilla\ninput = 784\nlatent = abc\n" MLP, 3, "found `abc` for latent"},
    {"negative_latent", "kind = vanilla\ninput = 784\nlatent = -4\n" MLP, 3,
     "expected a whole number from 1"},
    {"unknown_activation", HEAD "[encoder]\ndense 128 rleu\n[decoder]\nmirror\n", 5,
     "found `rleu` in a dense layer, expected an activation"},
    {"unknown_kind", "kind = sparse\ninput = 784\nlatent = 32\n" MLP, 1, "found `sparse` for kind"},
    {"unknown_loss", HEAD "loss = l1\n" MLP, 4, "expected mse or bce"},
    {"unknown_optimizer", HEAD MLP "[train]\noptimizer = rmsprop\n", 9,
     "found `rmsprop` for optimizer"},
    {"missing_latent", "kind = vanilla\ninput = 784\n" MLP, 6, "without key `latent`"},
    {"duplicate_key", HEAD MLP "[train]\nlr = 0.1\nepochs = 3\nlr = 0.2\n", 11,
     "duplicate key `lr` (first set on line 9)"},
    {"noise_on_vanilla", HEAD MLP "[train]\nnoise = gaussian 0.5\n", 9,
     "expected it only with kind = denoising"},
    {"beta_on_denoising", "kind = denoising\ninput = 784\nlatent = 32\n" MLP
     "[train]\nnoise = mask 0.2\nbeta = 2\n", 10, "expected it only with kind = variational"},
    {"denoising_without_noise", "kind = denoising\ninput = 784\nlatent = 32\n" MLP, 1,
     "without `noise`"},
    {"conv_output_empty", "kind = convolutional\ninput = 1x4x4\nlatent = 8\n[encoder]\n"
     "conv 8 5x5 relu\nflatten\n[decoder]\nmirror\n", 5, "input 1x4x4 gives output 8x0x0"},
    {"decoder_wrong_size", HEAD "[encoder]\ndense 128 relu\n[decoder]\ndense 700 sigmoid\n", 7,
     "the decoder ends at 700 (after its last layer `dense 700 sigmoid`); expected the input shape 784"},
    {"dense_after_conv", "kind = convolutional\ninput = 1x28x28\nlatent = 8\n[encoder]\n"
     "conv 4 3x3 relu\ndense 16 relu\n[decoder]\nmirror\n", 6,
     "encoder layer 2 `dense 16 relu`: found input 4x26x26, expected a flat input"},
    {"latent_after_conv", "kind = convolutional\ninput = 1x8x8\nlatent = 8\n[encoder]\n"
     "conv 4 3x3 relu\n[decoder]\nmirror\n", 3, "end [encoder] with `flatten`"},
    {"momentum_with_adam", HEAD MLP "[train]\nmomentum = 0.9\n", 9,
     "found `momentum` with optimizer adam, expected it only with optimizer = sgd"},
    {"adam_beta_with_sgd", HEAD MLP "[train]\noptimizer = sgd\nadam_beta1 = 0.8\n", 10,
     "expected it only with adam or adamw"},
    {"bce_relu_output", HEAD "loss = bce\noutput_activation = relu\n" MLP, 5,
     "found output_activation = relu with loss = bce, expected sigmoid"},
    {"bce_explicit_output", HEAD "loss = bce\n[encoder]\n[decoder]\ndense 784 none\n", 7,
     "with loss = bce, expected the activation sigmoid"},
    {"lr_zero", HEAD MLP "[train]\nlr = 0\n", 9, "found `0` for lr, expected a number > 0"},
    {"lr_nan", HEAD MLP "[train]\nlr = nan\n", 9, "found `nan` for lr"},
    {"dropout_one", HEAD MLP "[train]\ndropout = 1\n", 9, "expected a number in [0, 1)"},
    {"output_act_explicit", HEAD "output_activation = sigmoid\n[encoder]\n[decoder]\n"
     "dense 784 sigmoid\n", 4, "expected the activation on the decoder's last layer"},
    {"layer_after_mirror", HEAD "[encoder]\n[decoder]\nmirror\ndense 784 none\n", 7,
     "found a layer after `mirror` (line 6)"},
    {"empty_decoder", HEAD "[encoder]\ndense 16 relu\n[decoder]\n\n[train]\n", 6,
     "found an empty [decoder]"},
    {"missing_decoder", HEAD "[encoder]\ndense 16 relu\n", 5, "without a [decoder] section"},
    {"conv_in_vanilla", "kind = vanilla\ninput = 1x8x8\nlatent = 4\n[encoder]\n"
     "conv 4 3x3 relu\nflatten\n[decoder]\nmirror\n", 5, "in a vanilla model (line 1)"},
    {"convolutional_without_conv", "kind = convolutional\ninput = 784\nlatent = 4\n" MLP, 1,
     "with no conv or convT layer"},
    {"outpad_not_below_stride", "kind = convolutional\ninput = 1x8x8\nlatent = 4\n[encoder]\n"
     "flatten\n[decoder]\ndense 64 relu\nreshape 1x8x8\nconvT 1 3x3 stride=2 outpad=2 none\n", 9,
     "expected outpad smaller than the stride"},
    {"duplicate_section", HEAD MLP "[encoder]\n", 8, "found [encoder] a second time (first on line 4)"},
    {"option_not_for_layer", HEAD "[encoder]\ndense 16 relu stride=2\n[decoder]\nmirror\n", 5,
     "found option `stride` on dense"},
    {"key_in_layer_section", HEAD "[encoder]\nlr = 0.1\n[decoder]\nmirror\n", 5,
     "found the key `lr` in a layer section"},
    {"top_key_in_train", "kind = vanilla\ninput = 784\n" MLP "[train]\nlatent = 3\n", 8,
     "found key `latent` in [train], expected it at the top"},
    {"pool_remainder_mirror", "kind = convolutional\ninput = 1x7x7\nlatent = 4\n[encoder]\n"
     "conv 2 3x3 pad=1 relu\nmaxpool 2\nflatten\n[decoder]\nmirror\n", 6,
     "input 2x7x7 becomes 2x3x3 and loses its last rows"},
    {"reshape_count", HEAD "[encoder]\n[decoder]\ndense 784 none\nreshape 1x28x27\n", 7,
     "input 784 has 784 elements, the target 1x28x27 has 756"},
    {"two_dim_input", "kind = vanilla\ninput = 28x28\nlatent = 4\n" MLP, 2,
     "found `28x28` for input, expected a feature count N or CxHxW"},
    {"missing_activation", HEAD "[encoder]\ndense 16\n[decoder]\nmirror\n", 5,
     "found no activation on dense"},
    {"dropout_on_output", HEAD "[encoder]\n[decoder]\ndense 784 sigmoid dropout=0.5\n", 6,
     "found dropout=0.5 on the output layer"},
    {"noise_without_level", "kind = denoising\ninput = 784\nlatent = 32\n" MLP
     "[train]\nnoise = gaussian\n", 9, "found noise `gaussian`, expected `gaussian SIGMA`"},
    {"two_activations", HEAD "[encoder]\ndense 16 relu tanh\n[decoder]\nmirror\n", 5,
     "found a second activation `tanh`"},
    {"nesterov_no_momentum", HEAD MLP "[train]\noptimizer = sgd\nnesterov = true\n", 10,
     "found nesterov = true with momentum 0"},
    {"bad_slope", HEAD "[encoder]\ndense 16 leaky_relu(x)\n[decoder]\nmirror\n", 5,
     "found `x` for the leaky_relu slope"},
    {"param_on_sigmoid", HEAD "[encoder]\ndense 16 sigmoid(2)\n[decoder]\nmirror\n", 5,
     "expected `sigmoid` without a parameter"},
    {"unknown_layer", HEAD "[encoder]\nlinear 16 relu\n[decoder]\nmirror\n", 5,
     "found `linear`, expected a layer"},
    {"two_values", HEAD MLP "[train]\nbatch = 32 64\n", 9, "found `32 64` for batch, expected a single value"},
    {"no_equals", "kind vanilla\n", 1, "expected `key = value`"},
    {"huge_layer", "kind = vanilla\ninput = 1000000\nlatent = 4\n[encoder]\ndense 1048576 relu\n"
     "[decoder]\nmirror\n", 5, "expected at most 1e12"},
};

static void check_failure(aecl_status st, const char *where, int line, const char *phrase,
                          const char *name)
{
    const char *msg = aecl_ctx_last_error(NULL);
    char loc[1200];
    snprintf(loc, sizeof loc, "%s:%d: ", where, line);
    CHECK_MSG(st == AECL_ERR_FORMAT, "%s: status %s, message: %s", name, aecl_status_str(st), msg);
    CHECK_MSG(strncmp(msg, loc, strlen(loc)) == 0, "%s: message does not start with `%s`: %s",
              name, loc, msg);
    CHECK_MSG(strstr(msg, phrase) != NULL, "%s: message lacks `%s`: %s", name, phrase, msg);
}

static void test_bad_texts(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        char name[96];
        snprintf(name, sizeof name, "%s.model", c->name);
        aecl_model_spec *s = (aecl_model_spec *)&s; /* must be reset to NULL */
        aecl_status st = aecl_spec_parse_string(NULL, c->text, name, &s);
        CHECK_MSG(s == NULL, "%s: out not NULL on failure", name);
        check_failure(st, name, c->line, c->phrase, name);
        if (getenv("SPEC_SHOW_ERRORS")) printf("%s\n", aecl_ctx_last_error(NULL));
    }
}

static void test_bad_files(void)
{
    static const struct { const char *file; int line; const char *phrase; } files[] = {
        {"bad_unknown_key.model", 4, "unknown key `latnet`"},
        {"bad_conv_too_small.model", 8, "encoder layer 2 `conv 16 3x3 relu`: input 8x1x1 gives output"},
        {"bad_dense_after_conv.model", 8, "put `flatten` before it"},
        {"bad_noise_on_vanilla.model", 14, "only with kind = denoising"},
        {"bad_decoder_shape.model", 13, "the decoder ends at 1x27x27"},
        {"bad_beta_on_vanilla.model", 13, "found `beta` in a vanilla model"},
    };
    const char *data = getenv("AECL_TEST_DATA");
    char path[1024];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/spec/%s", data ? data : "tests/data", files[i].file);
        aecl_model_spec *s = NULL;
        aecl_status st = aecl_spec_parse_file(NULL, path, &s);
        check_failure(st, path, files[i].line, files[i].phrase, files[i].file);
        aecl_spec_free(s);
    }
}

/* Random edits of the shipped models: every text either parses and round-trips,
 * or fails with AECL_ERR_FORMAT and a "name:line:" message (never crashes). */
static void test_mutations(void)
{
    static const char *const files[] = {"mlp.model", "conv.model", "vae.model", "denoising.model"};
    static const char alphabet[] = "0123456789x=#[] \n.-()_abelmorstuv";
    unsigned rng = 12345;
    int parsed = 0, failed = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[1024], orig[8192];
        snprintf(path, sizeof path, "%s/models/%s", source_dir(), files[f]);
        FILE *fp = fopen(path, "rb");
        CHECK(fp != NULL);
        if (!fp) continue;
        size_t n = fread(orig, 1, sizeof orig - 1, fp);
        fclose(fp);
        orig[n] = 0;
        for (int it = 0; it < 500; it++) {
            char text[8192];
            memcpy(text, orig, n + 1);
            for (int e = 0; e < 1 + it % 3; e++) {
                rng = rng * 1664525u + 1013904223u;
                size_t pos = (rng >> 8) % n;
                rng = rng * 1664525u + 1013904223u;
                text[pos] = alphabet[(rng >> 8) % (sizeof alphabet - 1)];
            }
            aecl_model_spec *s = NULL;
            aecl_status st = aecl_spec_parse_string(NULL, text, "mut.model", &s);
            if (st == AECL_OK) {
                parsed++;
                check_round_trip(s, "mut.model");
            } else {
                failed++;
                const char *msg = aecl_ctx_last_error(NULL);
                CHECK_MSG(st == AECL_ERR_FORMAT && strncmp(msg, "mut.model:", 10) == 0,
                          "%s: %s", aecl_status_str(st), msg);
            }
            aecl_spec_free(s);
        }
    }
    CHECK(parsed > 50 && failed > 50); /* both paths were exercised */
    printf("mutations: %d parsed, %d rejected\n", parsed, failed);
}

/* A model text's control characters reach messages as \xNN, never raw (an
 * escape sequence from a file must not drive the user's terminal). */
static void test_control_chars(void)
{
    aecl_model_spec *s = NULL;
    aecl_status st = aecl_spec_parse_string(NULL, "kind = van\x1b[31milla\n", "esc.model", &s);
    const char *msg = aecl_ctx_last_error(NULL);
    CHECK(st == AECL_ERR_FORMAT && s == NULL);
    CHECK_MSG(strstr(msg, "van\\x1b[31milla") && !strchr(msg, 0x1b), "message: %s", msg);
}

int main(void)
{
    test_shipped_models();
    test_conv_shapes();
    test_vae_and_mlp();
    test_good_texts();
    test_act_names();
    test_infer_in_code();
    test_bad_texts();
    test_control_chars();
    test_bad_files();
    test_mutations();
    return test_finish();
}
