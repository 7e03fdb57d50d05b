#!/usr/bin/env bash
# The shipped scenarios too heavy for the default set (suites/regression's
# heavyScenarios, label scale:org200: scenarios/org-200.yaml, 200 MTAs and
# 398 links under a storm), run on their own WITHOUT -race: under -race on
# 2 cores, beside the other specs, a 200-MTA timeline does not keep time.
# .ci/run and the workflow's default job run this in every CI run (about
# 20 s), the nightly soak set runs them too. Reports: org200.json and
# junit-org200.xml in $MTASTORM_ARTIFACTS; failed bundles beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="${MTASTORM_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$artifacts"
export MTASTORM_ARTIFACTS="$artifacts"
go tool ginkgo --fail-on-empty --label-filter='scale:org200' \
  --json-report=org200.json --junit-report=junit-org200.xml --output-dir="$artifacts" \
  ./suites/regression
