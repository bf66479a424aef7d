# Configures and builds the fuzz targets (fuzz/CMakeLists.txt) with clang in
# a build directory of their own. Run by CTest with -P (see tests.cmake);
# a second run only rebuilds what changed.
function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

set(launcher "")
if(LAUNCHER)
  set(launcher "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
run_step("configure" ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BINARY_DIR}"
         -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${launcher})
run_step("build" ${CMAKE_COMMAND} --build "${BINARY_DIR}" --parallel ${JOBS})
message(STATUS "fuzz targets built in ${BINARY_DIR}")
