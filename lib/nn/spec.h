/* Model specs: the parsed form of a .model file (docs/model-format.md).
 *
 * A spec says what an autoencoder is: its kind, the input shape, the latent size,
 * the loss, the encoder and decoder layers and the training defaults. Parsing is
 * strict: anything unknown, repeated, out of range or of the wrong kind is an
 * AECL_ERR_FORMAT with "file:line: found ..., expected ..." in the message.
 *
 * After a successful parse the spec is complete: a `mirror` decoder is already
 * expanded into layers, every layer carries its input and output shape, and the
 * parameter count is known. The struct is plain data: read the fields directly.
 */
#ifndef AECL_NN_SPEC_H
#define AECL_NN_SPEC_H

#include "aecl.h"
#include "ops/act.h"
#include "ops/conv.h"
#include "ops/optim.h"

#include <stddef.h>
#include <stdint.h>

typedef enum aecl_ae_kind {
    AECL_AE_VANILLA = 0,
    AECL_AE_DENOISING,
    AECL_AE_CONVOLUTIONAL,
    AECL_AE_VARIATIONAL
} aecl_ae_kind;

/* aecl_act (activation codes) and aecl_loss_kind come from ops/act.h, shared with
 * the kernels, so a spec's values go to the ops unchanged. act_param below is the
 * leaky_relu slope (default 0.01) or the elu alpha (default 1). */

/* Every layer kind, listed once; the enum, the names, and the tables of the
 * spec's parser, printer and checker are generated from this list (as sqlite
 * generates its opcode tables), and the switches over kinds that remain (a
 * kind's shapes, its mirror, its graph in net.c) have no default case, so the
 * compiler names each one a new kind is missing from (-Wswitch).
 *   X(KIND, word, has weights, spatial (CxHxW in and out), positional
 *     arguments, options, usage)
 * The positional arguments, one letter each in their order, drive both the
 * parser and the printer: U dense units, C output channels, K kernel size
 * (KxK or HxW), P pool size, F upsample factor, S reshape target (CxHxW).
 * dense: units outputs, needs a flat input; conv, convT (transposed): units
 * output channels; maxpool, avgpool: window = stride = factor; upsample: by
 * factor, mode nearest or bilinear; flatten: CxHxW -> C*H*W; reshape: to
 * `shape`, same element count. */
#define AECL_LAYER_LIST(X)                                                                                     \
    X(DENSE, "dense", 1, 0, "U", "dropout", "dense UNITS ACT [dropout=P]")                                     \
    X(CONV, "conv", 1, 1, "CK", "stride pad dropout",                                                          \
      "conv OUT_CHANNELS KxK [stride=S] [pad=P] ACT [dropout=P]")                                              \
    X(CONVT, "convT", 1, 1, "CK", "stride pad outpad dropout",                                                 \
      "convT OUT_CHANNELS KxK [stride=S] [pad=P] [outpad=Q] ACT [dropout=P]")                                  \
    X(MAXPOOL, "maxpool", 0, 1, "P", "", "maxpool K")                                                          \
    X(AVGPOOL, "avgpool", 0, 1, "P", "", "avgpool K")                                                          \
    X(UPSAMPLE, "upsample", 0, 1, "F", "", "upsample F [nearest|bilinear]")                                    \
    X(FLATTEN, "flatten", 0, 0, "", "", "flatten")                                                             \
    X(RESHAPE, "reshape", 0, 0, "S", "", "reshape CxHxW")

#define AECL_LAYER_ENUM(kind, ...) AECL_LAYER_##kind,
#define AECL_LAYER_ONE(...) +1
typedef enum aecl_layer_kind { AECL_LAYER_LIST(AECL_LAYER_ENUM) } aecl_layer_kind;
enum { AECL_LAYER_COUNT = 0 AECL_LAYER_LIST(AECL_LAYER_ONE) }; /* outside the enum: switches stay exhaustive */
#undef AECL_LAYER_ENUM
#undef AECL_LAYER_ONE

/* Upsampling modes are the ops layer's (ops/conv.h: AECL_UPSAMPLE_NEAREST, _BILINEAR). */
typedef int aecl_upsample_mode;

