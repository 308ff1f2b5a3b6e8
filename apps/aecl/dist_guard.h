/* What keeps a job of N > 1 ranks from hanging or failing silently
 * (dist_guard.c, MPI builds): the watchdog that ends the job when one collective
 * waits too long, the "rank R: " in this rank's error lines, and the test hooks
 * that make a rank fail or hang at a chosen collective (docs/testing.md):
 *   AECL_TEST_DIST_FAIL=R[:K]  rank R's K-th collective (default 1st) fails;
 *   AECL_TEST_DIST_HANG=R[:K]  rank R's K-th collective never returns;
 *   AECL_TEST_DIST_STATS=1     every rank prints, at a normal end, how many
 *                              collectives of each kind it made and their sizes. */
#ifndef AECL_APP_DIST_GUARD_H
#define AECL_APP_DIST_GUARD_H

#include "base/error.h"
#include "dist_env.h"

/* Prefixes this rank's stderr lines, reads the hooks and starts the watchdog
 * (timeout DIST_DEFAULT_TIMEOUT until dist_guard_timeout). `thread_abort`: MPI
 * was given MPI_THREAD_MULTIPLE, so the watchdog may call MPI_Abort (else it
 * ends its own process, which mpirun turns into the end of the job). */
void dist_guard_start(const char *cmd, int rank, int thread_abort);
void dist_guard_timeout(double seconds);
/* Around each collective: `what` of n `unit`s (for messages). begin applies the
 * hooks and arms the watchdog; end disarms it and, given the MPI error's text,
 * prints it naming the call and returns AECL_ERR_IO. */
aecl_status dist_guard_begin(const char *what, size_t n, const char *unit);
aecl_status dist_guard_end(const char *mpi_error);
/* Until the ranks agree to start training, this rank's stderr lines are held
 * (so a mistake every rank makes is reported once): release writes them (show)
 * or drops them, and later lines go out at once. */
void dist_guard_release(int show);
/* From now on this rank's stderr is dropped (rank 0 reports a shared failure). */
void dist_guard_quiet(void);
/* Stops the watchdog (a normal end). */
void dist_guard_stop(void);

#endif
