#!/usr/bin/env bash
# run.sh runs the bench module's benchmarks COUNT times (default 20) and
# prints the comparisons through benchstat, then the targets with PASS/FAIL
# (cmd/targets; it exits 1 when a target fails).
#
#   bench/run.sh                  # COUNT=20 BENCHTIME=0.1s (about 2-3 minutes)
#   COUNT=3 BENCHTIME=0.2s bench/run.sh
#   BENCH='Success|Error' bench/run.sh
#   BENCH_LIVE_HEAP_MB=32 BENCHTIME=1s bench/run.sh   # a service's live heap
#   GOGC=400 bench/run.sh                             # rarer GC cycles
#
# The rounds are interleaved: the whole suite runs once per round (-count=1),
# COUNT rounds in a row, so a burst of load from another process on this
# shared machine hits every implementation of a comparison alike instead of
# all repeats of one of them; short rounds keep the two sides of each
# comparison seconds apart, and cmd/targets uses the median of the per-round
# ratios. Time is cpu-ns/op (the process's CPU time per operation, see
# cpu_test.go); ns/op is shown too. The raw output is kept in $OUT (default
# bench/out/raw.txt) for benchstat and cmd/targets.
#
# The heap regime moves the ratios of paths that allocate different byte
# counts (BENCHMARKS.md, "Heap regime"): by default the benchmarks run with
# the ~1 MiB live heap they make themselves, where the GC runs every ~3 MiB
# allocated; BENCH_LIVE_HEAP_MB holds that many MiB of linked objects live
# for the whole run (heap_test.go), GOGC is the runtime's. Both are printed
# into the raw output and above the targets.
set -euo pipefail
cd "$(dirname "$0")"

COUNT=${COUNT:-20}
BENCHTIME=${BENCHTIME:-0.1s}
BENCH=${BENCH:-.}
OUT=${OUT:-out/raw.txt}
mkdir -p "$(dirname "$OUT")"

export PATH="$PATH:$(go env GOPATH)/bin"
if ! command -v benchstat >/dev/null; then
	go install golang.org/x/perf/cmd/benchstat@latest
fi

bin=$(mktemp -d)/bench.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" .

: >"$OUT"
for i in $(seq 1 "$COUNT"); do
	echo "round $i/$COUNT" >&2
	"$bin" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count 1 -test.benchmem >>"$OUT"
done

section() { printf '\n=== %s ===\n' "$1"; }

section "Success path: base otelhttp alone (bare = no telemetry; otelkit = otelhttp + httpx; httpx = httpx without otelhttp; otelhttproute = otelhttp + http.route on the span by hand)"
benchstat -filter '.name:Success' -col '/impl@(otelhttp bare otelkit httpx otelhttproute)' "$OUT"

section "Error path: base hand-written equivalent"
benchstat -filter '.name:Error' -row /status -col '/impl@(handwritten otelkit sentry huma humarec humarecroute)' "$OUT"

section "Render only, no telemetry: base huma.WriteErr"
benchstat -filter '.name:Render' -row /status -col '/impl@(huma otelkit humactx)' "$OUT"

section "Render 429 without the idle GC worker's CPU (procs1: GOMAXPROCS=1; parallel: every P busy): base huma"
benchstat -filter '.name:RenderGC' -row /mode -col '/impl@(huma otelkit)' "$OUT"

section "Audit emit: base hand-written log.Logger.Emit"
benchstat -filter '.name:AuditEmit' -col '/impl@(handwritten otelkit otelslog)' "$OUT"

section "gRPC success: base otelgrpc alone"
benchstat -filter '.name:GRPCSuccess' -col '/impl@(otelgrpc otelkit)' "$OUT"

section "gRPC error: base hand-written status with ErrorInfo"
benchstat -filter '.name:GRPCError' -row /case -col '/impl@(handwritten otelkit)' "$OUT"

section "gin / echo error path: base hand-written"
benchstat -filter '.name:(GinError OR EchoError)' -row .name/status -col '/impl@(handwritten otelkit)' "$OUT"

section "Connect success: base otelconnect alone (passthrough = otelconnect + AttributeFilter + an interceptor that does nothing)"
benchstat -filter '.name:ConnectSuccess' -col '/impl@(otelconnect otelkit passthrough)' "$OUT"

section "Connect error: base hand-written *connect.Error with ErrorInfo"
benchstat -filter '.name:ConnectError' -row /case -col '/impl@(handwritten otelkit)' "$OUT"

section "Connect client error (decoding a recorded 429 answer): base hand-written decode"
benchstat -filter '.name:ConnectClientError' -col '/impl@(handwritten otelkit)' "$OUT"

section "gRPC client: success base otelgrpc client alone, error base hand-written decode (the server's work is in both)"
benchstat -filter '.name:GRPCClient' -row /case -col '/impl@(otelgrpc handwritten otelkit)' "$OUT"

section "chi success: base otelhttp around chi (otelhttproute: + the route on span name, span and metrics by hand, bench.ChiRoute)"
benchstat -filter '.name:ChiSuccess' -col '/impl@(otelhttp otelkit otelhttproute)' "$OUT"

section "HTTP client error decode: base hand-written"
benchstat -filter '.name:HTTPClientError' -col '/impl@(handwritten otelkit)' "$OUT"

section "Resolution: base 10 mappings"
benchstat -filter '.name:Resolve' -row /target -col '/mappings@(10 100 1000 10000)' "$OUT"

section "Panic path: base hand-written recover middleware"
benchstat -filter '.name:Panic' -col '/impl@(handwritten otelkit sentry)' "$OUT"

section "Targets"
go run ./cmd/targets "$OUT"
