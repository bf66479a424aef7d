#!/usr/bin/env bash
# LAN discovery between network namespaces: the test makes three namespaces
# joined by a bridge (in a fourth), with the private addresses
# 10.232.0.1-3/24 that exist only inside them, and runs p2p0mq-node with
# --discover and no peer address in each. Within 5 s each lists the two
# others as CONNECTED, learnt from a beacon or a hello. Then a fourth node,
# in a fourth namespace on the same bridge, with certificates of its own
# that nobody trusts: for 5 s of its beacons nobody lists it as CONNECTED,
# and each node logs it once. The namespaces are removed at the end,
# whatever happens. Without root, without `ip`, or where namespaces or a
# bridge cannot be made, the test is skipped (exit 77).
#   discovery_netns.sh PATH/TO/p2p0mq-node
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
prefix=p2p0mq-disc
names=(a b c d)
cleanup() {
  faults_cleanup
  local name
  for name in "${!pid_of[@]}"; do
    wait "${pid_of[$name]}" 2>/dev/null
  done
  for name in "${names[@]}" br; do
    ip netns del "$prefix-$name-$$" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
# Namespaces left by a run that was killed outright: those named after a
# process that is gone.
for ns in $(ip netns list 2>/dev/null |
  sed -n "s/^\($prefix-[a-z]*-\([0-9]*\)\).*/\1 \2/p" | tr ' ' ':'); do
  kill -0 "${ns#*:}" 2>/dev/null || ip netns del "${ns%:*}" 2>/dev/null
done

br=$prefix-br-$$
ip netns add "$br" 2>"$work/netns.err" ||
  skip "cannot make a network namespace: $(cat "$work/netns.err")"
ip -n "$br" link add lan type bridge 2>"$work/netns.err" ||
  skip "cannot make a bridge: $(cat "$work/netns.err")"
ip -n "$br" link set lan up || fail "cannot bring the bridge up"
i=0
for name in "${names[@]}"; do
  i=$((i + 1))
  ns=$prefix-$name-$$
  ip netns add "$ns" 2>"$work/netns.err" ||
    skip "cannot make a network namespace: $(cat "$work/netns.err")"
  ip link add eth0 netns "$ns" type veth peer name "port-$name" netns "$br" \
    2>"$work/netns.err" ||
    skip "cannot make a veth pair: $(cat "$work/netns.err")"
  ip -n "$ns" addr add "10.232.0.$i/24" dev eth0 &&
    ip -n "$ns" link set eth0 up && ip -n "$ns" link set lo up &&
    ip -n "$br" link set "port-$name" master lan &&
    ip -n "$br" link set "port-$name" up ||
    fail "cannot wire namespace $name to the bridge"
done

discover=(--discover --discovery.interface=eth0 --discovery.interval=500ms)
i=0
for name in a b c; do
  i=$((i + 1))
  start "$name" --in "$prefix-$name-$$" --uuid "lan-$name-0001" \
    --certs "$work/certs" --bind "10.232.0.$i:0" "${discover[@]}"
done

# all_connected: whether each of a, b and c lists the two others CONNECTED.
all_connected() {
  local x y
  for x in a b c; do
    for y in a b c; do
      [ $x = $y ] && continue
      [ "$(field $x "lan-$y-0001" state)" = CONNECTED ] || return 1
    done
  done
}
wait_for 5 all_connected ||
  fail "a, b and c were not all CONNECTED to each other within 5 s"
echo "a, b and c CONNECTED to each other ${took_ms} ms after c started"
for x in a b c; do
  echo "  $x learnt: $(last_line $x | grep -o '"learnt": "[a-z]*"' |
    sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
done

# A stranger: certificates nobody else has.
start d --in "$prefix-d-$$" --uuid lan-d-0001 --certs "$work/stranger" \
  --bind 10.232.0.4:0 "${discover[@]}"
# known_stranger: whether a, b and c each logged the stranger's beacon.
known_stranger() {
  local x
  for x in a b c; do
    grep -q "a beacon of lan-d-0001 .*no trusted certificate" \
      "$work/$x.err" || return 1
  done
}
wait_for 5 known_stranger || fail "the stranger's beacon was not logged"
# Five seconds (ten of its beacons) more.
wait_for 5 false
for x in a b c; do
  [ "$(field $x lan-d-0001 state)" = CONNECTED ] &&
    fail "$x connected to the untrusted stranger"
  n=$(grep -c "a beacon of lan-d-0001 " "$work/$x.err")
  [ "$n" -eq 1 ] || fail "$x logged the stranger $n times, not once"
  [ "$(field d "lan-$x-0001" state)" = CONNECTED ] &&
    fail "the stranger connected to $x"
done
echo "nobody connected to the untrusted stranger; each logged it once"
exit 0
