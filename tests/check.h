/* A tiny test harness: CHECK macros that count failures and keep going, and a
 * shared context on the default (PoCL CPU) device. */
#ifndef AECL_TEST_CHECK_H
#define AECL_TEST_CHECK_H

#include "aecl.h"
#include <math.h>
#include <stdio.h>

extern int check_failures, check_passes;

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (cond) check_passes++;                                                 \
        else { check_failures++;                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_MSG(cond, ...)                                                      \
    do {                                                                          \
        if (cond) check_passes++;                                                 \
        else { check_failures++;                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); }                  \
    } while (0)

/* expr must return AECL_OK; otherwise prints the context's message. */
#define CHECK_OK(ctx, expr)                                                       \
    do {                                                                          \
        aecl_status check_st_ = (expr);                                           \
        CHECK_MSG(check_st_ == AECL_OK, "%s: %s", aecl_status_str(check_st_),     \
                  aecl_ctx_last_error(ctx));                                      \
    } while (0)

/* expr must fail with status, and the thread's last message (calls without a
 * context) must contain needle. */
#define CHECK_FAIL(expr, status, needle)                                          \
    do {                                                                          \
        aecl_status st_ = (expr);                                                 \
        CHECK_MSG(st_ == (status), "status %s, message: %s", aecl_status_str(st_), \
                  aecl_ctx_last_error(NULL));                                     \
        CHECK_MSG(test_msg_has(needle), "message lacks '%s': %s", needle,         \
                  aecl_ctx_last_error(NULL));                                     \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                     \
    do {                                                                          \
        double check_a_ = (a), check_b_ = (b);                                    \
        CHECK_MSG(fabs(check_a_ - check_b_) <= (tol), "%g vs %g (tol %g)",        \
                  check_a_, check_b_, (double)(tol));                             \
    } while (0)

/* A context on the default device, created once per process; exits the test
 * (as a failure) if no device is there. */
aecl_ctx *test_ctx(void);

/* Max |a-b| / (atol + rtol*|b|) over n floats: <= 1 means "close". */
double test_rel_err(const float *a, const float *b, size_t n, double atol, double rtol);

/* Fills x with uniform values in [lo, hi) from a fixed-seed generator. */
void test_fill_uniform(float *x, size_t n, float lo, float hi, unsigned *state);

/* A fresh folder for a test's files under $TMPDIR (or /tmp), named after tag;
 * test_tmp_cleanup removes it with its files. test_path gives tmpdir/name (eight
 * rotating buffers). */
extern char test_tmpdir[512];
void test_tmp_setup(const char *tag);
void test_tmp_cleanup(void);
const char *test_path(const char *name);

/* Writes n bytes to path (test fixtures); exits the test on failure. */
void test_write_file(const char *path, const void *data, size_t n);
void test_write_text(const char *path, const char *text);
/* Reads up to cap - 1 bytes of path into buf, NUL-terminated; (size_t)-1 when
 * the file cannot be opened. */
size_t test_read_file(const char *path, char *buf, size_t cap);

/* 1 when the thread's last error message (calls without a context) contains needle. */
int test_msg_has(const char *needle);

/* Releases the shared context (so every test's main must return through it),
 * prints "N passed, N failed" and returns the exit code. */
int test_finish(void);

#endif
