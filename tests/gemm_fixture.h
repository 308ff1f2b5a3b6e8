/* The GEMM tests' shared fixture: a case (sizes, transposes, alpha/beta, epilogue,
 * row padding, path), host operands at odd offsets with a tail, a plain C reference
 * with double accumulation, and the device copies. A case with grad_act other than
 * AECL_ACT_NONE is a gradient GEMM (aecl_gemm_prepare_bufs with Y): it gets the extra
 * matrix Y, and the reference multiplies by act'(Y). A case with row_sums also
 * asks for the row sums of op(A) (aecl_gemm_prepare_bufs) into a vector that
 * starts poisoned (NaN) between random values that must stay untouched. */
#ifndef AECL_TEST_GEMM_FIXTURE_H
#define AECL_TEST_GEMM_FIXTURE_H

#include "check.h"
#include "ops/gemm.h"

#include <stddef.h>

/* Offsets of the operands inside their buffers: odd, so nothing is aligned. */
enum { GF_A_OFF = 5, GF_B_OFF = 7, GF_C_OFF = 11, GF_Y_OFF = 9, GF_BIAS_OFF = 3, GF_RS_OFF = 6, GF_TAIL = 13 };

typedef struct gf_case {
    int M, N, K, ta, tb;
    float alpha, beta;
    aecl_act act;         /* forward epilogue: act(v + bias) */
    float slope;
    int bias;
    int pad;              /* added to every row stride (0: packed) */
    aecl_gemm_path path;
    aecl_act grad_act;    /* NONE: a plain GEMM; else the result times act'(Y) */
    float grad_slope;
    int row_sums;         /* also the row sums of op(A) */
} gf_case;

/* Host copies of the operands, laid out as in the device buffers (y: NULL for a
 * plain GEMM; it has C's layout at GF_Y_OFF). */
typedef struct gf_operands {
    int lda, ldb, ldc;
    size_t na, nb, nc, nbias, nrs;
    float *a, *b, *c0, *y, *bias, *c;
    float *rs0, *rs;      /* row sums: before (NULL without), after */
} gf_operands;

typedef struct gf_dev {
    aecl_buffer *a, *b, *c, *y, *bias, *rs;
} gf_dev;

/* The generator state the operands are drawn from; each test seeds it. */
extern unsigned gf_seed;

void gf_operands_make(const gf_case *g, gf_operands *o);
void gf_operands_free(gf_operands *o);

/* The device buffers with the host operands (C from c0); 1 on success. */
int gf_upload(aecl_ctx *ctx, const gf_operands *o, gf_dev *d);
void gf_dev_free(gf_dev *d);

/* The descriptor of a case (row strides only when padded). */
aecl_gemm_desc gf_desc(const gf_case *g, const gf_operands *o);

/* Compares o->c with the reference inside C's region (2 checks: within tolerance,
 * untouched bit for bit outside), and the row sums likewise when asked for. */
void gf_check_result(const gf_case *g, const gf_operands *o, const char *what);

/* Makes, uploads, runs (aecl_gemm, or aecl_gemm_prepare_bufs + enqueue), downloads, checks. */
void gf_run_case(aecl_ctx *ctx, const gf_case *g, const char *what);

#endif
