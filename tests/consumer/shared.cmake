# Configures this project with BUILD_SHARED_LIBS=ON in a scratch directory,
# builds p2p0mq::core (the smallest library: the same rules apply to each),
# and checks the result: a SONAME of major.minor, and only symbols of the
# namespace p2p0mq exported (see cmake/p2p0mq.map). Run by CTest with -P.
file(REMOVE_RECURSE "${WORK_DIR}")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step("configure" ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}"
         -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
         -DBUILD_SHARED_LIBS=ON -DP2P0MQ_ENABLE_TESTS=OFF
         -DP2P0MQ_ENABLE_TOOLS=OFF -DP2P0MQ_ENABLE_EXAMPLES=OFF
         -DP2P0MQ_ENABLE_DOCS=OFF)
run_step("build" ${CMAKE_COMMAND} --build "${WORK_DIR}" --target p2p0mq_core
         -j2)
file(GLOB libs "${WORK_DIR}/libp2p0mq/libp2p0mq_core.so.*.*.*")
if(NOT libs)
  message(FATAL_ERROR "no libp2p0mq_core.so.X.Y.Z was built")
endif()
run_step("readelf" readelf -d ${libs})
string(REGEX MATCH "Library soname: \\[([^]]*)\\]" soname "${step_output}")
if(NOT CMAKE_MATCH_1 STREQUAL "libp2p0mq_core.so.${VERSION_MAJOR_MINOR}")
  message(FATAL_ERROR "SONAME '${CMAKE_MATCH_1}', expected "
                      "libp2p0mq_core.so.${VERSION_MAJOR_MINOR}")
endif()
run_step("nm" nm -DC --defined-only ${libs})
string(REPLACE "\n" ";" lines "${step_output}")
set(exported 0)
set(foreign "")
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  # "<address> <type> <name>"
  string(REGEX REPLACE "^[0-9a-f]+ [A-Za-z] " "" name "${line}")
  math(EXPR exported "${exported} + 1")
  if(NOT name MATCHES "^(p2p0mq::|typeinfo for p2p0mq::|typeinfo name for p2p0mq::|vtable for p2p0mq::|VTT for p2p0mq::|guard variable for p2p0mq::|(non-)?virtual thunk to p2p0mq::)"
     AND NOT name MATCHES "^[A-Za-z_0-9]+@@")
    string(APPEND foreign "  ${name}\n")
  endif()
endforeach()
if(foreign)
  message(FATAL_ERROR "exported outside the namespace p2p0mq:\n${foreign}")
endif()
if(exported LESS 50)
  message(FATAL_ERROR "only ${exported} symbols exported")
endif()
message(STATUS "${libs}: SONAME ${CMAKE_MATCH_1}, ${exported} symbols, "
               "all of p2p0mq")
