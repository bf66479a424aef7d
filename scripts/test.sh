#!/usr/bin/env bash
# Installs what is missing, builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the whole test suite, the fuzz targets
# for 15 s each among them (tests labelled fuzz).
#   scripts/test.sh            (build dir: build-test)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
# clang-format checks the style; python3-zmq (pyzmq) checks that certificates
# travel both ways between p2p0mq and pyzmq; graphviz checks the topology
# pictures of p2p0mq-node; iproute2 (`ip`) makes the network namespaces of the
# link-cut fault test; clang and its runtimes build the fuzz targets;
# prometheus scrapes p2p0mq-node's metrics; doxygen builds the API reference
# (its warnings fail a test); dpkg-dev's dpkg-shlibdeps finds the Depends of
# the Debian package CPack makes.
p2p0mq_install_missing clang-format python3-zmq graphviz iproute2 clang-14 \
  libclang-rt-14-dev prometheus dpkg-dev doxygen

build=${P2P0MQ_TEST_BUILD_DIR:-build-test}
jobs=$(nproc)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug \
  -DP2P0MQ_SANITIZERS=address,undefined -DP2P0MQ_ENABLE_FUZZ=ON
cmake --build "$build" -j"$jobs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
ctest --output-on-failure -j"$jobs" --timeout 300
