#!/usr/bin/env bash
# Certificates travel both ways between p2p0mq-keygen and pyzmq's zmq.auth:
# pyzmq loads the key pair we write, and we read the one pyzmq writes.
# Without python3-zmq (pyzmq; scripts/test.sh installs it) the test says so
# and is skipped (exit 77).
#   keygen_pyzmq.sh PATH/TO/p2p0mq-keygen
set -u
keygen=$1
# The first Python that has pyzmq: the one on PATH, or Debian's, where the
# package python3-zmq puts it.
py=
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c "import zmq.auth" 2>/dev/null; then
    py=$candidate
    break
  fi
done
[ -n "$py" ] || {
  echo "SKIPPED: pyzmq is not installed (Debian package python3-zmq)"
  exit 77
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() {
  if ! eval "$1"; then
    echo "FAILED: $2"
    fail=1
  fi
}

# Ours load in pyzmq.
"$keygen" --uuid peer-0002 --certs "$work/c" >/dev/null 2>&1
py_key=$("$py" -c '
import sys, zmq.auth
pub, _ = zmq.auth.load_certificate(sys.argv[1])
pub2, sec = zmq.auth.load_certificate(sys.argv[2])
assert pub == pub2 and sec is not None
print(pub.decode())' "$work/c/public/peer-0002.key" \
  "$work/c/private/peer-0002.key_secret")
our_key=$("$keygen" --uuid peer-0002 --certs "$work/c" --show)
check '[ -n "$py_key" ] && [ "$py_key" = "$our_key" ]' \
  "pyzmq reads our certificates ('$py_key' vs '$our_key')"
# pyzmq's load in ours.
mkdir -p "$work/py/public" "$work/py/private"
py_key=$("$py" -c '
import sys, zmq.auth
pub_file, sec_file = zmq.auth.create_certificates(sys.argv[1], "py-peer-01")
print(zmq.auth.load_certificate(pub_file)[0].decode())' "$work/py/public")
mv "$work/py/public/py-peer-01.key_secret" "$work/py/private/"
our_key=$("$keygen" --uuid py-peer-01 --public "$work/py/public" \
  --private "$work/py/private" --show)
check '[ -n "$py_key" ] && [ "$py_key" = "$our_key" ]' \
  "we read pyzmq's certificates ('$py_key' vs '$our_key')"
[ $fail -eq 0 ] && echo "p2p0mq-keygen and pyzmq read each other's certificates"
exit $fail
