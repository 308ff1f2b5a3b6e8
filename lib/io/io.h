/* aecl's file input/output layer: IDX (.gz), CSV, PNG, safetensors, .npy.
 *
 * Internal header (not installed), used by lib/nn and apps. Conventions:
 *  - Every function takes `aecl_ctx *ctx` first. It may be NULL: the error message
 *    then goes to the calling thread's slot, read with aecl_ctx_last_error(NULL).
 *    No function here needs an OpenCL device.
 *  - Every function returns aecl_status. Messages name the file, and for text
 *    input the line and column ("data.csv:7:12: ..."). Status codes:
 *      AECL_ERR_IO           a file cannot be opened, read, written or renamed;
 *      AECL_ERR_FORMAT       a file is malformed (wrong magic, truncated, bad JSON);
 *      AECL_ERR_UNSUPPORTED  a well-formed file uses a feature aecl lacks
 *                            (a safetensors dtype other than F32);
 *      AECL_ERR_INVALID_ARG  a bad argument from the caller;
 *      AECL_ERR_HOST_MEMORY  malloc failed or a size overflowed.
 *  - Every writer writes atomically (aecl_atomic_*): the target is either the old
 *    file or the complete new one, never a partial file.
 *  - Output structs are filled only on success; on failure they are zeroed, so
 *    calling the matching aecl_*_free on them is always safe. Each struct owns
 *    its arrays; free it with the aecl_*_free named next to it (NULL-safe,
 *    and it zeroes the struct, so freeing twice is harmless).
 *  - Numbers in files are little-endian except IDX (big-endian), whatever the host.
 */
#ifndef AECL_IO_IO_H
#define AECL_IO_IO_H

#include "aecl.h"
#include "base/atomic.h"
#include "base/error.h"

#include <stdint.h>
#include <stdio.h>

/* Whether path's file name ends in ".npy" (the one test of a .npy name; case
 * matters, as numpy writes it). */
int aecl_io_is_npy(const char *path);

/* ---- checks every reader shares (check.c) ------------------------------------ */

/* Index of the first NaN or infinite value of x[0..n), or n when all are finite. */
size_t aecl_first_nonfinite(const float *x, size_t n);
/* "NaN", "infinite" or "-infinite": what a non-finite v is, for messages. */
const char *aecl_nonfinite_name(float v);
/* AECL_ERR_NUMERIC "tensor 'NAME' holds NaN or infinite values (value I is NaN):
 * PATH not written" unless x[0..n) are all finite: writers of weights call it for
 * each tensor before they write anything. */
aecl_status aecl_check_tensor_finite(aecl_ctx *ctx, const char *path, const char *name, const float *x, size_t n);
/* AECL_ERR_FORMAT "PATH: the file declares 2.7e15 values but holds 24 bytes of
 * data" unless declared values of value_bytes each fit in held_bytes. Readers call
 * it before they allocate for what a header declares. */
aecl_status aecl_io_check_held(aecl_ctx *ctx, const char *path, double declared, size_t value_bytes,
                               uint64_t held_bytes);
/* A count for messages: exact below 1e9, else like "2.7e15". Returns buf. */
const char *aecl_io_count_str(double n, char *buf, size_t cap);
/* Text from a file, fit to quote in a message: control characters as \xNN,
 * cut with "..." to fit cap. Returns buf. */
const char *aecl_io_escape(const char *s, char *buf, size_t cap);

/* ---- IDX files (idx.c) -------------------------------------------------------
 * The MNIST/Fashion-MNIST format: 2 zero bytes, a dtype byte, a dims-count byte,
 * big-endian uint32 dims, then big-endian data. gzip or plain (zlib tells them
 * apart). Element dtypes: 0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32,
 * 0x0D float32, 0x0E float64; all are converted to float32. */
#define AECL_IDX_MAX_DIMS 8
enum {
    AECL_IDX_UBYTE = 0x08, AECL_IDX_SBYTE = 0x09, AECL_IDX_INT16 = 0x0B,
    AECL_IDX_INT32 = 0x0C, AECL_IDX_FLOAT32 = 0x0D, AECL_IDX_FLOAT64 = 0x0E
};
enum {
    AECL_IDX_MAGIC_IMAGES = 0x00000803,  /* ubyte, 3 dims: N x H x W */
    AECL_IDX_MAGIC_LABELS = 0x00000801   /* ubyte, 1 dim: N */
};
/* aecl_idx_read flags. */
enum {
    AECL_IDX_SCALE01 = 1u,   /* ubyte data: divide by 255 (other dtypes: no effect) */
    AECL_IDX_RAW_U8 = 2u     /* keep ubyte data as bytes in .u8 (.data stays NULL);
                                a file of another dtype is then an AECL_ERR_FORMAT */
};

