#!/usr/bin/env bash
# p2p0mq-keygen: writes a key pair in pyzmq's format with safe permissions,
# refuses to overwrite unless told, and prints and shows keys. Bad flags
# exit 2. (keygen_pyzmq.sh checks the files with pyzmq itself.)
#   keygen.sh PATH/TO/p2p0mq-keygen
set -u
keygen=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() {
  if ! eval "$1"; then
    echo "FAILED: $2"
    fail=1
  fi
}

"$keygen" --help | grep -q -- "--uuid ID"
check '[ $? -eq 0 ]' "--help"
"$keygen" 2>/dev/null
check '[ $? -eq 2 ]' "no --uuid exits 2"
"$keygen" --uuid abc --certs "$work/c" 2>/dev/null
check '[ $? -eq 2 ]' "a short uuid exits 2"
"$keygen" --uuid peer-0001 --public "$work/p" 2>/dev/null
check '[ $? -eq 2 ]' "--public without --private exits 2"
"$keygen" --uuid peer-0001 --bogus 2>/dev/null
check '[ $? -eq 2 ]' "an unknown flag exits 2"
out=$("$keygen" --uuid peer-0001 --certs "$work/typo/c" 2>&1)
check '[ $? -eq 2 ] && grep -q "parent directory $work/typo does not exist" <<<"$out" && [ ! -e "$work/typo" ]' \
  "a --certs whose parent does not exist exits 2 and makes nothing"

key=$("$keygen" --uuid peer-0001 --certs "$work/c" --print)
check '[ $? -eq 0 ]' "creating a pair exits 0"
check '[ ${#key} -eq 40 ]' "--print prints a 40-character key, got '$key'"
pub="$work/c/public/peer-0001.key"
sec="$work/c/private/peer-0001.key_secret"
check 'grep -qF "    public-key = \"$key\"" "$pub"' "the public file holds the key"
check '! grep -q "secret-key" "$pub"' "the public file holds no secret"
check 'grep -q "^    secret-key = \"" "$sec"' "the secret file holds the secret"
check '[ "$(stat -c %a "$sec")" = 600 ]' "the secret file has mode 0600"
check '[ "$(stat -c %a "$work/c/private")" = 700 ]' \
  "the private directory has mode 0700"
shown=$("$keygen" --uuid peer-0001 --certs "$work/c" --show)
check '[ "$shown" = "$key" ]' "--show prints the same key"

out=$("$keygen" --uuid peer-0001 --certs "$work/c" 2>&1)
check '[ $? -eq 1 ]' "an existing pair is not overwritten"
check 'grep -q "peer-0001.key exists" <<<"$out"' "the refusal names the file"
key2=$("$keygen" --uuid peer-0001 --certs "$work/c" --print --force)
check '[ $? -eq 0 ] && [ "$key2" != "$key" ]' "--force makes a new pair"

rm "$sec"
out=$("$keygen" --uuid peer-0001 --certs "$work/c" --show 2>&1)
check '[ $? -eq 1 ]' "--show without the secret file exits 1"
check 'grep -q "peer-0001.key_secret" <<<"$out"' "the error names the file"

# The TLS certificate of remote concerns.
"$keygen" --tls --uuid tls-peer-01 --certs "$work/t" >/dev/null 2>&1
check '[ -s "$work/t/public/tls-peer-01.crt" ]' "--tls writes NAME.crt"
check '[ "$(stat -c %a "$work/t/private/tls-peer-01.crt_secret")" = 600 ]' \
  "--tls writes NAME.crt_secret with mode 0600"
check '! "$keygen" --tls --uuid tls-peer-01 --certs "$work/t" 2>/dev/null' \
  "--tls refuses to replace a certificate"
check '"$keygen" --tls --uuid tls-peer-01 --certs "$work/t" --force \
  2>/dev/null' "--tls --force replaces it"
check '! "$keygen" --tls --uuid tls-peer-01 --public "$work/t/public" \
  --private "$work/t/private" 2>/dev/null' "--tls takes --certs only"
[ $fail -eq 0 ] && echo "p2p0mq-keygen behaves"
exit $fail
