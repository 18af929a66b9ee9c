#!/usr/bin/env bash
# Builds the release configuration and runs the main program, autoprox, with its defaults:
# the WebSocket bridge on ws://127.0.0.1:8000/v0/ws/proxy, srmudp on a free UDP port.
# Options after the command go to autoprox (see --help); Ctrl-C stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target autoprox
exec ./build/release/apps/autoprox/autoprox "$@"
