#!/usr/bin/env bash
# Runs the backend contract and the shipped Q152877 pair against an external
# toxiproxy-server built from the module (the `backend:external` slice).
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="${MTASTORM_ARTIFACTS:-$PWD/artifacts}"
mkdir -p bin "$artifacts"
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
