#!/usr/bin/env bash
# kill -9 and restart, with the peer store: two p2p0mq-node processes A and B,
# each with its own --db, B told A's address. Then, one at a time:
#   1.-4. B is killed (SIGKILL) and started again from its store alone (no
#      --uuid, no --peer): on its port or on a new one, at once (before A
#      notices) or once A holds it UNREACHABLE. Each time, B's store passes
#      SQLite's integrity check and holds B's uuid and A's address, B comes
#      back with its uuid and lists A as CONNECTED (A answered its hello), and
#      A lists B as CONNECTED at its new port;
#   5. A, whose address B has, is killed: B sees it UNREACHABLE; A restarted
#      from its store on its port is CONNECTED to B again, both ways.
# The nodes run with short timings (faults_lib.sh). Each wait has a generous
# bound and ends on its condition; then the exact thing is checked: which
# state changes each node logged, and the silence after which it declared
# a peer UNREACHABLE (within the window the rules give, by the node's own
# clock). Wall-clock times are printed.
#   faults_kill.sh PATH/TO/p2p0mq-node
set -u
node=$1
work=$(mktemp -d)
source "$(dirname "$0")/faults_lib.sh"
trap 'faults_cleanup; rm -rf "$work"' EXIT

a=fault-a-0001
b=fault-b-0002

# store_ok FILE UUID PEER: FILE passes SQLite's integrity check, holds UUID as
# its own and PEER among its peers.
store_ok() {
  python3 - "$@" <<'PY'
import sqlite3, sys
path, uuid, peer = sys.argv[1:]
db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
check = db.execute("PRAGMA integrity_check").fetchone()[0]
assert check == "ok", "integrity_check: %s" % check
own = db.execute("SELECT value FROM p2p0mq_meta WHERE key = 'uuid'").fetchone()
own = own[0].decode() if isinstance(own[0], bytes) else own[0]
assert own == uuid, "uuid %r, expected %r" % (own, uuid)
peers = [r[0].decode() if isinstance(r[0], bytes) else r[0]
         for r in db.execute("SELECT uuid FROM p2p0mq_peers")]
assert peer in peers, "peers %r lack %r" % (peers, peer)
print("store %s: integrity ok, uuid %s, peers %s" % (path, own, peers))
PY
}

# stored FILE PEER [PORT]: whether the store FILE lists PEER (at PORT).
stored() {
  python3 - "$@" <<'PY' 2>/dev/null
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
peers = {(r[0].decode() if isinstance(r[0], bytes) else r[0]): str(r[1])
         for r in db.execute("SELECT uuid, port FROM p2p0mq_peers")}
port = sys.argv[3] if len(sys.argv) > 3 else None
sys.exit(0 if sys.argv[2] in peers and port in (None, peers[sys.argv[2]])
         else 1)
PY
}

# kill9 NAME: kills node NAME with SIGKILL and reaps it (quietly: bash would
# report the killed job).
kill9() {
  exec 3>&2 2>/dev/null
  kill -KILL "${pid_of[$1]}"
  wait "${pid_of[$1]}"
  exec 2>&3 3>&-
  unset "pid_of[$1]"
}

start a --uuid $a --db "$work/a.db" --certs "$work/certs" --bind 127.0.0.1:0
a_port=$port
start b --uuid $b --db "$work/b.db" --certs "$work/certs" --bind 127.0.0.1:0 \
  --peer "$a@127.0.0.1:$a_port"
b_port=$port
wait_for 30 in_state b $a CONNECTED || fail "B never listed A as CONNECTED"
wait_for 30 in_state a $b CONNECTED || fail "A never listed B as CONNECTED"
echo "A and B connected (A on port $a_port, B on port $b_port)"
# What a node learnt reaches its store at the next sync (every second here):
# wait for it, as kill -9 loses what came after the last sync.
wait_for 30 stored "$work/b.db" $a || fail "B never stored A"
wait_for 30 stored "$work/a.db" $b || fail "A never stored B"

