#!/usr/bin/env bash
# Decodes the packet captures of real runs with the MiniP1 dissector
# (tools/wireshark/minip1.lua) in tshark and fails on any malformed frame,
# any Lua error, any COTP unit (DT or transport) that the dissector did not
# name as a MiniP1 unit, and any unit it flags as one the stub would reject.
#
# Runs, with --capture, the Q152877 pair and every scenario of
# scenarios/faults (one per fault type), or the scenario files given as
# arguments. tshark: $TSHARK, else on PATH, else Debian's installed by
# ci/tshark.sh (apt-get update once, then a non-interactive install; needs
# root, as CI has). A failing run's bundle is copied to $MTASTORM_ARTIFACTS/wireshark/.
#
#   bash ci/wireshark.sh                       # the pair and scenarios/faults/*.yaml
#   bash ci/wireshark.sh scenarios/q152877-sp0.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="${MTASTORM_ARTIFACTS:-$PWD/artifacts}"
lua=tools/wireshark/minip1.lua

TSHARK=$(bash ci/tshark.sh)
export TSHARK
"$TSHARK" --version 2>/dev/null | head -n 1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/mtastorm" ./cmd/mtastorm

if [ $# -gt 0 ]; then
	scenarios=("$@")
else
	scenarios=(scenarios/q152877-sp0.yaml scenarios/q152877-sp2.yaml scenarios/faults/*.yaml)
fi

# check FILE prints one line of counts for a capture and returns non-zero
# when it does not decode cleanly.
check() {
	local file=$1 out err name
	name=${file#"$work"/}
	out="$work/tshark.out"
	err="$work/tshark.err"
	# Every frame: frame number, malformed marks, COTP types, MiniP1 units
	# and SIs; then the frames the dissector flags as ones the stub would
	# reject (expert minip1.malformed).
	if ! "$TSHARK" -X "lua_script:$lua" -r "$file" -T fields -E occurrence=a -E separator='|' \
		-e frame.number -e _ws.malformed -e cotp.type -e minip1.unit -e minip1.si \
		>"$out" 2>"$err" ||
		! "$TSHARK" -X "lua_script:$lua" -r "$file" -Y minip1.malformed -T fields -e frame.number \
			>"$work/rejected" 2>>"$err"; then
		echo "  $file: tshark failed:"; sed 's/^/    /' "$err"
		return 1
	fi
	if grep -v 'Running as user "root"' "$err" | grep -q .; then
		echo "  $file: tshark said:"; grep -v 'Running as user "root"' "$err" | sed 's/^/    /'
		return 1
	fi
	awk -F'|' -v file="$name" -v rejected="$(wc -l <"$work/rejected")" -v rejframes="$(head -n 20 "$work/rejected" | tr '\n' ' ')" '
		function count(s, want,   n, i, a, c) { if (s == "") return 0; n = split(s, a, ","); c = 0
			for (i = 1; i <= n; i++) if (want == "" || a[i] == want) c++; return c }
		{ frames++; wrong = 0
		  if ($2 != "") { malformed++; wrong = 1 }
		  cotp += count($3, ""); dt += count($3, "0x0f")
		  units += count($4, ""); si += count($5, "")
		  if (count($3, "") != count($4, "")) { unnamed++; wrong = 1 }
		  if (count($3, "0x0f") != count($5, "")) { undecoded++; wrong = 1 }
		  if (wrong) bad = bad " " $1 }
		END { printf "  %-58s frames %6d  units %6d  DT %6d  malformed %d  undecoded DT %d  unnamed %d  rejected %d\n",
			file, frames, units, dt, malformed, undecoded, unnamed, rejected
		  if (malformed + undecoded + unnamed + rejected > 0) { printf "    frames:%s; rejected:%s\n", substr(bad, 1, 300), rejframes; exit 1 }
		  if (units == 0) { print "    no MiniP1 unit at all"; exit 1 } }' "$out"
}

rc=0
for sc in "${scenarios[@]}"; do
	name=$(basename "$sc" .yaml)
	bundle="$work/$name"
	set +e
	"$work/mtastorm" run "$sc" --capture --out "$bundle" --quiet >"$work/run.log" 2>&1
	code=$?
	set -e
	echo "$sc: run exit $code (verdicts are the suites' business; here only 2 and 3 fail)"
	failed=0
	if [ "$code" -eq 2 ] || [ "$code" -eq 3 ] || [ ! -d "$bundle/captures" ]; then
		sed 's/^/    /' "$work/run.log"
		failed=1
	else
		decoded=0
		for f in "$bundle"/captures/*.pcapng; do
			check "$f" || failed=1
			decoded=$((decoded + 1))
		done
		[ "$decoded" -gt 0 ] || { echo "  no capture in $bundle/captures"; failed=1; }
	fi
	if [ "$failed" -ne 0 ]; then
		rc=1
		mkdir -p "$artifacts/wireshark"
		rm -rf "${artifacts:?}/wireshark/$name"
		cp -r "$bundle" "$artifacts/wireshark/$name"
		echo "  bundle kept in $artifacts/wireshark/$name"
	fi
done
if [ "$rc" -ne 0 ]; then
	echo "wireshark.sh: some captures did not decode cleanly" >&2
fi
exit $rc
