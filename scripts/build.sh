#!/usr/bin/env sh
# Builds the xunji binary the way every release is built: static
# (CGO_ENABLED=0, so it runs on distroless/scratch), reproducible paths
# (-trimpath), version and commit stamped into main.version/main.commit.
# The Dockerfile and CI (.ci/run) both run this script, so CI proves the
# image's build step.
#
#   scripts/build.sh OUTPUT            # e.g. scripts/build.sh bin/xunji
#   VERSION=v1.2.0 COMMIT=abc1234 scripts/build.sh /out/xunji
#
# VERSION defaults to `git describe --tags --always --dirty`, COMMIT to
# `git rev-parse HEAD`; without git (a source tarball) both fall back to
# what Go's build information knows (see cmd/xunji/version.go).
set -eu

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUTPUT" >&2
  exit 2
fi
out=$1
cd "$(dirname "$0")/.."

if [ -z "${VERSION:-}" ]; then
  VERSION=$(git describe --tags --always --dirty 2>/dev/null || true)
fi
if [ -z "${COMMIT:-}" ]; then
  COMMIT=$(git rev-parse HEAD 2>/dev/null || true)
fi

CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
  -o "$out" ./cmd/xunji
echo "built $out (version ${VERSION:-from build info}, commit ${COMMIT:-from build info})"
