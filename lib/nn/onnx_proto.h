/* A small builder of ONNX models over the messages protobuf-c generates from
 * Debian's onnx.proto (libonnx-dev): nodes, initializers, graph inputs and
 * outputs, then one atomic write of the packed ModelProto.
 *
 * Everything the messages point at lives in the builder's arena and is freed
 * with it. Like the graph builders, it has a sticky error: a failing call (out
 * of memory) records it and returns NULL, later calls do nothing, and
 * aecl_onnx_write reports it. */
#ifndef AECL_NN_ONNX_PROTO_H
#define AECL_NN_ONNX_PROTO_H

#include "aecl.h"

#include <stddef.h>
#include <stdint.h>

typedef struct aecl_onnx aecl_onnx;

/* A model of one graph named `graph_name`, for default-domain opset `opset`. */
aecl_status aecl_onnx_create(aecl_ctx *ctx, const char *graph_name, int opset, aecl_onnx **out);
void aecl_onnx_free(aecl_onnx *o);

/* A float32 initializer holding `data` (not copied: it must outlive the write). */
const char *aecl_onnx_init_f32(aecl_onnx *o, const char *name, int ndim, const int64_t *dims, const float *data);
/* A 1-D float32 or int64 initializer of n values (copied). */
const char *aecl_onnx_const_f32(aecl_onnx *o, const char *name, size_t n, const float *v);
const char *aecl_onnx_const_i64(aecl_onnx *o, const char *name, size_t n, const int64_t *v);

/* Graph inputs and outputs: float32 tensors whose first dimension is the dynamic
 * batch "N"; dims holds the other ndim - 1 sizes. */
void aecl_onnx_input(aecl_onnx *o, const char *name, int ndim, const int *dims);
void aecl_onnx_output(aecl_onnx *o, const char *name, int ndim, const int *dims);

/* Appends a node `op` reading n_in tensors (NULL or "" = an omitted optional
 * input) and writing the tensor `out`; returns out (the builder's copy) or NULL.
 * The attribute calls below add to the last node. */
const char *aecl_onnx_node(aecl_onnx *o, const char *op, const char *out, int n_in, const char *const *in);
void aecl_onnx_attr_int(aecl_onnx *o, const char *name, int64_t v);
void aecl_onnx_attr_ints(aecl_onnx *o, const char *name, int n, const int64_t *v);
void aecl_onnx_attr_float(aecl_onnx *o, const char *name, float v);
void aecl_onnx_attr_str(aecl_onnx *o, const char *name, const char *v);

/* A key/value pair of the model's metadata_props; the model's doc string. */
void aecl_onnx_meta(aecl_onnx *o, const char *key, const char *value);
void aecl_onnx_doc(aecl_onnx *o, const char *text);

/* Packs the model and writes it to `path` atomically. */
aecl_status aecl_onnx_write(aecl_onnx *o, const char *path);

#endif
