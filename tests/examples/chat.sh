#!/usr/bin/env bash
# Two chat processes on 127.0.0.1 share a room (a group) and exchange two
# lines each through it: alice on a port the system picks, bob seeded with
# alice's address. Both read their lines from a file, must print the other's
# lines and a success line, and exit 0.
# They share one certificate directory, so they trust each other.
#   chat.sh PATH/TO/chat
set -u
chat=$1
work=$(mktemp -d)
trap 'kill $a_pid $b_pid 2>/dev/null; rm -rf "$work"' EXIT
a_pid=
b_pid=
printf 'hello bob\nhow are you?\n' >"$work/alice.in"
printf 'hi alice\nfine, thanks\n' >"$work/bob.in"

"$chat" --uuid alice-0001 --certs "$work/certs" --wait 1 --expect 2 \
  --timeout 20 <"$work/alice.in" >"$work/alice.out" 2>"$work/alice.err" &
a_pid=$!

# Alice announces her port; wait for it (at most 60 s).
port=
for _ in $(seq 600); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/alice.out")
  [ -n "$port" ] && break
  read -rt 0.1 <> <(:) || true
done
if [ -z "$port" ]; then
  echo "alice did not announce her port"; cat "$work/alice.err"; exit 1
fi

"$chat" --uuid bob-0002 --certs "$work/certs" --peer "alice-0001@127.0.0.1:$port" \
  --wait 1 --expect 2 --timeout 20 <"$work/bob.in" >"$work/bob.out" 2>"$work/bob.err" &
b_pid=$!

wait $a_pid; a_rc=$?
wait $b_pid; b_rc=$?
for who in alice bob; do
  echo "--- $who"; cat "$work/$who.out"
done
[ $a_rc -eq 0 ] || { echo "alice exited with $a_rc"; cat "$work/alice.err"; exit 1; }
[ $b_rc -eq 0 ] || { echo "bob exited with $b_rc"; cat "$work/bob.err"; exit 1; }
grep -q '^\[bob-0002\] fine, thanks$' "$work/alice.out" || { echo "alice missed a line"; exit 1; }
grep -q '^\[alice-0001\] how are you?$' "$work/bob.out" || { echo "bob missed a line"; exit 1; }
grep -q '^chat: success' "$work/alice.out" && grep -q '^chat: success' "$work/bob.out" \
  || { echo "no success line"; exit 1; }
echo "chat: both peers exchanged their lines"
