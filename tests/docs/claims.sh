#!/usr/bin/env bash
# The tests RELIABILITY.md names as proofs exist: every name in the first
# column of the tables of its section "Every claim and the test that proves
# it" is the name of a test of this build (as `ctest -N` lists them).
#   claims.sh PATH/TO/ctest BUILD_DIR PATH/TO/RELIABILITY.md
set -u
ctest=$1
build=$2
doc=$3
tests=$(cd "$build" && "$ctest" -N | sed -n 's/^ *Test *#[0-9]*: //p' |
  sed 's/ (Disabled)$//')
[ -n "$tests" ] || { echo "FAILED: ctest -N lists no tests"; exit 1; }
names=$(awk '/^## Every claim/ { on = 1; next } /^## / { on = 0 }
  on && /^\| `/ { split($0, cell, "|"); print cell[2] }' "$doc" |
  grep -o '`[^`]*`' | tr -d '`')
[ -n "$names" ] || { echo "FAILED: no test names found in $doc"; exit 1; }
missing=0
count=0
while IFS= read -r name; do
  count=$((count + 1))
  if ! grep -qxF -- "$name" <<<"$tests"; then
    echo "FAILED: RELIABILITY.md names '$name', which is not a test"
    missing=$((missing + 1))
  fi
done <<<"$names"
[ $missing -eq 0 ] || exit 1
echo "the $count tests RELIABILITY.md names are in the suite"
