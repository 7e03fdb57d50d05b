#!/usr/bin/env bash
# Prints the path of a command a check needs, installing its Debian package
# when none of the names is found: apt-get update (once per machine boot:
# a stamp in /tmp), then a non-interactive install. Needs root (CI runs as
# root). Exit 1, with the reason on stderr, when it can be neither found nor
# installed. ci/chromium.sh and ci/tshark.sh are this with their names.
#
#   bash ci/debian-tool.sh PACKAGE NAME...     (an empty NAME is skipped)
set -euo pipefail
pkg=$1
shift
find_tool() {
	local name
	for name in "$@"; do
		if [ -n "$name" ] && command -v "$name" >/dev/null 2>&1; then
			command -v "$name"
			return 0
		fi
	done
	return 1
}
if find_tool "$@"; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "debian-tool.sh: no $*, and no apt-get as root to install Debian's $pkg" >&2
	exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "debian-tool.sh: installing Debian's $pkg" >&2
stamp=/tmp/mtastorm-apt-updated
{
	if [ ! -e "$stamp" ]; then
		apt-get update -q && touch "$stamp"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg"
} >"$log" 2>&1 || {
	tail -n 20 "$log" >&2
	echo "debian-tool.sh: apt-get install $pkg failed" >&2
	exit 1
}
find_tool "$@" || { echo "debian-tool.sh: $pkg installed but none of $* is on PATH" >&2; exit 1; }
