#!/usr/bin/env bash
# e2e-audits.sh measures delivered audits per second end to end (SDK ->
# spool -> collector -> VictoriaLogs) with otelkit's spooling processor and
# with the SDK's plain BatchProcessor (cmd/auditflood), on a stack started
# by scripts/stack.sh on free loopback ports in a temporary directory.
#
#   bench/e2e-audits.sh            # N=50000 audits per mode, ROUNDS=1
#   N=20000 ROUNDS=3 bench/e2e-audits.sh
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd .. && pwd)
N=${N:-50000}
ROUNDS=${ROUNDS:-1}

tmp=$(mktemp -d)
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export OTELKIT_STACK_DIR="$tmp/stack"
for v in OTLP_GRPC OTLP_HTTP HEALTH SELF_METRICS VICTORIALOGS VICTORIAMETRICS JAEGER_QUERY JAEGER_OTLP; do
	export "OTELKIT_STACK_${v}_PORT=$(freeport)"
done
export OTELKIT_STACK_JAEGER_PORTS_BASE=$((20000 + RANDOM % 20000))
cleanup() { "$ROOT/scripts/stack.sh" down >/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/auditflood" ./cmd/auditflood
"$ROOT/scripts/stack.sh" up
for round in $(seq 1 "$ROUNDS"); do
	for mode in spool batch; do
		"$tmp/auditflood" -mode "$mode" -n "$N" -otlp "127.0.0.1:$OTELKIT_STACK_OTLP_HTTP_PORT" \
			-vl "http://127.0.0.1:$OTELKIT_STACK_VICTORIALOGS_PORT" | sed "s/^/round=$round /"
	done
done
