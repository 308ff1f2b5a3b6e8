/* Data-parallel `aecl train` under mpirun (docs/scaling.md).
 *
 * `mpirun -np N aecl train ...` starts N processes; each opens its own device,
 * loads the same data and calls training with the communicator dist_comm()
 * gives (MPI_Allreduce and MPI_Bcast on a duplicate of MPI_COMM_WORLD). The
 * program is the only part of aecl that links MPI (dist_mpi.c; dist_none.c in a
 * build without it): libaecl knows only the callbacks of aecl_comm.
 *
 * A process counts as started by a launcher when the environment says so
 * (Open MPI's OMPI_COMM_WORLD_SIZE, or PMI_SIZE of MPICH-style launchers); only
 * then is MPI initialised, so a plain `aecl` run is unchanged. In a run of N > 1
 * ranks: rank 0 alone prints (the other ranks' standard output goes to
 * /dev/null) and writes files; every rank's error lines read
 * "aecl train: rank R: ..."; a rank whose command fails before training is
 * reported by the lowest such rank alone (dist_begin); once training started, a
 * rank whose command fails on its own ends the whole job (MPI_Abort), so no
 * rank waits forever in a collective for it; and a
 * watchdog thread ends the job when one collective waits longer than the
 * timeout (--dist-timeout). */
#ifndef AECL_APP_DIST_H
#define AECL_APP_DIST_H

#include "aecl.h"

#include <stddef.h>

/* Seconds one collective may wait before the watchdog ends the job, unless
 * --dist-timeout says otherwise: long enough for one rank's kernel builds,
 * rank 0's validation, checkpoint or output writes while the others wait. */
#define DIST_DEFAULT_TIMEOUT 600.0

/* Runs run(argc, argv) (a subcommand) as this process's share of a job when a
 * launcher started it, else just runs it. Returns the exit status; a rank whose
 * command failed alone does not return (the job is aborted). A build without
 * MPI started as one of N > 1 ranks prints why and returns 2. */
int dist_main(const char *cmd, int (*run)(int, char **), int argc, char **argv);

/* Whether progress may redraw a line in place: standard output is a terminal
 * and no launcher started the process (mpirun gives its ranks a pseudo-terminal
 * whatever its own output is: a log file would fill with redrawn bars). */
int dist_stdout_is_tty(void);
/* This process's rank (0 outside a job) and the number of ranks (1). */
int dist_rank(void);
int dist_size(void);
/* The communicator for training: NULL unless this is a job of N > 1 ranks. */
const aecl_comm *dist_comm(void);

/* The device selector to open: `sel` itself, or for "local" the device of this
 * node's local rank: among the devices of the default device's type (GPUs on a
 * GPU machine), number (local rank mod their count), as "P:D" in buf. NULL
 * (the default device) stays NULL. */
const char *dist_device(const char *sel, char *buf, size_t cap);

/* Before training, on every rank: checks that the global batch splits evenly
 * over the ranks (AECL_ERR_INVALID_ARG naming both, the same on every rank),
 * agrees with the other ranks to start (a rank whose command failed before
 * this point reports its error, the others end quietly with the status
 * AECL_ERR_INVALID_ARG: so a mistake every rank makes is said once), sets the
 * watchdog's timeout (seconds; <= 0: DIST_DEFAULT_TIMEOUT) and gathers every
 * rank's host and device for dist_print_header. Does nothing outside a job. */
aecl_status dist_begin(aecl_ctx *ctx, int batch, double timeout);
/* Part of the training header (rank 0, after dist_begin): "data-parallel on N
 * ranks (MPI): global batch B, B/N rows per rank per step" and a line per run of
 * ranks with the same host and device. Prints nothing outside a job. */
void dist_print_header(void);

/* After training, when every rank reached this point: rank 0's status (of the
 * writes it alone does) becomes every rank's, with its message in ctx; such a
 * shared failure ends each rank normally with that status, reported once, by
 * rank 0. Returns st outside a job. */
aecl_status dist_agree(aecl_ctx *ctx, aecl_status st);

/* The two lines of the train command's --help. */
#define DIST_HELP                                                                                                  \
    "  --dist-timeout S     under mpirun: end the job when one collective waits over S seconds (a hung\n"          \
    "                       or dead rank; default 600); docs/scaling.md\n"

#endif
