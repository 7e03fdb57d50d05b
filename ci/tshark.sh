#!/usr/bin/env bash
# Prints the path of a tshark for the MiniP1 dissector's checks
# (ci/wireshark.sh, harness/capture's dissector tests): $TSHARK, or tshark
# on PATH, else Debian's tshark installed (ci/debian-tool.sh).
#
#   TSHARK=$(bash ci/tshark.sh) && export TSHARK
set -euo pipefail
exec bash "$(dirname "$0")/debian-tool.sh" tshark "${TSHARK:-}" tshark
