#!/usr/bin/env bash
# Static checks: go vet, staticcheck, golangci-lint (.golangci.yml) over
# ./... of the main module, then govulncheck when it can reach a
# vulnerability database. The tools are pinned in tools/go.mod (a module
# of their own, so they add nothing to the main go.mod); `go -C tools tool
# -n NAME` builds one (cached after the first time) and prints its path,
# which is then run from the repository root.
#
#   bash ci/lint.sh                 # everything
#   GOVULNDB=file:///path bash ci/lint.sh   # govulncheck against a local DB copy
#   LINT_SKIP_VULN=1 bash ci/lint.sh        # never try govulncheck
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
tool() { go -C tools tool -n "$1"; }

echo "== go vet ./..."
go vet ./... || rc=1

echo "== staticcheck ./..."
sc="$(tool staticcheck)" || { echo "lint: cannot build staticcheck"; exit 1; }
"$sc" ./... || rc=1

echo "== golangci-lint run ./..."
gl="$(tool golangci-lint)" || { echo "lint: cannot build golangci-lint"; exit 1; }
"$gl" run ./... || rc=1

echo "== govulncheck ./..."
vulndb="${GOVULNDB:-https://vuln.go.dev}"
if [[ -n "${LINT_SKIP_VULN:-}" ]]; then
  echo "SKIP govulncheck: LINT_SKIP_VULN is set"
elif [[ "$vulndb" == file://* ]] || curl -fsS --max-time 5 -o /dev/null "$vulndb/index/db.json" 2>/dev/null; then
  gv="$(tool govulncheck)" || { echo "lint: cannot build govulncheck"; exit 1; }
  "$gv" -db "$vulndb" ./... || rc=1
else
  echo "SKIP govulncheck: vulnerability database $vulndb unreachable (set GOVULNDB=file:///path/to/vulndb for an offline copy)"
fi

if ((rc != 0)); then echo "lint: FAILED"; else echo "lint: ok"; fi
exit $rc
