#!/usr/bin/env bash
# Installs, from Debian 12's archive, whatever the build and the tests need and is missing.
# Needs root (apt-get). Installs nothing when everything is present.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config ccache
  libssl-dev libasio-dev libwebsocketpp-dev rapidjson-dev libfmt-dev catch2
  clang libclang-rt-14-dev   # libFuzzer targets (the "fuzz" preset)
  python3
  coturn iproute2 nftables procps   # integration tests: STUN server, NAT lab from namespaces
  python3-websockets                # integration tests: a WebSocket client we did not write
  chromium                          # integration tests: a browser as the WebSocket client
  openssl                           # integration tests: a self-signed certificate for wss://
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root to install packages" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
