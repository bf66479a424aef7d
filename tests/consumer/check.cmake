# Builds and runs the consumer project against an installed p2p0mq: with
# PREFIX, the tree found there (e.g. a Debian package unpacked); without,
# the build installed into a scratch prefix first. With PKG_CONFIG, the
# consumer is also built without CMake, with the flags of pkg-config. Run by
# CTest with -P.
file(REMOVE_RECURSE "${WORK_DIR}")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(expected "82a4686f7374a93132372e302e302e31a4706f7274cd20d2")
function(check_output what)
  string(STRIP "${step_output}" printed)
  if(NOT printed STREQUAL expected)
    message(FATAL_ERROR "${what} printed '${printed}', expected '${expected}'")
  endif()
endfunction()

if(PREFIX)
  set(prefix "${PREFIX}")
else()
  set(prefix "${WORK_DIR}/prefix")
  run_step("install" ${CMAKE_COMMAND} --install "${P2P0MQ_BINARY_DIR}"
           --prefix "${prefix}")
endif()
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
check_output("the consumer built with CMake")
message(STATUS "consumer built with CMake against ${prefix}")

if(PKG_CONFIG)
  file(GLOB_RECURSE pc_files "${prefix}/*/pkgconfig/p2p0mq.pc")
  if(NOT pc_files)
    message(FATAL_ERROR "no pkgconfig/p2p0mq.pc under ${prefix}")
  endif()
  list(GET pc_files 0 pc_file)
  get_filename_component(pc_dir "${pc_file}" DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
  run_step("pkg-config" ${PKG_CONFIG} --cflags --libs p2p0mq)
  string(STRIP "${step_output}" pc_flags)
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  separate_arguments(san UNIX_COMMAND "${flags}")
  run_step("build with pkg-config" ${CXX_COMPILER} ${san}
           "${CONSUMER_SOURCE_DIR}/main.cpp" -o "${WORK_DIR}/consumer-pc"
           ${pc_flags})
  run_step("run" "${WORK_DIR}/consumer-pc")
  check_output("the consumer built with pkg-config")
  message(STATUS "consumer built with pkg-config (${pc_file})")
endif()
