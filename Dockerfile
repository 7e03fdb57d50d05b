# The mtastorm lab image: mtastub (a standalone stub MTA) and mtastorm (the
# runner), with the scenarios. docker-compose.yml runs it as mta-a, mta-b and
# runner; on its own:
#   docker build -t mtastorm-lab .
#   docker run --rm -e MTASTUB_TOKEN=... -p 7071:7071 mtastorm-lab \
#     mtastub --name B --listen 0.0.0.0:7001 --admin 0.0.0.0:7071 --mode sp0 --kcbs 4

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -buildvcs=false -o /out/mtastub ./cmd/mtastub \
 && go build -trimpath -buildvcs=false -o /out/mtastorm ./cmd/mtastorm

FROM debian:trixie-slim
# curl is for the compose healthchecks (GET /v1/status).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /var/lib/mtastub mtastub \
 && mkdir -p /out /lab \
 && chown mtastub /out
COPY --from=build /out/mtastub /out/mtastorm /usr/local/bin/
COPY scenarios /lab/scenarios
WORKDIR /lab
USER mtastub
EXPOSE 7001 7071
CMD ["mtastub", "--help"]
