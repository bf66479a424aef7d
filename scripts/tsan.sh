#!/usr/bin/env bash
# Builds with ThreadSanitizer (build dir build-tsan) and runs the tests where
# threads meet: the actor and loopback tests (p2p0mq-actors-tests), the
# examples, and the tool and fault tests (p2p0mq-node processes). A data
# race makes the program that saw it exit with 66, failing its test.
#   scripts/tsan.sh [CTEST ARGS...]   e.g. scripts/tsan.sh -R 'actors\.'
#   scripts/tsan.sh --libraries-only  builds (or finds) CAF and libzmq only
#
# TSan sees only the synchronisation of instrumented code. Debian's CAF
# and libzmq are not instrumented, so every message one actor hands another
# through CAF's lock-free mailboxes, and every frame a ZeroMQ I/O thread
# hands a socket, would look like a race in the code on either side. The
# script therefore builds both with -fsanitize=thread from the sources of
# their Debian packages (libcaf-dev's and libzmq3-dev's source packages,
# with Debian's build options), and builds p2p0mq against them.
#
# The instrumented libraries are built once per machine and user and kept in
# a cache, ${P2P0MQ_TSAN_CACHE:-${XDG_CACHE_HOME:-~/.cache}/p2p0mq/tsan},
# one directory per library, keyed by the installed package version and the
# compiler (caf-0.17.6-2.1+b1-gcc-12.2.0, ...): a new package or compiler
# builds anew, every other run and every worktree reuses them. A lock lets
# two runs at once build a library only once.
#
# The sources come through apt, with the machine's own apt configuration:
# every repository configured in /etc/apt/sources.list and
# /etc/apt/sources.list.d (one-line .list files and deb822 .sources files),
# read as a source repository into a sources list and apt state of the
# script's own; /etc/apt is not touched.
#
# scripts/tsan.supp would list reports that arise only inside a library,
# each with its reason; none does.
#
# Not part of scripts/test.sh: the first run on a machine builds CAF and
# libzmq (about 35 minutes of CPU), and every run builds p2p0mq (about 20
# minutes of CPU, less with ccache) and runs the tests (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
p2p0mq_install_missing dpkg-dev

libraries_only=0
if [[ ${1:-} == --libraries-only ]]; then
  libraries_only=1
  shift
fi

build=${P2P0MQ_TSAN_BUILD_DIR:-build-tsan}
jobs=$(nproc)
tsan_flags="-fsanitize=thread -g -O1"
cache=${P2P0MQ_TSAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/p2p0mq/tsan}
mkdir -p "$cache"
cxx=${CXX:-c++}
if "$cxx" --version | grep -qi clang; then
  compiler=clang-$("$cxx" -dumpversion)
else
  compiler=gcc-$("$cxx" -dumpfullversion)
fi
# CAF's cache directory is named for its OpenSSL module too (a CAF built
# before p2p0mq::remote needed the module lacks it).
caf=$cache/caf-$(dpkg-query -W -f='${Version}' libcaf-dev)-$compiler-openssl
zmq=$cache/zmq-$(dpkg-query -W -f='${Version}' libzmq3-dev)-$compiler

