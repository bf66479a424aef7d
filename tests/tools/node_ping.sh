#!/usr/bin/env bash
# Two p2p0mq-node processes on 127.0.0.1: A answers echo requests on a port
# the system picks; B is told A's address, pings it 3 times and must exit 0;
# then A is stopped with SIGTERM and must exit 0 too. Both keep their
# certificates in one directory, so they trust each other.
#   node_ping.sh PATH/TO/p2p0mq-node
set -u
node=$1
work=$(mktemp -d)
trap 'kill $a_pid 2>/dev/null; rm -rf "$work"' EXIT

"$node" --uuid node-a-0001 --bind 127.0.0.1:0 --echo --json --certs "$work/certs" \
  >"$work/a.out" 2>"$work/a.err" &
a_pid=$!

# A announces its port on standard error; wait for it (at most 60 s).
port=
for _ in $(seq 600); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/a.err")
  [ -n "$port" ] && break
  read -rt 0.1 <> <(:) || true
done
if [ -z "$port" ]; then
  echo "node A did not announce its port"; cat "$work/a.err"; exit 1
fi

"$node" --uuid node-b-0002 --peer "node-a-0001@127.0.0.1:$port" --certs "$work/certs" \
  --ping node-a-0001 --count 3 --duration 60
b_rc=$?
if [ $b_rc -ne 0 ]; then
  echo "ping exited with $b_rc"; cat "$work/a.err"; exit 1
fi

kill -TERM $a_pid
wait $a_pid
a_rc=$?
if [ $a_rc -ne 0 ]; then
  echo "node A exited with $a_rc on SIGTERM"; exit 1
fi
# A's JSON lines name B as CONNECTED at some point.
if ! grep -q '"node-b-0002": {"state": "CONNECTED"' "$work/a.out"; then
  echo "node A never listed node B as CONNECTED:"; tail -3 "$work/a.out"; exit 1
fi
echo "ping answered, both nodes stopped cleanly"
