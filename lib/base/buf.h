/* Growable arrays and strings: the one definition of "double the capacity until it
 * fits", which the graph, the memory planner, the parsers and the writers share.
 * Base layer: no status, no messages; callers report a failure in their words. */
#ifndef AECL_BASE_BUF_H
#define AECL_BASE_BUF_H

#include <stddef.h>

#if defined(__GNUC__)
#define AECL_BUF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AECL_BUF_PRINTF(a, b)
#endif

/* Makes room for `need` elements of `elem` bytes in *arr, whose capacity is *cap
 * elements: doubles (from `first`) until it fits, overflow-checked. Returns 1, or
 * 0 with *arr and *cap unchanged when memory or size_t runs out. */
int aecl_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first);

/* A NUL-terminated string that grows as text is appended. The first failure
 * (memory) sets `failed`; later appends do nothing, so a builder checks once. */
typedef struct aecl_strbuf {
    char *s;        /* NULL until something is appended */
    size_t len, cap;
    int failed;
} aecl_strbuf;

void aecl_strbuf_put(aecl_strbuf *b, const char *text, size_t n);
void aecl_strbuf_str(aecl_strbuf *b, const char *text);
void aecl_strbuf_printf(aecl_strbuf *b, const char *fmt, ...) AECL_BUF_PRINTF(2, 3);
/* Hands the string to the caller (never NULL unless failed; "" when empty) and
 * resets b; NULL after a failure (b is then freed). */
char *aecl_strbuf_take(aecl_strbuf *b);
void aecl_strbuf_free(aecl_strbuf *b);

#endif
