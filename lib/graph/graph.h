/* Static computation graph: tensors are nodes (op, inputs, shape, flags), as in
 * ggml. Building has a sticky error state, like a stream: a builder that fails
 * records the message in the context and returns NULL, builders given NULL return
 * NULL, and the caller checks aecl_graph_status() once at the end. */
#ifndef AECL_GRAPH_GRAPH_H
#define AECL_GRAPH_GRAPH_H

#include "rt/rt.h"

#define AECL_MAX_DIMS 4
#define AECL_MAX_INPUTS 8
#define AECL_OP_PARAM_BYTES 48

enum {
    AECL_T_INPUT = 1 << 0,     /* uploaded by the caller before a step */
    AECL_T_OUTPUT = 1 << 1,    /* kept alive to the end of a step, readable; a plan compiles
                                  only what outputs and side-effect nodes need */
    AECL_T_PARAM = 1 << 2,     /* trainable weights: persistent */
    AECL_T_LOSS = 1 << 3,      /* a scalar loss */
    AECL_T_STATE = 1 << 4,     /* optimizer state: persistent, zero-initialised */
    AECL_T_GRAD = 1 << 5,      /* needs (or is) a gradient */
    AECL_T_SIDE = 1 << 6,      /* a side-effect node (optimizer update): no storage */
    AECL_T_CONST = 1 << 7,     /* persistent, written once by the caller (host constants) */
    AECL_T_REPORT = 1 << 8,    /* an output read only on some steps (a training step's losses):
                                  the launches that nothing else needs are skipped while
                                  the plan does not report (aecl_plan_set_reporting) */
    AECL_T_ZEROED = 1 << 9     /* persistent, zeroed when the plan is made, then written in
                                  part (a padded copy its producer writes: compile/pad_fold.c) */
};

typedef struct aecl_op_def aecl_op_def;
typedef struct aecl_tensor aecl_tensor;
typedef struct aecl_graph aecl_graph;
typedef struct aecl_plan aecl_plan;

struct aecl_tensor {
    int id;                          /* index in the graph's node list = execution order */
    const aecl_op_def *op;           /* NULL for leaves (inputs, params, state) */
    int n_in;
    aecl_tensor *in[AECL_MAX_INPUTS];
    aecl_tensor **extra;             /* more tensors the op reads or writes (a fused
                                        optimizer's parameters, gradients, state): the
                                        memory plan keeps them alive up to this node */
    int n_extra;
    int ndim;
    int shape[AECL_MAX_DIMS];        /* row-major; images are NCHW */
    size_t size;                     /* elements */
    unsigned flags;
    char name[48];
    union {                          /* the op's parameters: a struct of the op's own,
                                        read through its typed view (AECL_OP_PARAMS) */
        unsigned char bytes[AECL_OP_PARAM_BYTES];
        double align_;
    } param;
    aecl_tensor *grad;               /* gradient, built by aecl_backward */
    aecl_tensor *view_of;            /* views (reshape) alias this tensor's storage */
    char *code;                      /* a fused node's generated kernel source (owned) */
    /* set by the memory plan */
    int storage;                     /* AECL_STORE_* */
    size_t offset;                   /* element offset in that storage */
    int last_use;                    /* id of the last node that reads it */
};

enum { AECL_STORE_NONE = 0, AECL_STORE_PERSIST = 1, AECL_STORE_WORK = 2 };

struct aecl_graph {
    aecl_ctx *ctx;
    aecl_tensor **nodes;
    int n_nodes;
    size_t cap;
    aecl_status status;              /* sticky: first error while building */
    int n_forward;                   /* nodes [0, n_forward) are the forward pass */
    aecl_tensor **fused_away;        /* nodes folded into fused kernels: off the node
                                        list, kept so pointers to them stay valid */
    int n_fused_away;
};

aecl_status aecl_graph_create(aecl_ctx *ctx, aecl_graph **out);
void aecl_graph_free(aecl_graph *g);
aecl_status aecl_graph_status(const aecl_graph *g);

/* Records an error on the graph (first one wins) and returns NULL. */
aecl_tensor *aecl_graph_fail(aecl_graph *g, aecl_status st, const char *fmt, ...) AECL_PRINTF(3, 4);

/* Leaves. shape has ndim entries. */
aecl_tensor *aecl_input(aecl_graph *g, const char *name, int ndim, const int *shape);
aecl_tensor *aecl_param(aecl_graph *g, const char *name, int ndim, const int *shape);
aecl_tensor *aecl_state(aecl_graph *g, const char *name, int ndim, const int *shape);

/* A new node of op with the given inputs (NULL-terminated by n_in) and shape.
 * Returns NULL (sticky error) if any input is NULL. */
aecl_tensor *aecl_node(aecl_graph *g, const aecl_op_def *op, const char *name, int ndim, const int *shape,
                       int n_in, aecl_tensor *const *in);

/* Shape text "2x3x4" for messages (into buf). */
const char *aecl_shape_str(const aecl_tensor *t, char *buf, size_t cap);
int aecl_same_shape(const aecl_tensor *a, const aecl_tensor *b);
/* Rows = shape[0], cols = size / rows: how dense and losses see a tensor. */
static inline int aecl_rows(const aecl_tensor *t) { return t->shape[0]; }
static inline int aecl_cols(const aecl_tensor *t) { return (int)(t->size / (size_t)t->shape[0]); }
/* The tensor whose storage t uses: the base of a view, else t itself (like
 * strchr, it takes a const tensor and hands back a writable one). */
static inline aecl_tensor *aecl_storage_of(const aecl_tensor *t)
{
    return t->view_of ? t->view_of : (aecl_tensor *)(void *)t;
}

/* Adds x to t's extra inputs (sticky error on failure). */
void aecl_node_add_extra(aecl_graph *g, aecl_tensor *t, aecl_tensor *x);

/* Marks flags (e.g. AECL_T_OUTPUT) on t; returns t. */
aecl_tensor *aecl_mark(aecl_tensor *t, unsigned flags);

/* Op parameters. The graph core knows no op: a node carries a block of
 * AECL_OP_PARAM_BYTES, and each op (lib/ops) declares the struct of its
 * parameters and a typed view of the block with
 *     AECL_OP_PARAMS(aecl_pool_p, aecl_pool_params)
 * which defines `aecl_pool_params *aecl_pool_p(const aecl_tensor *t)` (like
 * strchr, it takes a const node: emitters and passes read, builders write) and
 * fails to compile when the struct does not fit. Builders set the parameters,
 * emitters and backward rules read them when a plan is compiled. */
#define AECL_OP_PARAMS(fn, TYPE)                                                                 \
    _Static_assert(sizeof(TYPE) <= AECL_OP_PARAM_BYTES, #TYPE " must fit a node's parameters"); \
    static inline TYPE *fn(const aecl_tensor *t) { return (TYPE *)(void *)t->param.bytes; }


#endif
