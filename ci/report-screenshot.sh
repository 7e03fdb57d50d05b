#!/usr/bin/env bash
# Checks bundles' report.html in headless Chromium and keeps screenshots:
# a thin wrapper around harness/report's TestReportInBrowser (the test .ci/run
# runs on fresh runs), given existing bundles instead.
#
#   ci/report-screenshot.sh BUNDLE...
#
# Screenshots (SCENARIO-1366.png, SCENARIO-1920.png, SCENARIO-1366-grey.png)
# and a copy of each report go to $MTASTORM_ARTIFACTS/report-browser
# (default ./artifacts). Chromium: $CHROMIUM, else found on PATH (skips
# when none; ci/chromium.sh installs Debian's). Exit 1 when a report fails.
set -euo pipefail
if [ $# -lt 1 ]; then
	echo "usage: $0 BUNDLE..." >&2
	exit 2
fi
bundles=()
for b in "$@"; do
	[ -f "$b/report.html" ] || { echo "report-screenshot: $b/report.html: missing" >&2; exit 1; }
	bundles+=("$(cd "$b" && pwd)")
done
cd "$(dirname "$0")/.."
artifacts="${MTASTORM_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$artifacts"
list=$(IFS=:; echo "${bundles[*]}")
MTASTORM_ARTIFACTS="$artifacts" MTASTORM_REPORT_BUNDLES="$list" \
	exec go test -count=1 -v -run '^TestReportInBrowser$' ./harness/report/
