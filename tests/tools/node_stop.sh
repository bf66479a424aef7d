#!/usr/bin/env bash
# Every run of p2p0mq-node ends: --duration and --ping-timeout bound it,
# SIGINT and SIGTERM stop it whatever it is doing, and a ping that was not
# answered exits 1 with a line on standard error saying why. Also --interval
# (the time between two echo requests) and --ping-timeout (the wait for each
# answer).
#   node_stop.sh PATH/TO/p2p0mq-node
set -u
node=$1
work=$(mktemp -d)
pids=()
trap 'kill -KILL "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
fail=0
# A hang must not hang the test: every wait below is bounded, and a node
# still running after it fails the case.
bound=10

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_exit PID SECONDS: waits until PID ended (at most SECONDS); sets rc
# (255 on time-out, the process then killed) and took (milliseconds).
wait_exit() {
  local pid=$1 limit=$2 t0
  t0=$(now_ms)
  for _ in $(seq $((limit * 20))); do
    kill -0 "$pid" 2>/dev/null || break
    read -rt 0.05 <> <(:) || true
  done
  took=$(($(now_ms) - t0))
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    rc=255
  else
    wait "$pid"
    rc=$?
  fi
}

# wait_for FILE PATTERN: waits until a line of FILE matches (at most 10 s).
wait_for() {
  for _ in $(seq 200); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    read -rt 0.05 <> <(:) || true
  done
  return 1
}

check() { # check NAME CONDITION-STATUS DETAILS...
  local name=$1 ok=$2
  shift 2
  if [ "$ok" -eq 0 ]; then
    echo "ok: $name"
  else
    echo "FAILED: $name: $*"
    fail=1
  fi
}

# start NAME ARGS...: runs a node in the background, output in NAME.out/.err.
start() {
  local name=$1
  shift
  "$node" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  last_pid=$!
  pids+=("$last_pid")
}

# 1. A ping to a peer that never answers ends with --duration: exit 1, and
# standard error says why.
start lone --uuid node-b-0002 --ping node-a-0001 --duration 2 \
  --ping-timeout 60 --no-encryption
wait_exit "$last_pid" $bound
grep -q "stopped by --duration 2 s: node-a-0001 never became reachable" \
  "$work/lone.err"
said=$?
check "an unanswered ping ends with --duration, exit 1, saying why" \
  $((rc != 1 || said != 0)) "exit $rc after ${took} ms; $(cat "$work/lone.err")"

# 2. Without --duration, --ping-timeout bounds the wait for the target to
# become reachable.
start lone2 --uuid node-b-0002 --ping node-a-0001 --ping-timeout 1 \
  --peer node-a-0001@127.0.0.1:9 --no-encryption
wait_exit "$last_pid" $bound
grep -q "node-a-0001 not reachable within 1 s (--ping-timeout): CONNECTING" \
  "$work/lone2.err"
said=$?
check "--ping-timeout bounds the wait for an unreachable target, exit 1" \
  $((rc != 1 || said != 0)) "exit $rc after ${took} ms; $(cat "$work/lone2.err")"

# 3. SIGTERM while a ping is pending stops the node: exit 1, saying why.
start pending --uuid node-b-0002 --ping node-a-0001 --ping-timeout 60 \
  --peer node-a-0001@127.0.0.1:9 --no-encryption
pending_pid=$last_pid
wait_for "$work/pending.err" "listening on" || true
kill -TERM "$pending_pid"
wait_exit "$pending_pid" $bound
echo "SIGTERM during a pending ping: exit after ${took} ms"
grep -q "stopped by SIGTERM: node-a-0001 never became reachable" \
  "$work/pending.err"
said=$?
check "SIGTERM during a pending ping stops the node with exit 1" \
  $((rc != 1 || said != 0)) "exit $rc after ${took} ms; $(cat "$work/pending.err")"

# A node that answers echo requests, for the cases below.
start a --uuid node-a-0001 --bind 127.0.0.1:0 --echo --no-encryption \
  --json --p2p0mq.tick-interval=100ms
a_pid=$last_pid
if ! wait_for "$work/a.err" "listening on 127\.0\.0\.1:[0-9]+"; then
  echo "FAILED: node A did not announce its port"; cat "$work/a.err"; exit 1
fi
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/a.err")

# 4. SIGINT during a ping that is being answered: the statistics so far,
# exit 1 (not every request was answered), and why.
start answered --uuid node-b-0002 --peer "node-a-0001@127.0.0.1:$port" \
  --ping node-a-0001 --count 1000 --interval 0.05 --no-encryption
b_pid=$last_pid
wait_for "$work/answered.out" "seq=3 " || true
kill -INT "$b_pid"
wait_exit "$b_pid" $bound
echo "SIGINT during an answered ping: exit after ${took} ms"
grep -q "stopped by SIGINT: [0-9]* of 1000 echo requests to node-a-0001 answered" \
  "$work/answered.err" && grep -q "echo statistics" "$work/answered.out"
said=$?
check "SIGINT during an answered ping prints the statistics, exit 1" \
  $((rc != 1 || said != 0)) "exit $rc after ${took} ms; $(cat "$work/answered.err")"

# 5. --interval: three requests 0.6 s apart take at least 1.2 s.
t0=$(now_ms)
start spaced --uuid node-c-0003 --peer "node-a-0001@127.0.0.1:$port" \
  --ping node-a-0001 --count 3 --interval 0.6 --no-encryption
wait_exit "$last_pid" 30
first=$(grep -c "bytes from node-a-0001" "$work/spaced.out")
check "--interval spaces the requests (3 answered)" \
  $((rc != 0 || first != 3)) "exit $rc, $first replies"
# The replies' time stamps are not printed; the run's length is: from the
# first request to the third, two intervals.
elapsed=$(($(now_ms) - t0))
check "--interval 0.6 makes 3 requests last at least 1.2 s" \
  $((elapsed < 1200)) "took ${elapsed} ms"

# 6. --ping-timeout: requests for a peer nobody has a route to are not
# answered; each is given up after the time-out, and the node exits 1.
t0=$(now_ms)
start noroute --uuid node-d-0004 --peer "node-a-0001@127.0.0.1:$port" \
  --ping node-x-0009 --count 2 --ping-timeout 1 --no-encryption
wait_exit "$last_pid" $bound
elapsed=$(($(now_ms) - t0))
timeouts=$(grep -c "no reply within 1.0 s" "$work/noroute.out")
grep -q "2 of 2 echo requests to node-x-0009 went unanswered" \
  "$work/noroute.err"
said=$?
check "--ping-timeout 1 gives up each unanswered request, exit 1" \
  $((rc != 1 || timeouts != 2 || said != 0 || elapsed < 1000)) \
  "exit $rc, $timeouts time-outs, ${elapsed} ms; $(cat "$work/noroute.out")"

# 7. A node that only runs stops on SIGTERM with exit 0.
kill -TERM "$a_pid"
wait_exit "$a_pid" $bound
echo "SIGTERM to a running node: exit after ${took} ms"
check "SIGTERM stops a running node with exit 0" "$rc" "exit $rc"

exit $fail
