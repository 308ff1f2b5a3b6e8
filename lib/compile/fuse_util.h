/* What the fusion passes (fuse.c, fuse_gemm.c) share: who reads each node, where
 * the side-effect nodes are, and taking folded nodes off the node list. */
#ifndef AECL_COMPILE_FUSE_UTIL_H
#define AECL_COMPILE_FUSE_UTIL_H

#include "graph/graph.h"

enum { AECL_NO_READER = -1, AECL_MANY_READERS = -2 };

/* Tensors someone reads after a step, or that live outside the work arena:
 * never folded away. */
#define AECL_FUSE_KEEP_FLAGS \
    (AECL_T_INPUT | AECL_T_OUTPUT | AECL_T_PARAM | AECL_T_LOSS | AECL_T_STATE | AECL_T_SIDE | AECL_T_CONST)

/* reader[i] (n_nodes entries): the id of the one node that reads node i (over
 * in[] and extra[]; a node reading it twice is one reader), or AECL_NO_READER /
 * AECL_MANY_READERS. */
void aecl_fuse_find_readers(const aecl_graph *g, int *reader);

/* side_before[i] (n_nodes + 1 entries): side-effect nodes among nodes 0..i-1. A
 * fold that moves reads from node a to node b needs side_before[b] ==
 * side_before[a + 1]: no optimizer update writes in between. */
void aecl_fuse_count_sides(const aecl_graph *g, int *side_before);

/* Moves the n_folded nodes with folded[id] set into g->fused_away (pointers to
 * them stay valid until aecl_graph_free) and renumbers ids and n_forward. */
aecl_status aecl_fuse_drop_folded(aecl_graph *g, const char *folded, int n_folded);

#endif
