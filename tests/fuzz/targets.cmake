# The libFuzzer targets: tests/fuzz/fuzz_NAME.c, seeds in tests/fuzz/corpus/NAME.
set(AECL_FUZZ_TARGETS spec safetensors idx csv npy codes gemm_choice)
