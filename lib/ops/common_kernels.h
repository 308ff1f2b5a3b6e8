/* The common program: the small kernels of cl/eltwise.cl, reduce.cl, loss.cl,
 * random.cl, optim.cl and conv_layout.cl, and gemm.cl's gemm_outer, gemm_dot
 * and (CPUs) gemm_packed with their transposes and bias at run time
 * (ops/gemm.h), built as one program
 * (cl/common.cl requires them all) with one set of options that depends only
 * on the device. Every model uses several of these files; as separate
 * programs each cost PoCL a front end on a first run (0.1-0.15 s) and a
 * preprocessing of its headers to hash the source on every later run (25-40
 * ms), which is most of a warm start. */
#ifndef AECL_OPS_COMMON_KERNELS_H
#define AECL_OPS_COMMON_KERNELS_H

#include "graph/plan.h"

/* Compile-time sizes of cl/optim.cl that the host's tables follow: a chunk's
 * elements (one work-group each) and the full chunks per group of the
 * sum-of-squares kernel. */
enum { AECL_OPT_CHUNK = 256, AECL_OPT_SQ_K = 16 };

/* The common program's file, and its options on ctx's device (written to opts,
 * at most cap bytes; 256 are enough). */
#define AECL_COMMON_FILE "common.cl"
void aecl_common_options(aecl_ctx *ctx, char *opts, size_t cap);

/* Kernel `name` of the common program, kept by the plan. */
aecl_status aecl_common_kernel(aecl_plan *p, const char *name, cl_kernel *k);

#endif
