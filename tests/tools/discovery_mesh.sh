#!/usr/bin/env bash
# Thirty p2p0mq-node processes on 127.0.0.1, each given only node 0's
# address by flag, with the peer exchange on (--target-degree 8) and the
# default timings. Every node must list at least 8 peers as CONNECTED within
# 30 s of the last one's start; the time it took and the degrees are
# printed. All keep their certificates in one directory, so they trust each
# other.
#   discovery_mesh.sh PATH/TO/p2p0mq-node [NODES] [SECONDS]
set -u
node=$1
count=${2:-30}
limit=${3:-30}
target=8
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

now_ms() {
  date +%s%3N
}

tick() {
  read -rt 0.2 <> <(:) || true
}

# start NAME ARGS...: starts node NAME in the background (it ends by itself
# after 120 s), its JSON lines in $work/NAME.out; sets $port to the port it
# announces (waits at most 60 s).
start() {
  local name=$1
  shift
  "$node" "$@" --bind 127.0.0.1:0 --json --certs "$work/certs" \
    --target-degree $target --duration 120 \
    >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  port=
  for _ in $(seq 300); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
      "$work/$name.err")
    [ -n "$port" ] && return 0
    tick
  done
  echo "node $name did not announce its port"
  cat "$work/$name.err"
  exit 1
}

# degree NAME: the CONNECTED peers in node NAME's last complete JSON line.
degree() {
  tail -n 2 "$work/$1.out" 2>/dev/null | grep '}}}$' | tail -n 1 |
    grep -o '"state": "CONNECTED"' | wc -l
}

start n0 --uuid mesh-node-00
seed=mesh-node-00@127.0.0.1:$port
for i in $(seq 1 $((count - 1))); do
  start "n$i" --uuid "$(printf 'mesh-node-%02d' "$i")" --peer "$seed"
done
t0=$(now_ms)
deadline=$((t0 + limit * 1000))
while :; do
  low=0
  degrees=()
  for i in $(seq 0 $((count - 1))); do
    d=$(degree "n$i")
    degrees+=("$d")
    [ "$d" -lt $target ] && low=$((low + 1))
  done
  if [ $low -eq 0 ]; then
    echo "every one of $count nodes has at least $target CONNECTED peers" \
      "$(($(now_ms) - t0)) ms after the last start; degrees: ${degrees[*]}"
    break
  fi
  if [ "$(now_ms)" -ge $deadline ]; then
    echo "FAILED: after $limit s, $low of $count nodes have fewer than" \
      "$target CONNECTED peers; degrees: ${degrees[*]}"
    tail -n 5 "$work/n1.err"
    exit 1
  fi
  tick
done
# How node 1 learnt its peers (the JSON's "learnt").
learnt=$(tail -n 2 "$work/n1.out" | grep '}}}$' | tail -n 1 |
  grep -o '"learnt": "[a-z]*"' | sort | uniq -c | tr -s ' ' | tr '\n' ',')
echo "node 1 learnt its peers by: $learnt"
echo "$learnt" | grep -q exchange || {
  echo "FAILED: node 1 learnt no peer from the exchange"
  exit 1
}
