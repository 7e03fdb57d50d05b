#!/usr/bin/env bash
# The docker-compose.yml topology as local processes (DESIGN.md section 10):
# a toxiproxy-server built from the module and, per scenario of the Q152877
# pair, two fresh mtastub processes (durable stores, admin API with a token)
# started with the scenario's flags. mtastorm runs the scenario against them
# over the admin API (admin: URLs from the stubs' start lines) and through the
# external server, and the verdicts must equal the in-process run's: both
# pass, sp0 shows a leak and 1277s, sp2 neither.
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="${MTASTORM_ARTIFACTS:-$PWD/artifacts}/lab"
rm -rf "$artifacts"
mkdir -p bin "$artifacts"
go build -o bin/toxiproxy-server github.com/Shopify/toxiproxy/v2/cmd/server
go build -o bin/mtastorm ./cmd/mtastorm
go build -o bin/mtastub ./cmd/mtastub
go build -o bin/labgen ./ci/labgen

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# The token is not needed on loopback; it is set to exercise the auth path.
MTASTUB_TOKEN="lab-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export MTASTUB_TOKEN

port=$(bin/labgen port) # the kernel's choice, free a moment ago
bin/toxiproxy-server -host 127.0.0.1 -port "$port" >"$artifacts/toxiproxy-server.log" 2>&1 &
pids+=("$!")
toxi="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  kill -0 "${pids[0]}" 2>/dev/null || { echo "toxiproxy-server died:"; cat "$artifacts/toxiproxy-server.log"; exit 3; }
  sleep 0.1
done

# start_stub SCENARIO MTA DIR starts the stub with the scenario's flags and
# sets admin_url from its start line. (Not in $(...): the trap needs its pid.)
start_stub() {
  local sc=$1 name=$2 dir=$3 out args pid url
  mapfile -t args < <(bin/labgen args "$sc" "$name")
  out="$dir/$name.out"
  bin/mtastub "${args[@]}" --listen 127.0.0.1:0 --admin 127.0.0.1:0 --store "$dir/store-$name" \
    >"$out" 2>"$dir/$name.log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 200); do
    # mtastub NAME listening on ADDR admin on http://ADMIN
    if [[ -s $out ]] && read -r _ _ _ _ _ _ _ url <"$out" && [[ $url == http://* ]]; then
      admin_url=$url
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "mtastub $name died:" >&2; cat "$dir/$name.log" >&2; return 3; }
    sleep 0.05
  done
  echo "mtastub $name did not start" >&2
  return 3
}

# run_pair MODE DIR: the scenario in-process, then on two fresh stubs
# through the external server; compares the two bundles.
run_pair() {
  local mode=$1 dir=$2 src="scenarios/q152877-$1.yaml" r name leak=()
  mkdir -p "$dir" || return 3
  echo "== lab $mode: in-process (embedded Toxiproxy)"
  r=0; bin/mtastorm run "$src" --out "$dir/in-process" --quiet || r=$?
  echo "   exit $r"
  echo "== lab $mode: mtastub processes through $toxi"
  local admins=()
  for name in A B; do
    start_stub "$src" "$name" "$dir" || return 3 # (set -e is off in a function run by if)
    echo "   $name: $admin_url (pid ${pids[-1]})"
    admins+=("$name=$admin_url")
  done
  bin/labgen scenario "$src" "$dir/scenario.yaml" "${admins[@]}" || return 3
  r=0; bin/mtastorm run "$dir/scenario.yaml" --toxiproxy "$toxi" --out "$dir/processes" --quiet || r=$?
  echo "   exit $r"
  [[ $mode == sp0 ]] && leak=(-leak)
  bin/labgen compare "${leak[@]}" "$dir/in-process" "$dir/processes"
}

rc=0
for mode in sp0 sp2; do
  run_pair "$mode" "$artifacts/$mode" || { echo "== lab $mode: processes and in-process disagree (bundles in $artifacts/$mode)"; rc=1; }
done
if [[ $rc == 0 ]]; then echo "lab: processes match in-process for the Q152877 pair"; fi
exit $rc
