#!/usr/bin/env bash
# Installs what is missing, builds the library and its examples (Release), and
# runs the demo.
#
# The network demo (several local peers on 127.0.0.1 finding each other) comes
# with the actor runtime. Until then this runs the best there is: a tour of the
# wire codec, encoding and decoding a `hello` exchange between two peers
# exactly as it crosses ZeroMQ.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
p2p0mq_install_missing

build=${P2P0MQ_DEMO_BUILD_DIR:-build-release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DP2P0MQ_ENABLE_TESTS=OFF
cmake --build "$build" -j"$(nproc)" --target wire_tour
echo "demo: the network demo arrives with the actor runtime; running the wire tour"
"$build/examples/wire_tour/wire_tour"
