#!/usr/bin/env bash
# Builds with ThreadSanitizer (build dir build-tsan) and runs the tests where
# threads meet: the actor and loopback tests (p2p0mq-actors-tests), the
# examples and the tool tests (p2p0mq-node processes). A data race makes the
# program that saw it exit with 66, failing its test.
#   scripts/tsan.sh [CTEST ARGS...]   e.g. scripts/tsan.sh -R 'actors\.'
#
# TSan sees only the synchronisation of instrumented code. Debian's CAF
# and libzmq are not instrumented, so every message one actor hands another
# through CAF's lock-free mailboxes, and every frame a ZeroMQ I/O thread
# hands a socket, would look like a race in the code on either side. The
# script therefore builds both with -fsanitize=thread, once, into
# build-tsan/caf and build-tsan/zmq: the sources of their Debian packages
# (libcaf-dev's and libzmq3-dev's source packages, fetched with apt-get
# through a sources list of its own; /etc/apt is not touched), with Debian's
# build options, and builds p2p0mq against them. scripts/tsan.supp would
# list reports that arise only inside a library, each with its reason; none
# does.
#
# Not part of scripts/test.sh: the first run builds CAF and libzmq (about 13
# minutes of CPU) and p2p0mq (about 20), some 20 minutes on 2 cores; after
# that a run takes about a minute (the 213 tests: 30-60 s on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
p2p0mq_install_missing dpkg-dev

build=${P2P0MQ_TSAN_BUILD_DIR:-build-tsan}
jobs=$(nproc)
mkdir -p "$build"
build=$(cd "$build" && pwd)
caf=$build/caf
zmq=$build/zmq
tsan_flags="-fsanitize=thread -g -O1"

# Downloads the sources of the Debian package that built the binary package
# $1 into $2 (a directory of its own, with its own apt lists).
fetch_source() {
  local package=$1 dir=$2 version
  version=$(dpkg-query -W -f='${source:Version}' "$package")
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
    "http://deb.debian.org/debian bookworm main" >"$dir/apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$dir/apt/sources.list"
    -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache")
  echo "tsan: fetching the sources of $package $version"
  apt-get "${opts[@]}" -qq update
  # A missing Debian packaging part is tolerated: the caller checks what it
  # needs.
  (cd "$dir" && apt-get "${opts[@]}" -qq source --download-only \
    "$(dpkg-query -W -f='${source:Package}' "$package")=$version") || true
}

# CAF, from the upstream tarball of its Debian source package (the Debian
# changes are packaging and one missing include, added here).
if [[ ! -f $caf/install/lib/libcaf_core.so ]]; then
  upstream=$(dpkg-query -W -f='${source:Version}' libcaf-dev)
  upstream=${upstream%%-*}
  tarball=$caf/actor-framework_$upstream.orig.tar.gz
  [[ -f $tarball ]] || fetch_source libcaf-dev "$caf"
  [[ -f $tarball ]] || {
    echo "tsan: could not fetch $tarball"
    exit 1
  }
  echo "tsan: building CAF $upstream with ThreadSanitizer in $caf"
  rm -rf "$caf/src" "$caf/build"
  mkdir -p "$caf/src"
  tar xzf "$tarball" -C "$caf/src" --strip-components=1
  sed -i 's|#include <cstring>|#include <cstring>\n#include <limits>|' \
    "$caf/src/libcaf_io/caf/io/network/receive_buffer.hpp"
  CXXFLAGS=$tsan_flags cmake -S "$caf/src" -B "$caf/build" \
    -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX="$caf/install" \
    -DCMAKE_INSTALL_LIBDIR=lib -DCAF_LOG_LEVEL=QUIET \
    -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_TOOLS=yes \
    -DCAF_NO_OPENSSL=yes -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes \
    -DCAF_NO_SUMMARY=yes >/dev/null
  cmake --build "$caf/build" -j"$jobs"
  cmake --install "$caf/build" >/dev/null
fi

# libzmq, from its Debian source package with Debian's patches, with CURVE
# through libsodium as Debian builds it.
if [[ ! -f $zmq/install/lib/libzmq.so ]]; then
  dsc=$(ls "$zmq"/zeromq3_*.dsc 2>/dev/null | head -1 || true)
  if [[ -z $dsc ]]; then
    fetch_source libzmq3-dev "$zmq"
    dsc=$(ls "$zmq"/zeromq3_*.dsc 2>/dev/null | head -1 || true)
  fi
  [[ -n $dsc ]] || {
    echo "tsan: could not fetch the sources of libzmq"
    exit 1
  }
  echo "tsan: building libzmq with ThreadSanitizer in $zmq"
  rm -rf "$zmq/src" "$zmq/build"
  # apt checked the files against Debian's signed index already.
  dpkg-source -x "$dsc" "$zmq/src" >/dev/null 2>&1 || {
    echo "tsan: could not unpack $dsc"
    exit 1
  }
  CFLAGS=$tsan_flags CXXFLAGS=$tsan_flags cmake -S "$zmq/src" \
    -B "$zmq/build" -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_INSTALL_PREFIX="$zmq/install" -DCMAKE_INSTALL_LIBDIR=lib \
    -DWITH_LIBSODIUM=ON -DENABLE_CURVE=ON -DENABLE_DRAFTS=OFF \
    -DBUILD_TESTS=OFF -DBUILD_STATIC=OFF -DWITH_DOCS=OFF \
    -DWITH_PERF_TOOL=OFF -DENABLE_CPACK=OFF -Wno-dev >/dev/null
  cmake --build "$zmq/build" -j"$jobs"
  cmake --install "$zmq/build" >/dev/null
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DP2P0MQ_SANITIZERS=thread -DP2P0MQ_ENABLE_FUZZ=OFF \
  -DCAF_INCLUDE_DIR="$caf/install/include" \
  -DCAF_core_LIBRARY="$caf/install/lib/libcaf_core.so" \
  -DCAF_io_LIBRARY="$caf/install/lib/libcaf_io.so" \
  -DZeroMQ_DIR="$zmq/install/lib/cmake/ZeroMQ"
cmake --build "$build" -j"$jobs"
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp ${TSAN_OPTIONS:-}"
cd "$build"
if (($# == 0)); then
  set -- -R '^(actors\.|example: |tools: )'
fi
ctest --output-on-failure -j"$jobs" --timeout 900 "$@"
