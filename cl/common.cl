//@require gemm.cl
//@require eltwise.cl
//@require reduce.cl
//@require loss.cl
//@require random.cl
//@require optim.cl
//@require conv_layout.cl
/* The common program (lib/ops/common_kernels.c): the files above as one
 * program, built once per device with LOSS_VW, RNG_K, OPT_CHUNK, OPT_SQ_K and
 * CONV_VW (the conv layout kernels use no other blocking macro),
 * and with gemm.cl's options for gemm_outer, gemm_dot and, on CPUs,
 * gemm_packed (the dense layers' products, transposes and bias at run time). */
