#!/usr/bin/env bash
# Runs every `go test -fuzz` target for a budget each.
#
#   bash ci/fuzz.sh                      # 10s per target (what .ci/run uses)
#   FUZZTIME=10m bash ci/fuzz.sh         # a long run by hand
#   FUZZTIME=1h bash ci/fuzz.sh FuzzKernel   # only the targets named
#
# FUZZTIME is a go test -fuzztime value (a duration, or Nx for N
# executions). FUZZMINIMIZE (default 2s) bounds the minimisation of each
# new interesting input: the Go default of 60s eats a short budget whole.
# A failing input is written under the package's testdata/fuzz/<Target>/
# by go test; commit it as a regression seed once fixed. The last line per
# target is "fuzz <Target>: <execs> execs in <elapsed>", and the script
# fails if any target fails.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
minimize="${FUZZMINIMIZE:-2s}"

# package target
targets=(
  "./minip1 FuzzDecode"
  "./minip1 FuzzReader"
  "./mtastub/kernel FuzzKernel"
  "./harness/scenario FuzzLoadBytes"
)

want=("$@")
rc=0
failed=()
for entry in "${targets[@]}"; do
  read -r pkg target <<<"$entry"
  if ((${#want[@]} > 0)); then
    hit=0
    for w in "${want[@]}"; do [[ "$w" == "$target" ]] && hit=1; done
    ((hit)) || continue
  fi
  echo "== fuzz $target ($pkg) for $fuzztime"
  log="$(mktemp)"
  # -run='^$' skips the package's other tests; the seed corpus of the target
  # is run first by -fuzz itself.
  if go test "$pkg" -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" \
      -fuzzminimizetime="$minimize" -parallel="${FUZZPARALLEL:-$(nproc)}" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    rc=1
    failed+=("$target")
    cat "$log"
  fi
  last="$(grep -E '^fuzz: elapsed: .*execs: [0-9]+' "$log" | tail -1)"
  execs="$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")"
  elapsed="$(sed -nE 's/^fuzz: elapsed: ([^,]+),.*/\1/p' <<<"$last")"
  echo "fuzz $target: ${execs:-?} execs in ${elapsed:-?} ($status)"
  rm -f "$log"
done
if ((${#failed[@]} > 0)); then
  echo "fuzz: FAILED: ${failed[*]}"
fi
exit $rc
