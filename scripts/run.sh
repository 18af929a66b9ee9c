#!/usr/bin/env bash
# Builds the release configuration and runs the main program with its defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target srmudp-sim
exec ./build/release/apps/srmudp-sim/srmudp-sim "$@"
