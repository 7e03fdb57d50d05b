#!/usr/bin/env bash
# Checks the GitHub workflow with actionlint, a Go tool of the module (CI
# here cannot run the workflow, but it can lint it).
#
# If the module's dependency graph stops building actionlint (v1.7.12 does
# not compile against go.yaml.in/yaml/v4 newer than v4.0.0-rc.3, which
# another dependency may pull in), the same version is run from its own
# go.mod instead, with a warning, so the lint still happens.
set -euo pipefail
cd "$(dirname "$0")/.."
wf=.github/workflows/regression.yml
if go tool -n actionlint >/dev/null 2>&1; then
  go tool actionlint "$wf"
else
  echo "WARNING: 'go tool actionlint' does not build in this module (see: go tool -n actionlint);" >&2
  echo "WARNING: running github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 with its own go.mod" >&2
  go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 "$wf"
fi
echo "actionlint: $wf is clean"
