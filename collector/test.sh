#!/usr/bin/env bash
# Builds the collector distribution (collector/build.sh, skipped when up to
# date) and runs the collector end-to-end test and the docker-compose test
# (module collector/e2e). Extra arguments go to `go test`, e.g. -v or
# -run TestComposeFile.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start=$SECONDS
"$root/collector/build.sh"
cd "$root/collector/e2e"
go vet ./...
OTELKIT_COLLECTOR_BIN="$root/bin/otelkit-otelcol" go test -count=1 -timeout 20m "$@" ./...
echo "collector: tests done in $((SECONDS - start))s"
