/* aecl_malloc_big: aligned_alloc plus a request for huge pages (bigmem.h says why). */
#define _DEFAULT_SOURCE
#include "base/bigmem.h"

#include <stdlib.h>
#include <sys/mman.h>

void *aecl_malloc_big(size_t bytes)
{
    if (bytes < AECL_BIG_PAGE) return malloc(bytes ? bytes : 1);
    size_t len = (bytes + AECL_BIG_PAGE - 1) / AECL_BIG_PAGE * AECL_BIG_PAGE;
    if (len < bytes) return NULL; /* size_t overflow */
    void *p = aligned_alloc(AECL_BIG_PAGE, len);
#ifdef MADV_HUGEPAGE
    if (p) (void)madvise(p, len, MADV_HUGEPAGE); /* a hint: refused, the pages stay small */
#endif
    return p;
}
