/* Shared by spec.c, spec_parse.c, spec_check.c and spec_print.c only. */
#ifndef AECL_NN_SPEC_INTERNAL_H
#define AECL_NN_SPEC_INTERNAL_H

#include "base/buf.h"
#include "nn/spec.h"
#include "rt/error.h"

/* Limits that keep every size product inside int64 and every count inside int. */
#define SPEC_MAX_DIM 1048576         /* one dimension, units or channels */
#define SPEC_MAX_NUMEL 2147483647LL  /* elements of one sample at any layer */
#define SPEC_MAX_LAYERS 256          /* per layer list */
#define SPEC_MAX_FILE (1 << 20)      /* bytes of model text */

/* Name tables, indexed by the enum values. */
extern const char *const aecl_spec_kind_names[4];
extern const char *const aecl_spec_loss_names[2];
extern const char *const aecl_spec_act_names[7];
extern const char *const aecl_spec_layer_names[AECL_LAYER_COUNT];
extern const char *const aecl_spec_upsample_names[2];
extern const char *const aecl_spec_optimizer_names[3];
extern const char *const aecl_spec_noise_names[4];

/* A layer kind's row of AECL_LAYER_LIST (spec.h), indexed by aecl_layer_kind. */
typedef struct aecl_spec_layer_def {
    int weights;            /* has weights and an activation */
    int spatial;            /* CxHxW in and out */
    const char *args;       /* positional arguments after the word, a letter each */
    const char *options;    /* space-separated option names */
    const char *usage;      /* the line's form, for messages */
} aecl_spec_layer_def;
extern const aecl_spec_layer_def aecl_spec_layer_defs[AECL_LAYER_COUNT];

/* 1 when the first n characters of `name` are one of the space-separated words
 * of `list` (a layer's options). */
int aecl_spec_word_in(const char *list, const char *name, size_t n);

/* Index of word in names[0..n), or -1. */
int aecl_spec_lookup(const char *const *names, int n, const char *word);

/* Shortest "%g" text that reads back as exactly v. */
void aecl_spec_fmt_double(double v, char buf[32]);

/* Every default of the format (docs/model-format.md, "Defaults"). */
void aecl_spec_set_defaults(aecl_model_spec *spec);

/* Shape inference (and mirror expansion). `src` names the file for messages, or is
 * NULL; failures return `st` (FORMAT when parsing, SHAPE otherwise). */
aecl_status aecl_spec_infer(aecl_ctx *ctx, aecl_model_spec *spec, const char *src, aecl_status st);

/* ---- parsing (spec_parse.c, spec_layer.c, spec_value.c) ---------------- */

enum spec_section { SEC_TOP, SEC_ENCODER, SEC_DECODER, SEC_TRAIN, SEC_COUNT };

enum spec_key {
    K_KIND, K_INPUT, K_LATENT, K_LOSS, K_OUTPUT_ACT,
    K_OPTIMIZER, K_LR, K_MOMENTUM, K_NESTEROV, K_ADAM_BETA1, K_ADAM_BETA2, K_ADAM_EPS,
    K_BATCH, K_EPOCHS, K_WEIGHT_DECAY, K_CLIP_NORM, K_DROPOUT, K_L1_ACTIVITY,
    K_BETA, K_BETA_WARMUP, K_NOISE, K_NOISE_CLIP, K_SEED, K_ANOMALY_SCORE,
    K_COUNT
};

typedef struct spec_parser {
    aecl_ctx *ctx;
    const char *name;               /* file name for messages */
    int line;                       /* line being read (1-based) */
    int section;                    /* enum spec_section */
    int section_line[SEC_COUNT];    /* where each section started (0: absent) */
    int key_line[K_COUNT];          /* where each key was set (0: not set) */
    int mirror_line;
    aecl_model_spec *spec;
    size_t cap_encoder, cap_decoder;
} spec_parser;

/* Records "name:line: message" as an AECL_ERR_FORMAT and returns it. */
aecl_status aecl_spec_perr(const spec_parser *p, int line, const char *fmt, ...) AECL_PRINTF(3, 4);

/* Value readers: each reads a whole token or fails with found/expected at p->line.
 * `what` names the key or option in the message. */
aecl_status aecl_spec_read_int(const spec_parser *p, const char *what, const char *tok, long long lo,
                          long long hi, int *out);
enum spec_range { R_POSITIVE, R_NONNEGATIVE, R_UNIT, R_OPEN_UNIT }; /* >0, >=0, [0,1), (0,1) */
aecl_status aecl_spec_read_real(const spec_parser *p, const char *what, const char *tok,
                           enum spec_range r, double *out);
aecl_status aecl_spec_read_bool(const spec_parser *p, const char *what, const char *tok, int *out);
aecl_status aecl_spec_read_u64(const spec_parser *p, const char *what, const char *tok, uint64_t *out);
/* "784" or "CxHxW". */
aecl_status aecl_spec_read_shape(const spec_parser *p, const char *what, const char *tok,
                            aecl_spec_shape *out);
/* "3" or "3x2" into h, w. */
aecl_status aecl_spec_read_pair(const spec_parser *p, const char *what, const char *tok, int lo, int hi,
                           int *h, int *w);
/* An activation, "leaky_relu(0.2)" included. Sets *is_act to 0 (and returns OK)
 * when the word is no activation name at all, so the caller can say what it expected. */
aecl_status aecl_spec_read_act(const spec_parser *p, const char *tok, aecl_act *act, double *param,
                          int *is_act);
/* The list of activations for "expected ..." texts. */
#define SPEC_ACT_LIST "relu, leaky_relu[(slope)], elu[(alpha)], sigmoid, tanh, softplus or none"

/* Reads one layer line of [encoder] or [decoder] (tok[0] is the layer word). The
 * layer's dropout is -1 when the line does not set it. */
aecl_status aecl_spec_read_layer(const spec_parser *p, char **tok, int n, aecl_spec_layer *out);


/* Appends the canonical text of a layer, with " dropout=P" when with_dropout. */
void aecl_spec_layer_write(aecl_strbuf *b, const aecl_spec_layer *l, int with_dropout);

#endif