typedef struct aecl_idx {
    unsigned dtype;                   /* AECL_IDX_UBYTE, ... as stored in the file */
    unsigned ndim;                    /* 1..AECL_IDX_MAX_DIMS */
    size_t dims[AECL_IDX_MAX_DIMS];   /* dims[0] = items loaded (after `limit`) */
    size_t file_items;                /* dims[0] as the file states it */
    size_t item_elems;                /* elements per item: product of dims[1..] */
    size_t count;                     /* elements loaded: dims[0] * item_elems */
    float *data;                      /* count floats (NULL when count is 0 or with AECL_IDX_RAW_U8) */
    uint8_t *u8;                      /* count bytes with AECL_IDX_RAW_U8, else NULL */
} aecl_idx;

/* Reads any IDX file. limit > 0 loads only the first `limit` items (only those
 * bytes are read: a fast subset); 0 loads all, and bytes after them are an error.
 * What the header declares must fit in the file before anything is allocated;
 * float data must be finite. Free with aecl_idx_free. */
aecl_status aecl_idx_read(aecl_ctx *ctx, const char *path, size_t limit, unsigned flags,
                          aecl_idx *out);
/* Only the header: dtype, dims and counts as aecl_idx_read would give them, no data
 * (.data and .u8 stay NULL), so a caller can check the shape before the body is read. */
aecl_status aecl_idx_read_header(aecl_ctx *ctx, const char *path, size_t limit, aecl_idx *out);
/* Requires magic 0x00000803 (ubyte N x H x W); data as float, /255 if scale01. */
aecl_status aecl_idx_read_images(aecl_ctx *ctx, const char *path, size_t limit, int scale01,
                                 aecl_idx *out);
/* Requires magic 0x00000801 (ubyte N); labels as bytes in .u8. */
aecl_status aecl_idx_read_labels(aecl_ctx *ctx, const char *path, size_t limit, aecl_idx *out);
void aecl_idx_free(aecl_idx *x);

/* ---- CSV (csv.c) -------------------------------------------------------------
 * Numeric rows; gzip-compressed files are read too. Separator ',' or ';' or tab,
 * detected from the first row (the one it holds most of) unless given. The first
 * row is a header when any of its fields is not a number (or as forced).
 * Blank lines are skipped; CRLF and a UTF-8 BOM are fine; fields may be quoted
 * ("a,b" with "" for a quote). Values must be finite (nan/inf are errors). */
enum { AECL_CSV_HEADER_AUTO = 0, AECL_CSV_HEADER_YES = 1, AECL_CSV_HEADER_NO = 2 };

typedef struct aecl_csv_opts {
    int header;              /* AECL_CSV_HEADER_AUTO / _YES / _NO */
    char sep;                /* 0: detect */
    int has_label;           /* split off a label column */
    int label_index;         /* its 0-based index among the file's columns; negative
                                counts from the end (-1 = last). Ignored if label_name */
    const char *label_name;  /* or its header name (implies has_label; needs a header) */
} aecl_csv_opts;             /* zero-initialized = auto header, auto sep, no label */

typedef struct aecl_csv {
    size_t rows, cols;       /* the feature matrix (label column removed) */
    float *data;             /* rows * cols, row-major */
    char **names;            /* cols feature names, or NULL without a header */
    float *labels;           /* rows label values, or NULL without a label column */
    int32_t *label_ints;     /* the same as integers when all are integral, else NULL */
    char *label_name;        /* label column's header name, or NULL */
    char sep;                /* the separator used */
} aecl_csv;

/* opts may be NULL (defaults). Free with aecl_csv_free. A file with no data rows
 * is an AECL_ERR_FORMAT. */
aecl_status aecl_csv_read(aecl_ctx *ctx, const char *path, const aecl_csv_opts *opts,
                          aecl_csv *out);
void aecl_csv_free(aecl_csv *c);

/* Writes rows x cols floats (row-major) atomically, ',' separated, each value in
 * the shortest form that reads back to the same float. header: cols names or NULL
 * (no header row). labels: rows integers written as a last column, or NULL;
 * label_name heads that column (NULL: "label"). Names are quoted when needed. */
aecl_status aecl_csv_write(aecl_ctx *ctx, const char *path, const float *data, size_t rows,
                           size_t cols, const char *const *header, const int32_t *labels,
                           const char *label_name);

/* ---- PNG (png.c) -------------------------------------------------------------
 * 8-bit images; float input in [0,1] is clamped (NaN -> 0) and rounded. */

/* Writes a width x height image of 1 (gray) or 3 (RGB) channels. Pixels are
 * interleaved (r,g,b per pixel), rows top to bottom. */
aecl_status aecl_png_write(aecl_ctx *ctx, const char *path, const float *pixels, size_t width,
                           size_t height, int channels);
