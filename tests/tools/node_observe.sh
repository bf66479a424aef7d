#!/usr/bin/env bash
# What p2p0mq-node shows of itself: --json lines parse and hold every
# documented field, round-trip times and traffic by peer and concern among
# them; --metrics serves valid Prometheus text (scraped here);
# --topology writes DOT; --watch renders under a pseudo-terminal within 80
# columns; --config and the flags agree, and a conflict is reported. Every
# wait ends on its condition, within 60 s.
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

# A beats its peers every 300 ms (looking every 100 ms), so round trips are
# measured soon.
"$node" --uuid node-a-0001 --certs "$work/certs" --echo --json --metrics 0 \
  --topology "$work/net.dot" --duration 120 --p2p0mq.heart-beat-interval=300ms \
  --p2p0mq.tick-interval=100ms >"$work/a.out" 2>"$work/a.err" &
pids+=($!)
a_port=$(wait_for "$work/a.err" 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p')
m_port=$(wait_for "$work/a.err" 's/.*metrics on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p')
if [ -z "$a_port" ] || [ -z "$m_port" ]; then
  echo "node A did not announce its ports"; cat "$work/a.err"; exit 1
fi
"$node" --uuid node-b-0002 --certs "$work/certs" \
  --peer "node-a-0001@127.0.0.1:$a_port" --duration 120 >/dev/null 2>&1 &
pids+=($!)
# A lists B as CONNECTED in its JSON lines.
seen=$(wait_for "$work/a.out" '/"node-b-0002": {"state": "CONNECTED"/p')
check '[ -n "$seen" ]' "node A lists node B as CONNECTED"
# And, after B answered a few heart-beats, their round-trip times.
seen=$(wait_for "$work/a.out" '/"node-b-0002": {"state": "CONNECTED".*"rtt": {"last": [0-9.]*, "min": [0-9.]*, "mean": [0-9.]*, "max": [0-9.]*, "samples": [3-8]/p')
check '[ -n "$seen" ]' "node A shows the round trips of B's heart-beats"

python3 - "$work/a.out" <<'PY' || fail=1
import json, sys
top = ["t", "uuid", "host", "port", "encryption", "sender", "receiver",
       "router", "ask_around", "concerns", "peers"]
sections = {
    "sender": ["sent", "send_failed", "dropped", "queued", "held"],
    "receiver": ["received", "malformed", "impostors", "handshake_failures",
                 "unknown_command"],
    "router": ["received", "sent", "dropped", "looped"],
    "ask_around": ["searches", "questions", "answered", "passed_on",
                   "routes_found"],
}
peer = ["state", "host", "port", "via", "seconds_in_state",
        "seconds_since_heard", "heart_beat_slow_down_seconds", "rtt", "in",
        "out"]
rtt = ["last", "min", "mean", "max", "samples", "count"]
traffic_in = ["messages", "bytes"]
traffic_out = ["messages", "bytes", "send_failed", "dropped"]
def check_traffic(where, x):
    assert sorted(x) == ["in", "out"] or "state" in x, where
    for k in traffic_in: assert isinstance(x["in"][k], int), where + ".in." + k
    for k in traffic_out:
        assert isinstance(x["out"][k], int), where + ".out." + k
# (The node still writes: a last line without its newline is left out.)
lines = [l for l in open(sys.argv[1]) if l.endswith("\n") and l.strip()]
assert lines, "no JSON lines"
measured = False
for line in lines:
    x = json.loads(line)
    for k in top: assert k in x, "missing %s in %s" % (k, line)
    for name, keys in sections.items():
        for k in keys: assert k in x[name], "missing %s.%s" % (name, k)
    for c in ("hello", "hb", "r"):
        assert c in x["concerns"], "concern %s not listed" % c
    for name, c in x["concerns"].items():
        check_traffic("concerns." + name, c)
    for uuid, p in x["peers"].items():
        for k in peer: assert k in p, "missing peer field %s" % k
        check_traffic("peers." + uuid, p)
        if p["rtt"] is not None:
            for k in rtt: assert k in p["rtt"], "missing rtt.%s" % k
            r = p["rtt"]
            # No round trip took longer than the node has run.
            assert 0 <= r["min"] <= r["mean"] <= r["max"] < x["t"], r
            assert 1 <= r["samples"] <= min(8, r["count"]), r
            measured = True
last = json.loads(lines[-1])
b = last["peers"]["node-b-0002"]
assert b["in"]["messages"] > 0 and b["in"]["bytes"] > b["in"]["messages"], b
assert b["out"]["messages"] > 0 and b["out"]["bytes"] > 0, b
hb = last["concerns"]["hb"]
assert hb["in"]["messages"] > 0 and hb["out"]["messages"] > 0, hb
assert sum(c["out"]["messages"] for c in last["concerns"].values()) == \
    last["sender"]["sent"], last
assert measured, "no round-trip time in any line"
print("json: %d lines parse with every documented field; B's round trip "
      "%.6f s" % (len(lines), b["rtt"]["last"]))
PY

python3 - "$m_port" <<'PY' || fail=1
import re, sys, urllib.request, urllib.error
url = "http://127.0.0.1:%s" % sys.argv[1]
with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
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
        assert name not in typed, "a second TYPE line for " + name
        typed.add(name)
    else:
        m = sample.match(line)
        assert m, "not a sample line: %r" % line
        assert m.group(1) in typed and m.group(1) in helped, line
        names.add(m.group(1))
for want in ["p2p0mq_peers", "p2p0mq_messages_sent_total",
             "p2p0mq_messages_received_total", "p2p0mq_peer_state_seconds",
             "p2p0mq_peer_rtt_seconds", "p2p0mq_peer_rtt_min_seconds",
             "p2p0mq_peer_rtt_mean_seconds", "p2p0mq_peer_rtt_max_seconds",
             "p2p0mq_peer_heart_beats_answered_total",
             "p2p0mq_peer_received_messages_total",
             "p2p0mq_peer_received_bytes_total",
             "p2p0mq_peer_sent_messages_total", "p2p0mq_peer_sent_bytes_total",
             "p2p0mq_peer_failed_sends_total",
             "p2p0mq_peer_dropped_messages_total",
             "p2p0mq_concern_received_messages_total",
             "p2p0mq_concern_received_bytes_total",
             "p2p0mq_concern_sent_messages_total",
             "p2p0mq_concern_sent_bytes_total",
             "p2p0mq_concern_failed_sends_total",
             "p2p0mq_concern_dropped_messages_total",
             "p2p0mq_messages_unknown_command_total",
             "p2p0mq_routed_messages_total", "p2p0mq_routed_sent_total",
             "p2p0mq_routed_dropped_total", "p2p0mq_routed_looped_total",
             "p2p0mq_ask_around_searches_total",
             "p2p0mq_ask_around_questions_total",
             "p2p0mq_ask_around_answered_total",
             "p2p0mq_ask_around_passed_on_total",
             "p2p0mq_ask_around_routes_found_total"]:
    assert want in names, "missing " + want
assert 'p2p0mq_peers{local="node-a-0001",state="CONNECTED"} 1' in text
assert re.search(r'^p2p0mq_peer_rtt_seconds\{local="node-a-0001",'
                 r'peer="node-b-0002"\} 0\.[0-9]{6}$', text, re.M), \
    "no round trip of B"
assert re.search(r'^p2p0mq_concern_sent_messages_total\{local="node-a-0001",'
                 r'command="hb"\} [1-9][0-9]*$', text, re.M), "no hb sent"
try:
    urllib.request.urlopen(url + "/other", timeout=30)
    raise AssertionError("/other answered")
except urllib.error.HTTPError as e:
    assert e.code == 404
# Clients that go away before their answer, and 30 at once: every one that
# waits is answered, and the endpoint goes on answering.
import socket, threading
host, port = "127.0.0.1", int(sys.argv[1])
for _ in range(10):
    s = socket.create_connection((host, port), timeout=30)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    s.close()
codes = []
def scrape():
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        codes.append(r.status)
threads = [threading.Thread(target=scrape) for _ in range(30)]
for t in threads: t.start()
for t in threads: t.join()
assert codes == [200] * 30, codes
with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
    assert r.status == 200
print("metrics: %d families in valid text format; 30 scrapes at once and 10 "
      "clients gone early did not stop it" % len(typed))
PY

# The topology names both peers (Graphviz's parsing of it and SVG are
# checked by node_graphviz.sh).
seen=$(wait_for "$work/net.dot" '/"node-a-0001" -> "node-b-0002" \[color=forestgreen\]/p')
check '[ -n "$seen" ]' "the topology has a green edge from A to B"

# The live view under a pseudo-terminal: its table, in colour, and no line
# wider than 80 columns once the escapes are taken out; --watch keeps it on
# while the node pings A. The node runs until the view has shown A's round
# trip and the heart-beat traffic (at most 60 s), then is stopped with
# SIGTERM.
script -qec "exec $node --uuid node-d-0004 --certs $work/certs \
  --peer node-a-0001@127.0.0.1:$a_port --duration 120 --watch \
  --ping node-a-0001 --count 1000 \
  --p2p0mq.heart-beat-interval=200ms --p2p0mq.tick-interval=100ms" \
  "$work/tty.log" >/dev/null 2>&1 &
script_pid=$!
pids+=($script_pid)
shown() {
  grep -q "node-a-0.*CONNECTED.* [0-9.]*ms .*B .*B  127\.0\.0\.1:" \
    "$work/tty.log" 2>/dev/null &&
    grep -q "in/out by concern:.*hb [1-9]" "$work/tty.log" &&
    grep -q "in/out by concern:.*echo [1-9]" "$work/tty.log"
}
seen=
for _ in $(seq 600); do
  shown && seen=1 && break
  read -rt 0.1 <> <(:) || true
done
check '[ -n "$seen" ]' "the live view showed A's round trip and the traffic within 60 s"
view_pid=$(pgrep -P $script_pid)
check '[ -n "$view_pid" ] && kill -TERM $view_pid' "the live view's node runs"
wait $script_pid
check 'grep -q "PEER *STATE *SINCE *HEARD *RTT *IN *OUT *ADDRESS" "$work/tty.log"' \
  "the live view shows its table"
check 'grep -q "node-a-0.*CONNECTED.* [0-9.]*ms .*B .*B  127\.0\.0\.1:" "$work/tty.log"' \
  "the live view shows A's round trip and traffic"
check 'grep -q "in/out by concern:.*hb [1-9]" "$work/tty.log"' \
  "the live view shows the traffic by concern"
check 'grep -q "in/out by concern:.*echo [1-9]" "$work/tty.log"' \
  "the live view stays on while the node pings"
check 'grep -q $'"'"'\x1b\[32mCONNECTED'"'"' "$work/tty.log"' \
  "the live view colours CONNECTED peers"
# (The first and last lines are script's own; the log line of D's new
# identity and the node's last word on its pings are standard error, not the
# view.)
wide=$(grep -v '^Script \(started\|done\)\|^warning security: new identity\|^p2p0mq-node: stopped by' "$work/tty.log" |
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
