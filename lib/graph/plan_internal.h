/* The plan struct, shared by memplan.c, compile.c and exec.c. */
#ifndef AECL_GRAPH_PLAN_INTERNAL_H
#define AECL_GRAPH_PLAN_INTERNAL_H

#include "graph/plan.h"

/* Tensor regions are aligned to 64 floats (256 bytes): vector loads and CLBlast
 * stay aligned, and the waste is small next to real tensors. */
#define AECL_ALIGN_ELEMS 64

typedef struct aecl_dyn_arg {
    cl_kernel kernel;
    cl_uint index;
    char kind;                  /* 'S' step, 'V' valid rows */
} aecl_dyn_arg;

struct aecl_plan {
    aecl_ctx *ctx;
    aecl_graph *g;
    aecl_plan_options opt;
    aecl_plan_stats stats;
    cl_mem persist, work, dummy;
    size_t persist_elems, work_elems;
    aecl_launch *launches;
    int n_launches, cap_launches;
    cl_kernel *kernels;         /* kernels created for launches not yet pushed */
    int n_kernels, cap_kernels;
    aecl_dyn_arg *dyn;
    int n_dyn, cap_dyn;
    uint64_t step;
    int valid_rows;
};

/* Assigns storage and offsets to every tensor of the graph (memplan.c). With
 * poison set, also returns, per node, the list of work tensors that die there. */
aecl_status aecl_memplan(aecl_plan *p);

/* Work tensors whose storage ends at node id (for poisoning). */
int aecl_memplan_dying(const aecl_plan *p, int node_id, const aecl_tensor **out, int cap);

#endif
