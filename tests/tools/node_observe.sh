#!/usr/bin/env bash
# What p2p0mq-node shows of itself: --json lines parse and hold every
# documented field; --metrics serves valid Prometheus text (scraped here);
# --topology writes DOT that Graphviz parses (and SVG, where Graphviz is
# installed); --watch renders under a pseudo-terminal within 80 columns;
# --config and the flags agree, and a conflict is reported.
#   node_observe.sh PATH/TO/p2p0mq-node
set -u
node=$1
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
fail=0
check() {
  if ! eval "$1"; then
    echo "FAILED: $2"
    fail=1
  fi
}
# Waits (at most 10 s) for a line of FILE to match sed expression EXPR and
# prints what it captured.
wait_for() {
  local file=$1 expr=$2 value=
  for _ in $(seq 100); do
    value=$(sed -n "$expr" "$file" 2>/dev/null | head -1)
    [ -n "$value" ] && break
    read -rt 0.1 <> <(:) || true
  done
  echo "$value"
}

"$node" --uuid node-a-0001 --certs "$work/certs" --json --metrics 0 \
  --topology "$work/net.dot" --duration 20 >"$work/a.out" 2>"$work/a.err" &
pids+=($!)
a_port=$(wait_for "$work/a.err" 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p')
m_port=$(wait_for "$work/a.err" 's/.*metrics on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p')
if [ -z "$a_port" ] || [ -z "$m_port" ]; then
  echo "node A did not announce its ports"; cat "$work/a.err"; exit 1
fi
"$node" --uuid node-b-0002 --certs "$work/certs" \
  --peer "node-a-0001@127.0.0.1:$a_port" --duration 20 >/dev/null 2>&1 &
pids+=($!)
# A lists B as CONNECTED in its JSON lines.
seen=$(wait_for "$work/a.out" '/"node-b-0002": {"state": "CONNECTED"/p')
check '[ -n "$seen" ]' "node A lists node B as CONNECTED"

python3 - "$work/a.out" <<'PY' || fail=1
import json, sys
top = ["t", "uuid", "host", "port", "encryption", "sender", "receiver", "peers"]
sender = ["sent", "send_failed", "dropped", "queued", "held"]
receiver = ["received", "malformed", "impostors", "handshake_failures"]
peer = ["state", "host", "port", "via", "seconds_in_state",
        "seconds_since_heard", "heart_beat_slow_down_seconds"]
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no JSON lines"
for line in lines:
    x = json.loads(line)
    for k in top: assert k in x, "missing %s in %s" % (k, line)
    for k in sender: assert k in x["sender"], "missing sender.%s" % k
    for k in receiver: assert k in x["receiver"], "missing receiver.%s" % k
    for p in x["peers"].values():
        for k in peer: assert k in p, "missing peer field %s" % k
print("json: %d lines parse with every documented field" % len(lines))
PY

python3 - "$m_port" <<'PY' || fail=1
import re, sys, urllib.request, urllib.error
url = "http://127.0.0.1:%s" % sys.argv[1]
with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = r.read().decode()
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})?'
                    r' -?[0-9.eE+-]+$')
typed, helped, names = set(), set(), set()
for line in text.splitlines():
    if line.startswith("# HELP "):
        helped.add(line.split()[2])
    elif line.startswith("# TYPE "):
        name, kind = line.split()[2:4]
        assert kind in ("counter", "gauge"), line
        typed.add(name)
    else:
        m = sample.match(line)
        assert m, "not a sample line: %r" % line
        assert m.group(1) in typed and m.group(1) in helped, line
        names.add(m.group(1))
for want in ["p2p0mq_peers", "p2p0mq_messages_sent_total",
             "p2p0mq_messages_received_total", "p2p0mq_peer_state_seconds"]:
    assert want in names, "missing " + want
assert 'p2p0mq_peers{local="node-a-0001",state="CONNECTED"} 1' in text
try:
    urllib.request.urlopen(url + "/other", timeout=5)
    raise AssertionError("/other answered")
except urllib.error.HTTPError as e:
    assert e.code == 404
print("metrics: %d families in valid text format" % len(typed))
PY

# The topology names both peers; Graphviz parses it where installed.
seen=$(wait_for "$work/net.dot" '/"node-a-0001" -> "node-b-0002" \[color=forestgreen\]/p')
check '[ -n "$seen" ]' "the topology has a green edge from A to B"
if command -v dot >/dev/null; then
  check 'dot -Tcanon "$work/net.dot" >/dev/null' "Graphviz parses the DOT file"
  "$node" --uuid node-c-0003 --certs "$work/certs" \
    --peer "node-a-0001@127.0.0.1:$a_port" --topology "$work/net.svg" \
    --duration 1 >/dev/null 2>&1
  check 'grep -q "<svg" "$work/net.svg"' "--topology FILE.svg renders SVG"
else
  echo "Graphviz is not installed: DOT parsing and SVG are not checked"
fi

# The live view under a pseudo-terminal: its table, in colour, and no line
# wider than 80 columns once the escapes are taken out.
script -qec "$node --uuid node-d-0004 --certs $work/certs \
  --peer node-a-0001@127.0.0.1:$a_port --duration 2.2 --watch" \
  "$work/tty.log" >/dev/null 2>&1
check 'grep -q "PEER *STATE" "$work/tty.log"' "the live view shows its table"
check 'grep -q $'"'"'\x1b\[32mCONNECTED'"'"' "$work/tty.log"' \
  "the live view colours CONNECTED peers"
# (The first and last lines are script's own.)
wide=$(grep -v '^Script \(started\|done\)' "$work/tty.log" |
  sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | tr -d '\r' | awk 'length > 80' | wc -l)
check '[ "$wide" -eq 0 ]' "the live view fits 80 columns ($wide wider lines)"
# Not a terminal: no escapes at all.
"$node" --uuid node-e-0005 --no-encryption --duration 1.2 --watch \
  >"$work/plain.out" 2>/dev/null
check '! grep -q $'"'"'\x1b'"'"' "$work/plain.out"' \
  "the view has no escapes when not on a terminal"
check 'grep -q "PEER *STATE" "$work/plain.out"' "the plain view has its table"

# The config file and the flags agree; a flag that overrides the file says
# so.
printf '[p2p0mq]\nencryption=false\nport=0\n' >"$work/plain.ini"
out=$("$node" --config "$work/plain.ini" --duration 0.2 --json 2>&1)
check 'grep -q "encryption off" <<<"$out"' "--config turns encryption off"
printf '[p2p0mq]\nuuid="node-f-0006"\n' >"$work/uuid.ini"
out=$("$node" --config "$work/uuid.ini" --uuid node-g-0007 --no-encryption \
  --duration 0.2 2>&1)
check 'grep -q "node-g-0007 listening" <<<"$out"' "the --uuid flag wins"
check 'grep -q "overrides" <<<"$out"' "the conflict is reported"

[ $fail -eq 0 ] && echo "p2p0mq-node shows itself as documented"
exit $fail