# Writes the apt sources of this machine, each read as a source repository,
# into the directory $1: one-line entries into $1/sources.list, deb822
# stanzas into $1/sources.list.d/*.sources.
source_repositories() {
  local out=$1 file
  mkdir -p "$out/sources.list.d"
  : >"$out/sources.list"
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $file ]] || continue
    sed -n 's/^[[:space:]]*deb\(-src\)\{0,1\}\([[:space:]]\)/deb-src\2/p' \
      "$file" >>"$out/sources.list"
  done
  sort -u -o "$out/sources.list" "$out/sources.list"
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    sed 's/^[Tt]ypes:.*/Types: deb-src/' "$file" \
      >"$out/sources.list.d/$(basename "$file")"
  done
  if ! grep -qs . "$out/sources.list" "$out"/sources.list.d/*.sources; then
    echo "tsan: no apt repository configured in /etc/apt"
    return 1
  fi
}

# Downloads into the directory $2 the sources of the Debian package that
# built the installed binary package $1.
fetch_source() {
  local package=$1 dir=$2 version source apt=$2/apt
  version=$(dpkg-query -W -f='${source:Version}' "$package")
  source=$(dpkg-query -W -f='${source:Package}' "$package")
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
  source_repositories "$apt"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list"
    -o "Dir::Etc::SourceParts=$apt/sources.list.d"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
  # apt's download user cannot write into root's cache directory.
  [[ $(id -u) -ne 0 ]] || opts+=(-o APT::Sandbox::User=root)
  echo "tsan: fetching the sources of $source $version"
  # A repository without sources (a vendor's binaries) fails its part of
  # the update; the others are enough.
  apt-get "${opts[@]}" -qq update || echo "tsan: (some repositories have" \
    "no sources; the download below says whether $source was found)"
  (cd "$dir" && apt-get "${opts[@]}" -qq source --download-only \
    "$source=$version")
}

# Runs "$2 DIR" to build the cache directory $1 unless it is complete (a
# file "done" in it), under a lock; a build that failed or was stopped is
# started again from nothing.
cached() {
  local dir=$1 build_fn=$2 lock
  exec {lock}>"$dir.lock"
  flock "$lock"
  if [[ ! -f $dir/done ]]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    "$build_fn" "$dir"
    touch "$dir/done"
  fi
  exec {lock}>&-
}

# CAF, from the upstream tarball of its Debian source package (the Debian
# changes are packaging and one missing include, added here), with its
# OpenSSL module (remote concerns over TLS); OpenSSL itself is Debian's, its
# locks are pthread's, which ThreadSanitizer sees.
build_caf() {
  local dir=$1 upstream tarball
  upstream=$(dpkg-query -W -f='${source:Version}' libcaf-dev)
  upstream=${upstream%%-*}
  tarball=$dir/actor-framework_$upstream.orig.tar.gz
  fetch_source libcaf-dev "$dir" || true
  [[ -f $tarball ]] || {
    echo "tsan: could not fetch $tarball"
    return 1
  }
  echo "tsan: building CAF $upstream with ThreadSanitizer in $dir"
  mkdir -p "$dir/src"
  tar xzf "$tarball" -C "$dir/src" --strip-components=1
  sed -i 's|#include <cstring>|#include <cstring>\n#include <limits>|' \
    "$dir/src/libcaf_io/caf/io/network/receive_buffer.hpp"
  CXXFLAGS=$tsan_flags cmake -S "$dir/src" -B "$dir/build" \
    -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX="$dir/install" \
    -DCMAKE_INSTALL_LIBDIR=lib -DCAF_LOG_LEVEL=QUIET \
    -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_TOOLS=yes \
    -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes \
    -DCAF_NO_SUMMARY=yes >/dev/null
  cmake --build "$dir/build" -j"$jobs"
  cmake --install "$dir/build" >/dev/null
  [[ -f $dir/install/lib/libcaf_openssl.so ]] || {
    echo "tsan: CAF was built without its OpenSSL module"
    return 1
  }
  rm -rf "$dir/src" "$dir/build" "$dir/apt" "$tarball"
}

# libzmq, from its Debian source package with Debian's patches, with CURVE
# through libsodium as Debian builds it.
build_zmq() {
  local dir=$1 dsc
  fetch_source libzmq3-dev "$dir" || true
  dsc=$(ls "$dir"/zeromq3_*.dsc 2>/dev/null | head -1 || true)
  [[ -n $dsc ]] || {
    echo "tsan: could not fetch the sources of libzmq"
    return 1
  }
  echo "tsan: building libzmq with ThreadSanitizer in $dir"
  # apt checked the files against the repository's signed index already.
  dpkg-source -x "$dsc" "$dir/src" >/dev/null 2>&1 || {
    echo "tsan: could not unpack $dsc"
    return 1
  }
  CFLAGS=$tsan_flags CXXFLAGS=$tsan_flags cmake -S "$dir/src" \
    -B "$dir/build" -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_INSTALL_PREFIX="$dir/install" -DCMAKE_INSTALL_LIBDIR=lib \
    -DWITH_LIBSODIUM=ON -DENABLE_CURVE=ON -DENABLE_DRAFTS=OFF \
    -DBUILD_TESTS=OFF -DBUILD_STATIC=OFF -DWITH_DOCS=OFF \
    -DWITH_PERF_TOOL=OFF -DENABLE_CPACK=OFF -Wno-dev >/dev/null
  cmake --build "$dir/build" -j"$jobs"
  cmake --install "$dir/build" >/dev/null
  rm -rf "$dir/src" "$dir/build" "$dir/apt" "$dir"/zeromq3_*
}

cached "$caf" build_caf
cached "$zmq" build_zmq
echo "tsan: CAF in $caf, libzmq in $zmq"
((libraries_only)) && exit 0

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DP2P0MQ_SANITIZERS=thread -DP2P0MQ_ENABLE_FUZZ=OFF \
  -DCAF_INCLUDE_DIR="$caf/install/include" \
  -DCAF_core_LIBRARY="$caf/install/lib/libcaf_core.so" \
  -DCAF_io_LIBRARY="$caf/install/lib/libcaf_io.so" \
  -DCAF_openssl_LIBRARY="$caf/install/lib/libcaf_openssl.so" \
  -DZeroMQ_DIR="$zmq/install/lib/cmake/ZeroMQ"
cmake --build "$build" -j"$jobs"
# Every report of every process goes to a file of its own as well, so that
# a race in a process whose exit code no test reads (a node a script kills)
# is seen too.
reports=$build/tsan-reports
rm -rf "$reports"
mkdir -p "$reports"
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp log_path=$reports/report ${TSAN_OPTIONS:-}"
cd "$build"
if (($# == 0)); then
  set -- -R '^(actors\.|example|tools: |faults: )'
fi
rc=0
ctest --output-on-failure -j"$jobs" --timeout 900 "$@" || rc=$?
if compgen -G "$reports/report*" >/dev/null; then
  echo "tsan: ThreadSanitizer reported in $(ls "$reports" | wc -l) processes:"
  head -n 40 "$reports"/report*
  exit 1
fi
echo "tsan: no ThreadSanitizer report in any process"
exit $rc
