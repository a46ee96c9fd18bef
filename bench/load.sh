#!/usr/bin/env bash
# load.sh compares requests per second and peak RSS of the quickstart's
# routes served three ways (cmd/loadsrv -mode=plain|otelhttp|otelkit), with
# the full SDK exporting OTLP/HTTP to a local collector, under wrk on
# loopback.
#
#   bench/load.sh                      # DURATION=10s CONNS=32 THREADS=2
#   DURATION=5s bench/load.sh
#
# The collector is /work/main/bin/otelkit-otelcol (collector/build.sh) run
# with bench/load/collector.yaml; without it an in-process-style OTLP sink
# (cmd/otlpsink) stands in, and the script says so. wrk is installed from
# Debian's packages when missing. Everything (wrk, server, collector) shares
# this machine's cores, so numbers are relative, not capacity.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd .. && pwd)

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
MODES=${MODES:-plain otelhttp otelkit}
PATHS=${PATHS:-/users/42 /users/0}
COLLECTOR=${COLLECTOR:-$ROOT/bin/otelkit-otelcol}

if ! command -v wrk >/dev/null; then
	apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/loadsrv" ./cmd/loadsrv

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

otlp="127.0.0.1:$(freeport)"
if [[ -x "$COLLECTOR" ]]; then
	sink="collector $(basename "$COLLECTOR") (otlp/http receiver, batch, debug exporter)"
	LOAD_OTLP_ENDPOINT=$otlp "$COLLECTOR" --config "$PWD/load/collector.yaml" >"$tmp/collector.log" 2>&1 &
else
	sink="in-process OTLP sink cmd/otlpsink (no collector binary at $COLLECTOR)"
	go build -o "$tmp/otlpsink" ./cmd/otlpsink
	"$tmp/otlpsink" -addr "$otlp" >"$tmp/collector.log" 2>&1 &
fi
colpid=$!
pids+=("$colpid")
for _ in $(seq 1 100); do
	if curl -s -o /dev/null -X POST "http://$otlp/v1/logs" -H 'Content-Type: application/x-protobuf' --data-binary ''; then break; fi
	sleep 0.1
done

echo "OTLP endpoint: http://$otlp -> $sink"
echo "wrk: -t$THREADS -c$CONNS -d$DURATION (after a ${WARMUP} warm-up), loopback, $(nproc) cores shared by wrk, server and collector"
echo
printf '%-9s %-10s %12s %10s %10s %12s\n' mode path 'req/s' 'p50' 'p99' 'peak RSS'

for mode in $MODES; do
	for path in $PATHS; do
		OTEL_EXPORTER_OTLP_ENDPOINT="http://$otlp" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
			OTEL_METRIC_EXPORT_INTERVAL=10000 \
			"$tmp/loadsrv" -mode "$mode" -addr 127.0.0.1:0 >"$tmp/srv.out" 2>"$tmp/srv.err" &
		srv=$!
		pids+=("$srv")
		addr=
		for _ in $(seq 1 100); do
			addr=$(sed -n 's/^listening on //p' "$tmp/srv.out")
			[[ -n "$addr" ]] && break
			sleep 0.05
		done
		[[ -n "$addr" ]] || { echo "loadsrv -mode=$mode did not start:"; cat "$tmp/srv.err"; exit 1; }
		url="http://$addr$path"
		wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -H 'X-User: ada' "$url" >/dev/null
		wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H 'X-User: ada' "$url" >"$tmp/wrk.out"
		hwm=$(awk '/VmHWM/ {print $2" "$3}' "/proc/$srv/status")
		rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
		p50=$(awk '$1=="50%" {print $2}' "$tmp/wrk.out")
		p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.out")
		non2xx=$(awk '/Non-2xx/ {print $NF}' "$tmp/wrk.out")
		errs=$(awk '/Socket errors/ {print}' "$tmp/wrk.out")
		kill -TERM "$srv"
		wait "$srv" 2>/dev/null || true
		printf '%-9s %-10s %12s %10s %10s %12s %s\n' "$mode" "$path" "$rps" "$p50" "$p99" "$hwm" "${errs:+($errs)}"
	done
done

kill -TERM "$colpid" 2>/dev/null || true
wait "$colpid" 2>/dev/null || true
echo
if [[ -x "$COLLECTOR" ]]; then
	sum() { grep -o "\"$1\": [0-9]*" "$tmp/collector.log" | awk '{s+=$NF} END {print s+0}'; }
	echo "collector received: $(sum spans) spans, $(sum 'log records') log records, $(sum 'data points') metric data points"
else
	tail -n 1 "$tmp/collector.log"
fi
