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
# VictoriaLogs for the scale-out fault test and the audit-chain test;
# OTELKIT_E2E_STACK=1 also builds Jaeger and runs the whole-stack tests.
if [ -n "${OTELKIT_E2E_STACK:-}" ]; then
	"$root/scripts/backends.sh"
else
	"$root/scripts/backends.sh" victoria-logs victoria-metrics
fi
cd "$root/collector/e2e"
go vet ./...
OTELKIT_E2E_BACKENDS=1 OTELKIT_COLLECTOR_BIN="$root/bin/otelkit-otelcol" go test -count=1 -timeout 20m "$@" ./...
echo "collector: tests done in $((SECONDS - start))s"
