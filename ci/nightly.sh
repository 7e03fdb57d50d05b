#!/usr/bin/env bash
# The nightly run: the soak set (label speed:soak: seeded storms, thousands
# of messages, the long exactly-once storm), then the default set (the
# README's test command, ci/test.sh: plain Go tests and Ginkgo suites)
# repeated $NIGHTLY_REPEATS times (default 5), each with its own reports
# under $MTASTORM_ARTIFACTS/nightly/default-K. It ends by listing every spec
# that ever failed in any of those reports (go run ./ci/everfailed) and
# exits non-zero if one did or if a run's plain Go tests failed. On GitHub
# (CI=true) the long plain tests run too; locally set MTASTORM_LONG=1.
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

plain_failed=0
for i in $(seq 1 "$repeats"); do
  echo "== default set, run $i of $repeats"
  MTASTORM_ARTIFACTS="$out/default-$i" bash ci/test.sh || true
  reports+=("$out/default-$i/ginkgo.json")
  # The plain Go tests of the run: count lists each failure (with its
  # output) and fails on any, or on a missing report.
  echo "== default set, run $i of $repeats: plain Go tests"
  go run ./ci/count "$out/default-$i/go-test.json" || plain_failed=$((plain_failed + 1))
done

echo "== specs that ever failed"
existing=()
for r in "${reports[@]}"; do
  if [ -s "$r" ]; then existing+=("$r"); else echo "missing report $r (the run did not finish)"; fi
done
if ((plain_failed)); then echo "plain Go tests failed in $plain_failed of $repeats runs (listed above)"; fi
[ ${#existing[@]} -eq ${#reports[@]} ] || { go run ./ci/everfailed "${existing[@]}" || true; exit 1; }
go run ./ci/everfailed "${existing[@]}" && ((plain_failed == 0))
