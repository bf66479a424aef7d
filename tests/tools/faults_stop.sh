#!/usr/bin/env bash
# SIGSTOP and SIGCONT: two p2p0mq-node processes A and B, B told A's address.
# B is stopped (SIGSTOP): A sees it UNREACHABLE once the unresponsive
# threshold has passed. B is continued (SIGCONT): both list each other as
# CONNECTED again, and stay so. The nodes run with short timings
# (faults_lib.sh); each wait has a generous bound and ends on its condition,
# then the state changes and the silence are checked exactly.
#   faults_stop.sh PATH/TO/p2p0mq-node
set -u
node=$1
work=$(mktemp -d)
source "$(dirname "$0")/faults_lib.sh"
trap 'faults_cleanup; rm -rf "$work"' EXIT

a=fault-a-0001
b=fault-b-0002

# Whether A or B logged a change of the other's state since the marks.
changed_after_either() {
  changed_after $mark_a a $b || changed_after $mark_b b $a
}

start a --uuid $a --certs "$work/certs" --bind 127.0.0.1:0
a_port=$port
start b --uuid $b --certs "$work/certs" --bind 127.0.0.1:0 \
  --peer "$a@127.0.0.1:$a_port"
wait_for 30 in_state b $a CONNECTED || fail "B never listed A as CONNECTED"
wait_for 30 in_state a $b CONNECTED || fail "A never listed B as CONNECTED"
echo "A and B connected"

mark=$(log_mark a)
count=$(lines a)
kill -STOP "${pid_of[b]}"
stopped_at=$(now_ms)
expect_changes 30 $mark a $b "CONNECTED -> UNREACHABLE"
echo "SIGSTOP B: A saw B UNREACHABLE after $(seconds $took_ms) s"
await_line a $count $b UNREACHABLE

# B writes a JSON line every 0.5 s, so it stopped less than 0.5 s after the
# time of its last line, by its own clock, and stayed stopped for 2 s or
# more (until A gave up hearing from it). Once continued, it must hear from
# A again (a message at a time more than 1.5 s after its last line), and
# both must hold each other CONNECTED.
b_stopped=$(last_line b | sed -n 's/^{"t": \([0-9.]*\),.*/\1/p')
[ -n "$b_stopped" ] || fail "B wrote no JSON line before SIGSTOP"
b_heard=$(awk -v t="$b_stopped" 'BEGIN { printf "%.3f", t + 1.5 }')
mark_b=$(log_mark b)
kill -CONT "${pid_of[b]}"
stop_ms=$(($(now_ms) - stopped_at))
echo "  (A had not heard from B for" \
  "$(expect_silence a $count $b UNREACHABLE $unresponsive_s) s then;" \
  "B was stopped for $(seconds $stop_ms) s)"
expect_back $stop_ms $mark a $b
t_a=$took_ms
wait_for 30 heard_since b $a "$b_heard" CONNECTED ||
  fail "B did not hear from A again, CONNECTED, after SIGCONT"
echo "SIGCONT B: A saw B CONNECTED after $(seconds $t_a) s," \
  "B heard A again $(seconds $took_ms) s later"
# B's own timers may run before it reads what queued while it was
# stopped: if it held A UNREACHABLE for that moment, it took it back (after
# a stop of 7 s or more, it may have given A up for that moment instead).
b_changes=$(changes_after $mark_b b $a | paste -sd';')
case "$b_changes" in
"" | "CONNECTED -> UNREACHABLE;UNREACHABLE -> CONNECTED") ;;
"CONNECTED -> NO_CONNECTION;"*"-> CONNECTED" | \
  "CONNECTED -> UNREACHABLE;UNREACHABLE -> NO_CONNECTION;"*"-> CONNECTED")
  [ $stop_ms -ge 7000 ] ||
    fail "B gave A up after a stop of $(seconds $stop_ms) s: '$b_changes'" ;;
*) fail "B changed A's state '$b_changes' after SIGCONT" ;;
esac

# Both stay CONNECTED for 3 s, more than the unresponsive threshold: neither
# logs a change of the other's state, and each goes on hearing from the
# other (the time each last heard from the other moves on).
mark_a=$(log_mark a)
mark_b=$(log_mark b)
a_heard=$(heard a $b)
b_heard=$(heard b $a)
if wait_for 3 changed_after_either; then
  fail "a state changed while both ran: A logged" \
    "'$(changes_after $mark_a a $b | paste -sd';')', B logged" \
    "'$(changes_after $mark_b b $a | paste -sd';')'"
fi
heard_since a $b "$a_heard" CONNECTED || fail "A did not hear from B for 3 s"
heard_since b $a "$b_heard" CONNECTED || fail "B did not hear from A for 3 s"
echo "both stayed CONNECTED for 3 s, hearing from each other"

for name in a b; do
  kill -TERM "${pid_of[$name]}"
  wait "${pid_of[$name]}" || fail "node $name did not stop cleanly on SIGTERM"
  unset "pid_of[$name]"
done
echo "SIGSTOP and SIGCONT: UNREACHABLE, then CONNECTED again"
