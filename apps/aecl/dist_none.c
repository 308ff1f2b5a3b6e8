/* dist.h in a build without MPI: every run is one process. Started by a
 * launcher as one of N > 1 ranks, the command refuses to run, so N copies never
 * train N separate models and write the same files. */
#include "dist_env.h"

#include <stdio.h>

int dist_main(const char *cmd, int (*run)(int, char **), int argc, char **argv)
{
    long size = dist_env_size();
    if (size > 1) {
        if (dist_env_rank() == 0)
            fprintf(stderr, "aecl %s: started as one of %ld ranks by mpirun, but this aecl was built without MPI: "
                    "data-parallel training needs a build with Open MPI (Debian: libopenmpi-dev; "
                    "docs/scaling.md). Run it without mpirun to train in one process.\n", cmd, size);
        return 2;
    }
    return run(argc, argv);
}

int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
const aecl_comm *dist_comm(void) { return NULL; }

aecl_status dist_begin(aecl_ctx *ctx, int batch, double timeout) { return AECL_OK; }
void dist_print_header(void) {}
aecl_status dist_agree(aecl_ctx *ctx, aecl_status st) { return st; }
