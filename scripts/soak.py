#!/usr/bin/env python3
"""A soak of real p2p0mq-node processes under churn (run by scripts/soak.sh).

NODES nodes with CURVE on (one certificate directory, so they trust each
other) and a peer store each form a random connected mesh: node i is told the
address of one to three earlier nodes. Every node pings one random node that
is not its neighbour in the mesh, every few seconds, for its whole life, so
the requests travel through other nodes (the router and the ask-around
concern find the way). The minutes start once the network formed: every
node in one connected part, and every node's pinger answered once.

Every minute, 10 % of the nodes (at least one) are killed with SIGKILL and
started again from their stores alone (no --uuid, no --peer), three in ten on
a new port, each pinging a new random target. The script waits until every
restarted node holds each of its live mesh neighbours CONNECTED, and they it
(the time to reconnect); the rest of the minute is quiet.

Each node's state changes come from its log (--log-level
warning,connector=info), read every 0.5 s; two live nodes that hold each
other CONNECTED are linked, and the links make the connected parts of the
network. Every ping outcome is a line of the node's output.

It prints one line per minute: pings answered and unanswered (and, of the
unanswered, those between live connected nodes sent in the quiet part of the
minute), the restarts and their reconnection times, the resident memory and
the CPU of the nodes. It fails (exit 1) on:
  - a ping sent in the quiet part of a minute, between two nodes of one
    connected part (when it was sent and when it ended), that is not
    answered;
  - a node whose resident memory grows by more than 10 % after its first
    --warmup minutes (5): from its first sample after them to its last;
  - a node that does not stop within 2 s of SIGTERM (every node is stopped
    so at the end, one at a time).
"""

import argparse
import collections
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time

# Timings between the defaults and the fault tests' (tests/tools/faults_lib.sh):
# a silent peer is UNREACHABLE after 8 s instead of 40 s, a message waits at
# most 10 s, a store is written every 5 s; the tick stays at its default,
# 1 s, which is most of what an idle node costs.
TIMINGS = [
    "--p2p0mq.heart-beat-interval=2s",
    "--p2p0mq.heart-beat-slow-down=1s",
    "--p2p0mq.heart-beat-max-slow-down=2s",
    "--p2p0mq.unresponsive-threshold=8s",
    "--p2p0mq.no-connection-threshold=30s",
    "--p2p0mq.reconnect-wait=5s",
    "--p2p0mq.message-ttl=10s",
    "--p2p0mq.store-sync-interval=5s",
    "--p2p0mq.ask-around-interval=10s",
]

PING_INTERVAL = 5.0  # seconds between two pings of one node
PING_TIMEOUT = 10.0  # seconds a ping waits for its answer
POLL = 0.5  # seconds between two reads of the nodes' output
RECONNECT_LIMIT = 30.0  # longest wait for the restarted nodes
FORM_LIMIT = 120.0  # longest wait for the network to form
STOP_LIMIT = 2.0  # longest a node may take to stop on SIGTERM

STATE_RE = re.compile(r"^info connector: (\S+) [A-Z_]+ -> ([A-Z_]+)")
PORT_RE = re.compile(r"listening on [0-9.]+:(\d+) ")
# A router's drop, logged whole (the first from a peer in a while), and its
# summary of the drops it did not log (their reasons counted).
LOOP_RE = re.compile(r'^warning router: dropped "([^"]*)" (request|reply) \d+ '
                     r'.*(came back round a loop|our own message came back)')
LOOP_SUMMARY_RE = re.compile(r"^warning router: dropped \d+ messages on their "
                             r"way to other peers .*: (.*)$")
ANSWER_RE = re.compile(r"^\d+ bytes from \S+: seq=\d+ time=")
LOST_RE = re.compile(r"^seq=\d+: (no reply within|dropped:)")

CLK_TCK = os.sysconf("SC_CLK_TCK")

EXTRA = []  # more flags for every node (--node-arg)

# Messages the nodes' routers dropped because they came back round a loop,
# by command, since the last minute's report.
LOOPED = collections.Counter()


