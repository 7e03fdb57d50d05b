# The mtastorm lab image: mtastub (a standalone stub MTA), mtastorm (the
# runner, repro and its shards) and storm.test (the soak suite, suites/storm,
# compiled), with the scenarios. docker-compose.yml runs it as mta-a, mta-b
# and runner; deploy/k8s runs diagnosis and soak shards from it. On its own:
#   docker build -t mtastorm-lab .
#   docker run --rm -e MTASTUB_TOKEN=... -p 7071:7071 mtastorm-lab \
#     mtastub --name B --listen 0.0.0.0:7001 --admin 0.0.0.0:7071 --mode sp0 --kcbs 4
# It runs as uid/gid 10001 (numeric, so Kubernetes' runAsNonRoot can verify
# it) and writes only where it is told to (--out, $TMPDIR, /out, /results),
# so it runs with a read-only root filesystem.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -buildvcs=false -o /out/mtastub ./cmd/mtastub \
 && go build -trimpath -buildvcs=false -o /out/mtastorm ./cmd/mtastorm \
 && go test -c -trimpath -buildvcs=false -o /out/storm.test ./suites/storm

FROM debian:trixie-slim
# curl is for the compose healthchecks (GET /v1/status).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mtastub \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /var/lib/mtastub mtastub \
 && mkdir -p /out /lab /results \
 && chown mtastub:mtastub /out /results
COPY --from=build /out/mtastub /out/mtastorm /out/storm.test /usr/local/bin/
COPY scenarios /lab/scenarios
WORKDIR /lab
USER 10001:10001
EXPOSE 7001 7071
CMD ["mtastub", "--help"]
