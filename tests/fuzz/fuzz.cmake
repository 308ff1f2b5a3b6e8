# Fuzzing in the test suite (included by tests/CMakeLists.txt). The libFuzzer
# targets in tests/fuzz are a project of their own built with clang (aecl stays
# gcc), through ExternalProject, when a clang that links -fsanitize=fuzzer is
# found (Debian: clang and libclang-rt-14-dev). Each target then runs for
# AECL_FUZZ_SECONDS as a CTest test (label fuzz); scripts/fuzz.sh runs them longer.
find_program(AECL_FUZZ_CLANG NAMES clang clang-14 clang-15 clang-16 DOC "clang for the libFuzzer targets")
set(aecl_fuzz_usable OFF)
if(AECL_FUZZ_CLANG)
  set(probe_dir ${PROJECT_BINARY_DIR}/fuzz-probe)
  file(WRITE ${probe_dir}/probe.c
       "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
  execute_process(COMMAND ${AECL_FUZZ_CLANG} -fsanitize=fuzzer,address,undefined ${probe_dir}/probe.c -o ${probe_dir}/probe
                  RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
  if(probe_rc EQUAL 0)
    set(aecl_fuzz_usable ON)
  endif()
endif()
option(AECL_FUZZ "Build the libFuzzer targets (tests/fuzz) with clang and run each briefly in the tests"
       ${aecl_fuzz_usable})
set(AECL_FUZZ_SECONDS 3 CACHE STRING "Seconds of mutation per fuzz target in the test suite")

if(AECL_FUZZ AND NOT aecl_fuzz_usable)
  message(WARNING "AECL_FUZZ is ON but no clang links -fsanitize=fuzzer (apt-get install clang libclang-rt-14-dev): "
                  "the fuzz targets are not built")
elseif(AECL_FUZZ)
  include(ExternalProject)
  set(AECL_FUZZ_BINARY_DIR ${PROJECT_BINARY_DIR}/fuzz)
  # BUILD_ALWAYS: a change in a parser rebuilds the targets (make does nothing otherwise).
  ExternalProject_Add(aecl_fuzz
    SOURCE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz
    BINARY_DIR ${AECL_FUZZ_BINARY_DIR}
    CMAKE_ARGS -DCMAKE_C_COMPILER=${AECL_FUZZ_CLANG} -DCMAKE_BUILD_TYPE=RelWithDebInfo
    BUILD_ALWAYS ON
    INSTALL_COMMAND "")
  include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/targets.cmake)
  foreach(t ${AECL_FUZZ_TARGETS})
    add_test(NAME fuzz_${t} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run.sh ${AECL_FUZZ_BINARY_DIR}/fuzz_${t}
             ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${t} ${AECL_FUZZ_SECONDS})
    set_tests_properties(fuzz_${t} PROPERTIES LABELS fuzz TIMEOUT 300)
  endforeach()
else()
  message(STATUS "fuzz targets off (AECL_FUZZ=OFF)")
endif()
