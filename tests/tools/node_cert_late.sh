#!/usr/bin/env bash
# A certificate copied in after the start: two p2p0mq-node processes A and B
# with CURVE on, each with a certificate directory of its own (each makes its
# key pair at its first start), B told A's address. Neither trusts the
# other: B has no public key for A, cannot connect and says so. Then each
# one's public certificate is copied into the other's public directory
# while both run. They must connect, and answer each other's heart-beats,
# within 60 s of the copy: a bound that rests on the directory being read
# again (every 10 s) and on the next connection attempt that allows, not on
# the reconnect wait, which is an hour here.
#   node_cert_late.sh PATH/TO/p2p0mq-node
set -u
node=$1
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

fail() {
  echo "FAILED: $*"
  local f
  for f in "$work"/*.err; do
    echo "--- $f"
    tail -n 5 "$f" | cut -c1-300
  done
  exit 1
}

# Waits up to 0.1 s (for nothing: the poll interval of every wait below).
tick() {
  read -rt 0.1 <> <(:) || true
}

# wait_for SECONDS CONDITION...: evaluates CONDITION every 0.1 s until it
# succeeds, for at most SECONDS; sets took to the seconds it took.
wait_for() {
  local limit=$1 start
  shift
  start=$(date +%s%3N)
  until "$@"; do
    [ $(($(date +%s%3N) - start)) -ge $((limit * 1000)) ] && return 1
    tick
  done
  took=$(awk -v ms=$(($(date +%s%3N) - start)) 'BEGIN { printf "%.1f", ms / 1000 }')
}

# announced NAME: the port node NAME listens on; fails before it says.
announced() {
  local port
  port=$(sed -n 's/.* listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/$1.err")
  [ -n "$port" ] && echo "$port"
}

# answered NAME UUID: whether the last JSON line of node NAME lists peer
# UUID as CONNECTED with a measured heart-beat round trip.
answered() {
  tail -n 2 "$work/$1.out" | grep '}}}$' | tail -n 1 |
    grep -q "\"$2\": {\"state\": \"CONNECTED\".*\"rtt\": {\"last\""
}

# A setting only this test changes: no reconnection comes from the wait.
slow=(--p2p0mq.reconnect-wait=3600s --json --log-level warning,connector=info
  --duration 120)
"$node" --uuid node-a-0001 --bind 127.0.0.1:0 --certs "$work/a" "${slow[@]}" \
  >"$work/a.out" 2>"$work/a.err" &
pids+=($!)
wait_for 20 announced a >/dev/null || fail "node A did not announce its port"
port=$(announced a)
"$node" --uuid node-b-0002 --bind 127.0.0.1:0 --certs "$work/b" \
  --peer "node-a-0001@127.0.0.1:$port" "${slow[@]}" \
  >"$work/b.out" 2>"$work/b.err" &
pids+=($!)
wait_for 20 grep -q "cannot connect to .*node-a-0001.*missing_certificate" \
  "$work/b.err" || fail "node B did not say it lacks A's certificate"
[ -f "$work/a/public/node-a-0001.key" ] && [ -f "$work/b/public/node-b-0002.key" ] ||
  fail "the nodes did not make their key pairs"
echo "B cannot connect: $(grep -m1 "cannot connect" "$work/b.err")"

cp "$work/a/public/node-a-0001.key" "$work/b/public/"
cp "$work/b/public/node-b-0002.key" "$work/a/public/"
wait_for 60 answered b node-a-0001 ||
  fail "B did not connect to A within 60 s of the copy"
echo "B CONNECTED to A, heart-beats answered, $took s after the copy"
wait_for 60 answered a node-b-0002 ||
  fail "A did not list B as CONNECTED, heart-beats answered"
echo "A lists B CONNECTED, heart-beats answered, $took s later"

for pid in "${pids[@]}"; do
  kill -TERM "$pid"
  wait "$pid" || fail "a node did not stop cleanly on SIGTERM"
done
pids=()
echo "certificates copied in after the start are trusted"
