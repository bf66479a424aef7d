#!/usr/bin/env bash
# Installs the Debian packages p2p0mq needs that are missing, saying which.
# Sourced by the other scripts; uses sudo when not run as root.
set -euo pipefail

p2p0mq_packages=(
  cmake g++ make pkg-config
  libcaf-dev libzmq3-dev cppzmq-dev libmsgpack-cxx-dev
  libsqlite3-dev libsodium-dev libssl-dev catch2 nlohmann-json3-dev
)

p2p0mq_install_missing() {
  local wanted=("${p2p0mq_packages[@]}" "$@") missing=() pkg
  for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
        grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    echo "deps: all ${#wanted[@]} packages present"
    return 0
  fi
  echo "deps: installing ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
