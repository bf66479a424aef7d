#!/usr/bin/env bash
# Builds with ThreadSanitizer (build dir build-tsan) and runs the tests where
# threads meet: the actor and loopback tests (p2p0mq-actors-tests), the
# examples and the tool tests (p2p0mq-node, p2p0mq-keygen processes). A
# data race makes the program that saw it exit with 66, failing its test.
#   scripts/tsan.sh [CTEST ARGS...]   e.g. scripts/tsan.sh -R 'actors\.'
# CAF and libzmq come from Debian without TSan instrumentation; the reports
# that arise only inside them are suppressed by scripts/tsan.supp, each entry
# saying why. Not part of scripts/test.sh: it takes long (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
p2p0mq_install_missing

build=${P2P0MQ_TSAN_BUILD_DIR:-build-tsan}
jobs=$(nproc)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DP2P0MQ_SANITIZERS=thread -DP2P0MQ_ENABLE_FUZZ=OFF
cmake --build "$build" -j"$jobs"
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp ${TSAN_OPTIONS:-}"
cd "$build"
if (($# == 0)); then
  set -- -R '^(actors\.|example: |tools: )'
fi
ctest --output-on-failure -j"$jobs" --timeout 600 "$@"
