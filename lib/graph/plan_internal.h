/* The plan struct: recorded by plan.c, run by exec.c, laid out and filled by the
 * compiler (lib/compile). */
#ifndef AECL_GRAPH_PLAN_INTERNAL_H
#define AECL_GRAPH_PLAN_INTERNAL_H

#include "graph/plan.h"

/* Tensor regions are aligned to 64 floats (256 bytes): vector loads and CLBlast
 * stay aligned, and the waste is small next to real tensors. */
#define AECL_ALIGN_ELEMS 64

typedef struct aecl_dyn_arg {
    cl_kernel kernel;
    cl_uint index;
    char kind;                  /* 'S' step, 'V' valid rows, 'O' row offset */
} aecl_dyn_arg;

/* The kernel files and options the gathering pass met (lib/compile/compile.c). */
typedef struct aecl_variant_list {
    char **files, **options;
    int n;
    size_t cap_files, cap_options;
} aecl_variant_list;

/* aecl_plan_kernel's answer while gathering: the request is noted, the emit stops. */
#define AECL_GATHERED ((aecl_status)1000)

struct aecl_plan {
    aecl_ctx *ctx;
    aecl_graph *g;
    aecl_plan_options opt;
    aecl_plan_stats stats;
    cl_mem persist, work, dummy;
    size_t persist_elems, work_elems;
    aecl_launch *launches;
    int n_launches;
    size_t cap_launches;
    cl_kernel *kernels;         /* kernels created for launches not yet pushed */
    int n_kernels;
    size_t cap_kernels;
    aecl_dyn_arg *dyn;
    int n_dyn;
    size_t cap_dyn;
    uint64_t step;
    int valid_rows;
    uint32_t row_offset;
    aecl_plan_grad *grads;      /* the trainable parameters' gradients (memplan, emit) */
    int n_grads;
    size_t grad_off, grad_elems; /* their region of the work arena */
    int update_start;           /* first launch after the last gradient's */
    unsigned char *report_only; /* per launch: only AECL_T_REPORT outputs need it */
    size_t cap_report;
    int reporting;              /* 0: report_only launches are skipped (default 1) */
    aecl_plan_first_fn watch;   /* aecl_plan_watch_first_launches: NULL when off */
    void *watch_user;
    unsigned char *first_kind;  /* per launch: the first of its kind (while watched) */
    int n_kinds, kinds_done;
    aecl_variant_list *gather;  /* non-NULL during the gathering pass */
};

#endif
