# Builds the Debian package of the build in P2P0MQ_BINARY_DIR with CPack,
# checks its Depends and its files, unpacks it with dpkg-deb -x into a
# scratch directory and builds the consumer project against what it
# unpacked, with CMake and with pkg-config. Run by CTest with -P.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# zstd on every core: the static libraries of a debug build are large, and
# this test checks the package's contents, not its size.
run_step("cpack" ${CPACK} -G DEB --config "${P2P0MQ_BINARY_DIR}/CPackConfig.cmake"
         -B "${WORK_DIR}/cpack" -D CPACK_DEBIAN_COMPRESSION_TYPE=zstd
         -D CPACK_THREADS=0)
file(GLOB debs "${WORK_DIR}/cpack/*.deb")
list(LENGTH debs n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "cpack made ${n} packages: ${debs}")
endif()
run_step("dpkg-deb -f" dpkg-deb -f "${debs}" Package Depends)
set(fields "${step_output}")
message(STATUS "${fields}")
foreach(dep IN ITEMS "Package: p2p0mq" libcaf-dev cppzmq-dev libzmq3-dev
                     libsqlite3-dev libcaf-core0.17 libzmq5)
  string(FIND "${fields}" "${dep}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the package does not name ${dep}:\n${fields}")
  endif()
endforeach()

set(root "${WORK_DIR}/root")
run_step("dpkg-deb -x" dpkg-deb -x "${debs}" "${root}")
set(wanted
  usr/include/p2p0mq/p2p0mq.hpp
  usr/include/p2p0mq/actors/local_peer.hpp
  usr/include/p2p0mq/testing/sim_network.hpp
  usr/bin/p2p0mq-node
  usr/bin/p2p0mq-keygen
  usr/bin/p2p0mq-sim
  usr/share/doc/p2p0mq/README.md
  usr/share/doc/p2p0mq/examples/first_peer/main.cpp
  usr/share/doc/p2p0mq/examples/echo/main.cpp)
if(API_DOCS)
  list(APPEND wanted usr/share/doc/p2p0mq/api/index.html)
endif()
if(EXISTS "${SOURCE_DIR}/docs/PROTOCOL.md")
  list(APPEND wanted usr/share/doc/p2p0mq/PROTOCOL.md)
endif()
foreach(f IN LISTS wanted)
  if(NOT EXISTS "${root}/${f}")
    message(FATAL_ERROR "the package has no ${f}")
  endif()
endforeach()
foreach(pattern IN ITEMS "libp2p0mq_core.*" "libp2p0mq_actors.*"
                         "cmake/p2p0mq/p2p0mqConfig.cmake"
                         "pkgconfig/p2p0mq.pc")
  file(GLOB_RECURSE found "${root}/usr/lib/${pattern}")
  if(NOT found)
    message(FATAL_ERROR "the package has no usr/lib/.../${pattern}")
  endif()
endforeach()
message(STATUS "${debs}: Depends and files as expected; unpacked in ${root}")

execute_process(COMMAND ${CMAKE_COMMAND} -DPREFIX=${root}/usr
  -DCONSUMER_SOURCE_DIR=${CONSUMER_SOURCE_DIR} -DWORK_DIR=${WORK_DIR}/consumer
  -DCXX_COMPILER=${CXX_COMPILER} -DSANITIZERS=${SANITIZERS}
  -DPKG_CONFIG=${PKG_CONFIG}
  -P ${CMAKE_CURRENT_LIST_DIR}/check.cmake RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer did not build against the package")
endif()
