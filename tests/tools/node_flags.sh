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
expect 0 "--p2p0mq.heart-beat-interval=4s" --help
expect 0 "--p2p0mq.certificate-reload-interval=10s" --help
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
expect 2 "not a category" --log-level wire=debug,nowhere=info
expect 2 "not a level" --log-level security=chatty
expect 2 "port must be" --metrics 127.0.0.1:99999
expect 2 "--topology" --topology
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
expect 0 '"peers": {}' --config-file "$work/good.ini" --json --duration 0.2 \
  --certs "$work/certs"
expect 2 "--config-file" --config-file
expect 2 "--certs" --certs
# A damaged certificate of its own stops the node with exit 1, naming the
# file; so does a public certificate without its secret one.
mkdir -p "$work/bad/private" "$work/bad/public"
printf 'curve\n    public-key = "short"\n' \
  >"$work/bad/private/node-x-0001.key_secret"
expect 1 "node-x-0001.key_secret" --uuid node-x-0001 --certs "$work/bad" \
  --duration 0.2
cp "$work/certs/public/"*.key "$work/bad/public/node-y-0002.key"
expect 1 "node-y-0002.key_secret" --uuid node-y-0002 --certs "$work/bad" \
  --duration 0.2
# A new identity is announced on standard error, naming its files; the next
# start with the same directory loads it silently.
expect 0 "new identity: node-k-0001 had no key pair, so one was made: $work/fresh/private/node-k-0001.key_secret (secret) and $work/fresh/public/node-k-0001.key" \
  --uuid node-k-0001 --certs "$work/fresh" --duration 0.1
if "$node" --uuid node-k-0001 --certs "$work/fresh" --duration 0.1 2>&1 |
    grep -q "new identity"; then
  echo "FAILED: the second start announced a new identity"; fail=1
fi
# A --certs whose parent does not exist is a typo, not a new directory.
expect 2 "--certs $work/nosuch/certs: its parent directory $work/nosuch does not exist" \
  --certs "$work/nosuch/certs" --duration 0.1
if [ -e "$work/nosuch" ]; then
  echo "FAILED: a --certs under a missing parent was created"; fail=1
fi
# An address that cannot be bound names the flag that chose it.
expect 1 "--bind nosuchhost.invalid:1: nosuchhost.invalid is neither an address" \
  --bind nosuchhost.invalid:1 --no-encryption --duration 0.1
printf '[p2p0mq]\nhost="nosuchhost.invalid"\n' >"$work/host.ini"
expect 1 "p2p0mq.host/p2p0mq.port (nosuchhost.invalid:0): nosuchhost.invalid is neither" \
  --config "$work/host.ini" --no-encryption --duration 0.1
# Boolean options take CAF's spellings: alone (true), =true and =false; on
# the command line they win over the config file.
printf '[p2p0mq]\nencryption=false\n' >"$work/plain.ini"
expect 0 "(encryption off)" --p2p0mq.encryption=false --duration 0.1
expect 0 "(encryption on)" --p2p0mq.encryption=true --duration 0.1 \
  --certs "$work/certs"
expect 0 "(encryption off)" --config "$work/plain.ini" --duration 0.1
expect 0 "(encryption on)" --config "$work/plain.ini" --p2p0mq.encryption \
  --duration 0.1 --certs "$work/certs"
expect 0 "(encryption on)" "--config=$work/plain.ini" \
  --p2p0mq.encryption=true --duration 0.1 --certs "$work/certs"
expect 2 "--p2p0mq.encryption=maybe: a boolean option takes true or false" \
  --p2p0mq.encryption=maybe
# A flag beside the config file wins, and says so.
printf '[p2p0mq]\nport=1\ndatabase="%s"\ndefault-route="node-r-0001"\n' \
  "$work/file.db" >"$work/over.ini"
expect 0 "--bind 127.0.0.1:0 overrides p2p0mq.host/p2p0mq.port (127.0.0.1:1) from the config" \
  --config "$work/over.ini" --bind 127.0.0.1:0 --db "$work/flag.db" \
  --route-via node-s-0002 --no-encryption --duration 0.1
expect 0 "--db $work/flag.db overrides p2p0mq.database=$work/file.db from the config" \
  --config "$work/over.ini" --bind 127.0.0.1:0 --db "$work/flag.db" \
  --route-via node-s-0002 --no-encryption --duration 0.1
expect 0 "--route-via node-s-0002 overrides p2p0mq.default-route=node-r-0001" \
  --config "$work/over.ini" --bind 127.0.0.1:0 --db "$work/flag.db" \
  --route-via node-s-0002 --no-encryption --duration 0.1
if [ -e "$work/file.db" ] || [ ! -e "$work/flag.db" ]; then
  echo "FAILED: --db did not win over p2p0mq.database"; fail=1
fi
printf '[p2p0mq]\nencryption=true\n' >"$work/secure.ini"
expect 0 "--no-encryption overrides p2p0mq.encryption=true from the config" \
  --config "$work/secure.ini" --no-encryption --duration 0.1
expect 0 "(encryption off)" --config "$work/secure.ini" --no-encryption \
  --duration 0.1
# Without encryption no certificate is read or written.
expect 0 '"peers": {}' --no-encryption --certs "$work/none" --json \
  --duration 0.2
if [ -e "$work/none" ]; then
  echo "FAILED: --no-encryption wrote certificates"; fail=1
fi
# The peer store: --db keeps the uuid and the peers over a restart; a file
# that is not a database, or that belongs to another uuid, stops the node
# with a message naming the file.
expect 2 "--db" --db
expect 0 '"peer-x-0001": {"state"' --db "$work/node.db" --uuid node-db-0001 \
  --peer peer-x-0001@127.0.0.1:9 --json --duration 0.3 --no-encryption
expect 0 'node-db-0001 listening' \
  --db "$work/node.db" --json --duration 0.3 --no-encryption
expect 0 '"peers": {"peer-x-0001": {"state"' \
  --db "$work/node.db" --json --duration 0.3 --no-encryption
expect 1 "node.db: the database belongs to the local peer" \
  --db "$work/node.db" --uuid node-other-0002 --duration 0.2 \
  --no-encryption
printf 'not a database\n' >"$work/junk.db"
expect 1 "junk.db: cannot read the database: file is not a database" \
  --db "$work/junk.db" --duration 0.2 --no-encryption
exit $fail
