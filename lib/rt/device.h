/* All devices of all platforms, as a table, and selection in it. */
#ifndef AECL_RT_DEVICE_H
#define AECL_RT_DEVICE_H

#include "rt/ctx.h"

typedef struct aecl_device_ref {
    cl_platform_id platform;
    cl_device_id device;
} aecl_device_ref;

typedef struct aecl_device_set {
    aecl_device_ref *devices;
    aecl_device_info *info;
    size_t count;
    size_t default_index;   /* first GPU, else first CPU, else 0 */
} aecl_device_set;

/* Errors go to the thread's message slot (there is no context yet). */
aecl_status aecl_device_set_load(aecl_device_set *s);
void aecl_device_set_free(aecl_device_set *s);
/* Resolves a selector (see aecl_ctx_create) to an index in the set. */
aecl_status aecl_device_select(const aecl_device_set *s, const char *selector, size_t *out);

#endif