/* The optimizer kinds are the ops layer's (ops/optim.h). */
typedef aecl_opt_kind aecl_optimizer;

typedef enum aecl_spec_noise {
    AECL_SPEC_NOISE_NONE = 0,
    AECL_SPEC_NOISE_GAUSSIAN,   /* x + N(0, level^2) */
    AECL_SPEC_NOISE_MASK,       /* each value set to 0 with probability level */
    AECL_SPEC_NOISE_SALTPEPPER  /* each value set to 0 or 1 (even odds) with probability level */
} aecl_spec_noise;

/* The shape of one sample (the batch dimension N is left out). A flat shape has
 * rank 1 and holds its feature count in c, with h = w = 1, so c*h*w is always the
 * element count. */
typedef struct aecl_spec_shape {
    int rank;              /* 1 (features) or 3 (CxHxW) */
    int c, h, w;
} aecl_spec_shape;

typedef struct aecl_spec_layer {
    aecl_layer_kind kind;
    int units;             /* dense: outputs; conv/convT: output channels; else 0 */
    int kh, kw;            /* conv/convT kernel; else 0 */
    int stride_h, stride_w;/* conv/convT (default 1); else 0 */
    int pad_h, pad_w;      /* conv/convT zero padding (default 0) */
    int outpad_h, outpad_w;/* convT extra output rows/columns, < stride */
    int factor;            /* maxpool/avgpool window and stride, upsample factor; else 0 */
    aecl_upsample_mode mode;
    aecl_spec_shape shape; /* reshape target; else zero */
    aecl_act act;          /* dense/conv/convT; AECL_ACT_NONE for the others */
    double act_param;      /* leaky_relu slope, elu alpha; 0 for the others */
    double dropout;        /* effective rate after this layer's activation, in [0,1) */
    /* Filled by shape inference. */
    aecl_spec_shape in, out;
    int line;              /* source line (for a mirror layer: the encoder layer's line) */
} aecl_spec_layer;

typedef struct aecl_spec_train {
    aecl_optimizer optimizer;      /* default adam */
    double lr;                     /* default 1e-3 */
    double momentum;               /* sgd only, default 0 */
    int nesterov;                  /* sgd only, default 0 */
    double adam_beta1, adam_beta2, adam_eps; /* adam/adamw: 0.9, 0.999, 1e-8 */
    int batch;                     /* default 128 */
    int epochs;                    /* default 10 */
    double weight_decay;           /* L2 for sgd/adam, decoupled for adamw; default 0 */
    double clip_norm;              /* global gradient-norm clip, 0 = off */
    double dropout;                /* default rate of hidden layers, default 0 */
    double l1_activity;            /* L1 penalty on the latent code, default 0 */
    double beta;                   /* variational only: KL weight, default 1 */
    int beta_warmup;               /* variational only: epochs of linear KL warm-up, default 0 */
    aecl_spec_noise noise;         /* denoising only (required there) */
    double noise_level;            /* sigma for gaussian, probability for mask/saltpepper */
    int noise_clip;                /* denoising only: clip noisy input to [0,1], default 1 */
    uint64_t seed;                 /* weights init, dropout and noise, default 1 */
    aecl_score_kind anomaly_score; /* aecl anomaly's default score, default mse */
} aecl_spec_train;

typedef struct aecl_model_spec {
    aecl_ae_kind kind;
    aecl_spec_shape input;
    int latent;                    /* size of the code */
    aecl_loss_kind loss;
    aecl_act output_act;           /* activation of the decoder's last layer with weights */
    double output_act_param;
    int decoder_mirror;            /* 1: the decoder was derived from the encoder */

    aecl_spec_layer *encoder;      /* hidden layers, without the latent layer */
    size_t n_encoder;
    aecl_spec_layer latent_layer;  /* implied dense to `latent`, linear; a VAE has two
                                      such heads (mu, logvar) with this same shape */
    aecl_spec_layer *decoder;      /* from the code to the input shape, output layer included */
    size_t n_decoder;

    aecl_spec_train train;
    int64_t n_params;              /* weights and biases of all layers (both VAE heads) */
} aecl_model_spec;

