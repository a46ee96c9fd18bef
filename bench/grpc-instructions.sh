#!/usr/bin/env bash
# grpc-instructions.sh counts the instructions one iteration of a gRPC
# benchmark costs, with valgrind's callgrind: deterministic where wall and
# CPU time on a shared machine are not (±40% here). Each benchmark runs at
# two iteration counts; the difference divided by the difference of counts
# is instructions per call, setup cancelled out. GOMAXPROCS=1 keeps the
# scheduler's spinning out of the counts; asyncpreemptoff and cpu.rdtscp=off
# keep Go's signals and RDTSCP (which valgrind 3.19 cannot run) away.
#
#   bench/grpc-instructions.sh            # every gRPC benchmark, 3 runs each
#   RUNS=5 bench/grpc-instructions.sh 'BenchmarkGRPCSuccess/impl=otelkit'
#
# Any benchmark of the module can be named. With BENCH_WARMUP=off GOGC=off
# the counts repeat within ~0.3% (no warm-up, whose length follows wall
# time and GC cycles, and no GC): the work of the calls alone.
#
#   BENCH_WARMUP=off GOGC=off bench/grpc-instructions.sh BenchmarkGRPCClient/case=error/impl=otelkit
set -euo pipefail
cd "$(dirname "$0")"
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
RUNS=${RUNS:-3}
N1=${N1:-200}
N2=${N2:-2200}
bin=$(mktemp -d)/bench.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
CGO_ENABLED=0 go test -c -o "$bin" .

ir() { # ir NAME N: total instructions of one run
	local out
	out=$(mktemp)
	GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$bin" -test.run '^$' -test.bench "^$1\$" -test.benchtime "$2x" -test.count 1 >/dev/null 2>&1
	grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
	rm -f "$out"
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	names=(BenchmarkGRPCSuccess/impl=otelgrpc BenchmarkGRPCSuccess/impl=otelkit
		BenchmarkGRPCError/case=4xx/impl=handwritten BenchmarkGRPCError/case=4xx/impl=otelkit
		BenchmarkGRPCError/case=5xx/impl=handwritten BenchmarkGRPCError/case=5xx/impl=otelkit)
fi
for name in "${names[@]}"; do
	per=()
	for _ in $(seq 1 "$RUNS"); do
		a=$(ir "$name" "$N1")
		b=$(ir "$name" "$N2")
		per+=($(((b - a) / (N2 - N1))))
	done
	median=$(printf '%s\n' "${per[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
	echo "$name  median ${median} instructions/call  (runs: ${per[*]})"
done
