/* The launcher's environment (dist_env.c): what the builds with and without
 * MPI both read. */
#ifndef AECL_APP_DIST_ENV_H
#define AECL_APP_DIST_ENV_H

#include "dist.h"

/* The job's size as the launcher set it (OMPI_COMM_WORLD_SIZE or PMI_SIZE), or
 * -1 when no launcher started this process. */
long dist_env_size(void);
/* This process's rank and its rank on this node (0 when not set). */
long dist_env_rank(void);
long dist_env_local_rank(void);

#endif
