/* A communicator of threads in one process (an aecl_comm, aecl.h): rank r is
 * the thread that uses comms[r], for example one thread per device of a
 * machine. Collectives meet at a barrier and read each other's buffers; sums
 * are taken in rank order, so every rank gets the same bits. Used by the tests
 * and benchmarks of data-parallel training (no MPI needed). When a rank's
 * collective fails or aecl_comm_threads_break is called, the communicator is
 * broken: every waiting and later collective fails with AECL_ERR_IO, so no rank
 * waits for one that left. */
#ifndef AECL_NN_COMM_THREADS_H
#define AECL_NN_COMM_THREADS_H

#include "aecl.h"

typedef struct aecl_comm_threads aecl_comm_threads;

/* size ranks; *out's comms[0 .. size) are theirs. */
aecl_status aecl_comm_threads_create(int size, aecl_comm_threads **out);
void aecl_comm_threads_free(aecl_comm_threads *t);
aecl_comm *aecl_comm_threads_rank(aecl_comm_threads *t, int rank);
/* Fails every waiting and later collective (a rank that gives up). */
void aecl_comm_threads_break(aecl_comm_threads *t);

#endif
