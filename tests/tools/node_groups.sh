#!/usr/bin/env bash
# Three p2p0mq-node processes in a line on 127.0.0.1: A - B - C. A and C join
# the group "chat", B joins nothing. A publishes 1,000 messages to "chat"
# once it knows C is a member: C must print each exactly once and in order,
# B none (it carries them without delivering), and the JSON status lines of
# all three must list A and C as the members of "chat".
#   node_groups.sh PATH/TO/p2p0mq-node
set -u
node=$1
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

source "$(dirname "$0")/node_lib.sh"

# delivered NAME: the group messages NAME printed.
delivered() {
  grep -c '^{"event": "group_message"' "$work/$1.out"
}

members='"groups": {"chat": \["group-a-0001", "group-c-0003"\]}'

start c --uuid group-c-0003 --join chat
start b --uuid group-b-0002 --peer "group-c-0003@127.0.0.1:$port"
start a --uuid group-a-0001 --peer "group-b-0002@127.0.0.1:$port" \
  --join chat --publish chat --count 1000

# Wait (at most 60 s) for C's 1,000th message.
for _ in $(seq 600); do
  [ "$(delivered c)" -ge 1000 ] && break
  read -rt 0.1 <> <(:) || true
done
# A little longer, for any duplicate to show.
read -rt 1 <> <(:) || true

expected=$(for i in $(seq 1000); do
  echo "{\"event\": \"group_message\", \"group\": \"chat\", \"from\": \"group-a-0001\", \"seq\": $i}"
done)
got=$(grep '^{"event": "group_message"' "$work/c.out")
if [ "$got" != "$expected" ]; then
  echo "C did not deliver A's 1000 publications exactly once and in order:"
  diff <(echo "$expected") <(echo "$got") | head -20
  tail -n 3 "$work/a.err" "$work/c.err"; tail -n 1 "$work/a.out" | cut -c1-400
  exit 1
fi
echo "C delivered 1000 publications of A, once each, in order"
if [ "$(delivered b)" -ne 0 ] || [ "$(delivered a)" -ne 0 ]; then
  echo "B or A delivered publications: B $(delivered b), A $(delivered a)"
  exit 1
fi
for x in a b c; do
  if ! grep -q "$members" "$work/$x.out"; then
    echo "node $x never listed A and C as the members of chat:"
    grep -v '"event"' "$work/$x.out" | tail -1 | cut -c1-300
    exit 1
  fi
done
echo "A, B and C list A and C as the members of chat; B delivered none"
