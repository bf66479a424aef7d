#!/usr/bin/env bash
# p2p0mq-node's flags: --help and --version exit 0; every bad flag or bad
# setting (on the command line or in a config file) exits 2 with a message
# naming it.
#   node_flags.sh PATH/TO/p2p0mq-node
set -u
node=$1
fail=0
expect() {
  local want=$1 needle=$2
  shift 2
  local out rc
  out=$("$node" "$@" 2>&1)
  rc=$?
  if [ $rc -ne "$want" ] || ! grep -q -- "$needle" <<<"$out"; then
    echo "FAILED: p2p0mq-node $* -> exit $rc, wanted $want and '$needle':"
    echo "$out" | head -5
    fail=1
  fi
}
expect 0 "--peer ID@HOST:PORT" --help
expect 0 "p2p0mq-node 0" --version
expect 2 "--bogus" --bogus
expect 2 "--uuid" --uuid abc
expect 2 "--uuid" --uuid
expect 2 "expected HOST:PORT" --bind localhost
expect 2 "port must be" --bind 127.0.0.1:99999
expect 2 "expected ID@HOST:PORT" --peer nobody
expect 2 "--duration" --duration soon
expect 2 "--count" --count 3
expect 2 "--count" --ping node-x-0001 --count 0
expect 2 "--log-level" --log-level loud
expect 2 "--route-via" --route-via abc
expect 2 "default_route" --uuid node-x-0001 --route-via node-x-0001
expect 2 "default_route" --p2p0mq.default-route=abc
expect 2 "heart_beat_interval" --p2p0mq.heart-beat-interval=0s
# The config file sets the same options.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[p2p0mq]\nheart-beat-interval=0s\n' >"$work/bad.ini"
printf '[p2p0mq]\nheart-beat-interval=2s\n' >"$work/good.ini"
expect 2 "heart_beat_interval" --config-file "$work/bad.ini"
expect 2 "heart_beat_interval" "--config-file=$work/bad.ini"
expect 0 '"peers": {}' --config-file "$work/good.ini" --json --duration 0.2
expect 2 "--config-file" --config-file
exit $fail
