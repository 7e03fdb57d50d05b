#!/usr/bin/env bash
# The README's test command: every package (plain Go tests and Ginkgo
# suites) in parallel, soak specs excluded, reports in $MTASTORM_ARTIFACTS.
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="${MTASTORM_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$artifacts"
export MTASTORM_ARTIFACTS="$artifacts"
exec go tool ginkgo -r -p --keep-going --race --timeout=15m \
  --label-filter='!speed:soak' \
  --json-report=ginkgo.json --junit-report=junit.xml --output-dir="$artifacts" \
  "$@"
