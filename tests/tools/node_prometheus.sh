#!/usr/bin/env bash
# A real Prometheus server (Debian's `prometheus`) scrapes p2p0mq-node's
# /metrics: node A serves them, node B connects to A, and a query of the
# server finds A's round-trip time to B (p2p0mq_peer_rtt_seconds) and the
# target up. The server runs with a config of its own, on 127.0.0.1 and a
# free port, its data in a scratch directory. Exits 77 (skipped) when the
# server cannot be started.
#   node_prometheus.sh PATH/TO/p2p0mq-node
set -u
node=$1
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAILED: $*"
  exit 1
}

prometheus=$(command -v prometheus) ||
  skip "no prometheus on PATH (Debian package prometheus)"

# wait_for FILE PATTERN: until a line of FILE matches (at most 10 s).
wait_for() {
  for _ in $(seq 200); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    read -rt 0.05 <> <(:) || true
  done
  return 1
}

# query EXPRESSION: the server's answer to an instant query (JSON).
query() {
  python3 - "$prom_port" "$1" <<'PY'
import sys, urllib.parse, urllib.request
port, expr = sys.argv[1], sys.argv[2]
url = "http://127.0.0.1:%s/api/v1/query?%s" % (
    port, urllib.parse.urlencode({"query": expr}))
try:
    with urllib.request.urlopen(url, timeout=2) as r:
        print(r.read().decode())
except Exception as e:
    print("error: %s" % e)
PY
}

"$node" --uuid node-a-0001 --no-encryption --echo --metrics 0 \
  --p2p0mq.heart-beat-interval=200ms --p2p0mq.tick-interval=100ms \
  >/dev/null 2>"$work/a.err" &
pids+=($!)
wait_for "$work/a.err" "metrics on http://127\.0\.0\.1:[0-9]+/metrics" ||
  fail "node A did not announce its metrics: $(cat "$work/a.err")"
a_port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/a.err")
metrics_port=$(sed -n 's|.*metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' \
  "$work/a.err")
"$node" --uuid node-b-0002 --no-encryption --peer "node-a-0001@127.0.0.1:$a_port" \
  --p2p0mq.heart-beat-interval=200ms --p2p0mq.tick-interval=100ms \
  >/dev/null 2>"$work/b.err" &
pids+=($!)

# A port the system chooses: bound and released, then given to the server.
prom_port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: p2p0mq
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
EOF
"$prometheus" --config.file="$work/prometheus.yml" \
  --web.listen-address="127.0.0.1:$prom_port" \
  --storage.tsdb.path="$work/data" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
pids+=($prom_pid)
ready=
for _ in $(seq 200); do
  if ! kill -0 "$prom_pid" 2>/dev/null; then
    skip "prometheus exited at start: $(tail -n 3 "$work/prometheus.log")"
  fi
  if grep -q "Server is ready to receive web requests" "$work/prometheus.log"; then
    ready=1
    break
  fi
  read -rt 0.1 <> <(:) || true
done
[ -n "$ready" ] ||
  skip "prometheus not ready within 20 s: $(tail -n 3 "$work/prometheus.log")"
echo "prometheus on 127.0.0.1:$prom_port scrapes 127.0.0.1:$metrics_port"

# The query: A's last round trip to B, present once a scrape saw B answer a
# heart-beat (at most 30 s).
expr='p2p0mq_peer_rtt_seconds{job="p2p0mq",local="node-a-0001",peer="node-b-0002"}'
answer=
for _ in $(seq 60); do
  answer=$(query "$expr")
  if python3 -c 'import json, sys
r = json.loads(sys.argv[1])
ok = r.get("status") == "success" and r["data"]["result"] and \
    float(r["data"]["result"][0]["value"][1]) > 0
sys.exit(0 if ok else 1)' "$answer" 2>/dev/null; then
    break
  fi
  answer=
  read -rt 0.5 <> <(:) || true
done
[ -n "$answer" ] || fail "no $expr above 0 in 30 s: $(query "$expr")
$(query 'up')"
echo "query $expr: $answer"
up=$(query 'up{job="p2p0mq"}')
grep -q '"value":\[[0-9.]*,"1"\]' <<<"$up" || fail "the target is not up: $up"
echo "prometheus scraped p2p0mq-node and found the round trip to node-b-0002"
