#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer + ASan + UBSan) and runs each
# for a while from its seed corpus, as many at once as there are cores.
#   scripts/fuzz.sh [SECONDS] [TARGET...]   (default: 300 s each, every target)
# Targets: frames payloads certificate zap. Build dir: build-fuzz (or
# $P2P0MQ_FUZZ_BUILD_DIR). Inputs that reach new code are kept in
# build-fuzz/work/TARGET, so the next run goes on from there; a crash, leak
# or undefined behaviour stops its target and leaves the input in
# build-fuzz/artifacts. Reproduce one with
#   build-fuzz/p2p0mq-fuzz-TARGET build-fuzz/artifacts/TARGET-crash-...
# and keep it (after the fix) as fuzz/corpus/TARGET/regression-NAME.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
p2p0mq_install_missing clang-14 libclang-rt-14-dev

seconds=${1:-300}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(frames payloads certificate zap)
fi
build=${P2P0MQ_FUZZ_BUILD_DIR:-build-fuzz}
cxx=$(command -v clang++ || command -v clang++-14)
cmake -S fuzz -B "$build" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$build" -j"$(nproc)"
mkdir -p "$build/artifacts"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run_one() {
  local t=$1
  mkdir -p "$build/work/$t"
  "$build/p2p0mq-fuzz-$t" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t-" \
    "$build/work/$t" "fuzz/corpus/$t" >"$build/$t.log" 2>&1
}

echo "fuzz: ${targets[*]}, $seconds s each, $(nproc) at a time" \
  "(logs: $build/TARGET.log)"
report() {
  local t=$1 status=$2 runs rate
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$t.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$build/$t.log")
  echo "fuzz: $t: $status, ${runs:-?} executions, ${rate:-?}/s"
  if [[ $status == FAILED ]]; then
    grep -E 'ERROR|SUMMARY|property failed|Test unit written' "$build/$t.log" |
      sed 's/^/    /' || true
  fi
}

# In batches of as many targets as there are cores.
jobs=$(nproc)
failed=0
for ((i = 0; i < ${#targets[@]}; i += jobs)); do
  batch=("${targets[@]:i:jobs}")
  pids=()
  for t in "${batch[@]}"; do
    run_one "$t" &
    pids+=($!)
  done
  for j in "${!batch[@]}"; do
    if wait "${pids[j]}"; then
      report "${batch[j]}" ok
    else
      report "${batch[j]}" FAILED
      failed=1
    fi
  done
done
exit "$failed"
