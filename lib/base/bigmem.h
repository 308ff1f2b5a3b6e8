/* Memory for large arrays (data sets, a CPU device's buffers): the first touch of
 * a fresh page costs a page fault, and at 4 kB a page the faults of a 200 MB data
 * set took longer than decoding it (0.1-0.6 s in a virtual machine). Base layer. */
#ifndef AECL_BASE_BIGMEM_H
#define AECL_BASE_BIGMEM_H

#include <stddef.h>

/* Blocks of at least this many bytes are aligned to it and, where the system
 * offers transparent huge pages on request (Linux, MADV_HUGEPAGE), backed by
 * pages of this size. */
#define AECL_BIG_PAGE ((size_t)2 << 20)

/* malloc(bytes) for an array that may be large: free() releases it. NULL when
 * memory runs out. The huge-page request is a hint: refused, nothing changes. */
void *aecl_malloc_big(size_t bytes);

#endif
