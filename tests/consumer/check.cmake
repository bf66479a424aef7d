# Installs the built project into a scratch prefix, then configures, builds and
# runs the consumer project against that prefix. Run by CTest with -P.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step("install" ${CMAKE_COMMAND} --install "${P2P0MQ_BINARY_DIR}"
         --prefix "${prefix}")
# A library built with sanitizers needs them in its users' link too.
set(flags "")
if(SANITIZERS)
  set(flags "-fsanitize=${SANITIZERS}")
endif()
run_step("configure" ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}"
         -B "${WORK_DIR}/build" -DCMAKE_PREFIX_PATH=${prefix}
         -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release
         "-DCMAKE_CXX_FLAGS=${flags}" "-DCMAKE_EXE_LINKER_FLAGS=${flags}")
run_step("build" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run_step("run" "${WORK_DIR}/build/consumer")
string(STRIP "${step_output}" printed)
set(expected "82a4686f7374a93132372e302e302e31a4706f7274cd20d2")
if(NOT printed STREQUAL expected)
  message(FATAL_ERROR "consumer printed '${printed}', expected '${expected}'")
endif()
message(STATUS "consumer built against ${prefix} and printed ${printed}")
