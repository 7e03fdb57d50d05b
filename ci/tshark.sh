#!/usr/bin/env bash
# Prints the path of a tshark for the MiniP1 dissector's checks
# (ci/wireshark.sh, harness/capture's dissector tests), installing Debian's
# tshark package when none is found: apt-get update once, then a
# non-interactive install. Needs root (CI runs as root). Exit 1, with the
# reason on stderr, when no tshark can be found or installed.
#
#   TSHARK=$(bash ci/tshark.sh) && export TSHARK
set -euo pipefail
find_tshark() {
	local name
	for name in ${TSHARK:-} tshark; do
		if command -v "$name" >/dev/null 2>&1; then
			command -v "$name"
			return 0
		fi
	done
	return 1
}
if find_tshark; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "tshark.sh: no tshark, and no apt-get as root to install Debian's tshark" >&2
	exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "tshark.sh: installing Debian's tshark" >&2
if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q tshark; } >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	echo "tshark.sh: apt-get install tshark failed" >&2
	exit 1
fi
find_tshark || { echo "tshark.sh: tshark installed but not on PATH" >&2; exit 1; }
