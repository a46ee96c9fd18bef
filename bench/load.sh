#!/usr/bin/env bash
# load.sh compares requests per second and peak RSS of the quickstart's
# routes served three ways (cmd/loadsrv -mode=plain|otelhttp|otelkit), with
# the full SDK exporting OTLP/HTTP to a local collector, under wrk on
# loopback.
#
#   bench/load.sh                      # ROUNDS=3 DURATION=10s CONNS=32 THREADS=2
#   ROUNDS=1 DURATION=5s bench/load.sh
#
# Each round runs every path under every mode, one after the other, so slow
# phases of this shared machine hit all modes alike; the summary gives the
# median requests per second of the rounds and the peak RSS (VmHWM) seen.
#
# The collector is bin/otelkit-otelcol of the checkout (collector/build.sh) run
# with bench/load/collector.yaml; without it an in-process-style OTLP sink
# (cmd/otlpsink) stands in, and the script says so. wrk is installed from
# Debian's packages when missing. Everything (wrk, server, collector) shares
# this machine's cores, so numbers are relative, not capacity.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd .. && pwd)

ROUNDS=${ROUNDS:-3}
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

# cputicks prints the user+system CPU time of a process in clock ticks
# (fields 14 and 15 of /proc/PID/stat; the command name in field 2 may hold
# spaces, so count from the closing parenthesis).
cputicks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

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
printf '%-6s %-9s %-10s %12s %10s %10s %12s %12s\n' round mode path 'req/s' 'p50' 'p99' 'peak RSS' 'CPU µs/req'
: >"$tmp/results"
for round in $(seq 1 "$ROUNDS"); do
	for path in $PATHS; do
		for mode in $MODES; do
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
			cpu0=$(cputicks "$srv")
			wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H 'X-User: ada' "$url" >"$tmp/wrk.out"
			cpu1=$(cputicks "$srv")
			hwm=$(awk '/VmHWM/ {print $2}' "/proc/$srv/status")
			reqs=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
			# Server CPU time (user+system, from /proc) per request, in µs.
			cpureq=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {if (n>0) printf "%.1f", (b-a)*1e6/hz/n; else print 0}')
			rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
			p50=$(awk '$1=="50%" {print $2}' "$tmp/wrk.out")
			p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.out")
			errs=$(awk '/Socket errors/ {print}' "$tmp/wrk.out")
			kill -TERM "$srv"
			wait "$srv" 2>/dev/null || true
			printf '%-6s %-9s %-10s %12s %10s %10s %9s kB %12s %s\n' "$round" "$mode" "$path" "$rps" "$p50" "$p99" "$hwm" "$cpureq" "${errs:+($errs)}"
			echo "$mode $path $rps $hwm $cpureq" >>"$tmp/results"
		done
	done
done

echo
echo "Summary: median req/s and median server CPU µs/request over $ROUNDS round(s), highest peak RSS"
printf '%-10s %-9s %12s %10s %14s %14s %12s %14s\n' path mode 'req/s' 'peak RSS' 'vs plain' 'vs otelhttp' 'CPU µs/req' 'CPU vs otelhttp'
for path in $PATHS; do
	declare -A med=() cpu=()
	median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
	for mode in $MODES; do
		med[$mode]=$(awk -v m="$mode" -v p="$path" '$1==m && $2==p {print $3}' "$tmp/results" | median)
		cpu[$mode]=$(awk -v m="$mode" -v p="$path" '$1==m && $2==p {print $5}' "$tmp/results" | median)
	done
	for mode in $MODES; do
		rss=$(awk -v m="$mode" -v p="$path" '$1==m && $2==p && $4>x {x=$4} END {print x}' "$tmp/results")
		vp=$(awk -v a="${med[$mode]}" -v b="${med[plain]:-0}" 'BEGIN {if (b>0) printf "%.3fx", a/b; else print "-"}')
		vo=$(awk -v a="${med[$mode]}" -v b="${med[otelhttp]:-0}" 'BEGIN {if (b>0) printf "%.3fx", a/b; else print "-"}')
		co=$(awk -v a="${cpu[$mode]}" -v b="${cpu[otelhttp]:-0}" 'BEGIN {if (b>0) printf "%.3fx", a/b; else print "-"}')
		printf '%-10s %-9s %12.0f %7s kB %14s %14s %12s %14s\n' "$path" "$mode" "${med[$mode]}" "$rss" "$vp" "$vo" "${cpu[$mode]}" "$co"
	done
	unset med cpu
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
