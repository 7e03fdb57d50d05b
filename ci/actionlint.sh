#!/usr/bin/env bash
# Checks the GitHub workflows with actionlint (CI here cannot run a
# workflow, but it can lint it). actionlint v1.7.12 lives in a module of its
# own, tools/actionlint: it compiles only against go.yaml.in/yaml/v4
# v4.0.0-rc.3, and both the main module (compose-go) and tools/ (golangci-lint)
# pull in newer ones.
set -euo pipefail
cd "$(dirname "$0")/.."
wfs=()
for wf in .github/workflows/*.yml; do wfs+=("$PWD/$wf"); done
go -C tools/actionlint tool actionlint "${wfs[@]}"
echo "actionlint: ${wfs[*]#"$PWD/"} clean"
