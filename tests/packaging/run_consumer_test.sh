#!/usr/bin/env bash
# Installs the built project into a temporary prefix, then configures, builds
# and runs a consumer project that finds it with find_package(etcdgrpc).
# usage: run_consumer_test.sh BUILD_DIR CXX_COMPILER
set -euo pipefail
build_dir=$1
cxx=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/etcdgrpc-consumer-XXXXXX")
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$here/consumer" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
