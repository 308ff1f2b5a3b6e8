/* The ONNX model builder over protobuf-c (nn/onnx_proto.h). */
#include "nn/onnx_proto.h"

#include "base/atomic.h"
#include "base/buf.h"
#include "base/error.h"

#include <onnx.pb-c.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ONNX_MAX_ATTRS 8         /* per node; ConvTranspose, the most, needs 4 */
#define ONNX_IR_VERSION 7        /* the IR version of opset 13 (ONNX 1.8) */

/* A growable array of message pointers. */
typedef struct ptr_list {
    void **p;
    size_t n, cap;
} ptr_list;

/* Arena blocks are chained through a header aligned for any field type. */
typedef union arena_hdr {
    union arena_hdr *next;
    max_align_t align;
} arena_hdr;

struct aecl_onnx {
    aecl_ctx *ctx;
    aecl_status status;          /* sticky: the first failure */
    arena_hdr *arena;
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    ptr_list nodes, inits, inputs, outputs, meta;
};

static int failed(aecl_onnx *o) { return !o || o->status != AECL_OK; }

static void *fail_memory(aecl_onnx *o)
{
    if (o->status == AECL_OK) o->status = aecl_fail(o->ctx, AECL_ERR_HOST_MEMORY, "out of host memory (ONNX model)");
    return NULL;
}

static void *alloc(aecl_onnx *o, size_t n)
{
    if (failed(o)) return NULL;
    arena_hdr *h = n <= SIZE_MAX - sizeof *h ? calloc(1, sizeof *h + n) : NULL;
    if (!h) return fail_memory(o);
    h->next = o->arena;
    o->arena = h;
    return h + 1;
}

static char *dup(aecl_onnx *o, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = alloc(o, n);
    if (d) memcpy(d, s, n);
    return d;
}

static void push(aecl_onnx *o, ptr_list *l, void *item)
{
    if (failed(o) || !item) return;
    if (!aecl_grow((void **)&l->p, &l->cap, l->n + 1, sizeof *l->p, 16)) { fail_memory(o); return; }
    l->p[l->n++] = item;
}

aecl_status aecl_onnx_create(aecl_ctx *ctx, const char *graph_name, int opset, aecl_onnx **out)
{
    aecl_onnx *o = calloc(1, sizeof *o);
    *out = NULL;
    AECL_RETURN_IF(!o, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    o->ctx = ctx;
    onnx__model_proto__init(&o->model);
    onnx__graph_proto__init(&o->graph);
    onnx__operator_set_id_proto__init(&o->opset);
    o->opset.domain = "";
    o->opset.has_version = 1;
    o->opset.version = opset;
    o->opsets[0] = &o->opset;
    o->model.has_ir_version = 1;
    o->model.ir_version = ONNX_IR_VERSION;
    o->model.n_opset_import = 1;
    o->model.opset_import = o->opsets;
    o->model.producer_name = "aecl";
    o->model.producer_version = (char *)aecl_version_string();
    o->model.graph = &o->graph;
    o->graph.name = dup(o, graph_name);
    if (failed(o)) { aecl_status st = o->status; aecl_onnx_free(o); return st; }
    *out = o;
    return AECL_OK;
}

void aecl_onnx_free(aecl_onnx *o)
{
    if (!o) return;
    while (o->arena) {
        arena_hdr *next = o->arena->next;
        free(o->arena);
        o->arena = next;
    }
    ptr_list *lists[] = {&o->nodes, &o->inits, &o->inputs, &o->outputs, &o->meta};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) free(lists[i]->p);
    free(o);
}

static Onnx__TensorProto *tensor(aecl_onnx *o, const char *name, int ndim, const int64_t *dims, int32_t type)
{
    Onnx__TensorProto *t = alloc(o, sizeof *t);
    int64_t *d = alloc(o, (size_t)(ndim ? ndim : 1) * sizeof *d);
    char *nm = dup(o, name);
    if (!t || !d || !nm) return NULL;
    onnx__tensor_proto__init(t);
    memcpy(d, dims, (size_t)ndim * sizeof *d);
    t->n_dims = (size_t)ndim;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = type;
    t->name = nm;
    return t;
}

