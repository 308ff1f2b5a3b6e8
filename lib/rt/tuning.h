/* The device-decision table: every device-dependent kernel choice in one
 * place, computed once per context from the device's queried limits
 * (lib/rt/tuning.c), with one override syntax.
 *
 * Ops read their choices here and never query the device or the environment
 * themselves. Overrides: $AECL_TUNE at context creation (and aecl_ctx_tune for
 * tests), a list of key=value separated by commas or spaces, e.g.
 *   AECL_TUNE="type=gpu,wg_max=64"      a GPU's code paths on a CPU device
 *   AECL_TUNE="conv_vw=4,conv_p=4"      one conv blocking
 *   AECL_TUNE="gemm=clblast"            every AUTO GEMM on CLBlast
 * Keys are listed once, in AECL_TUNING_KEYS; an unknown key or a bad value
 * fails context creation with a message naming it and the valid choices. */
#ifndef AECL_RT_TUNING_H
#define AECL_RT_TUNING_H

#include "aecl_cl.h"

#include <stddef.h>
#include <stdint.h>

/* GEMM path for AUTO descriptors and forced own kernels (lib/ops/gemm.c). */
enum { AECL_TUNE_GEMM_AUTO = 0, AECL_TUNE_GEMM_OWN = 1, AECL_TUNE_GEMM_CLBLAST = 2 };
enum {
    AECL_TUNE_GK_AUTO = 0, AECL_TUNE_GK_OUTER = 1, AECL_TUNE_GK_PACKED = 2, AECL_TUNE_GK_DOT = 3,
    AECL_TUNE_GK_PORTABLE = 4
};

/* X(key, field, kind, lo, hi, help). kind: 'n' a number in [lo, hi], 'p' a power
 * of two in [lo, hi] (or 0 when lo is 0), 'e' one of the words in help (the
 * value is its index). */
#define AECL_TUNING_KEYS(X)                                                                                     \
    X("type", cpu, 'e', 0, 1, "gpu|cpu")                                                                        \
    X("wg_max", wg_max, 'p', 1, 1 << 16, "largest work-group of any launch")                                  \
    X("local_mem", local_mem, 'n', 1024, 1 << 30, "bytes of local memory a kernel may use")                    \
    X("simd", simd, 'p', 0, 16, "SIMD floats of a CPU; 0: not a SIMD CPU")                                   \
    X("gemm", gemm_path, 'e', 0, 2, "auto|own|clblast")                                                        \
    X("gemm_kernel", gemm_kernel, 'e', 0, 4, "auto|outer|packed|dot|portable")                                 \
    X("gemm_vw", gemm_vw, 'p', 4, 16, "floats per vector of the CPU GEMM kernels")                            \
    X("conv_vw", conv_vw, 'p', 1, 16, "channels per vector of the conv kernels")                               \
    X("conv_p", conv_p, 'n', 1, 16, "output pixels per conv work-item")                                        \
    X("conv_kv", conv_kv, 'n', 1, 4, "channel vectors per conv work-item")                                     \
    X("conv_wj", conv_wj, 'n', 1, 16, "weight-gradient taps per work-item")                                    \
    X("rng_blocks", rng_blocks, 'p', 1, 16, "Philox blocks per work-item")                                     \
    X("loss_vw", loss_vw, 'p', 1, 16, "floats per vector of the loss kernels")                                 \
    X("loss_wg", loss_wg, 'p', 1, 64, "largest work-group of a loss row")                                       \
    X("dist_overlap", dist_overlap, 'n', 0, 1, "data-parallel: sum gradients during the backward pass")

/* AECL_TUNE_KEY_<field>: a key's place in the list (its bit in `overridden`). */
#define AECL_TUNE_KEY_ENUM(key, field, kind, lo, hi, help) AECL_TUNE_KEY_##field,
enum { AECL_TUNING_KEYS(AECL_TUNE_KEY_ENUM) AECL_TUNE_N_KEYS };
#undef AECL_TUNE_KEY_ENUM

typedef struct aecl_tuning {
    /* Queried once (before overrides). */
    unsigned compute_units;
    size_t max_wg_device;       /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t max_item_sizes[3];   /* CL_DEVICE_MAX_WORK_ITEM_SIZES */
    int native_floats;          /* CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT */
    int preferred_floats;       /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT */
    /* Decided (each may be overridden by its key). */
    int cpu;                    /* CPU code paths: work-items run as loops over SIMD lanes (PoCL) */
    int wg_max;                 /* no launch has a larger work-group */
    int local_mem;              /* bytes of local memory a kernel may use */
    int simd;                   /* SIMD floats of a CPU (exp/log as vector calls), 0 elsewhere */
    int gemm_path, gemm_kernel, gemm_vw;
    int conv_vw, conv_p, conv_kv, conv_wj;
    int rng_blocks;
    int loss_vw, loss_wg;
    int dist_overlap;           /* data-parallel training sums early gradients on a thread of
                                   the host while the device runs the rest of the backward pass */
    /* Which keys were overridden (bit per key, in list order). */
    unsigned overridden;
} aecl_tuning;

/* Queried facts a device gives (pure input to aecl_tuning_decide, so the rules
 * can be tested without a device). */
typedef struct aecl_tuning_facts {
    aecl_device_type type;
    unsigned compute_units;
    size_t max_wg, max_item_sizes[3];
    uint64_t local_mem;
    int native_floats, preferred_floats;
} aecl_tuning_facts;

/* The decisions for a device's facts with the overrides of `spec` (NULL or ""
 * for none). Fails with AECL_ERR_INVALID_ARG and a message in `err` naming the
 * bad key or value. */
aecl_status aecl_tuning_decide(const aecl_tuning_facts *f, const char *spec, aecl_tuning *out, char *err,
                               size_t err_cap);

/* The context's table (set at creation from the device and $AECL_TUNE). */
const aecl_tuning *aecl_ctx_tuning(const aecl_ctx *ctx);

/* Re-decides the context's table from its device, $AECL_TUNE, then `spec`
 * (NULL: $AECL_TUNE alone). For tests and tuning tools: programs already built
 * stay (their options name their choices), plans compiled before keep theirs. */
aecl_status aecl_ctx_tune(aecl_ctx *ctx, const char *spec);

/* The table as text, "key=value" per entry (overridden ones marked *), for
 * `aecl devices --tuning`. */
void aecl_tuning_format(const aecl_tuning *t, char *buf, size_t cap);

#endif