/* Parses a model file. `path` is used in messages as written. */
aecl_status aecl_spec_parse_file(aecl_ctx *ctx, const char *path, aecl_model_spec **out);

/* Parses model text; `name_for_messages` stands for the file name in messages. */
aecl_status aecl_spec_parse_string(aecl_ctx *ctx, const char *text, const char *name_for_messages,
                                   aecl_model_spec **out);

/* Canonical text of a spec (malloc'd, NUL-terminated; free with free()). Parsing it
 * gives a spec that aecl_spec_equal calls equal. Returns AECL_ERR_HOST_MEMORY or
 * AECL_ERR_INVALID_ARG (message in the thread slot). */
aecl_status aecl_spec_print(const aecl_model_spec *spec, char **out_text);

/* A readable table of every layer with its output shape and parameter count,
 * latent layer and totals included (malloc'd). */
aecl_status aecl_spec_describe(const aecl_model_spec *spec, char **out_text);

void aecl_spec_free(aecl_model_spec *spec);

/* 1 when both describe the same model and defaults (source line numbers ignored). */
int aecl_spec_equal(const aecl_model_spec *a, const aecl_model_spec *b);

/* Walks encoder, latent layer and decoder from the input shape, filling every
 * layer's in/out and n_params; re-derives the decoder first when decoder_mirror is
 * set. Fails with AECL_ERR_SHAPE naming the layer and both shapes when the conv or
 * pool arithmetic does not work (output below 1), a layer gets a shape it cannot
 * take (dense after conv without flatten), or the decoder does not end at the input
 * shape. The parser runs this itself (its failures become AECL_ERR_FORMAT with
 * file:line); call it after building or editing a spec in code. */
aecl_status aecl_spec_infer_shapes(aecl_ctx *ctx, aecl_model_spec *spec);

/* ---- small helpers ------------------------------------------------------- */

/* c*h*w (as size_t). */
size_t aecl_spec_shape_numel(aecl_spec_shape s);
int aecl_spec_shape_equal(aecl_spec_shape a, aecl_spec_shape b);
/* "784" or "1x28x28" into buf (always NUL-terminated); returns buf. */
char *aecl_spec_shape_str(aecl_spec_shape s, char *buf, size_t cap);
/* The canonical line of a layer ("conv 32 3x3 stride=2 pad=1 relu"); dropout is
 * written when above 0. Returns buf. */
char *aecl_spec_layer_str(const aecl_spec_layer *l, char *buf, size_t cap);

/* The shape that the encoder's last flatten takes in (the decoder's reshape target
 * in a mirror). Returns 0 when the encoder has no flatten. */
int aecl_spec_flatten_shape(const aecl_model_spec *spec, aecl_spec_shape *out);

/* Weights + biases of one layer from its shapes (0 for layers without weights). */
int64_t aecl_spec_layer_params(const aecl_spec_layer *l);
/* Total of the model (spec->n_params, recomputed from the layer shapes). */
int64_t aecl_spec_param_count(const aecl_model_spec *spec);

/* 1 for the kinds with weights (dense, conv and convT). */
int aecl_spec_layer_has_weights(aecl_layer_kind k);
/* Index of the decoder's last layer with weights: its activation is the model's
 * output activation (under BCE the layer yields logits and a sigmoid follows). */
size_t aecl_spec_output_layer(const aecl_model_spec *spec);
/* 1 for the kinds that take and give CxHxW (conv, convT, pooling, upsample). */
int aecl_spec_layer_is_spatial(aecl_layer_kind k);

/* Names as written in model files. */
const char *aecl_spec_kind_name(aecl_ae_kind k);
const char *aecl_spec_loss_name(aecl_loss_kind k);
const char *aecl_spec_act_name(aecl_act a);
const char *aecl_spec_layer_name(aecl_layer_kind k);
const char *aecl_spec_optimizer_name(aecl_optimizer o);
const char *aecl_spec_noise_name(aecl_spec_noise n);

/* One anomaly score's name in the model file and the CLI ("mse", ..., "combined"),
 * or NULL past the last (spec_print.c: the model file's vocabulary, so the spec
 * layer, which knows nothing of the scores' arithmetic, owns it). */
const char *aecl_score_name(aecl_score_kind kind);

#endif
