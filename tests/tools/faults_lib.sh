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

# -- exact checks ---------------------------------------------------------------

# What the rules give with these timings: a silent peer is UNREACHABLE at
# its first heart-beat after 2 s of silence and NO_CONNECTION at its first
# after 8 s; unanswered beats come at most 1 s apart (interval 0.5 s plus
# the largest slow-down 0.5 s), each at the first tick (0.1 s) after it is
# due. So the silence a node measured when it changed the state is above
# the threshold and at most 1.1 s more.
unresponsive_s=2
no_connection_s=8
beat_gap_s=1.1

# log_mark NAME: the number of lines node NAME logged so far.
log_mark() {
  wc -l <"$work/$1.err"
}

# changes_after MARK NAME UUID: the changes of peer UUID's state node NAME
# logged after its first MARK lines, one "OLD -> NEW" a line (the log names
# a chosen uuid whole, a generated one by its first 8 digits).
changes_after() {
  local shown=$3
  [[ $3 =~ ^[0-9a-f]{32}$ ]] && shown=${3:0:8}
  tail -n +$(($1 + 1)) "$work/$2.err" |
    sed -n "s/^info connector: $shown \([A-Z_]* -> [A-Z_]*\).*/\1/p"
}

# changed_after MARK NAME UUID [COUNT]: whether node NAME logged at least
# COUNT (1) changes of peer UUID's state after its first MARK lines.
changed_after() {
  [ "$(changes_after "$1" "$2" "$3" | wc -l)" -ge "${4:-1}" ]
}

# expect_changes SECONDS MARK NAME UUID CHANGE...: waits (at most SECONDS)
# until node NAME logged as many changes of peer UUID's state after its
# first MARK lines as CHANGEs are given, then fails unless they are exactly
# those ("CONNECTED -> UNREACHABLE", ...). Sets took_ms.
expect_changes() {
  local limit=$1 mark=$2 name=$3 uuid=$4
  shift 4
  local want got
  want=$(printf '%s\n' "$@")
  wait_for "$limit" changed_after "$mark" "$name" "$uuid" $# ||
    fail "node $name logged no $* of $uuid within $limit s" \
      "(it logged: $(changes_after "$mark" "$name" "$uuid" | tr '\n' ';'))"
  got=$(changes_after "$mark" "$name" "$uuid" | head -n $#)
  [ "$got" = "$want" ] ||
    fail "node $name changed $uuid's state '$(tr '\n' ';' <<<"$got")'," \
      "expected '$(tr '\n' ';' <<<"$want")'"
}

# json_after NAME COUNT UUID STATE: the first complete JSON line of node NAME
# after its first COUNT lines that lists peer UUID in STATE, as "SILENCE
# HEARD": the seconds of silence when the peer entered STATE (its
# seconds_since_heard less its seconds_in_state, as the node measured them)
# and the node's time of the last message from it (t less
# seconds_since_heard). Prints nothing when there is none yet.
json_after() {
  python3 - "$work/$1.out" "$2" "$3" "$4" <<'PY'
import json, sys
path, skip, uuid, state = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
for n, line in enumerate(open(path)):
    if n < skip or not line.endswith("\n"):
        continue
    p = json.loads(line)["peers"].get(uuid)
    if p and p["state"] == state and p["seconds_since_heard"] is not None:
        print("%.3f %.3f" % (p["seconds_since_heard"] - p["seconds_in_state"],
                             json.loads(line)["t"] - p["seconds_since_heard"]))
        break
PY
}

# shows NAME COUNT UUID STATE: whether a JSON line of node NAME after its
# first COUNT lists peer UUID in STATE (cheap: polled).
shows() {
  tail -n +$(($2 + 1)) "$work/$1.out" | grep '}}}$' |
    grep -q "\"$3\": {\"state\": \"$4\""
}

# expect_silence NAME COUNT UUID STATE THRESHOLD: fails unless a JSON line
# of node NAME after its first COUNT lists UUID in STATE (see `await_line`)
# and the silence the node measured when it entered STATE was above
# THRESHOLD seconds and at most THRESHOLD + beat_gap_s (to the millisecond
# the lines give). Prints the silence.
expect_silence() {
  local name=$1 count=$2 uuid=$3 state=$4 threshold=$5 silence
  silence=$(json_after "$name" "$count" "$uuid" "$state" | cut -d' ' -f1)
  [ -n "$silence" ] || fail "node $name listed $uuid in no JSON line as $state"
  awk -v s="$silence" -v t="$threshold" -v g="$beat_gap_s" \
    'BEGIN { exit !(s + 0.001 > t && s <= t + g + 0.001) }' ||
    fail "node $name made $uuid $state after $silence s of silence," \
      "not within ($threshold, $threshold + $beat_gap_s] s"
  echo "$silence"
}

# await_line NAME COUNT UUID STATE: waits (at most 10 s) until a JSON line
# of node NAME after its first COUNT lists peer UUID in STATE (the node
# writes one every 0.5 s).
await_line() {
  wait_for 10 shows "$@" ||
    fail "node $1 listed $3 in no JSON line as $4 (for 10 s)"
}

# expect_back MS MARK NAME UUID: waits (at most 30 s) until node NAME took
# peer UUID back (its last change logged after its first MARK lines is to
# CONNECTED), then fails unless the changes are those the rules allow for a
# fault of MS milliseconds that made it UNREACHABLE: shorter than 7 s (the
# no-connection threshold less a heart-beat interval and a margin), back
# at once or through CONNECTING; longer, also through NO_CONNECTION.
expect_back() {
  local ms=$1 mark=$2 name=$3 uuid=$4 got
  local at_once="CONNECTED -> UNREACHABLE;UNREACHABLE -> CONNECTED"
  local anew="CONNECTED -> UNREACHABLE;UNREACHABLE -> CONNECTING;CONNECTING -> CONNECTED"
  if [ "$ms" -lt 7000 ]; then
    expect_path 30 "$mark" "$name" "$uuid" CONNECTED "$at_once" "$anew"
    return
  fi
  wait_for 30 ends_in "$mark" "$name" "$uuid" CONNECTED ||
    fail "node $name did not make $uuid CONNECTED within 30 s"
  got=$(changes_after "$mark" "$name" "$uuid" | paste -sd';')
  case "$got" in
  "$at_once" | "$anew") ;;
  "CONNECTED -> UNREACHABLE;UNREACHABLE -> NO_CONNECTION;"*"-> CONNECTED")
    echo "  (the fault lasted $(seconds "$ms") s: $name gave $uuid up first)" ;;
  *) fail "node $name changed $uuid's state '$got' after a fault of" \
    "$(seconds "$ms") s" ;;
  esac
}

