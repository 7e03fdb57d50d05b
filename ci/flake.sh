#!/usr/bin/env bash
# Flake budget: runs the default suite N times and fails on any failure,
# listing every failed spec with the runs it failed in.
#
#   bash ci/flake.sh              # 5 runs of ./suites/...
#   N=20 bash ci/flake.sh         # 20 runs
#   bash ci/flake.sh ./suites/recovery   # other packages or ginkgo flags, passed on
#
# Each run goes through ci/test.sh (the README's test command) with its
# own artifacts folder, $MTASTORM_ARTIFACTS/flake/run-K (default
# artifacts/flake/run-K); the failed specs are read from each run's
# ginkgo.json.
set -uo pipefail
cd "$(dirname "$0")/.."
n="${N:-5}"
base="${MTASTORM_ARTIFACTS:-$PWD/artifacts}/flake"
rm -rf "$base"
mkdir -p "$base"
args=("$@")
((${#args[@]} == 0)) && args=(./suites/...)

failed_runs=0
for ((k = 1; k <= n; k++)); do
  dir="$base/run-$k"
  mkdir -p "$dir"
  start=$SECONDS
  if MTASTORM_ARTIFACTS="$dir" bash ci/test.sh "${args[@]}" >"$dir/output.txt" 2>&1; then
    echo "flake: run $k/$n passed ($((SECONDS - start))s)"
  else
    failed_runs=$((failed_runs + 1))
    echo "flake: run $k/$n FAILED ($((SECONDS - start))s); output in $dir/output.txt"
    # A failure outside any spec (a suite that did not build or start) has
    # no spec report: show its lines.
    sed 's/\x1b\[[0-9;]*m//g' "$dir/output.txt" | grep -E -A2 'Failed to (compile|start|run)|^FAIL|panic:' | head -8 | sed 's/^/flake:   /'
  fi
done

# Failed specs per run, from the Ginkgo JSON reports.
go run ./ci/flake/ "$base" || true
echo "flake: $n runs, $failed_runs failed"
((failed_runs == 0))
