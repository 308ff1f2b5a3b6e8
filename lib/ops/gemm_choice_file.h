/* The file of GEMM path choices (gemm_select.c's memory across processes), one
 * decision a line:
 *
 *   # aecl gemm choices v1
 *   <device>\t<driver>\t<M> <N> <K> <trans_a> <trans_b> <epilogue>\t<own|clblast>\t<own us>\t<clblast us>
 *
 * Lines that do not parse are dropped at the next rewrite; a file without the
 * header line counts as empty. Several processes (and threads) may add lines to
 * one file at once: each rewrite takes an advisory lock on "<file>.lock" beside
 * it, then re-reads the file, merges its line in and renames the new file over
 * the old one (io/atomic.c), so no writer loses another's line. Readers take no
 * lock: the rename shows them the old file or the new one, whole. */
#ifndef AECL_OPS_GEMM_CHOICE_FILE_H
#define AECL_OPS_GEMM_CHOICE_FILE_H

#include "ops/gemm.h"

typedef struct aecl_gemm_choice_key {
    int M, N, K, ta, tb, epi;   /* epi: there is a bias or an activation */
} aecl_gemm_choice_key;

/* One decision; device and driver with tabs and newlines are written with spaces. */
typedef struct aecl_gemm_choice_line {
    const char *device, *driver;
    aecl_gemm_choice_key key;
    aecl_gemm_path path;        /* AECL_GEMM_OWN or AECL_GEMM_CLBLAST */
    double own_us, clblast_us;  /* the timings behind it (for people reading the file) */
} aecl_gemm_choice_line;

/* 1 and *out when the file at `file` holds a decision for (device, driver, key);
 * 0 when it does not, or is missing, unreadable or not a choices file. */
int aecl_gemm_choice_file_find(const char *file, const char *device, const char *driver,
                               const aecl_gemm_choice_key *key, aecl_gemm_path *out);

/* Adds the decision, replacing the file's line for the same (device, driver, key)
 * and keeping every other well-formed line. The folder must exist. Fails only on
 * I/O errors (AECL_ERR_IO with the message in ctx, or the thread slot when ctx is
 * NULL); where no lock can be had the rewrite goes on without one. */
aecl_status aecl_gemm_choice_file_add(aecl_ctx *ctx, const char *file, const aecl_gemm_choice_line *line);

#endif
