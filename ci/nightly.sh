#!/usr/bin/env bash
# The nightly run: the soak set (label speed:soak: seeded storms, thousands
# of messages, the long exactly-once storm), then the default set (the
# README's test command, ci/test.sh: plain Go tests and Ginkgo suites)
# repeated $NIGHTLY_REPEATS times (default 5), each with its own reports
# under $MTASTORM_ARTIFACTS/nightly/shard-I-of-N/default-K. It ends by
# listing every spec that ever failed in any of those reports (go run
# ./ci/everfailed) and exits non-zero if one did or if a run's plain Go
# tests failed. On GitHub (CI=true) the long plain tests run too; locally
# set MTASTORM_LONG=1.
#
# Sharded (a CI matrix job, a pod of an Indexed Job): `--shard I/N`, else
# $MTASTORM_SHARD=I/N, else $JOB_COMPLETION_INDEX with $JOB_COMPLETIONS
# (go run ./ci/shard reads them; none: shard 0/1, the whole night). Shard I
# runs the soak specs at positions i mod N == I of the storm suite's
# soakItems (the suite reads $MTASTORM_SHARD, exported here) and the
# repeats K with (K-1) mod N == I, so N shards together run the night
# exactly once. Its reports go to nightly/shard-I-of-N/, with a file
# "expected" listing them; `go run ./ci/everfailed DIR...` merges the
# shards' folders and fails on a missing shard or report.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  --shard) [ $# -eq 2 ] || { echo "usage: ci/nightly.sh [--shard I/N]" >&2; exit 2; }
           read -r idx count <<<"$(go run ./ci/shard "$2")" ;;
  "")      read -r idx count <<<"$(go run ./ci/shard)" ;;
  *)       echo "usage: ci/nightly.sh [--shard I/N]" >&2; exit 2 ;;
esac
[ -n "${count:-}" ] || exit 2 # ci/shard said why
export MTASTORM_SHARD="$idx/$count"
artifacts="${MTASTORM_ARTIFACTS:-$PWD/artifacts}"
out="$artifacts/nightly/shard-$idx-of-$count"
mkdir -p "$out"
export MTASTORM_ARTIFACTS="$artifacts"
repeats="${NIGHTLY_REPEATS:-5}"
reports=()
echo "== nightly shard $MTASTORM_SHARD: reports in $out"

echo "== soak set (speed:soak), shard $MTASTORM_SHARD"
# No --fail-on-empty: only some suites hold soak specs. ci/everfailed fails
# the night if no spec passed at all, and the soak report is checked below.
go tool ginkgo -r -p --keep-going --timeout=60m \
  --label-filter='speed:soak' \
  --json-report=soak.json --junit-report=junit-soak.xml --output-dir="$out" \
  ./suites/... || true
reports+=("soak.json")
go run ./ci/count "$out/soak.json" || true

plain_failed=0 runs=0
for i in $(seq 1 "$repeats"); do
  (( (i - 1) % count == idx )) || continue
  runs=$((runs + 1))
  echo "== default set, run $i of $repeats (shard $MTASTORM_SHARD)"
  MTASTORM_ARTIFACTS="$out/default-$i" bash ci/test.sh || true
  reports+=("default-$i/ginkgo.json")
  # The plain Go tests of the run: count lists each failure (with its
  # output) and fails on any, or on a missing report.
  echo "== default set, run $i of $repeats: plain Go tests"
  go run ./ci/count "$out/default-$i/go-test.json" || plain_failed=$((plain_failed + 1))
done
printf '%s\n' "${reports[@]}" >"$out/expected"

echo "== specs that ever failed (shard $MTASTORM_SHARD)"
existing=()
for r in "${reports[@]}"; do
  if [ -s "$out/$r" ]; then existing+=("$out/$r"); else echo "missing report $out/$r (the run did not finish)"; fi
done
if ((plain_failed)); then echo "plain Go tests failed in $plain_failed of $runs runs (listed above)"; fi
[ ${#existing[@]} -eq ${#reports[@]} ] || { go run ./ci/everfailed "${existing[@]}" || true; exit 1; }
go run ./ci/everfailed "${existing[@]}" && ((plain_failed == 0))