/* Same from 8-bit samples. */
aecl_status aecl_png_write_u8(aecl_ctx *ctx, const char *path, const uint8_t *pixels,
                              size_t width, size_t height, int channels);

typedef struct aecl_image {
    size_t width, height;
    int channels;            /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (as in the file) */
    uint8_t *pixels;         /* height * width * channels, interleaved, top row first */
} aecl_image;
/* Decodes a PNG into 8-bit samples (palette expanded). Free with aecl_image_free. */
aecl_status aecl_png_read(aecl_ctx *ctx, const char *path, aecl_image *out);
void aecl_image_free(aecl_image *img);

/* ---- safetensors (safetensors.c) ---------------------------------------------
 * 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [..],
 *    "data_offsets": [begin, end]}, ...}
 * padded with spaces to a multiple of 8, then the data section; offsets are
 * relative to it. aecl reads and writes F32 tensors only. */
#define AECL_ST_MAX_DIMS 8

/* A tensor to write (nothing owned). */
typedef struct aecl_st_view {
    const char *name;
    unsigned ndim;                    /* 0 (a scalar) .. AECL_ST_MAX_DIMS */
    size_t shape[AECL_ST_MAX_DIMS];
    const float *data;                /* product(shape) floats */
} aecl_st_view;

/* Writes tensors in the given order, packed, atomically. meta: n_meta key/value
 * pairs as meta[2*i], meta[2*i+1] (NULL when n_meta is 0). Names must be
 * non-empty, distinct and not "__metadata__"; keys distinct. */
aecl_status aecl_safetensors_write(aecl_ctx *ctx, const char *path, const aecl_st_view *tensors,
                                   size_t n, const char *const *meta, size_t n_meta);

typedef struct aecl_st_tensor {
    char *name;
    unsigned ndim;
    size_t shape[AECL_ST_MAX_DIMS];
    size_t count;                     /* product(shape) */
    float *data;                      /* count floats (NULL when count is 0) */
} aecl_st_tensor;

typedef struct aecl_safetensors {
    size_t n_tensors;
    aecl_st_tensor *tensors;          /* in data-offset order */
    size_t n_meta;
    char **meta_keys, **meta_values;  /* n_meta each */
} aecl_safetensors;

/* Reads and validates a whole file (every tensor must be F32). Free with
 * aecl_safetensors_free. */
aecl_status aecl_safetensors_read(aecl_ctx *ctx, const char *path, aecl_safetensors *out);
/* Lookup by name; NULL if absent. */
const aecl_st_tensor *aecl_safetensors_find(const aecl_safetensors *st, const char *name);
/* Metadata value of key; NULL if absent. */
const char *aecl_safetensors_meta(const aecl_safetensors *st, const char *key);
void aecl_safetensors_free(aecl_safetensors *st);

/* ---- NumPy .npy (npy.c) ------------------------------------------------------
 * Written as version 1.0, '<f4', fortran_order False, header padded to 64 bytes.
 * Read: versions 1.0-3.0 of dtype float32, float64, uint8, int32 or int64
 * ('<f4' '<f8' '|u1' '<i4' '<i8', their '>' big-endian and '=' native forms),
 * in C or Fortran order. Any other dtype, and every other flaw, is an
 * AECL_ERR_FORMAT naming the file ("x.npy: dtype '<c8' (complex64) is not
 * supported: aecl reads float32, ..."): a fault of the file, not of a device. */
#define AECL_NPY_MAX_DIMS 8

/* Writes a float32 array of ndim (0..AECL_NPY_MAX_DIMS) dims, C order, atomically. */
aecl_status aecl_npy_write(aecl_ctx *ctx, const char *path, const float *data, unsigned ndim,
                           const size_t *shape);
/* The 2-D case (rows x cols, row-major). */
aecl_status aecl_npy_write_2d(aecl_ctx *ctx, const char *path, const float *data, size_t rows,
                              size_t cols);

typedef struct aecl_npy {
    unsigned ndim;
    size_t shape[AECL_NPY_MAX_DIMS];
    size_t count;                     /* product(shape) */
    float *data;                      /* count floats, row-major (NULL when count is 0) */
} aecl_npy;
/* Reads an array of any supported dtype as float32, converted once; a Fortran-order
 * file is transposed into row-major (C) order. Values must be finite and, for
 * float64, within float32's range (the message names the file and the index).
 * Free with aecl_npy_free. */
aecl_status aecl_npy_read(aecl_ctx *ctx, const char *path, aecl_npy *out);
/* Reads labels: one value per sample (shape (N,) or (N, 1, ...)) of an integer
 * dtype, or of a float dtype holding whole numbers, each within int32's range.
 * *labels gets n values (malloc'd; NULL when n is 0). */
aecl_status aecl_npy_read_labels(aecl_ctx *ctx, const char *path, int32_t **labels, size_t *n);
void aecl_npy_free(aecl_npy *a);

#endif
