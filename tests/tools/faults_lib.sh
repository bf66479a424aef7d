# Helpers of the fault tests (faults_*.sh), sourced by them: starting
# p2p0mq-node processes with short timings and waiting, with a bound, for what
# their logs and JSON lines say. Each wait polls every 0.1 s; none sleeps to
# synchronise.
#
# Set before sourcing: node (the p2p0mq-node binary) and work (a scratch
# directory). Every node started here is killed by `faults_cleanup`.

# The timings of every node of the fault tests, shortened from the defaults
# (heart-beat 4 s, unresponsive 40 s, no connection 240 s, reconnect wait
# 120 s, tick 1 s, time-to-live 30 s) so that each fault plays out in a few
# seconds. RELIABILITY.md states the bounds observed with them.
timings=(
  --p2p0mq.tick-interval=100ms
  --p2p0mq.heart-beat-interval=500ms
  --p2p0mq.heart-beat-slow-down=250ms
  --p2p0mq.heart-beat-max-slow-down=500ms
  --p2p0mq.unresponsive-threshold=2s
  --p2p0mq.no-connection-threshold=8s
  --p2p0mq.reconnect-wait=1s
  --p2p0mq.message-ttl=5s
  --p2p0mq.store-sync-interval=1s
)

declare -A pid_of=() started_at=()

faults_cleanup() {
  local name
  for name in "${!pid_of[@]}"; do
    kill -KILL "${pid_of[$name]}" 2>/dev/null
  done
}

# Milliseconds since the epoch.
now_ms() {
  date +%s%3N
}

# Waits up to 0.1 s (for nothing: the poll interval of every wait below).
tick() {
  read -rt 0.1 <> <(:) || true
}

# fail MESSAGE: prints MESSAGE and the tail of every node's output, exits 1.
fail() {
  echo "FAILED: $*"
  local f
  for f in "$work"/*.err "$work"/*.out; do
    [ -f "$f" ] || continue
    echo "--- $f (last lines)"
    tail -n 3 "$f" | cut -c1-600
  done
  exit 1
}

# start NAME [--in NETNS] ARGS...: starts a node in the background with the
# short timings, --json and its connector's log (every change of a peer's
# state, as it happens); its JSON lines go to $work/NAME.out and its standard
# error, with the log, to $work/NAME.err (both replaced). Sets pid_of[NAME], and
# sets port to the port it announces (waits at most 20 s). A node ends by
# itself after 120 s, should the test be killed before it could stop it.
start() {
  local name=$1
  shift
  local prefix=()
  if [ "${1:-}" = --in ]; then
    prefix=(ip netns exec "$2")
    shift 2
  fi
  "${prefix[@]}" "$node" "$@" --json --log-level warning,connector=info \
    --duration 120 "${timings[@]}" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pid_of[$name]=$!
  started_at[$name]=$(now_ms)
  port=
  local i
  for i in $(seq 200); do
    # (The file may not be there yet.)
    port=$(sed -n 's/.* listening on [0-9.]*:\([0-9]*\) .*/\1/p' \
      "$work/$name.err" 2>/dev/null)
    [ -n "$port" ] && return 0
    kill -0 "${pid_of[$name]}" 2>/dev/null || break
    tick
  done
  fail "node $name did not announce its port"
}

# The uuid node NAME announced.
uuid_of() {
  sed -n 's/^p2p0mq-node \([^ ]*\) listening on .*/\1/p' "$work/$1.err"
}

# The last complete JSON line of node NAME.
last_line() {
  tail -n 2 "$work/$1.out" 2>/dev/null | grep '}}}$' | tail -n 1
}

# field NAME UUID KEY: the value of KEY in the entry of peer UUID in the last
# JSON line of node NAME (empty when it does not list UUID).
field() {
  last_line "$1" | grep -o "\"$2\": {[^}]*}" |
    sed -n "s/.*\"$3\": \"\{0,1\}\([^\",}]*\).*/\1/p"
}

# wait_for SECONDS CONDITION...: evaluates CONDITION (a command) every 0.1 s
# until it succeeds, for at most SECONDS; sets took_ms to the time it took.
# Returns 1 on a timeout.
wait_for() {
  local limit=$1
  shift
  local start_ms deadline
  start_ms=$(now_ms)
  deadline=$((start_ms + limit * 1000))
  while :; do
    if "$@"; then
      took_ms=$(($(now_ms) - start_ms))
      return 0
    fi
    [ "$(now_ms)" -ge $deadline ] && return 1
    tick
  done
}

# state_of NAME UUID: the state of peer UUID at node NAME, as its log said
# last ("info connector: fault-b-0002 CONNECTED -> UNREACHABLE"; the log
# names a peer by its whole uuid, a generated one by its first 8 digits).
state_of() {
  sed -n "s/^info connector: $2 [A-Z_]* -> \([A-Z_]*\).*/\1/p" \
    "$work/$1.err" | tail -n 1
}

# in_state NAME UUID STATE: whether node NAME holds peer UUID in STATE (a
# regular expression, e.g. 'UNREACHABLE\|NO_CONNECTION') by its log.
in_state() {
  state_of "$1" "$2" | grep -qx "$3"
}

# fresh NAME UUID SECONDS: whether the last JSON line of node NAME lists peer
# UUID as CONNECTED and heard from within SECONDS.
fresh() {
  [ "$(field "$1" "$2" state)" = CONNECTED ] &&
    awk -v s="$(field "$1" "$2" seconds_since_heard)" -v m="$3" \
      'BEGIN { exit !(s != "" && s != "null" && s + 0 <= m + 0) }'
}

# lines NAME: the number of lines node NAME wrote so far.
lines() {
  wc -l <"$work/$1.out"
}

# fresh_after COUNT NAME UUID SECONDS: fresh NAME UUID SECONDS, in a line that
# node NAME wrote after its first COUNT lines.
fresh_after() {
  [ "$(lines "$2")" -gt "$1" ] && fresh "$2" "$3" "$4"
}

# seconds MS: MS milliseconds as seconds with one decimal.
seconds() {
  awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'
}

# since NAME: the seconds since node NAME was started, with one decimal.
since() {
  seconds $(($(now_ms) - ${started_at[$1]}))
}
