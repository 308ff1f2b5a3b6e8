#include "base/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int aecl_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap : (first ? first : 1);
    while (c < need) {
        if (c > SIZE_MAX / 2) return 0;
        c *= 2;
    }
    if (elem && c > SIZE_MAX / elem) return 0;
    void *n = realloc(*arr, c * elem);
    if (!n) return 0;
    *arr = n;
    *cap = c;
    return 1;
}

/* Room for n more bytes and the terminating NUL. */
static int reserve(aecl_strbuf *b, size_t n)
{
    if (b->failed) return 0;
    if (n > SIZE_MAX - b->len - 1 || !aecl_grow((void **)&b->s, &b->cap, b->len + n + 1, 1, 256)) {
        b->failed = 1;
        return 0;
    }
    return 1;
}

void aecl_strbuf_put(aecl_strbuf *b, const char *text, size_t n)
{
    if (!reserve(b, n)) return;
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = 0;
}

void aecl_strbuf_str(aecl_strbuf *b, const char *text) { aecl_strbuf_put(b, text, strlen(text)); }

void aecl_strbuf_printf(aecl_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) { b->failed = 1; return; }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *aecl_strbuf_take(aecl_strbuf *b)
{
    if (b->failed) { aecl_strbuf_free(b); return NULL; }
    if (!b->s) reserve(b, 0);
    char *s = b->failed ? NULL : b->s;
    if (s) s[b->len] = 0;
    *b = (aecl_strbuf){0};
    return s;
}

void aecl_strbuf_free(aecl_strbuf *b)
{
    free(b->s);
    *b = (aecl_strbuf){0};
}
