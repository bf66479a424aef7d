#!/usr/bin/env bash
# The tests RELIABILITY.md names as proofs exist: every name in the first
# column of the tables of its section "Every claim and the test that proves
# it" is the name of a test of this build. The names are read from the test
# files CMake and Catch wrote into the build directory (running ctest here
# would overwrite the log of the run this test is part of).
#   claims.sh BUILD_DIR PATH/TO/RELIABILITY.md
set -u
build=$1
doc=$2
tests=$(find "$build" -name CTestTestfile.cmake -o -name '*_tests-*.cmake' |
  xargs grep -hoP 'add_test\(\s*\[(=*)\[\K.*?(?=\]\1\])')
[ -n "$tests" ] || { echo "FAILED: no tests found in $build"; exit 1; }
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
