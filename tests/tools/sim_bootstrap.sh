#!/usr/bin/env bash
# p2p0mq-sim --bootstrap-only, small: 100 peers each told one earlier peer
# grow a mesh with the peer exchange (target degree 8) and meet every target
# the tool checks (within 60 virtual s every peer has 8 to 24 direct links,
# diameter at most 2 log2 N, exchange bytes at most a tenth of the
# heart-beats' once converged, every routed echo answered); the report names
# each measure.
#   sim_bootstrap.sh PATH/TO/p2p0mq-sim
set -u
sim=$1
out=$("$sim" --bootstrap-only --peers 100 --duration 200 --routes 50)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAILED: p2p0mq-sim exited with $rc"; exit 1; }
for what in "converged: every peer has 8 to 24 direct links" \
  "degree distribution:" "diameter:" "pex/hb" "routed echo requests: 49 of 49" \
  "targets: met"; do
  grep -qF -- "$what" <<<"$out" || { echo "FAILED: no '$what'"; exit 1; }
done
