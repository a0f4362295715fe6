# syntax=docker/dockerfile:1
# xunji: a small static image that runs as a non-root user.
#
#   docker build -t xunji --build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse HEAD) .
#
# Stage 1 builds with scripts/build.sh, the same script CI runs (.ci/run).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
RUN VERSION="$VERSION" COMMIT="$COMMIT" sh scripts/build.sh /out/xunji \
 && mkdir -p /out/data

# Stage 2: distroless/static carries CA certificates (HTTPS to Slack and
# Lark), tzdata (the bot reads Asia/Shanghai) and a nonroot user (65532),
# and nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/xunji /usr/local/bin/xunji
# The bolt file's directory, owned by the runtime user so that a volume
# mounted there starts writable.
COPY --from=build --chown=65532:65532 /out/data /var/lib/xunji
USER 65532:65532
WORKDIR /home/nonroot
# Webhooks (Slack, Lark) and the admin listener (/livez, /readyz, /metrics).
EXPOSE 8080 9090
ENV XUNJI_HTTP_ADDR=:8080 \
    XUNJI_ADMIN_ADDR=0.0.0.0:9090 \
    XUNJI_STORE_PATH=/var/lib/xunji/xunji.db \
    TZ=Asia/Shanghai
VOLUME ["/var/lib/xunji"]
ENTRYPOINT ["/usr/local/bin/xunji"]
CMD ["-console", "off"]
