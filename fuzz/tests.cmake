# Included by the main project when P2P0MQ_ENABLE_FUZZ and the tests are on.
# One test builds the fuzz targets with clang in a build of their own
# (<build>/fuzz, configured from fuzz/CMakeLists.txt); then each target runs
# for P2P0MQ_FUZZ_SECONDS from its seed corpus (fuzz/corpus/<target>), the
# inputs it finds going to <build>/fuzz/work/<target> (the checked-in corpus
# is only read) and a crash to <build>/fuzz/artifacts. All are labelled
# `fuzz` (`ctest -L fuzz` runs only them, `-LE fuzz` all others).
find_program(P2P0MQ_FUZZ_CXX NAMES clang++ clang++-14)
if(NOT P2P0MQ_FUZZ_CXX)
  message(FATAL_ERROR "P2P0MQ_ENABLE_FUZZ needs clang++ (Debian: clang-14 "
                      "libclang-rt-14-dev)")
endif()
set(P2P0MQ_FUZZ_SECONDS 15 CACHE STRING
    "How long each fuzz target runs as a test, in seconds")

set(_fuzz_src "${CMAKE_CURRENT_LIST_DIR}")
set(_fuzz_bin "${PROJECT_BINARY_DIR}/fuzz")
add_test(NAME "fuzz: the fuzz targets build with clang, libFuzzer, ASan and UBSan"
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${_fuzz_src} -DBINARY_DIR=${_fuzz_bin}
    -DCXX_COMPILER=${P2P0MQ_FUZZ_CXX} -DLAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER}
    -DJOBS=2 -P ${_fuzz_src}/build.cmake)
set_tests_properties(
  "fuzz: the fuzz targets build with clang, libFuzzer, ASan and UBSan"
  PROPERTIES FIXTURES_SETUP p2p0mq_fuzz_build LABELS fuzz TIMEOUT 1200
             COST 1000)

set(_fuzz_what_frames "frame decoding")
set(_fuzz_what_payloads "the payloads of the built-in concerns")
set(_fuzz_what_certificate "certificate parsing")
set(_fuzz_what_zap "the ZAP request handler")
set(_fuzz_what_groups "the payloads of the group command")
set(_fuzz_what_discovery "beacons and peer-exchange payloads")
foreach(name frames payloads certificate zap groups discovery)
  file(MAKE_DIRECTORY "${_fuzz_bin}/work/${name}" "${_fuzz_bin}/artifacts")
  set(test_name
      "fuzz: ${P2P0MQ_FUZZ_SECONDS} s of fuzzing ${_fuzz_what_${name}} find no crash, leak or undefined behaviour")
  # Through cmake -E chdir: the program exists only once the build test ran.
  add_test(NAME "${test_name}"
    COMMAND ${CMAKE_COMMAND} -E chdir "${_fuzz_bin}" ./p2p0mq-fuzz-${name}
      -max_total_time=${P2P0MQ_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=1536
      -print_final_stats=1 -artifact_prefix=${_fuzz_bin}/artifacts/${name}-
      "${_fuzz_bin}/work/${name}" "${_fuzz_src}/corpus/${name}")
  math(EXPR _fuzz_timeout "${P2P0MQ_FUZZ_SECONDS} + 120")
  set_tests_properties("${test_name}" PROPERTIES
    FIXTURES_REQUIRED p2p0mq_fuzz_build LABELS fuzz
    TIMEOUT ${_fuzz_timeout} COST 500)
endforeach()
