#!/usr/bin/env bash
# The installed package works for another project, static and shared:
#  1. installs the static build (BUILD_DIR) and builds the consumer with
#     find_package(etcdgrpc), then with pkg-config --static;
#  2. configures the libraries alone as shared libraries (BUILD_SHARED_LIBS,
#     warnings as errors, Release), installs them, and builds the consumer
#     both ways again; checks that the shared libraries export only the API.
# usage: run_consumer_test.sh SOURCE_DIR BUILD_DIR CXX_COMPILER
set -euo pipefail
source_dir=$1
build_dir=$2
cxx=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/etcdgrpc-consumer-XXXXXX")
trap 'rm -rf "$work"' EXIT
jobs=$(nproc)

consume() { # prefix label [pkg-config flags...]
  local prefix=$1 label=$2
  shift 2
  cmake -S "$here/consumer" -B "$work/consumer-$label" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$work/consumer-$label" >/dev/null
  "$work/consumer-$label/consumer"
  local pc
  local libdir
  libdir=$(dirname "$(find "$prefix" -name etcdgrpc.pc -path '*/pkgconfig/*' | head -1)")/..
  pc=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config "$@" --cflags --libs etcdgrpc)
  # shellcheck disable=SC2086 # pkg-config's flags are words
  "$cxx" "$here/consumer/main.cc" -o "$work/pc-$label" $pc -Wl,-rpath,"$libdir"
  "$work/pc-$label"
}

echo "== static install"
cmake --install "$build_dir" --prefix "$work/static" >/dev/null
test -f "$work/static/share/doc/etcdgrpc/LICENSE"
consume "$work/static" static --static

echo "== shared build"
cmake -S "$source_dir" -B "$work/shared-build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DETCDGRPC_WERROR=ON \
  -DETCDGRPC_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$work/shared" >/dev/null
cmake --build "$work/shared-build" -j "$jobs" >/dev/null
cmake --install "$work/shared-build" >/dev/null
for lib in client registry resolver concurrency; do
  so=$(find "$work/shared" -name "libetcdgrpc_$lib.so" | head -1)
  test -n "$so" && test -L "$so"
  # Hidden visibility: nothing of etcdgrpc::internal (or the protos) exported
  # (std:: templates instantiated on them are, by the C++ ABI's vague linkage).
  if nm -DC --defined-only "$so" | grep -E ' [A-Za-z] (etcdgrpc::([a-z_]+::)?internal::|etcdserverpb::)' | head -3 | grep .; then
    echo "libetcdgrpc_$lib.so exports internals" >&2
    exit 1
  fi
done
consume "$work/shared" shared
echo "packaging ok"
