#!/usr/bin/env bash
# Prints the path of a Chromium for the report's browser test
# (harness/report/browser_test.go), installing Debian's chromium package
# when none is found: apt-get update once, then a non-interactive install.
# Needs root (CI runs as root). Exit 1, with the reason on stderr, when no
# Chromium can be found or installed.
#
#   CHROMIUM=$(bash ci/chromium.sh) && export CHROMIUM
set -euo pipefail
find_chromium() {
	local name
	for name in ${CHROMIUM:-} chromium chromium-browser google-chrome google-chrome-stable; do
		if command -v "$name" >/dev/null 2>&1; then
			command -v "$name"
			return 0
		fi
	done
	return 1
}
if find_chromium; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "chromium.sh: no Chromium, and no apt-get as root to install Debian's chromium" >&2
	exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "chromium.sh: installing Debian's chromium" >&2
if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	echo "chromium.sh: apt-get install chromium failed" >&2
	exit 1
fi
find_chromium || { echo "chromium.sh: chromium installed but not on PATH" >&2; exit 1; }
