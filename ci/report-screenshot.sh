#!/usr/bin/env bash
# Browser check of a bundle's report.html (not run by .ci/run: CI has no
# browser). Opens the report in headless Chromium, dumps the rendered DOM to
# check that the page and its charts rendered, and takes a screenshot.
#
#   ci/report-screenshot.sh BUNDLE [OUT.png]
#
# Skips (exit 0, with a message) when /usr/bin/chromium is missing.
# Exit 1 when the report is missing or did not render its charts.
set -euo pipefail
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 BUNDLE [OUT.png]" >&2
	exit 2
fi
bundle=$(cd "$1" && pwd)
out=${2:-$bundle/report.png}
report=$bundle/report.html
if [ ! -x "$chromium" ]; then
	echo "report-screenshot: SKIP: $chromium not found (apt-get install chromium)"
	exit 0
fi
if [ ! -f "$report" ]; then
	echo "report-screenshot: $report: missing" >&2
	exit 1
fi
profile=$(mktemp -d)
dom=$(mktemp)
trap 'rm -rf "$profile" "$dom"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
	--disable-background-networking --disable-component-update --disable-sync
	--user-data-dir="$profile")

"$chromium" "${flags[@]}" --dump-dom "file://$report" >"$dom" 2>/dev/null

# The rendered DOM must hold the header, the checks table and one inline SVG
# per chart (figure.chart), with no resource fetched from the network.
charts=$(grep -o '<figure class="chart' "$dom" | wc -l)
svgs=$(grep -o '<svg ' "$dom" | wc -l)
fail=0
if [ "$charts" -eq 0 ] || [ "$charts" -ne "$svgs" ]; then
	echo "report-screenshot: $report: $charts charts but $svgs <svg> elements in the rendered DOM" >&2
	fail=1
fi
grep -q '<table class="checks">' "$dom" || { echo "report-screenshot: no checks table" >&2; fail=1; }
if grep -Eq '(src|href)="https?:|url\(["'\'']?https?:' "$dom"; then
	echo "report-screenshot: the report references a network resource" >&2
	fail=1
fi
[ "$fail" -eq 0 ] || exit 1

"$chromium" "${flags[@]}" --hide-scrollbars --screenshot="$out" --window-size=1400,2200 "file://$report" 2>/dev/null
[ -s "$out" ] || { echo "report-screenshot: no screenshot written" >&2; exit 1; }
echo "report-screenshot: $report rendered: $charts charts; screenshot $out ($(wc -c <"$out") bytes)"
