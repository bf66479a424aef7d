#!/usr/bin/env bash
# Builds with ThreadSanitizer (build dir build-tsan) and runs the tests where
# threads meet: the actor and loopback tests (p2p0mq-actors-tests), the
# examples and the tool tests (p2p0mq-node processes). A data race makes the
# program that saw it exit with 66, failing its test.
#   scripts/tsan.sh [CTEST ARGS...]   e.g. scripts/tsan.sh -R 'actors\.'
#
# TSan sees only the synchronisation of instrumented code. Debian's CAF is
# not instrumented, so every message one actor hands another through CAF's
# lock-free mailboxes would look like a race in the code on either side.
# The script therefore builds CAF itself with -fsanitize=thread, once, into
# build-tsan/caf: the upstream sources of the Debian package (libcaf-dev's
# source package, fetched with apt-get through a sources list of its own,
# /etc/apt is not touched), with Debian's build options, and builds p2p0mq
# against it. libzmq stays uninstrumented: scripts/tsan.supp lists the
# reports that arise only inside it, each with its reason.
#
# Not part of scripts/test.sh: the first run builds CAF (about 15 minutes of
# one core more), and every test runs 5-15 times slower.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
p2p0mq_install_missing dpkg-dev

build=${P2P0MQ_TSAN_BUILD_DIR:-build-tsan}
jobs=$(nproc)
mkdir -p "$build"
build=$(cd "$build" && pwd)
caf=$build/caf
tsan_flags="-fsanitize=thread -g -O1"

# CAF with TSan, built once.
if [[ ! -f $caf/install/lib/libcaf_core.so ]]; then
  source_version=$(dpkg-query -W -f='${source:Version}' libcaf-dev)
  upstream=${source_version%%-*}
  tarball=$caf/actor-framework_$upstream.orig.tar.gz
  if [[ ! -f $tarball ]]; then
    echo "tsan: fetching the sources of CAF $source_version"
    mkdir -p "$caf/apt/lists/partial" "$caf/apt/cache/archives/partial"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
      "http://deb.debian.org/debian bookworm main" >"$caf/apt/sources.list"
    apt_opts=(-o "Dir::Etc::SourceList=$caf/apt/sources.list"
      -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$caf/apt/lists" -o "Dir::Cache=$caf/apt/cache")
    apt-get "${apt_opts[@]}" -qq update
    # Only the upstream tarball is used; Debian's packaging may be missing.
    (cd "$caf" &&
      apt-get "${apt_opts[@]}" -qq source --download-only \
        "actor-framework=$source_version") || true
    [[ -f $tarball ]] || {
      echo "tsan: could not fetch $tarball"
      exit 1
    }
  fi
  echo "tsan: building CAF $upstream with ThreadSanitizer in $caf"
  rm -rf "$caf/src"
  mkdir -p "$caf/src"
  tar xzf "$tarball" -C "$caf/src" --strip-components=1
  # GCC 12 needs this include, which Debian's packaging adds too.
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

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DP2P0MQ_SANITIZERS=thread -DP2P0MQ_ENABLE_FUZZ=OFF \
  -DCAF_INCLUDE_DIR="$caf/install/include" \
  -DCAF_core_LIBRARY="$caf/install/lib/libcaf_core.so" \
  -DCAF_io_LIBRARY="$caf/install/lib/libcaf_io.so"
cmake --build "$build" -j"$jobs"
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp ${TSAN_OPTIONS:-}"
cd "$build"
if (($# == 0)); then
  set -- -R '^(actors\.|example: |tools: )'
fi
ctest --output-on-failure -j"$jobs" --timeout 900 "$@"
