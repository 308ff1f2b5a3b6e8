/* One rank's side of data-parallel training (train_dist.c): the collectives of
 * an application's communicator (aecl_comm, aecl.h) wrapped so that every rank
 * makes the same calls in the same order and a failure on one rank fails every
 * rank with an error instead of leaving the others waiting in a collective.
 *
 * Each collective carries the ranks' status: a rank whose own work failed still
 * takes part (with zeros) and returns its own error; the others return the same
 * status code with a message naming that rank. A communicator callback that
 * fails ends the run on the rank that saw it; the communicator is expected to
 * fail the collective on the others too (an MPI job aborts; a thread
 * communicator wakes its waiters), and after a failed collective no rank makes
 * another one.
 *
 * A training step: the plan's forward and backward launches, the gradients
 * (one region, aecl_plan_grads) read to host memory, weighted by this rank's
 * share of the step's rows, summed over ranks in a few contiguous buckets and
 * written back, then the update launches (clipping sees the global norm). With
 * overlap, a communication thread sums each bucket as soon as the launches that
 * write it have run, while the device goes on with the backward pass. */
#ifndef AECL_NN_TRAIN_DIST_H
#define AECL_NN_TRAIN_DIST_H

#include "graph/plan.h"

typedef struct aecl_dist aecl_dist;

/* The communicator for a run with global batch `batch`: size >= 1, rank in
 * [0, size), the collectives set, batch divisible by size (AECL_ERR_INVALID_ARG
 * naming the problem otherwise). */
aecl_status aecl_dist_check(aecl_ctx *ctx, const aecl_comm *comm, int batch);

/* This rank's side for a global batch split in `share` rows per rank (batch /
 * size). overlap: sum buckets on a communication thread while the backward pass
 * runs (0: one sum of all gradients after it, on the caller's thread). Makes no
 * collective call. */
aecl_status aecl_dist_open(aecl_ctx *ctx, const aecl_comm *comm, int share, int overlap, aecl_dist **out);
/* Every rank calls this once with its training plan (one with gradients, batch
 * `share`), or NULL and the status of its failure to build one: the first
 * collective, which checks that every rank has a plan and the same gradient
 * layout. */
aecl_status aecl_dist_set_plan(aecl_dist *d, aecl_plan *plan, aecl_status local);
void aecl_dist_close(aecl_dist *d);

int aecl_dist_rank(const aecl_dist *d);
/* This rank's rows of a global batch of `rows` rows: *first (from the batch's
 * first row) and the count (0 past the end of a short last batch). */
int aecl_dist_rows(const aecl_dist *d, int rows, int *first);

/* One training step of the plan over this rank's `rows` rows of a global step of
 * `total` rows (the caller has uploaded them and set the valid rows). `local`:
 * this rank's status so far (not AECL_OK: it still takes part, then returns it). */
aecl_status aecl_dist_step(aecl_dist *d, int rows, int total, aecl_status local);

/* v[0..n) = the sum over ranks of v[0..n), n <= 16, with the ranks' status. */
aecl_status aecl_dist_sum(aecl_dist *d, double *v, int n, aecl_status local);

/* Rank 0's status `root` (with its message), then, when it is AECL_OK, rank 0's
 * data[0..bytes) to every rank. Other ranks pass AECL_OK. */
aecl_status aecl_dist_bcast(aecl_dist *d, void *data, size_t bytes, aecl_status root);

/* Rank 0's values of tensors t[0..n) (parameters, optimizer state) to every rank. */
aecl_status aecl_dist_bcast_tensors(aecl_dist *d, const aecl_tensor *const *t, int n);

/* Time spent so far (seconds, summed over steps): weighting and summing the
 * gradients once they are on the host (comm), and the caller waiting, after
 * enqueueing the backward pass, for the last sum (wait: the rest of the backward
 * pass on the device plus what the overlap did not hide). */
typedef struct aecl_dist_stats {
    long steps;
    int buckets;
    size_t floats;            /* gradient floats summed per step */
    double comm_s, wait_s;
} aecl_dist_stats;
void aecl_dist_get_stats(const aecl_dist *d, aecl_dist_stats *out);

#endif
