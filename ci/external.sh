#!/usr/bin/env bash
# Runs the backend contract, the shipped Q152877 pair and the suites'
# `backend:external` slice against an external toxiproxy-server built from
# the module. The suites' reports are ginkgo-external.json and
# junit-external.xml in $MTASTORM_ARTIFACTS.
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="${MTASTORM_ARTIFACTS:-$PWD/artifacts}"
mkdir -p bin "$artifacts"
export MTASTORM_ARTIFACTS="$artifacts"
go build -o bin/toxiproxy-server github.com/Shopify/toxiproxy/v2/cmd/server
go build -o bin/mtastorm ./cmd/mtastorm

port=$(( 20000 + RANDOM % 20000 ))
bin/toxiproxy-server -host 127.0.0.1 -port "$port" >"$artifacts/toxiproxy-server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
export TOXIPROXY_URL="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  kill -0 $pid 2>/dev/null || { echo "toxiproxy-server died:"; cat "$artifacts/toxiproxy-server.log"; exit 3; }
  sleep 0.1
done
echo "== contract against external toxiproxy-server at $TOXIPROXY_URL"
go test -count=1 -run 'TestContract' ./faults/toxi/

echo "== Q152877 pair through the external server"
for s in scenarios/q152877-sp0.yaml scenarios/q152877-sp2.yaml; do
  bin/mtastorm run "$s" --toxiproxy "$TOXIPROXY_URL" --out "$artifacts/external/$(basename "$s" .yaml)" --quiet
done

echo "== suites: the backend:external slice through the external server"
# Each Ginkgo process opens its own client to the one server; proxy names
# carry the process id, so parallel processes never touch each other's.
go tool ginkgo -r -p --keep-going --timeout=15m \
  --label-filter='backend:external && !speed:soak' --fail-on-empty --skip-package=suites/storm \
  --json-report=ginkgo-external.json --junit-report=junit-external.xml --output-dir="$artifacts" \
  ./suites/...
