#!/usr/bin/env bash
# kill -9 and restart, with the peer store: two p2p0mq-node processes A and B,
# each with its own --db, B told A's address. Then, one at a time:
#   1. B is killed (SIGKILL): A sees it UNREACHABLE; B's store passes SQLite's
#      integrity check and keeps its uuid and A's address; B restarted from
#      its store alone (no --uuid, no --peer) on the same port is CONNECTED
#      to A again, both ways;
#   2. B is killed and restarted at once on another port, before A notices:
#      A takes the new address and both are CONNECTED again;
#   3. A, whose address B has, is killed: B sees it UNREACHABLE; A restarted
#      from its store on its port is CONNECTED to B again, both ways.
# The nodes run with short timings (faults_lib.sh); each wait has a bound and
# each measured time is printed.
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
wait_for 10 in_state b $a CONNECTED || fail "B never listed A as CONNECTED"
wait_for 10 in_state a $b CONNECTED || fail "A never listed B as CONNECTED"
echo "A and B connected (A on port $a_port, B on port $b_port)"
# What a node learnt reaches its store at the next sync (every second here):
# wait for it, as kill -9 loses what came after the last sync.
wait_for 10 stored "$work/b.db" $a || fail "B never stored A"
wait_for 10 stored "$work/a.db" $b || fail "A never stored B"

# 1. B killed; A notices; B restarted from its store on the same port.
kill9 b
wait_for 10 in_state a $b 'UNREACHABLE\|NO_CONNECTION' ||
  fail "A did not see B UNREACHABLE after kill -9"
echo "kill -9 B: A saw B $(state_of a $b) after $(seconds $took_ms) s"
store_ok "$work/b.db" $b $a || fail "B's store after kill -9"
start b2 --db "$work/b.db" --certs "$work/certs" --bind 127.0.0.1:$b_port
[ "$(uuid_of b2)" = $b ] || fail "B restarted as '$(uuid_of b2)', not $b"
wait_for 10 in_state b2 $a CONNECTED ||
  fail "restarted B never listed A as CONNECTED"
t_b=$(since b2)
wait_for 10 in_state a $b CONNECTED ||
  fail "A never listed restarted B as CONNECTED"
echo "B restarted on port $b_port: B saw A CONNECTED $t_b s after its" \
  "start, A saw B CONNECTED at $(since b2) s"

# 2. B killed and restarted at once on a new port, before A notices.
kill9 b2
start b3 --db "$work/b.db" --certs "$work/certs" --bind 127.0.0.1:0
b_port=$port
[ "$(uuid_of b3)" = $b ] || fail "B restarted as '$(uuid_of b3)', not $b"
new_port() {
  in_state a $b CONNECTED && [ "$(field a $b port)" = "$b_port" ]
}
wait_for 10 in_state b3 $a CONNECTED ||
  fail "B restarted on a new port never listed A as CONNECTED"
t_b=$(since b3)
wait_for 10 new_port || fail "A never listed B as CONNECTED at its new port"
echo "B restarted at once on new port $b_port: B saw A CONNECTED $t_b s" \
  "after its start, A listed B CONNECTED there at $(since b3) s"

# 3. A, the peer B was told of, killed and restarted on its port, once its
# store has B's new address (killed before that, A would come back with B's
# old address: see RELIABILITY.md).
wait_for 10 stored "$work/a.db" $b $b_port || fail "A never stored B's new port"
kill9 a
wait_for 10 in_state b3 $a 'UNREACHABLE\|NO_CONNECTION' ||
  fail "B did not see A UNREACHABLE after kill -9"
echo "kill -9 A: B saw A $(state_of b3 $a) after $(seconds $took_ms) s"
store_ok "$work/a.db" $a $b || fail "A's store after kill -9"
start a2 --db "$work/a.db" --certs "$work/certs" --bind 127.0.0.1:$a_port
[ "$(uuid_of a2)" = $a ] || fail "A restarted as '$(uuid_of a2)', not $a"
wait_for 10 in_state a2 $b CONNECTED ||
  fail "restarted A never listed B as CONNECTED"
t_a=$(since a2)
wait_for 10 in_state b3 $a CONNECTED ||
  fail "B never listed restarted A as CONNECTED"
echo "A restarted on port $a_port: A saw B CONNECTED $t_a s after its start," \
  "B saw A CONNECTED at $(since a2) s"

# Both stop cleanly, and both stores are intact.
for name in a2 b3; do
  kill -TERM "${pid_of[$name]}"
  wait "${pid_of[$name]}" || fail "node $name did not stop cleanly on SIGTERM"
  unset "pid_of[$name]"
done
store_ok "$work/a.db" $a $b || fail "A's store at the end"
store_ok "$work/b.db" $b $a || fail "B's store at the end"
echo "kill -9 and restart: stores intact, peers reconnected"
