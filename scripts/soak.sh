#!/usr/bin/env bash
# A soak of real p2p0mq-node processes under churn, with CURVE on:
#   scripts/soak.sh NODES MINUTES
# NODES nodes in a random mesh, each with a peer store, each pinging a node
# that is not its neighbour; every minute 10 % of them are killed with
# kill -9 and started again from their stores (some on a new port). Prints a
# line per minute (pings answered, time to reconnect after a restart,
# resident memory and CPU per node) and a summary; fails on a ping between
# connected nodes that is not answered, a node whose memory grows by more
# than 10 % after its first 5 minutes, or one that does not stop within 2 s
# of SIGTERM. scripts/soak.py says how each is judged.
#
# Uses the build in P2P0MQ_BUILD_DIR when it is set (its tools/p2p0mq-node
# and tools/p2p0mq-keygen), else builds Release in build-soak. SOAK_SEED
# fixes the mesh and the churn; SOAK_WORK keeps the nodes' files (stores,
# logs, outputs) in that directory instead of a temporary one removed at the
# end; SOAK_ARGS passes more flags to soak.py (e.g. --warmup 1).
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 NODES MINUTES" >&2
  exit 2
fi
nodes=$1
minutes=$2
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${P2P0MQ_BUILD_DIR:-}" ]; then
  build=$(cd "$P2P0MQ_BUILD_DIR" && pwd)
else
  cd "$root"
  source scripts/deps.sh
  p2p0mq_install_missing python3
  build=$root/build-soak
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DP2P0MQ_ENABLE_TESTS=OFF -DP2P0MQ_ENABLE_EXAMPLES=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target p2p0mq-node p2p0mq-keygen
fi
for tool in p2p0mq-node p2p0mq-keygen; do
  if [ ! -x "$build/tools/$tool" ]; then
    echo "soak: no $build/tools/$tool" >&2
    exit 2
  fi
done
if [ -n "${SOAK_WORK:-}" ]; then
  work=$SOAK_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/p2p0mq-soak-XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
seed=()
if [ -n "${SOAK_SEED:-}" ]; then
  seed=(--seed "$SOAK_SEED")
fi
# shellcheck disable=SC2086 # SOAK_ARGS is a list of flags
python3 "$root/scripts/soak.py" --node "$build/tools/p2p0mq-node" \
  --keygen "$build/tools/p2p0mq-keygen" --nodes "$nodes" \
  --minutes "$minutes" --work "$work" "${seed[@]}" ${SOAK_ARGS:-}
