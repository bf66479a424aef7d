#!/usr/bin/env bash
# p2p0mq-sim: a small network converges and stays connected (exit 0), prints
# its report, gives the same digest for the same seed, and answers bad flags
# with exit 2.
set -euo pipefail
sim=$1
out=$("$sim" --peers 40 --degree 3 --duration 120 --check 30 --seed 3)
echo "$out"
grep -q "^converged: every link CONNECTED both ways" <<<"$out"
grep -q "^stayed connected: yes" <<<"$out"
grep -q "^memory per simulated peer: " <<<"$out"
grep -q "^messages per peer per minute: " <<<"$out"
digest() { grep "^trace digest:" | awk '{print $3}'; }
first=$(digest <<<"$out")
again=$("$sim" --peers 40 --degree 3 --duration 120 --check 30 --seed 3 | digest)
[[ "$first" == "$again" ]] || { echo "digests differ: $first $again"; exit 1; }
other=$("$sim" --peers 40 --degree 3 --duration 120 --check 30 --seed 4 | digest)
[[ "$first" != "$other" ]] || { echo "another seed, same digest"; exit 1; }
for bad in "--peers 1" "--peers x" "--loss 2" "--degree 40 --peers 40" "--bogus 1" "--seed"; do
  set +e
  # shellcheck disable=SC2086
  msg=$("$sim" $bad 2>&1 >/dev/null)
  rc=$?
  set -e
  [[ $rc -eq 2 ]] || { echo "'$bad' exited $rc, not 2"; exit 1; }
  grep -q "p2p0mq-sim: " <<<"$msg" || { echo "'$bad' said nothing"; exit 1; }
done
echo "p2p0mq-sim: ok"
