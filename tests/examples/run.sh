#!/usr/bin/env bash
# Runs an example as CI does: it must exit 0 and print a line matching
# PATTERN (an extended regular expression).
#   run.sh PATTERN PROGRAM [ARGS...]
set -u
pattern=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" | tee "$out"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
  echo "$1 exited with $rc"; exit 1
fi
if ! grep -Eq "$pattern" "$out"; then
  echo "$1 printed no line matching '$pattern'"; exit 1
fi
