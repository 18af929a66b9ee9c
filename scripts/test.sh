#!/usr/bin/env bash
# Builds and runs the whole test suite:
#   1. debug build with AddressSanitizer + UndefinedBehaviorSanitizer, all tests;
#   2. release build, all tests;
#   3. the installed library used from another CMake project (find_package(srmudp CONFIG));
#   4. each libFuzzer target for a bounded time (SRMUDP_FUZZ_SECONDS, default 20).
# Warnings are errors in every configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

jobs=$(nproc)
export CTEST_PARALLEL_LEVEL=${CTEST_PARALLEL_LEVEL:-$jobs}

echo "== debug-asan: build and test"
cmake --workflow --preset debug-asan

echo "== release: build and test"
cmake --workflow --preset release

echo "== install and use from another project"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build/release --prefix "$prefix/usr" >/dev/null
cmake -S tests/consumer -B "$prefix/consumer-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix/usr" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$prefix/consumer-build" >/dev/null
"$prefix/consumer-build/srmudp_consumer"

echo "== fuzz: each target for ${SRMUDP_FUZZ_SECONDS:-20} s"
cmake --preset fuzz -DSRMUDP_FUZZ_SECONDS="${SRMUDP_FUZZ_SECONDS:-20}" >/dev/null
cmake --build --preset fuzz
ctest --test-dir build/fuzz --output-on-failure -j1
