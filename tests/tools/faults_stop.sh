#!/usr/bin/env bash
# SIGSTOP and SIGCONT: two p2p0mq-node processes A and B, B told A's address.
# B is stopped (SIGSTOP): A sees it UNREACHABLE once the unresponsive
# threshold has passed. B is continued (SIGCONT): both list each other as
# CONNECTED again, and stay so. The nodes run with short timings
# (faults_lib.sh); each wait has a bound and each measured time is printed.
#   faults_stop.sh PATH/TO/p2p0mq-node
set -u
node=$1
work=$(mktemp -d)
source "$(dirname "$0")/faults_lib.sh"
trap 'faults_cleanup; rm -rf "$work"' EXIT

a=fault-a-0001
b=fault-b-0002

start a --uuid $a --certs "$work/certs" --bind 127.0.0.1:0
a_port=$port
start b --uuid $b --certs "$work/certs" --bind 127.0.0.1:0 \
  --peer "$a@127.0.0.1:$a_port"
wait_for 10 in_state b $a CONNECTED || fail "B never listed A as CONNECTED"
wait_for 10 in_state a $b CONNECTED || fail "A never listed B as CONNECTED"
echo "A and B connected"

kill -STOP "${pid_of[b]}"
wait_for 10 in_state a $b UNREACHABLE ||
  fail "A did not see B UNREACHABLE while B was stopped"
echo "SIGSTOP B: A saw B UNREACHABLE after $(seconds $took_ms) s" \
  "(unresponsive threshold 2 s)"

# B's last line is from before it stopped, and the lines it writes at once
# when it goes on catch up on the time it missed: only a line after those
# that says it heard from A within the last second counts.
n=$(lines b)
kill -CONT "${pid_of[b]}"
wait_for 10 in_state a $b CONNECTED ||
  fail "A did not see B CONNECTED again after SIGCONT"
t_a=$took_ms
wait_for 10 fresh_after $n b $a 1 ||
  fail "B did not list A as CONNECTED, heard within 1 s, after SIGCONT"
echo "SIGCONT B: A saw B CONNECTED after $(seconds $t_a) s," \
  "B listed A CONNECTED $(seconds $took_ms) s later"

# Both stay CONNECTED, each hearing from the other every heart-beat (0.5 s),
# for longer than the unresponsive threshold: every JSON line written from
# now on says so (those written before may be from before the change).
n_a=$(lines a)
n_b=$(lines b)
not_connected() {
  { [ "$(lines a)" -gt $n_a ] && ! fresh a $b 1.5; } ||
    { [ "$(lines b)" -gt $n_b ] && ! fresh b $a 1.5; }
}
if wait_for 3 not_connected; then
  fail "a peer was not CONNECTED, heard within 1.5 s, after SIGCONT:" \
    "A lists B $(field a $b state) heard $(field a $b seconds_since_heard) s" \
    "ago, B lists A $(field b $a state) heard $(field b $a seconds_since_heard) s ago"
fi
echo "both stayed CONNECTED, heard within 1.5 s, for 3 s"

for name in a b; do
  kill -TERM "${pid_of[$name]}"
  wait "${pid_of[$name]}" || fail "node $name did not stop cleanly on SIGTERM"
  unset "pid_of[$name]"
done
echo "SIGSTOP and SIGCONT: UNREACHABLE, then CONNECTED again"
