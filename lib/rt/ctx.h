/* The context struct, shared by the runtime files. Not part of the public API. */
#ifndef AECL_RT_CTX_H
#define AECL_RT_CTX_H

#include "aecl_cl.h"
#include "base/error.h"
#include "rt/tuning.h"

#include <stddef.h>

/* State a layer above rt keeps per context (rt knows none of it): found by the
 * address of a static object of its owner, released with the context by the
 * owner's callback, after the context's programs and before its queue. */
typedef struct aecl_ctx_slot {
    const void *owner;
    void *data;
    void (*release)(void *data);
    struct aecl_ctx_slot *next;
} aecl_ctx_slot;

typedef struct aecl_prog_entry {
    char *file;
    char *options;
    cl_program program;                /* NULL in an alias */
    struct aecl_prog_entry *alias_of;  /* a variant in a shared program (rt/variants.c): that program's entry */
    char suffix[12];                   /* an alias's suffix of kernel names, e.g. "_v2" */
    struct aecl_prog_entry *next;
} aecl_prog_entry;

struct aecl_ctx {
    aecl_err_state err;           /* first: the base layer reaches it through the pointer */
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    int owns_cl;                  /* 0 when adopted from the caller: release only our retains */
    int profiling;                /* queue has CL_QUEUE_PROFILING_ENABLE */
    aecl_device_info info;
    aecl_tuning tuning;           /* the device-decision table (rt/tuning.h) */
    aecl_prog_entry *programs;    /* programs built for this context, by file + options */
    aecl_program_stats prog_stats;
    aecl_ctx_slot *slots;         /* the upper layers' per-context state (aecl_ctx_slot_set) */
};

_Static_assert(offsetof(struct aecl_ctx, err) == 0, "lib/base/error.c reads a context's aecl_err_state at its start");

/* Fills info for one device. */
void aecl_device_fill_info(cl_platform_id p, cl_device_id d, unsigned pi, unsigned di,
                           aecl_device_info *info);

#endif
