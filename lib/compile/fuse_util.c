/* Shared pieces of the fusion passes (see fuse_util.h). */
#include "compile/fuse_util.h"

#include <stdlib.h>

static const aecl_tensor *input_of(const aecl_tensor *t, int k)
{
    return k < t->n_in ? t->in[k] : t->extra[k - t->n_in];
}

void aecl_fuse_find_readers(const aecl_graph *g, int *reader)
{
    for (int i = 0; i < g->n_nodes; i++) reader[i] = AECL_NO_READER;
    for (int i = 0; i < g->n_nodes; i++) {
        const aecl_tensor *t = g->nodes[i];
        for (int k = 0; k < t->n_in + t->n_extra; k++) {
            int id = input_of(t, k)->id;
            reader[id] = reader[id] == AECL_NO_READER || reader[id] == i ? i : AECL_MANY_READERS;
        }
    }
}

void aecl_fuse_count_sides(const aecl_graph *g, int *side_before)
{
    side_before[0] = 0;
    for (int i = 0; i < g->n_nodes; i++)
        side_before[i + 1] = side_before[i] + ((g->nodes[i]->flags & AECL_T_SIDE) != 0);
}

aecl_status aecl_fuse_drop_folded(aecl_graph *g, const char *folded, int n_folded)
{
    aecl_tensor **away = realloc(g->fused_away, (size_t)(g->n_fused_away + n_folded) * sizeof *away);
    AECL_RETURN_IF(!away, AECL_ERR_HOST_MEMORY, g->ctx, "out of host memory fusing the graph");
    g->fused_away = away;
    int kept = 0, forward = g->n_forward;
    for (int i = 0; i < g->n_nodes; i++) {
        aecl_tensor *t = g->nodes[i];
        if (folded[i]) {
            away[g->n_fused_away++] = t;
            forward -= i < g->n_forward;
            continue;
        }
        t->id = kept;
        g->nodes[kept++] = t;
    }
    g->n_nodes = kept;
    g->n_forward = forward;
    return AECL_OK;
}
