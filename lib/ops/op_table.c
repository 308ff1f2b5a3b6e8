/* The table of every op, generated from AECL_OP_LIST (ops/op_list.h). */
#include "ops/op_list.h"

#define AECL_OP_ENTRY(sym) &aecl_op_##sym,
const aecl_op_def *const aecl_op_table[] = {AECL_OP_LIST(AECL_OP_ENTRY)};
#undef AECL_OP_ENTRY

const int aecl_op_table_size = (int)(sizeof aecl_op_table / sizeof aecl_op_table[0]);