def short(uuid):
    """A uuid as the node's log names a peer: a generated one (32 hex
    digits) by its first 8, a chosen one whole."""
    if len(uuid) == 32 and all(c in "0123456789abcdef" for c in uuid):
        return uuid[:8]
    return uuid


class Tail:
    """Reads the lines a file gained since the last call."""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.rest = b""

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return []
        self.pos += len(data)
        data = self.rest + data
        parts = data.split(b"\n")
        self.rest = parts.pop()
        return [p.decode("utf-8", "replace") for p in parts]


class Node:
    def __init__(self, idx, uuid, work):
        self.idx = idx
        self.uuid = uuid
        self.work = work
        self.db = os.path.join(work, "db", uuid + ".db")
        self.neighbours = set()
        self.target = None
        self.proc = None
        self.port = 0
        self.incarnation = 0
        self.started = 0.0
        self.out = None
        self.err = None
        self.states = {}  # short uuid -> state, by this incarnation's log
        self.cpu_ticks = 0
        self.rss = []  # (age in minutes, KiB) of this incarnation
        self.baseline = None  # (age, KiB) after the warm-up

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, node_bin, certs, port, first_peers, target):
        self.incarnation += 1
        self.target = target
        name = "%s.%d" % (self.uuid, self.incarnation)
        out_path = os.path.join(self.work, "out", name + ".out")
        err_path = os.path.join(self.work, "out", name + ".err")
        args = [node_bin, "--db", self.db, "--certs", certs,
                "--bind", "127.0.0.1:%d" % port,
                "--log-level", "warning,connector=info",
                "--ping", target.uuid, "--count", "100000000",
                "--interval", str(PING_INTERVAL),
                "--ping-timeout", str(PING_TIMEOUT)] + TIMINGS + EXTRA
        if first_peers is not None:
            args += ["--uuid", self.uuid]
            for p in first_peers:
                args += ["--peer", "%s@127.0.0.1:%d" % (p.uuid, p.port)]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        self.started = time.monotonic()
        self.out = Tail(out_path)
        self.err = Tail(err_path)
        self.states = {}
        self.cpu_ticks = 0
        self.rss = []
        self.baseline = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            port = None
            for line in self.err.lines():
                self.note_err(line)
                m = PORT_RE.search(line)
                if m:
                    port = int(m.group(1))
            if port is not None:
                self.port = port
                return
            if not self.alive():
                break
            time.sleep(0.05)
        raise RuntimeError("node %s did not announce its port (see %s)"
                           % (self.uuid, err_path))

    def note_err(self, line):
        m = STATE_RE.match(line)
        if m:
            self.states[m.group(1)] = m.group(2)
            return
        m = LOOP_RE.match(line)
        if m:
            LOOPED[m.group(1)] += 1
            return
        m = LOOP_SUMMARY_RE.match(line)
        if m:
            for part in m.group(1).split(", "):
                count, _, reason = part.partition(" ")
                if reason == "loop" and count.isdigit():
                    LOOPED["(not logged one by one)"] += int(count)

    def holds_connected(self, other):
        return self.states.get(short(other.uuid)) == "CONNECTED"

    def state_of(self, other):
        """The state this node's log last gave `other` (INITIAL if none)."""
        return self.states.get(short(other.uuid), "INITIAL")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def sample(self, warmup):
        """Reads resident memory (KiB) and CPU ticks; returns the CPU ticks
        since the last sample."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                rss = next(int(l.split()[1]) for l in f
                           if l.startswith("VmRSS:"))
            with open("/proc/%d/stat" % self.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
        except (OSError, StopIteration, ValueError, IndexError):
            return 0
        age = (time.monotonic() - self.started) / 60
        self.rss.append((age, rss))
        if self.baseline is None and age >= warmup:
            self.baseline = (age, rss)
        delta = ticks - self.cpu_ticks
        self.cpu_ticks = ticks
        return delta


def not_reconnected(nodes, x):
    """`x` and, in parentheses, each live neighbour it is not CONNECTED with
    both ways, with the state each side holds of the other."""
    pairs = ["%s %s/%s" % (nodes[j].uuid, x.state_of(nodes[j]),
                           nodes[j].state_of(x))
             for j in sorted(x.neighbours) if nodes[j].alive() and
             not (x.holds_connected(nodes[j]) and nodes[j].holds_connected(x))]
    return "%s (%s)" % (x.uuid, ", ".join(pairs))


def make_mesh(n, rng):
    """Edges of a random connected mesh: node i is told of one to three
    earlier nodes."""
    edges = []
    for i in range(1, n):
        k = min(i, rng.choice([1, 1, 2, 3]))
        for j in rng.sample(range(i), k):
            edges.append((i, j))
    return edges


def components(nodes):
    """The connected part of each live node: two live nodes are linked when
    each holds the other CONNECTED."""
    live = [x for x in nodes if x.alive()]
    part = {}
    for x in live:
        if x.idx in part:
            continue
        part[x.idx] = x.idx
        todo = [x]
        while todo:
            a = todo.pop()
            for j in a.neighbours:
                b = nodes[j]
                if b.idx not in part and b.alive() and \
                        a.holds_connected(b) and b.holds_connected(a):
                    part[b.idx] = x.idx
                    todo.append(b)
    return part


def pick_target(node, nodes, rng):
    choices = [x for x in nodes if x.idx != node.idx
               and x.idx not in node.neighbours]
    if not choices:
        choices = [x for x in nodes if x.idx != node.idx]
    return rng.choice(choices)


def quantiles(xs):
    if not xs:
        return "-"
    xs = sorted(xs)
    return "%.1f/%.1f/%.1f" % (xs[0], statistics.median(xs), xs[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--node", required=True, help="the p2p0mq-node binary")
    ap.add_argument("--keygen", required=True, help="the p2p0mq-keygen binary")
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--minutes", type=int, required=True)
    ap.add_argument("--work", required=True, help="a scratch directory")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--churn", type=float, default=0.10)
    ap.add_argument("--new-port", type=float, default=0.30,
                    help="share of the restarts on a new port")
    ap.add_argument("--warmup", type=float, default=5.0,
                    help="minutes before the memory of a node is watched")
    ap.add_argument("--minute", type=float, default=60.0,
                    help="seconds of a minute (shorter for trying the script)")
    ap.add_argument("--node-arg", action="append", default=[],
                    help="a flag for every node, e.g. --node-arg=--json")
    args = ap.parse_args()
    EXTRA.extend(args.node_arg)

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print("soak: %d nodes, %d minutes, churn %.0f %% a minute (seed %d), "
          "work in %s" % (args.nodes, args.minutes, 100 * args.churn, seed,
                          args.work), flush=True)
    for d in ("db", "out", "certs"):
        os.makedirs(os.path.join(args.work, d), exist_ok=True)
    certs = os.path.join(args.work, "certs")
    nodes = [Node(i, "n%04d-soak" % i, args.work) for i in range(args.nodes)]
    for x in nodes:
        subprocess.run([args.keygen, "--uuid", x.uuid, "--certs", certs],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    edges = make_mesh(args.nodes, rng)
    told = collections.defaultdict(list)
    for i, j in edges:
        nodes[i].neighbours.add(j)
        nodes[j].neighbours.add(i)
        told[i].append(nodes[j])
    failures = []
    t0 = time.monotonic()

    def poll():
        """Reads the new lines of every node; returns the ping outcomes
        (node, answered)."""
        outcomes = []
        for x in nodes:
            if x.err is not None:
                for line in x.err.lines():
                    x.note_err(line)
            if x.out is not None:
                for line in x.out.lines():
                    if ANSWER_RE.match(line):
                        outcomes.append((x, True))
                    elif LOST_RE.match(line):
                        outcomes.append((x, False))
        return outcomes

    for x in nodes:
        x.start(args.node, certs, 0, told[x.idx], pick_target(x, nodes, rng))
    print("soak: %d nodes started in %.1f s; mesh of %d links" %
          (args.nodes, time.monotonic() - t0, len(edges)), flush=True)
    # The network forms: every node is in one connected part and has had an
    # answer (its pinger found a route). At most FORM_LIMIT.
    t1 = time.monotonic()
    heard = set()
    while time.monotonic() < t1 + FORM_LIMIT:
        for x, answered in poll():
            if answered:
                heard.add(x.idx)
        if len(heard) == args.nodes and \
                len(set(components(nodes).values())) == 1:
            break
        time.sleep(POLL)
    print("soak: the network formed in %.1f s (%d of %d nodes answered, "
          "%d connected parts)" % (time.monotonic() - t1, len(heard),
                                   args.nodes,
                                   len(set(components(nodes).values()))),
          flush=True)

    # The parts of the network (from the logs) over the last seconds, to
    # judge a ping by the parts when it was sent and when it ended.
    history = collections.deque()
    rng_ping = random.Random(seed + 1)
    totals = collections.Counter()
    reconnects_all = []
    rss_first = {}
    max_cpu_node = 0.0
    for minute in range(1, args.minutes + 1):
        start = time.monotonic()
        end = start + args.minute
        restarted = []
        if minute > 1:
            k = max(1, round(args.churn * args.nodes))
            victims = rng.sample([x for x in nodes if x.alive()],
                                 min(k, args.nodes))
            for x in victims:
                x.kill9()
            for x in victims:
                new_port = rng.random() < args.new_port
                target = pick_target(x, nodes, rng)
                try:
                    x.start(args.node, certs, 0 if new_port else x.port, None,
                            target)
                except RuntimeError:
                    # Its port was taken meanwhile: a new one then.
                    new_port = True
                    x.start(args.node, certs, 0, None, target)
                restarted.append((x, new_port))
        # Reconnection of the restarted nodes.
        stats = collections.Counter()
        waiting = {x.idx: x for x, _ in restarted}
        took = {}
        while waiting and time.monotonic() < start + RECONNECT_LIMIT:
            for _, answered in poll():
                stats["answered" if answered else "unanswered"] += 1
            now = time.monotonic()
            for idx, x in list(waiting.items()):
                live = [nodes[j] for j in x.neighbours if nodes[j].alive()]
                if all(x.holds_connected(y) and y.holds_connected(x)
                       for y in live):
                    took[idx] = now - x.started
                    del waiting[idx]
            if waiting:
                time.sleep(POLL)
        quiet = time.monotonic()
        judged_from = quiet + PING_TIMEOUT + 1
        while True:
            now = time.monotonic()
            if now >= end:
                break
            outcomes = poll()
            part = components(nodes)
            history.append((now, part))
            while history and history[0][0] < now - PING_TIMEOUT - 5:
                history.popleft()
            for x, answered in outcomes:
                stats["answered" if answered else "unanswered"] += 1
                if now < judged_from:
                    continue
                stats["judged"] += 1
                if answered:
                    continue
                # Sent about PING_TIMEOUT ago: the parts then and now.
                sent = now - PING_TIMEOUT
                then = next((p for t, p in history if t >= sent), part)
                a, b = x.idx, x.target.idx
                linked = all(p.get(a) is not None and p.get(a) == p.get(b)
                             for p in (then, part))
                if linked:
                    stats["failed"] += 1
                    failures.append(
                        "minute %d: ping %s -> %s unanswered between "
                        "connected nodes" % (minute, x.uuid, x.target.uuid))
                else:
                    stats["apart"] += 1
            time.sleep(max(0.0, min(POLL, end - time.monotonic())))
        # The minute's samples.
        rss = []
        cpu = []
        for x in nodes:
            if not x.alive():
                continue
            ticks = x.sample(args.warmup)
            if x.rss:
                rss.append(x.rss[-1][1] / 1024)
                if x.idx not in rss_first:
                    rss_first[x.idx] = x.rss[-1][1] / 1024
            cpu.append(100.0 * ticks / CLK_TCK / args.minute)
        max_cpu_node = max([max_cpu_node] + cpu)
        part = components(nodes)
        parts = len(set(part.values()))
        reconnects = sorted(took.values())
        reconnects_all += reconnects
        totals.update(stats)
        looped = ", ".join("%s %d" % kv for kv in sorted(LOOPED.items()))
        totals.update({"looped " + k: v for k, v in LOOPED.items()})
        LOOPED.clear()
        print("minute %d: pings %d answered, %d unanswered (of %d ended in "
              "the quiet part, %d unanswered between connected nodes); "
              "dropped round a routing loop: %s; "
              "restarts %d "
              "(%d on a new port), reconnected %d in %s s min/median/max%s; "
              "RSS MiB min/median/max %s; CPU %% of a core per node "
              "min/median/max %s, all %.0f; connected parts %d" % (
                  minute, stats["answered"], stats["unanswered"],
                  stats["judged"], stats["failed"], looped or "none",
                  len(restarted),
                  sum(1 for _, n in restarted if n), len(reconnects),
                  quantiles(reconnects),
                  ", NOT RECONNECTED: " + " ".join(
                      not_reconnected(nodes, nodes[i]) for i in waiting)
                  if waiting else "",
                  quantiles(rss), quantiles(cpu), sum(cpu), parts),
              flush=True)
        if waiting:
            totals["not_reconnected"] += len(waiting)

    # Memory growth after the warm-up, per incarnation still running.
    growth = []
    for x in nodes:
        if x.baseline is None or not x.rss or x.rss[-1][0] <= x.baseline[0]:
            continue
        g = 100.0 * (x.rss[-1][1] - x.baseline[1]) / x.baseline[1]
        growth.append(g)
        if g > 10.0:
            failures.append("%s: resident memory %.1f -> %.1f MiB (+%.1f %%) "
                            "from minute %.1f to %.1f of its life" % (
                                x.uuid, x.baseline[1] / 1024,
                                x.rss[-1][1] / 1024, g, x.baseline[0],
                                x.rss[-1][0]))

    # Every node stops within 2 s of SIGTERM, one at a time.
    stop_times = []
    for x in nodes:
        if not x.alive():
            failures.append("%s was not running at the end" % x.uuid)
            continue
        begin = time.monotonic()
        x.proc.send_signal(signal.SIGTERM)
        try:
            x.proc.wait(timeout=STOP_LIMIT)
            stop_times.append(time.monotonic() - begin)
        except subprocess.TimeoutExpired:
            failures.append("%s did not stop within %.0f s of SIGTERM" %
                            (x.uuid, STOP_LIMIT))
            x.kill9()

    print("soak: %d minutes, %d nodes: pings %d answered, %d unanswered; "
          "of %d ended in the quiet parts, %d unanswered between connected "
          "nodes and %d while their nodes were apart; %d restarts "
          "reconnected in %s s "
          "min/median/max, %d not within %.0f s; memory growth after "
          "minute %.0f of a node's life %s %% min/median/max over %d nodes; "
          "busiest node %.1f %% of a core in a minute; stopped on SIGTERM "
          "in %s s min/median/max" % (
              args.minutes, args.nodes, totals["answered"],
              totals["unanswered"], totals["judged"], totals["failed"],
              totals["apart"],
              len(reconnects_all), quantiles(reconnects_all),
              totals["not_reconnected"], RECONNECT_LIMIT, args.warmup,
              quantiles(growth), len(growth), max_cpu_node,
              quantiles(stop_times)), flush=True)
    print("soak: dropped round a routing loop: %s" % (", ".join(
        "%s %d" % (k[len("looped "):], v) for k, v in sorted(totals.items())
        if k.startswith("looped ")) or "none"), flush=True)
    for f in failures:
        print("FAILED: " + f, flush=True)
    if failures:
        return 1
    print("soak: passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
