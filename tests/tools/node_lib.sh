# Helpers of the node scripts (node_route.sh, node_groups.sh), sourced by
# them. Set before sourcing: node (the p2p0mq-node binary), work (a scratch
# directory, with the certificates in $work/certs) and pids (an array).

# start NAME ARGS...: starts a node in the background, its standard error in
# $work/NAME.err and its JSON lines in $work/NAME.out; sets $port to the port
# it announces (waits at most 60 s).
start() {
  local name=$1
  shift
  "$node" "$@" --bind 127.0.0.1:0 --json --certs "$work/certs" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  port=
  for _ in $(seq 600); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
      "$work/$name.err")
    [ -n "$port" ] && return 0
    read -rt 0.1 <> <(:) || true
  done
  echo "node $name did not announce its port"; cat "$work/$name.err"; exit 1
}
