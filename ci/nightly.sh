#!/usr/bin/env bash
# The nightly run: the soak set (label speed:soak: seeded storms, thousands
# of messages), then the default set repeated $NIGHTLY_REPEATS times (default
# 5), each with its own JSON and JUnit report under $MTASTORM_ARTIFACTS/nightly.
# It ends by listing every spec that ever failed in any of those reports
# (go run ./ci/everfailed) and exits non-zero if one did.
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="${MTASTORM_ARTIFACTS:-$PWD/artifacts}"
out="$artifacts/nightly"
mkdir -p "$out"
export MTASTORM_ARTIFACTS="$artifacts"
repeats="${NIGHTLY_REPEATS:-5}"
reports=()

echo "== soak set (speed:soak)"
# No --fail-on-empty: only some suites hold soak specs. ci/everfailed fails
# the night if no spec passed at all, and the soak report is checked below.
go tool ginkgo -r -p --keep-going --timeout=60m \
  --label-filter='speed:soak' \
  --json-report=soak.json --junit-report=junit-soak.xml --output-dir="$out" \
  ./suites/... || true
reports+=("$out/soak.json")
go run ./ci/count "$out/soak.json" || true

for i in $(seq 1 "$repeats"); do
  echo "== default set, run $i of $repeats"
  bash ci/test.sh --json-report="default-$i.json" --junit-report="junit-default-$i.xml" --output-dir="$out" || true
  reports+=("$out/default-$i.json")
done

echo "== specs that ever failed"
existing=()
for r in "${reports[@]}"; do
  if [ -s "$r" ]; then existing+=("$r"); else echo "missing report $r (the run did not finish)"; fi
done
[ ${#existing[@]} -eq ${#reports[@]} ] || { go run ./ci/everfailed "${existing[@]}" || true; exit 1; }
go run ./ci/everfailed "${existing[@]}"
