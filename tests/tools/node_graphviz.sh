#!/usr/bin/env bash
# The topology of p2p0mq-node in Graphviz: the DOT file --topology writes
# parses with `dot`, and a file name ending in .svg is rendered as SVG.
# Without Graphviz (Debian package graphviz, which scripts/test.sh
# installs) the test says so and is skipped (exit 77).
#   node_graphviz.sh PATH/TO/p2p0mq-node
set -u
node=$1
command -v dot >/dev/null || {
  echo "SKIPPED: Graphviz's dot is not installed (Debian package graphviz)"
  exit 77
}
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

# Waits (at most 60 s) for a line of FILE to match sed expression EXPR and
# prints what it captured.
wait_for() {
  local file=$1 expr=$2 value=
  for _ in $(seq 600); do
    value=$(sed -n "$expr" "$file" 2>/dev/null | head -1)
    [ -n "$value" ] && break
    read -rt 0.1 <> <(:) || true
  done
  echo "$value"
}

"$node" --uuid node-a-0001 --certs "$work/certs" --topology "$work/net.dot" \
  --duration 120 2>"$work/a.err" >/dev/null &
pids+=($!)
a_port=$(wait_for "$work/a.err" 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p')
[ -n "$a_port" ] || { echo "FAILED: node A did not announce its port"; exit 1; }
"$node" --uuid node-b-0002 --certs "$work/certs" \
  --peer "node-a-0001@127.0.0.1:$a_port" --duration 120 >/dev/null 2>&1 &
pids+=($!)
seen=$(wait_for "$work/net.dot" '/"node-a-0001" -> "node-b-0002" \[color=forestgreen\]/p')
[ -n "$seen" ] || { echo "FAILED: no green edge from A to B"; exit 1; }
if ! dot -Tcanon "$work/net.dot" >"$work/canon.dot"; then
  echo "FAILED: Graphviz does not parse the DOT file:"; cat "$work/net.dot"
  exit 1
fi
grep -q '"node-b-0002"' "$work/canon.dot" ||
  { echo "FAILED: Graphviz's reading lacks node B"; exit 1; }
# A node that writes SVG at its end.
"$node" --uuid node-c-0003 --certs "$work/certs" \
  --peer "node-a-0001@127.0.0.1:$a_port" --topology "$work/net.svg" \
  --duration 1 >/dev/null 2>&1
if ! grep -q "<svg" "$work/net.svg" 2>/dev/null; then
  echo "FAILED: --topology FILE.svg did not render SVG"; exit 1
fi
echo "Graphviz parses the topology, and renders it as SVG"