const char *aecl_onnx_init_f32(aecl_onnx *o, const char *name, int ndim, const int64_t *dims, const float *data)
{
    Onnx__TensorProto *t = tensor(o, name, ndim, dims, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    if (!t) return NULL;
    size_t n = 1;
    for (int k = 0; k < ndim; k++) n *= (size_t)dims[k];
    /* float_data is a packed repeated field: protobuf-c writes it little-endian
     * on any host. The message only reads the values (the cast drops const). */
    t->n_float_data = n;
    t->float_data = (float *)data;
    push(o, &o->inits, t);
    return failed(o) ? NULL : t->name;
}

const char *aecl_onnx_const_f32(aecl_onnx *o, const char *name, size_t n, const float *v)
{
    float *copy = alloc(o, (n ? n : 1) * sizeof *copy);
    if (!copy) return NULL;
    memcpy(copy, v, n * sizeof *copy);
    int64_t dim = (int64_t)n;
    return aecl_onnx_init_f32(o, name, 1, &dim, copy);
}

const char *aecl_onnx_const_i64(aecl_onnx *o, const char *name, size_t n, const int64_t *v)
{
    int64_t dim = (int64_t)n, *copy = alloc(o, (n ? n : 1) * sizeof *copy);
    Onnx__TensorProto *t = copy ? tensor(o, name, 1, &dim, ONNX__TENSOR_PROTO__DATA_TYPE__INT64) : NULL;
    if (!t) return NULL;
    memcpy(copy, v, n * sizeof *copy);
    t->n_int64_data = n;
    t->int64_data = copy;
    push(o, &o->inits, t);
    return failed(o) ? NULL : t->name;
}

/* A float32 tensor type [N, dims...] with N the named dynamic batch dimension. */
static Onnx__ValueInfoProto *value_info(aecl_onnx *o, const char *name, int ndim, const int *dims)
{
    Onnx__ValueInfoProto *v = alloc(o, sizeof *v);
    Onnx__TypeProto *tp = alloc(o, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = alloc(o, sizeof *tt);
    Onnx__TensorShapeProto *shape = alloc(o, sizeof *shape);
    Onnx__TensorShapeProto__Dimension **dim = alloc(o, (size_t)ndim * sizeof *dim);
    char *nm = dup(o, name);
    for (int k = 0; !failed(o) && k < ndim; k++) {
        dim[k] = alloc(o, sizeof **dim);
        if (!dim[k]) break;
        onnx__tensor_shape_proto__dimension__init(dim[k]);
        if (k == 0) {
            dim[k]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dim[k]->dim_param = "N";
        } else {
            dim[k]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim[k]->dim_value = dims[k - 1];
        }
    }
    if (failed(o)) return NULL;
    onnx__tensor_shape_proto__init(shape);
    shape->n_dim = (size_t)ndim;
    shape->dim = dim;
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = shape;
    onnx__type_proto__init(tp);
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    onnx__value_info_proto__init(v);
    v->name = nm;
    v->type = tp;
    return v;
}

void aecl_onnx_input(aecl_onnx *o, const char *name, int ndim, const int *dims)
{
    push(o, &o->inputs, value_info(o, name, ndim, dims));
}

void aecl_onnx_output(aecl_onnx *o, const char *name, int ndim, const int *dims)
{
    push(o, &o->outputs, value_info(o, name, ndim, dims));
}

const char *aecl_onnx_node(aecl_onnx *o, const char *op, const char *out, int n_in, const char *const *in)
{
    Onnx__NodeProto *nd = alloc(o, sizeof *nd);
    char **ins = alloc(o, (size_t)(n_in ? n_in : 1) * sizeof *ins), **outs = alloc(o, sizeof *outs);
    Onnx__AttributeProto **attrs = alloc(o, ONNX_MAX_ATTRS * sizeof *attrs);
    for (int k = 0; !failed(o) && k < n_in; k++) ins[k] = dup(o, in[k] ? in[k] : "");
    if (failed(o) || !(outs[0] = dup(o, out))) return NULL;
    onnx__node_proto__init(nd);
    nd->op_type = dup(o, op);
    nd->name = dup(o, out);      /* a node is named for what it writes: names stay unique */
    nd->n_input = (size_t)n_in;
    nd->input = ins;
    nd->n_output = 1;
    nd->output = outs;
    nd->attribute = attrs;
    push(o, &o->nodes, nd);
    return failed(o) ? NULL : outs[0];
}

/* A new attribute of the last node, or NULL. */
static Onnx__AttributeProto *attr(aecl_onnx *o, const char *name, Onnx__AttributeProto__AttributeType type)
{
    if (failed(o) || !o->nodes.n) return NULL;
    Onnx__NodeProto *nd = o->nodes.p[o->nodes.n - 1];
    if (nd->n_attribute == ONNX_MAX_ATTRS) {
        o->status = aecl_fail(o->ctx, AECL_ERR_INVALID_ARG, "ONNX node %s: more than %d attributes", nd->name,
                              ONNX_MAX_ATTRS);
        return NULL;
    }
    Onnx__AttributeProto *a = alloc(o, sizeof *a);
    char *nm = dup(o, name);
    if (!a || !nm) return NULL;
    onnx__attribute_proto__init(a);
    a->name = nm;
    a->has_type = 1;
    a->type = type;
    nd->attribute[nd->n_attribute++] = a;
    return a;
}

void aecl_onnx_attr_int(aecl_onnx *o, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(o, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (!a) return;
    a->has_i = 1;
    a->i = v;
}

void aecl_onnx_attr_ints(aecl_onnx *o, const char *name, int n, const int64_t *v)
{
    Onnx__AttributeProto *a = attr(o, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *copy = a ? alloc(o, (size_t)n * sizeof *copy) : NULL;
    if (!copy) return;
    memcpy(copy, v, (size_t)n * sizeof *copy);
    a->n_ints = (size_t)n;
    a->ints = copy;
}

void aecl_onnx_attr_float(aecl_onnx *o, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(o, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (!a) return;
    a->has_f = 1;
    a->f = v;
}

void aecl_onnx_attr_str(aecl_onnx *o, const char *name, const char *v)
{
    Onnx__AttributeProto *a = attr(o, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    char *copy = a ? dup(o, v) : NULL;
    if (!copy) return;
    a->has_s = 1;
    a->s.data = (uint8_t *)copy;
    a->s.len = strlen(copy);
}

void aecl_onnx_meta(aecl_onnx *o, const char *key, const char *value)
{
    Onnx__StringStringEntryProto *e = alloc(o, sizeof *e);
    char *k = dup(o, key), *v = dup(o, value);
    if (!e || !k || !v) return;
    onnx__string_string_entry_proto__init(e);
    e->key = k;
    e->value = v;
    push(o, &o->meta, e);
}

void aecl_onnx_doc(aecl_onnx *o, const char *text)
{
    char *d = dup(o, text);
    if (d) o->model.doc_string = d;
}

aecl_status aecl_onnx_write(aecl_onnx *o, const char *path)
{
    if (failed(o)) return o ? o->status : AECL_ERR_INVALID_ARG;
    Onnx__GraphProto *g = &o->graph;
    g->n_node = o->nodes.n;
    g->node = (Onnx__NodeProto **)o->nodes.p;
    g->n_initializer = o->inits.n;
    g->initializer = (Onnx__TensorProto **)o->inits.p;
    g->n_input = o->inputs.n;
    g->input = (Onnx__ValueInfoProto **)o->inputs.p;
    g->n_output = o->outputs.n;
    g->output = (Onnx__ValueInfoProto **)o->outputs.p;
    o->model.n_metadata_props = o->meta.n;
    o->model.metadata_props = (Onnx__StringStringEntryProto **)o->meta.p;
    size_t n = protobuf_c_message_get_packed_size(&o->model.base);
    /* Protocol buffers cannot hold a message of 2 GiB or more. */
    AECL_RETURN_IF(n >= ((size_t)1 << 31), AECL_ERR_UNSUPPORTED, o->ctx,
                   "%s: the ONNX model would take %zu bytes; protobuf allows less than 2 GiB", path, n);
    uint8_t *buf = malloc(n ? n : 1);
    AECL_RETURN_IF(!buf, AECL_ERR_HOST_MEMORY, o->ctx, "out of host memory");
    size_t packed = protobuf_c_message_pack(&o->model.base, buf);
    aecl_status st = packed == n ? aecl_write_file_atomic(o->ctx, path, buf, n)
                                 : aecl_fail(o->ctx, AECL_ERR_STATE, "%s: packed %zu of %zu bytes", path, packed, n);
    free(buf);
    return st;
}
