#!/usr/bin/env bash
# Four p2p0mq-node processes in a line on 127.0.0.1, each told only the next
# one's address: A - B - C - D. A pings D, several hops away, and must exit 0:
# it finds the way by asking around. Then a fifth node E, told only B's
# address and with B as its default route (--route-via), pings D too: its
# pings go through B at once, so E never asks around (its counters say so),
# and they are answered. D answers echo requests. All keep their
# certificates in one directory, so they trust each other.
#   node_route.sh PATH/TO/p2p0mq-node
set -u
node=$1
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

source "$(dirname "$0")/node_lib.sh"

# connected NAME UUID: waits (at most 60 s) until node NAME lists UUID as
# CONNECTED.
connected() {
  for _ in $(seq 600); do
    grep -q "\"$2\": {\"state\": \"CONNECTED\"" "$work/$1.out" && return 0
    read -rt 0.1 <> <(:) || true
  done
  echo "node $1 never listed $2 as CONNECTED:"; tail -2 "$work/$1.out"; exit 1
}

start d --uuid route-d-0004 --echo
start c --uuid route-c-0003 --peer "route-d-0004@127.0.0.1:$port"
start b --uuid route-b-0002 --peer "route-c-0003@127.0.0.1:$port"
b_port=$port
connected c route-d-0004
connected b route-c-0003

# searches NAME: the ask-around searches in the last JSON line of NAME's
# ping run, as "SEARCHES QUESTIONS". (Its pings are a second apart, so that
# line comes after the answers to the first two.)
searches() {
  grep '}}}$' "$work/$1.json" | tail -n 1 |
    sed -n 's/.*"ask_around": {"searches": \([0-9]*\), "questions": \([0-9]*\),.*/\1 \2/p'
}

"$node" --uuid route-a-0001 --peer "route-b-0002@127.0.0.1:$b_port" \
  --certs "$work/certs" --ping route-d-0004 --count 3 --interval 1 \
  --duration 60 --json \
  >"$work/a.json" 2>"$work/a.ping"
rc=$?
cat "$work/a.ping"
if [ $rc -ne 0 ]; then
  echo "ping from A to D exited with $rc"; exit 1
fi
read -r a_searches a_questions <<<"$(searches a)"
if [ "${a_searches:-0}" -lt 1 ] || [ "${a_questions:-0}" -lt 1 ]; then
  echo "A found D without asking around? searches '$a_searches'," \
    "questions '$a_questions'"; exit 1
fi
echo "A asked around ($a_searches searches, $a_questions questions)"

"$node" --uuid route-e-0005 --peer "route-b-0002@127.0.0.1:$b_port" \
  --certs "$work/certs" --route-via route-b-0002 --ping route-d-0004 \
  --count 3 --interval 1 --duration 60 --json >"$work/e.json" 2>"$work/e.ping"
rc=$?
cat "$work/e.ping"
if [ $rc -ne 0 ]; then
  echo "ping from E to D through its default route exited with $rc"; exit 1
fi
read -r e_searches e_questions <<<"$(searches e)"
if [ "$e_searches" != 0 ] || [ "$e_questions" != 0 ]; then
  echo "E asked around (searches '$e_searches', questions '$e_questions'):" \
    "its pings did not go by the default route alone"; exit 1
fi
if ! grep '}}}$' "$work/e.json" | tail -n 1 |
  grep -q '"route-d-0004": {"state": "ROUTED", [^}]*"via": "route-b-0002"'; then
  echo "E does not list D ROUTED via B:"; tail -n 1 "$work/e.json"; exit 1
fi
echo "E reached D through its default route B alone, without asking around"

# D is stopped with SIGINT, the others with SIGTERM: both stop a node
# cleanly (exit 0).
signal=INT
for i in "${!pids[@]}"; do
  kill -$signal "${pids[$i]}"
  wait "${pids[$i]}" ||
    { echo "a node of the line did not stop cleanly on SIG$signal"; exit 1; }
  signal=TERM
done
pids=()
echo "pings answered across the line, every node stopped cleanly"