# restart_b NAME PORT WHEN: kills the running B (SIGKILL); with WHEN=later,
# waits until A holds it UNREACHABLE first (the first change A logs of B,
# after the silence the rules allow). Checks B's store, then starts B again
# as node NAME from its store alone (no --uuid, no --peer) on PORT (0: one
# the system picks), and waits until B lists A as CONNECTED and A hears from
# the new B and lists it CONNECTED at its port.
b_node=b
restart_b() {
  local name=$1 port_wanted=$2 when=$3 how mark count killed_at fault_ms
  mark=$(log_mark a)
  count=$(lines a)
  kill9 $b_node
  killed_at=$(now_ms)
  if [ $when = later ]; then
    expect_changes 30 $mark a $b "CONNECTED -> UNREACHABLE"
    echo "kill -9 B: A saw B UNREACHABLE after $(seconds $took_ms) s"
    await_line a $count $b UNREACHABLE
  fi
  store_ok "$work/b.db" $b $a || fail "B's store after kill -9"
  start $name --db "$work/b.db" --certs "$work/certs" \
    --bind 127.0.0.1:$port_wanted
  fault_ms=$((${started_at[$name]} - killed_at))
  b_node=$name
  [ "$(uuid_of $name)" = $b ] || fail "B restarted as '$(uuid_of $name)'"
  if [ "$port_wanted" = "$b_port" ]; then how="on its port"; else
    how="on a new port"; fi
  [ $when = later ] || how="at once $how"
  b_port=$port
  if [ $when = later ]; then
    echo "  (A had not heard from B for" \
      "$(expect_silence a $count $b UNREACHABLE $unresponsive_s) s then)"
  fi
  wait_for 30 in_state $name $a CONNECTED ||
    fail "B restarted $how never listed A as CONNECTED"
  local t_b
  t_b=$(since $name)
  expect_heard_again a $b $count $b_port
  echo "B restarted $how ($b_port): B saw A CONNECTED $t_b s after its" \
    "start, A heard B again and lists it CONNECTED there at $(since $name) s"
  # Once it held B UNREACHABLE, A takes B back either at once (it heard
  # from B directly and connects to its address as it does) or after
  # greeting it anew; on a new port, it heard B again there (above).
  if [ $when = later ]; then
    expect_back $fault_ms $mark a $b
  fi
}
# 1. to 4. B killed and restarted on its port or a new one, at once (before
# A notices) or once A holds it UNREACHABLE.
restart_b b2 $b_port later
restart_b b3 $b_port now
restart_b b4 0 later
restart_b b5 0 now

# 5. A, the peer B was told of, killed and restarted on its port, once its
# store has B's new address (killed before that, A would come back with B's
# old address: see RELIABILITY.md).
wait_for 30 stored "$work/a.db" $b $b_port || fail "A never stored B's new port"
mark=$(log_mark b5)
count=$(lines b5)
kill9 a
killed_at=$(now_ms)
expect_changes 30 $mark b5 $a "CONNECTED -> UNREACHABLE"
echo "kill -9 A: B saw A UNREACHABLE after $(seconds $took_ms) s"
await_line b5 $count $a UNREACHABLE
store_ok "$work/a.db" $a $b || fail "A's store after kill -9"
start a2 --db "$work/a.db" --certs "$work/certs" --bind 127.0.0.1:$a_port
fault_ms=$((${started_at[a2]} - killed_at))
[ "$(uuid_of a2)" = $a ] || fail "A restarted as '$(uuid_of a2)', not $a"
echo "  (B had not heard from A for" \
  "$(expect_silence b5 $count $a UNREACHABLE $unresponsive_s) s then)"
wait_for 30 in_state a2 $b CONNECTED ||
  fail "restarted A never listed B as CONNECTED"
t_a=$(since a2)
expect_back $fault_ms $mark b5 $a
echo "A restarted on port $a_port: A saw B CONNECTED $t_a s after its start," \
  "B saw A CONNECTED at $(since a2) s"

# Both stop cleanly, and both stores are intact.
for name in a2 $b_node; do
  kill -TERM "${pid_of[$name]}"
  wait "${pid_of[$name]}" || fail "node $name did not stop cleanly on SIGTERM"
  unset "pid_of[$name]"
done
store_ok "$work/a.db" $a $b || fail "A's store at the end"
store_ok "$work/b.db" $b $a || fail "B's store at the end"
echo "kill -9 and restart: stores intact, peers reconnected"
