#!/usr/bin/env bash
# Builds the collector distribution (collector/build.sh) and the backends
# (scripts/backends.sh: VictoriaLogs, VictoriaMetrics, Jaeger), each skipped
# when up to date, and runs the collector end-to-end tests, the backend
# end-to-end test through scripts/stack.sh and the docker-compose test
# (module collector/e2e). Extra arguments go to `go test`, e.g. -v or
# -run TestComposeFile.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start=$SECONDS
"$root/collector/build.sh"
# VictoriaLogs, VictoriaMetrics and Jaeger for the whole-stack, scale-out
# and audit-chain tests (Jaeger takes about 3 minutes the first time).
"$root/scripts/backends.sh"
cd "$root/collector/e2e"
go vet ./...
OTELKIT_E2E_BACKENDS=1 OTELKIT_E2E_STACK=1 OTELKIT_COLLECTOR_BIN="$root/bin/otelkit-otelcol" go test -count=1 -timeout 20m "$@" ./...
echo "collector: tests done in $((SECONDS - start))s"
