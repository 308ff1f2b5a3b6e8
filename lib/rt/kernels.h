/* Kernel sources: embedded at build time (cmake/embed_kernels.cmake), or read from
 * $AECL_KERNEL_DIR at run time when that is set. */
#ifndef AECL_RT_KERNELS_H
#define AECL_RT_KERNELS_H

#include <stddef.h>

typedef struct aecl_embedded_kernel {
    const char *name;   /* file name, e.g. "gemm.cl" */
    const char *source; /* NUL-terminated */
    size_t len;
} aecl_embedded_kernel;

/* Table ending with a {NULL, NULL, 0} entry. */
extern const aecl_embedded_kernel aecl_embedded_kernels[];

#endif