# heard NAME UUID: the node's time of the last message from peer UUID in the
# last JSON line of node NAME (t less seconds_since_heard), or nothing.
heard() {
  python3 - "$work/$1.out" "$2" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.endswith("\n")]
if lines:
    x = json.loads(lines[-1])
    p = x["peers"].get(sys.argv[2])
    if p and p["seconds_since_heard"] is not None:
        print("%.3f" % (x["t"] - p["seconds_since_heard"]))
PY
}

# heard_since NAME UUID TIME STATE [PORT]: whether the last JSON line of node
# NAME lists peer UUID in STATE (at PORT), last heard after TIME (a `heard`
# value).
heard_since() {
  local now
  now=$(heard "$1" "$2")
  [ -n "$now" ] && [ "$(field "$1" "$2" state)" = "$4" ] &&
    { [ -z "${5:-}" ] || [ "$(field "$1" "$2" port)" = "$5" ]; } &&
    awk -v a="$now" -v b="$3" 'BEGIN { exit !(a > b + 0.01) }'
}

# heard_in_line NAME N UUID: the `heard` value of peer UUID in line N of
# node NAME's JSON lines (empty when the line is not complete yet).
heard_in_line() {
  python3 - "$work/$1.out" "$2" "$3" <<'PY'
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    if n == int(sys.argv[2]) and line.endswith("\n"):
        x = json.loads(line)
        p = x["peers"].get(sys.argv[3])
        if p and p["seconds_since_heard"] is not None:
            print("%.3f" % (x["t"] - p["seconds_since_heard"]))
PY
}

# has_line NAME N: whether node NAME wrote its line N in full.
has_line() {
  [ "$(lines "$1")" -ge "$2" ]
}

# expect_heard_again NAME UUID COUNT [PORT]: after a fault of peer UUID
# once node NAME had written COUNT JSON lines: takes the time of the last
# message from UUID in the second line after those (by then whatever the
# peer sent before the fault is read) and waits (at most 30 s) until a later
# line lists UUID CONNECTED (at PORT), heard after that time: node NAME
# hears from the peer again, not merely still lists it as it was.
expect_heard_again() {
  local name=$1 uuid=$2 count=$3 port=${4:-} before
  wait_for 10 has_line "$name" $((count + 2)) ||
    fail "node $name wrote no JSON lines"
  before=$(heard_in_line "$name" $((count + 2)) "$uuid")
  [ -n "$before" ] || fail "node $name no longer lists $uuid"
  wait_for 30 heard_since "$name" "$uuid" "$before" CONNECTED $port ||
    fail "node $name did not hear from $uuid again (last heard at $before" \
      "s; it lists it $(field "$name" "$uuid" state) at port" \
      "$(field "$name" "$uuid" port))"
}

# ends_in MARK NAME UUID STATE: whether the last change of peer UUID's state
# node NAME logged after its first MARK lines is to STATE.
ends_in() {
  changes_after "$1" "$2" "$3" | tail -n 1 | grep -q -- "-> $4\$"
}

# expect_path SECONDS MARK NAME UUID STATE PATH...: waits (at most SECONDS)
# until the last change of peer UUID's state node NAME logged after its
# first MARK lines is to STATE, then fails unless the changes logged are
# exactly one of the PATHs (each the changes joined by ";", e.g.
# "CONNECTED -> UNREACHABLE;UNREACHABLE -> CONNECTED"). Sets took_ms.
expect_path() {
  local limit=$1 mark=$2 name=$3 uuid=$4 state=$5 got path
  shift 5
  wait_for "$limit" ends_in "$mark" "$name" "$uuid" "$state" ||
    fail "node $name did not make $uuid $state within $limit s" \
      "(it logged: $(changes_after "$mark" "$name" "$uuid" | tr '\n' ';'))"
  got=$(changes_after "$mark" "$name" "$uuid" | paste -sd';')
  for path in "$@"; do
    [ "$got" = "$path" ] && return 0
  done
  fail "node $name changed $uuid's state '$got', expected one of: $*"
}
