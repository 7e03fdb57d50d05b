#!/usr/bin/env bash
# Prints the path of a Chromium for the report's browser test
# (harness/report/browser_test.go): $CHROMIUM, or the first Chromium or
# Chrome on PATH, else Debian's chromium installed (ci/debian-tool.sh).
#
#   CHROMIUM=$(bash ci/chromium.sh) && export CHROMIUM
set -euo pipefail
exec bash "$(dirname "$0")/debian-tool.sh" chromium "${CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable
