#!/usr/bin/env bash
# The benchmarks' smoke test (ctest bench_smoke): runs every scenario of
# etcdgrpc-bench at a small scale against the throwaway etcd it starts itself.
# Fails if the bench fails (a scenario failed, a sanitizer aborted it) or if a
# scenario, or the workload run next to it that its --list description names
# ("with <x>_raw_stub", "with put_seq_plaintext"), printed no result line.
#   bench/smoke_test.sh path/to/etcdgrpc-bench [scale]
set -uo pipefail
bench=${1:?usage: smoke_test.sh path/to/etcdgrpc-bench [scale]}
scale=${2:-0.01}

list=$("$bench" --list) || {
  echo "smoke: $bench --list failed" >&2
  exit 1
}
# Scenario names (first column) and the interleaved workloads the descriptions name.
mapfile -t expected < <({
  awk '{ print $1 }' <<<"$list"
  grep -oE 'with [a-z0-9]+_[a-z0-9_]+' <<<"$list" | cut -d' ' -f2
} | sort -u)
if [ ${#expected[@]} -eq 0 ]; then
  echo "smoke: $bench --list named no scenarios" >&2
  exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$SECONDS
"$bench" --scale="$scale" all | tee "$out"
status=${PIPESTATUS[0]}
echo "smoke: the bench took $((SECONDS - start)) s and exited with $status" >&2

missing=()
for name in "${expected[@]}"; do
  grep -Eq "^peer=[^ ]+ workload=${name} " "$out" || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "smoke: no result line for ${missing[*]}" >&2
  status=1
fi
exit "$status"
