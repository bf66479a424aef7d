#!/usr/bin/env bash
# A link cut and restored: the test makes two network namespaces joined by a
# veth pair, with the private addresses 10.231.0.1/30 and 10.231.0.2/30 that
# exist only inside them, and runs p2p0mq-node A in one and B in the other,
# B told A's address. The link is cut (`ip link set down` on A's end): each
# sees the other UNREACHABLE. The link is restored: both list each other as
# CONNECTED again. Then the same with a cut long enough for each to give the
# other up (NO_CONNECTION). The namespaces are removed at the end, whatever happens.
# Without root, without `ip`, or where namespaces cannot be made, the test is
# skipped (exit 77).
#   faults_netns.sh PATH/TO/p2p0mq-node
set -u
node=$1
skip() {
  echo "SKIPPED: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v ip >/dev/null || skip "no 'ip' command (Debian package iproute2)"

work=$(mktemp -d)
source "$(dirname "$0")/faults_lib.sh"
ns_a=p2p0mq-faults-a-$$
ns_b=p2p0mq-faults-b-$$
cleanup() {
  faults_cleanup
  local name
  for name in "${!pid_of[@]}"; do
    wait "${pid_of[$name]}" 2>/dev/null
  done
  ip netns del $ns_a 2>/dev/null
  ip netns del $ns_b 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
# Namespaces left by a run that was killed outright (no trap runs then): those
# named after a process that is gone.
for ns in $(ip netns list 2>/dev/null |
  sed -n 's/^\(p2p0mq-faults-[ab]-\([0-9]*\)\).*/\1 \2/p' | tr ' ' ':'); do
  kill -0 "${ns#*:}" 2>/dev/null || ip netns del "${ns%:*}" 2>/dev/null
done

ip netns add $ns_a 2>"$work/netns.err" ||
  skip "cannot make a network namespace: $(cat "$work/netns.err")"
ip netns add $ns_b 2>"$work/netns.err" ||
  skip "cannot make a network namespace: $(cat "$work/netns.err")"
ip link add veth-a netns $ns_a type veth peer name veth-b netns $ns_b \
  2>"$work/netns.err" || skip "cannot make a veth pair: $(cat "$work/netns.err")"
ip -n $ns_a addr add 10.231.0.1/30 dev veth-a &&
  ip -n $ns_b addr add 10.231.0.2/30 dev veth-b &&
  ip -n $ns_a link set veth-a up && ip -n $ns_b link set veth-b up &&
  ip -n $ns_a link set lo up && ip -n $ns_b link set lo up ||
  fail "cannot set up the veth pair"

a=fault-a-0001
b=fault-b-0002
start a --in $ns_a --uuid $a --certs "$work/certs" --bind 10.231.0.1:0
a_port=$port
start b --in $ns_b --uuid $b --certs "$work/certs" --bind 10.231.0.2:0 \
  --peer "$a@10.231.0.1:$a_port"
wait_for 30 in_state b $a CONNECTED || fail "B never listed A as CONNECTED"
wait_for 30 in_state a $b CONNECTED || fail "A never listed B as CONNECTED"
echo "A (10.231.0.1:$a_port, namespace $ns_a) and B (10.231.0.2, namespace" \
  "$ns_b) connected"

# cut_link STATE...: cuts the link and waits until each node logged the
# changes of the other's state STATE... (exactly those, in that order),
# then checks the silence after which each made the other the last of
# them; restores the link and waits until each took the other back.
cut_link() {
  local mark_a mark_b count_a count_b threshold=$unresponsive_s
  [ "${!#}" = "UNREACHABLE -> NO_CONNECTION" ] && threshold=$no_connection_s
  mark_a=$(log_mark a)
  mark_b=$(log_mark b)
  count_a=$(lines a)
  count_b=$(lines b)
  ip -n $ns_a link set veth-a down || fail "cannot cut the link"
  expect_changes 30 $mark_a a $b "$@"
  local t_a=$took_ms
  expect_changes 30 $mark_b b $a "$@"
  local last=${!#}
  last=${last##* }
  echo "link cut: A saw B $last after $(seconds $t_a) s, B saw A $last" \
    "$(seconds $took_ms) s later"
  echo "  (after $(expect_silence a $count_a $b $last $threshold) s and" \
    "$(expect_silence b $count_b $a $last $threshold) s of silence)"
  ip -n $ns_a link set veth-a up || fail "cannot restore the link"
  wait_for 30 ends_in $mark_a a $b CONNECTED ||
    fail "A did not see B CONNECTED after the link came back"
  t_a=$took_ms
  wait_for 30 ends_in $mark_b b $a CONNECTED ||
    fail "B did not see A CONNECTED after the link came back"
  echo "link restored: A saw B CONNECTED after $(seconds $t_a) s," \
    "B saw A CONNECTED $(seconds $took_ms) s later"
}

# A short cut: each holds the other UNREACHABLE, then takes it back.
cut_link "CONNECTED -> UNREACHABLE"
# A longer cut, past the no-connection threshold (8 s here): each gives the
# other up; once the link is back, the connector greets again after the
# reconnect wait (1 s here) and both are CONNECTED again.
cut_link "CONNECTED -> UNREACHABLE" "UNREACHABLE -> NO_CONNECTION"

for name in a b; do
  kill -TERM "${pid_of[$name]}"
  wait "${pid_of[$name]}" || fail "node $name did not stop cleanly on SIGTERM"
  unset "pid_of[$name]"
done
echo "link cut and restored: UNREACHABLE, then CONNECTED again"
