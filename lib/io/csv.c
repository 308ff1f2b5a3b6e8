/* Numeric CSV reader and writer. The whole file is read into memory (through
 * zlib, so .csv.gz works too), then parsed line by line; every error names
 * file:line:column and the offending text. */
#define _POSIX_C_SOURCE 200809L

#include "io/io.h"
#include "base/buf.h"
#include "base/error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- reading the file ------------------------------------------------------- */

static aecl_status read_all(aecl_ctx *ctx, const char *path, char **out, size_t *len)
{
    char eb[128];
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return aecl_fail(ctx, AECL_ERR_IO, "cannot open CSV file '%s': %s", path,
                         errno ? aecl_strerror(errno, eb, sizeof eb) : "out of memory");
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    aecl_status st = AECL_OK;
    for (;;) {
        if (!buf) {
            st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "%s: out of memory reading the file", path);
            break;
        }
        size_t room = cap - n - 1;
        if (room > ((size_t)1 << 30)) room = (size_t)1 << 30;   /* gzread counts in unsigned */
        int r = gzread(gz, buf + n, (unsigned)room);
        if (r < 0) {
            int zerr;
            const char *m = gzerror(gz, &zerr);
            st = aecl_fail(ctx, zerr == Z_ERRNO ? AECL_ERR_IO : AECL_ERR_FORMAT,
                           "%s: read failed: %s", path,
                           zerr == Z_ERRNO ? aecl_strerror(errno, eb, sizeof eb) : m);
            break;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (cap - n - 1 < (1 << 15) && !aecl_grow((void **)&buf, &cap, cap + 1, 1, 0)) {
            free(buf);
            buf = NULL;
        }
    }
    gzclose(gz);
    if (st != AECL_OK) {
        free(buf);
        return st;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return AECL_OK;
}

/* ---- splitting a line into fields ------------------------------------------- */

/* Fields of one line, unquoted and NUL-terminated in buf. */
typedef struct fields {
    char *buf;
    size_t *off, *col;    /* start in buf, 1-based column in the line */
    size_t n, cap_off, cap_col;
} fields;

static void fields_free(fields *f)
{
    free(f->buf);
    free(f->off);
    free(f->col);
}

static int fields_push(fields *f, size_t off, size_t col)
{
    if (!aecl_grow((void **)&f->off, &f->cap_off, f->n + 1, sizeof *f->off, 64) ||
        !aecl_grow((void **)&f->col, &f->cap_col, f->n + 1, sizeof *f->col, 64))
        return 0;
    f->off[f->n] = off;
    f->col[f->n] = col;
    f->n++;
    return 1;
}

static const char *field(const fields *f, size_t i) { return f->buf + f->off[i]; }

static int is_blank_char(char c, char sep) { return c == ' ' || (c == '\t' && sep != '\t'); }

/* Splits line[0..len) at sep. Returns 0 on success, else the 1-based column of
 * a quoting error (*why says which); -1 when out of memory. */
static long split_line(const char *line, size_t len, char sep, fields *f, const char **why)
{
    f->n = 0;
    /* Room: each field holds at most its text and one NUL; n fields <= len + 1. */
    char *o = realloc(f->buf, 2 * len + 2);
    if (!o) return -1;
    f->buf = o;
    size_t i = 0, w = 0;
    for (;;) {
        while (i < len && is_blank_char(line[i], sep)) i++;
        if (!fields_push(f, w, i + 1)) return -1;
        if (i < len && line[i] == '"') {
            size_t q = i++;
            for (;;) {
                if (i >= len) {
                    *why = "unterminated quote";
                    return (long)q + 1;
                }
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        o[w++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                o[w++] = line[i++];
            }
            while (i < len && is_blank_char(line[i], sep)) i++;
            if (i < len && line[i] != sep) {
                *why = "text after a closing quote";
                return (long)i + 1;
            }
        } else {
            size_t s = i;
            while (i < len && line[i] != sep) i++;
            size_t e = i;
            while (e > s && is_blank_char(line[e - 1], sep)) e--;
            memcpy(o + w, line + s, e - s);
            w += e - s;
        }
        o[w++] = 0;
        if (i >= len) break;
        i++;   /* the separator */
    }
    return 0;
}

/* ---- numbers ---------------------------------------------------------------- */

enum { NUM_OK, NUM_EMPTY, NUM_BAD, NUM_INF };

static int parse_num(const char *s, float *v)
{
    if (!*s) return NUM_EMPTY;
    char *end;
    errno = 0;
    float x = strtof(s, &end);
    if (end == s || *end) return NUM_BAD;
    if (!isfinite(x)) return NUM_INF;
    *v = x;
    return NUM_OK;
}

static int row_is_numeric(const fields *f)
{
    float v;
    for (size_t i = 0; i < f->n; i++)
        if (parse_num(field(f, i), &v) != NUM_OK) return 0;
    return 1;
}

/* ---- the parser --------------------------------------------------------------- */

typedef struct parser {
    aecl_ctx *ctx;
    const char *path;
    char sep;
    size_t ncols;          /* fields per row in the file */
    size_t first_line;     /* line that set ncols */
    long label;            /* column index of the label, -1 for none */
    size_t rows, cap;      /* rows parsed, rows allocated */
    float *data, *labels;
    fields f;
} parser;

static char detect_sep(const char *line, size_t len)
{
    static const char cand[3] = {',', ';', '\t'};
    size_t best = 0;
    char sep = ',';
    for (int c = 0; c < 3; c++) {
        size_t k = 0;
        for (size_t i = 0; i < len; i++) k += line[i] == cand[c];
        if (k > best) {
            best = k;
            sep = cand[c];
        }
    }
    return sep;
}

static int line_is_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t') return 0;
    return 1;
}

static aecl_status grow_rows(parser *p)
{
    if (p->rows < p->cap) return AECL_OK;
    size_t nc = p->cap ? p->cap * 2 : 256, bytes;
    size_t fcols = p->ncols - (p->label >= 0);
    AECL_RETURN_IF(!aecl_mul_size(nc, fcols ? fcols : 1, &bytes) ||
                   !aecl_mul_size(bytes, sizeof(float), &bytes),
                   AECL_ERR_HOST_MEMORY, p->ctx, "%s: too many rows", p->path);
    float *d = realloc(p->data, bytes);
    AECL_RETURN_IF(!d, AECL_ERR_HOST_MEMORY, p->ctx, "%s: out of memory at row %zu", p->path,
                   p->rows);
    p->data = d;
    if (p->label >= 0) {
        float *l = realloc(p->labels, nc * sizeof *l);
        AECL_RETURN_IF(!l, AECL_ERR_HOST_MEMORY, p->ctx, "%s: out of memory at row %zu",
                       p->path, p->rows);
        p->labels = l;
    }
    p->cap = nc;
    return AECL_OK;
}

static aecl_status add_row(parser *p, size_t lineno)
{
    const fields *f = &p->f;
    AECL_RETURN_IF(f->n != p->ncols, AECL_ERR_FORMAT, p->ctx,
                   "%s:%zu: row has %zu fields, expected %zu (as on line %zu)", p->path, lineno,
                   f->n, p->ncols, p->first_line);
    AECL_TRY(grow_rows(p));
    size_t fcols = p->ncols - (p->label >= 0);
    float *dst = p->data + p->rows * fcols;
    for (size_t i = 0; i < f->n; i++) {
        float v = 0;
        char esc[84];
        int r = parse_num(field(f, i), &v);
        AECL_RETURN_IF(r == NUM_EMPTY, AECL_ERR_FORMAT, p->ctx,
                       "%s:%zu:%zu: field %zu is empty", p->path, lineno, f->col[i], i + 1);
        AECL_RETURN_IF(r == NUM_BAD, AECL_ERR_FORMAT, p->ctx,
                       "%s:%zu:%zu: field %zu '%s' is not a number", p->path, lineno,
                       f->col[i], i + 1, aecl_io_escape(field(f, i), esc, sizeof esc));
        AECL_RETURN_IF(r == NUM_INF, AECL_ERR_FORMAT, p->ctx,
                       "%s:%zu:%zu: field %zu '%s' is not a finite float", p->path, lineno,
                       f->col[i], i + 1, aecl_io_escape(field(f, i), esc, sizeof esc));
        if ((long)i == p->label) p->labels[p->rows] = v;
        else *dst++ = v;
    }
    p->rows++;
    return AECL_OK;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Finds the label column from the options once the first row is known. */
static aecl_status resolve_label(parser *p, const aecl_csv_opts *o, int has_header, size_t line)
{
    p->label = -1;
    if (o->label_name) {
        AECL_RETURN_IF(!has_header, AECL_ERR_FORMAT, p->ctx,
                       "%s: label column '%s' asked by name, but the file has no header row",
                       p->path, o->label_name);
        for (size_t i = 0; i < p->f.n; i++)
            if (strcmp(field(&p->f, i), o->label_name) == 0) {
                p->label = (long)i;
                return AECL_OK;
            }
        return aecl_fail(p->ctx, AECL_ERR_FORMAT, "%s:%zu: no column named '%s' in the header",
                         p->path, line, o->label_name);
    }
    if (!o->has_label) return AECL_OK;
    long k = o->label_index < 0 ? (long)p->ncols + o->label_index : o->label_index;
    AECL_RETURN_IF(k < 0 || k >= (long)p->ncols, AECL_ERR_INVALID_ARG, p->ctx,
                   "%s:%zu: label column %d does not exist (rows have %zu fields)", p->path, line,
                   o->label_index, p->ncols);
    p->label = k;
    return AECL_OK;
}

/* Keeps the header's names, split into features and label. */
static aecl_status keep_names(parser *p, aecl_csv *out)
{
    size_t fcols = p->ncols - (p->label >= 0);
    out->names = calloc(fcols ? fcols : 1, sizeof *out->names);
    AECL_RETURN_IF(!out->names, AECL_ERR_HOST_MEMORY, p->ctx, "%s: out of memory", p->path);
    for (size_t i = 0, j = 0; i < p->f.n; i++) {
        char *s = dup_str(field(&p->f, i));
        AECL_RETURN_IF(!s, AECL_ERR_HOST_MEMORY, p->ctx, "%s: out of memory", p->path);
        if ((long)i == p->label) out->label_name = s;
        else out->names[j++] = s;
    }
    return AECL_OK;
}

/* The first non-blank line: separator, header, column count, label. */
static aecl_status first_row(parser *p, const aecl_csv_opts *o, size_t lineno, aecl_csv *out,
                             int *was_header)
{
    int header = o->header == AECL_CSV_HEADER_YES ||
                 (o->header == AECL_CSV_HEADER_AUTO && !row_is_numeric(&p->f));
    p->ncols = p->f.n;
    p->first_line = lineno;
    AECL_TRY(resolve_label(p, o, header, lineno));
    *was_header = header;
    if (header) return keep_names(p, out);
    return add_row(p, lineno);
}

static aecl_status parse(parser *p, char *text, size_t len, const aecl_csv_opts *o, aecl_csv *out)
{
    size_t lineno = 0;
    int seen_first = 0, was_header = 0;
    char *s = text, *end = text + len;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3;   /* UTF-8 BOM */
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *e = nl ? nl : end;
        size_t n = (size_t)(e - s);
        lineno++;
        if (n && s[n - 1] == '\r') n--;
        if (!line_is_blank(s, n)) {
            if (!p->sep) p->sep = detect_sep(s, n);
            const char *why = NULL;
            long bad = split_line(s, n, p->sep, &p->f, &why);
            AECL_RETURN_IF(bad < 0, AECL_ERR_HOST_MEMORY, p->ctx, "%s: out of memory", p->path);
            AECL_RETURN_IF(bad > 0, AECL_ERR_FORMAT, p->ctx, "%s:%zu:%ld: %s", p->path, lineno,
                           bad, why);
            if (!seen_first) {
                seen_first = 1;
                AECL_TRY(first_row(p, o, lineno, out, &was_header));
            } else {
                AECL_TRY(add_row(p, lineno));
            }
        }
        s = nl ? nl + 1 : end;
    }
    AECL_RETURN_IF(p->rows == 0, AECL_ERR_FORMAT, p->ctx, "%s: no data rows%s", p->path,
                   was_header ? " after the header" : "");
    return AECL_OK;
}

/* Integer copy of the labels when every one is an int32 value. */
static aecl_status int_labels(aecl_ctx *ctx, aecl_csv *c)
{
    for (size_t i = 0; i < c->rows; i++) {
        float v = c->labels[i];
        if (v != floorf(v) || v < -2147483648.0f || v >= 2147483648.0f) return AECL_OK;
    }
    c->label_ints = malloc(c->rows * sizeof *c->label_ints);
    AECL_RETURN_IF(!c->label_ints, AECL_ERR_HOST_MEMORY, ctx, "out of memory for labels");
    for (size_t i = 0; i < c->rows; i++) c->label_ints[i] = (int32_t)c->labels[i];
    return AECL_OK;
}

aecl_status aecl_csv_read(aecl_ctx *ctx, const char *path, const aecl_csv_opts *opts,
                          aecl_csv *out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_csv_read: out is NULL");
    memset(out, 0, sizeof *out);
    AECL_RETURN_IF(!path, AECL_ERR_INVALID_ARG, ctx, "aecl_csv_read: path is NULL");
    aecl_csv_opts o;
    memset(&o, 0, sizeof o);
    if (opts) o = *opts;
    AECL_RETURN_IF(o.sep && o.sep != ',' && o.sep != ';' && o.sep != '\t', AECL_ERR_INVALID_ARG,
                   ctx, "aecl_csv_read: separator must be ',', ';' or tab");
    char *text = NULL;
    size_t len = 0;
    AECL_TRY(read_all(ctx, path, &text, &len));
    parser p;
    memset(&p, 0, sizeof p);
    p.ctx = ctx;
    p.path = path;
    p.sep = o.sep;
    p.label = -1;
    aecl_csv c;
    memset(&c, 0, sizeof c);
    aecl_status st = parse(&p, text, len, &o, &c);
    free(text);
    fields_free(&p.f);
    c.rows = p.rows;
    c.cols = p.ncols - (p.label >= 0);
    c.data = p.data;
    c.labels = p.labels;
    c.sep = p.sep;
    if (st == AECL_OK && c.labels) st = int_labels(ctx, &c);
    if (st != AECL_OK) {
        aecl_csv_free(&c);
        return st;
    }
    *out = c;
    return AECL_OK;
}

void aecl_csv_free(aecl_csv *c)
{
    if (!c) return;
    if (c->names)
        for (size_t i = 0; i < c->cols; i++) free(c->names[i]);
    free(c->names);
    free(c->data);
    free(c->labels);
    free(c->label_ints);
    free(c->label_name);
    memset(c, 0, sizeof *c);
}

/* ---- writing ------------------------------------------------------------------ */

/* The shortest %g form that reads back as the same float. */
static int format_float(char *buf, size_t cap, float v)
{
    if (!isfinite(v)) return snprintf(buf, cap, "%g", (double)v);
    int n = 0;
    for (int prec = 6; prec <= 9; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    return n;
}

/* A name, quoted (RFC 4180) when it holds a separator, quote, line break or
 * edge spaces, so that the reader gets it back unchanged. */
static aecl_status write_name(aecl_ctx *ctx, aecl_atomic_file *f, const char *s)
{
    size_t n = strlen(s);
    int quote = n == 0 || s[0] == ' ' || s[n - 1] == ' ' || strpbrk(s, ",;\t\"\r\n") != NULL;
    if (!quote) return aecl_atomic_write(ctx, f, s, n);
    AECL_TRY(aecl_atomic_write(ctx, f, "\"", 1));
    for (const char *q = s; *q; q++) {
        if (*q == '"') AECL_TRY(aecl_atomic_write(ctx, f, "\"", 1));
        AECL_TRY(aecl_atomic_write(ctx, f, q, 1));
    }
    return aecl_atomic_write(ctx, f, "\"", 1);
}

static aecl_status write_header(aecl_ctx *ctx, aecl_atomic_file *f, const char *const *header,
                                size_t cols, int with_label, const char *label_name)
{
    for (size_t j = 0; j < cols; j++) {
        if (j) AECL_TRY(aecl_atomic_write(ctx, f, ",", 1));
        AECL_TRY(write_name(ctx, f, header[j] ? header[j] : ""));
    }
    if (with_label) {
        if (cols) AECL_TRY(aecl_atomic_write(ctx, f, ",", 1));
        AECL_TRY(write_name(ctx, f, label_name ? label_name : "label"));
    }
    return aecl_atomic_write(ctx, f, "\n", 1);
}

static aecl_status write_rows(aecl_ctx *ctx, aecl_atomic_file *f, const float *data, size_t rows,
                              size_t cols, const int32_t *labels)
{
    char line[4096];
    for (size_t i = 0; i < rows; i++) {
        size_t w = 0;
        for (size_t j = 0; j < cols; j++) {
            if (w > sizeof line - 40) {   /* long rows: flush the line piecewise */
                AECL_TRY(aecl_atomic_write(ctx, f, line, w));
                w = 0;
            }
            if (j) line[w++] = ',';
            w += (size_t)format_float(line + w, sizeof line - w, data[i * cols + j]);
        }
        if (labels) w += (size_t)snprintf(line + w, sizeof line - w, "%s%d", cols ? "," : "",
                                          (int)labels[i]);
        line[w++] = '\n';
        AECL_TRY(aecl_atomic_write(ctx, f, line, w));
    }
    return AECL_OK;
}

aecl_status aecl_csv_write(aecl_ctx *ctx, const char *path, const float *data, size_t rows,
                           size_t cols, const char *const *header, const int32_t *labels,
                           const char *label_name)
{
    size_t total;
    AECL_RETURN_IF(!aecl_mul_size(rows, cols, &total), AECL_ERR_INVALID_ARG, ctx,
                   "aecl_csv_write: %zu x %zu overflows", rows, cols);
    AECL_RETURN_IF(total && !data, AECL_ERR_INVALID_ARG, ctx, "aecl_csv_write: data is NULL");
    AECL_RETURN_IF(!cols && !labels, AECL_ERR_INVALID_ARG, ctx,
                   "aecl_csv_write: no columns to write");
    aecl_atomic_file f;
    AECL_TRY(aecl_atomic_open(ctx, path, &f));
    aecl_status st = AECL_OK;
    if (header) st = write_header(ctx, &f, header, cols, labels != NULL, label_name);
    if (st == AECL_OK) st = write_rows(ctx, &f, data, rows, cols, labels);
    if (st != AECL_OK) {
        aecl_atomic_abort(&f);
        return st;
    }
    return aecl_atomic_commit(ctx, &f);
}
