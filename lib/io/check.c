/* What every reader checks the same way: sizes a file declares against the
 * bytes it holds (before anything is allocated for them), non-finite values,
 * and file text quoted in messages. */
#define _POSIX_C_SOURCE 200809L

#include "io/io.h"
#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t aecl_first_nonfinite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

const char *aecl_nonfinite_name(float v)
{
    return isnan(v) ? "NaN" : v > 0 ? "infinite" : "-infinite";
}

aecl_status aecl_check_tensor_finite(aecl_ctx *ctx, const char *path, const char *name, const float *x, size_t n)
{
    size_t bad = aecl_first_nonfinite(x, n);
    AECL_RETURN_IF(bad < n, AECL_ERR_NUMERIC, ctx, "tensor '%s' holds NaN or infinite values (value %zu is %s): %s "
                   "not written", name, bad, aecl_nonfinite_name(x[bad]), path);
    return AECL_OK;
}

/* Exact below a billion; "2.7e15" above, where the digits would only hide the size. */
const char *aecl_io_count_str(double n, char *buf, size_t cap)
{
    if (n < 1e9) {
        snprintf(buf, cap, "%.0f", n);
        return buf;
    }
    int e = (int)floor(log10(n));
    double m = n / pow(10, e);
    if (m >= 9.95) { m /= 10; e++; }   /* 9.97e15 prints as 1.0e16, not 10.0e15 */
    snprintf(buf, cap, "%.1fe%d", m, e);
    return buf;
}

aecl_status aecl_io_check_held(aecl_ctx *ctx, const char *path, double declared, size_t value_bytes,
                               uint64_t held_bytes)
{
    if (declared * (double)value_bytes <= (double)held_bytes) return AECL_OK;
    char d[32], h[32];
    return aecl_fail(ctx, AECL_ERR_FORMAT, "%s: the file declares %s values but holds %s bytes of data", path,
                     aecl_io_count_str(declared, d, sizeof d), aecl_io_count_str((double)held_bytes, h, sizeof h));
}

/* Control characters (and DEL) become \xNN, so that a file cannot move the
 * cursor, clear the screen or forge lines in a terminal that shows the message. */
const char *aecl_io_escape(const char *s, char *buf, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t w = 0;
    if (cap < 4) {
        if (cap) buf[0] = 0;
        return buf;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int ctl = *p < 0x20 || *p == 0x7f;
        size_t need = ctl ? 4 : 1;
        if (w + need + 4 > cap) {   /* room for "..." and the NUL */
            memcpy(buf + w, "...", 3);
            w += 3;
            break;
        }
        if (!ctl) { buf[w++] = (char)*p; continue; }
        buf[w++] = '\\';
        buf[w++] = 'x';
        buf[w++] = hex[*p >> 4];
        buf[w++] = hex[*p & 15];
    }
    buf[w] = 0;
    return buf;
}
