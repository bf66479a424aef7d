#!/bin/sh
# Every Catch2 test case becomes a CTest test under its own name: CMake splits
# a name at a semicolon, and the halves then match no test case and run none.
# Usage: check_names.sh TEST_BINARY...
status=0
for binary in "$@"; do
  # (Catch2 v2 exits with the number of test cases it lists.)
  names=$("$binary" --list-test-names-only)
  [ -n "$names" ] || { echo "$binary lists no test cases"; exit 1; }
  bad=$(printf '%s\n' "$names" | grep ';')
  if [ -n "$bad" ]; then
    echo "$binary: test names with a semicolon (CTest would split them):"
    printf '%s\n' "$bad"
    status=1
  fi
  count=$(printf '%s\n' "$names" | grep -c .)
  echo "$binary: $count test cases"
done
exit $status
