/* Model interchange (docs/interchange.md): a weights file as ONNX graphs
 * (export_onnx.c) and as a PyTorch module file (export_torch.c).
 *
 * Exporting needs no device: the weights file is read on the host, its model
 * text parsed and every tensor the model needs checked (name, shape, finite
 * values) against the layer list that aecl_export_open derives from the spec,
 * following the tensor names of docs/weights.md. Both writers walk that one list,
 * so the ONNX graph, the PyTorch module and aecl's own networks (nn/net.c) agree
 * on layer order, activations and the output layer's sigmoid under BCE. */
#ifndef AECL_NN_EXPORT_H
#define AECL_NN_EXPORT_H

#include "io/io.h"
#include "nn/spec.h"
#include "nn/train.h"

typedef enum aecl_export_part {
    AECL_EXPORT_ENCODER = 0,   /* input -> code (a VAE: code = the mean, and logvar) */
    AECL_EXPORT_DECODER,       /* code -> reconstruction */
    AECL_EXPORT_FULL           /* input -> reconstruction (a VAE decodes its mean code) */
} aecl_export_part;

/* One layer as the exported graphs run it at inference. */
typedef struct aecl_export_layer {
    const aecl_spec_layer *l;
    char name[32];             /* "encoder.I", "latent", "mu", "logvar", "decoder.I": the tensor prefix */
    aecl_act act;              /* the activation applied (the output layer under BCE: none) */
    const aecl_st_tensor *w, *b; /* weight and bias in the file; NULL for layers without weights */
} aecl_export_layer;

/* A weights file opened for export. */
typedef struct aecl_export_src {
    aecl_model_spec *spec;
    aecl_scaling scaling;      /* kind none: the data enters the network unchanged */
    aecl_safetensors st;       /* owns the tensors the layers point at */
    aecl_export_layer *enc, *dec;
    size_t n_enc, n_dec;
    aecl_export_layer latent;  /* "latent", or a VAE's "mu" */
    aecl_export_layer logvar;  /* a VAE's "logvar" (l is NULL otherwise) */
    int sigmoid_out;           /* loss bce: the reconstruction is the sigmoid of the decoder's output */
} aecl_export_src;

/* Reads `path` (a weights file or a checkpoint) and builds the layer list.
 * AECL_ERR_FORMAT naming the file and the tensor when one is missing, has another
 * shape or holds a non-finite value, or when a weights file holds other tensors. */
aecl_status aecl_export_open(aecl_ctx *ctx, const char *path, aecl_export_src *out);
void aecl_export_close(aecl_export_src *src);

/* "encoder", "decoder", "full". */
const char *aecl_export_part_name(aecl_export_part p);

/* Writes one part as an ONNX model (opset 13, IR version 7), atomically. */
aecl_status aecl_export_onnx(aecl_ctx *ctx, const aecl_export_src *src, aecl_export_part part, const char *path);

/* Writes a Python file with a torch.nn module of the model whose state_dict keys
 * are the weights file's tensor names, and a reader of safetensors files that
 * needs only json, numpy and torch. */
aecl_status aecl_export_torch(aecl_ctx *ctx, const aecl_export_src *src, const char *path);

#endif
