#!/usr/bin/env bash
# Installs what is missing, builds the library, tools and examples (Release),
# and runs the demo: four local peers on 127.0.0.1 form a ring, greet each
# other, ping their neighbours and keep the ring alive with heart-beats, with a
# live view; it ends by itself (exit 0 on success) in about ten seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
p2p0mq_install_missing

build=${P2P0MQ_DEMO_BUILD_DIR:-build-release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DP2P0MQ_ENABLE_TESTS=OFF
# Everything the README runs from build-release/ (tests/readme_snippets.py
# checks that this list holds them).
cmake --build "$build" -j"$(nproc)" --target ring_demo p2p0mq-node \
  p2p0mq-keygen p2p0mq-sim first_peer first_concern
"$build/examples/ring_demo/ring_demo" "$@"
