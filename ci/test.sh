#!/usr/bin/env bash
# The README's test command. Two runners at once, reports in
# $MTASTORM_ARTIFACTS (default ./artifacts):
#
#   plain Go packages   go test -race -json, packages in parallel; the test
#                       cache works, so an unchanged package is not run again.
#                       go-test.json (the event stream), junit-go.xml.
#   Ginkgo suites       go tool ginkgo -p --race over suites/, soak specs
#                       excluded. ginkgo.json, junit.xml, and bundles/ of
#                       failed specs.
#
# Then ci/count lists the plain packages, shows every failure (a
# failed plain test's output, a package that did not build) and prints
# "N passed, N failed, N skipped" over both; any failure fails the script.
#
# Long plain tests (repro searches, the SIGKILL loop, runs of the shipped
# scenarios and of stubs as processes) skip under -short. They run when CI
# is set (GitHub Actions and .ci/run set CI=true) or MTASTORM_LONG=1; a
# developer's run passes -short. The soak set (speed:soak, suites/storm) is
# ci/nightly.sh's.
#
# --fail-on-empty makes a suite whose label filter leaves no spec fail
# instead of passing vacuously; suites/storm runs here only its check that
# the soak set splits into disjoint shards (label shard).
#
# Arguments: packages (./faults/..., ./suites/events): those under suites/
# go to Ginkgo, the others to go test; none means every package. Arguments
# starting with - are Ginkgo flags (--label-filter=..., a later one wins).
set -uo pipefail
cd "$(dirname "$0")/.."
artifacts="${MTASTORM_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$artifacts"
export MTASTORM_ARTIFACTS="$artifacts"

plain=() suites=() ginkgo_flags=()
for a in "$@"; do
  case "$a" in
    -*) ginkgo_flags+=("$a") ;;
    ./suites | ./suites/* | suites | suites/*) suites+=("$a") ;;
    ./... | ...) plain+=(all) suites+=(./suites/...) ;;
    *) plain+=("$a") ;;
  esac
done
if (($# == 0)) || ((${#plain[@]} + ${#suites[@]} == 0)); then
  plain=(all) suites=(./suites/...)
fi
if ((${#plain[@]})) && [[ " ${plain[*]} " == *" all "* ]]; then
  mapfile -t plain < <(go list -e ./... | grep -v '/suites/')
fi

short=(-short)
if [[ -n "${CI:-}" && "${CI:-}" != false ]] || [[ "${MTASTORM_LONG:-}" == 1 ]]; then
  short=()
fi

rm -f "$artifacts/go-test.json" "$artifacts/junit-go.xml" "$artifacts/ginkgo.json" "$artifacts/junit.xml"
reports=()

gopid=""
stop_plain() { [[ -n "$gopid" ]] && kill -TERM -- "-$gopid" 2>/dev/null; true; }
trap stop_plain EXIT
trap 'stop_plain; exit 130' INT TERM

if ((${#plain[@]})); then
  echo "== plain packages: go test -race ${short[*]} (${#plain[@]} packages) -> $artifacts/go-test.json"
  # A process group of its own (set -m), so that an interrupt stops the
  # test binaries too.
  set -m
  go test -race -json -timeout=15m "${short[@]}" "${plain[@]}" </dev/null >"$artifacts/go-test.json" 2>"$artifacts/go-test.stderr" &
  gopid=$!
  set +m
  reports+=("$artifacts/go-test.json")
fi

grc=0
if ((${#suites[@]})); then
  echo "== Ginkgo suites: ${suites[*]}"
  go tool ginkgo -r -p --keep-going --race --timeout=15m \
    --label-filter='!speed:soak' --fail-on-empty \
    --json-report=ginkgo.json --junit-report=junit.xml --output-dir="$artifacts" \
    "${ginkgo_flags[@]}" "${suites[@]}" || grc=$?
  reports+=("$artifacts/ginkgo.json")
fi

prc=0
if [[ -n "$gopid" ]]; then
  wait "$gopid" || prc=$?
  gopid=""
  echo "== plain packages (go test -race ${short[*]})"
  # What go test said outside the JSON stream (e.g. a bad pattern).
  if [[ -s "$artifacts/go-test.stderr" ]]; then cat "$artifacts/go-test.stderr"; else rm -f "$artifacts/go-test.stderr"; fi
fi

crc=0
junit=()
if ((${#plain[@]})); then junit=(-junit "$artifacts/junit-go.xml"); fi
bin=$(mktemp -d)
go build -o "$bin/count" ./ci/count && "$bin/count" -packages "${junit[@]}" "${reports[@]}" || crc=$?
rm -rf "$bin"
if ((grc || prc || crc)); then
  echo "ci/test.sh: FAILED (ginkgo exit $grc, go test exit $prc, count exit $crc)"
  exit 1
fi
