#!/usr/bin/env bash
# connect-instructions.sh counts the instructions one call of a Connect
# benchmark costs, with valgrind's callgrind, GC and warm-up off
# (GOGC=off BENCH_WARMUP=off): the inclusive cost of the function the
# benchmark runs per iteration (the closure given to run()), divided by the
# number of times it was called, so set-up, GC and the testing package stay
# out. N is large because the runtime fills a type assertion's cache at
# random (1 in ~1,000 slow-path calls): over a few thousand calls the number
# of slow-path calls left differs between test binaries by a few hundred
# instructions per call (the success row read 1.032x and 1.041x in two
# binaries at N=6000). Runs of one binary repeat within ~0.1%, where
# grpc-instructions.sh's difference of two iteration counts repeats within
# ~1% on these rows, as much as the success row's gap to its target.
#
#   bench/connect-instructions.sh                      # every Connect benchmark (~20 min)
#   RUNS=2 bench/connect-instructions.sh 'BenchmarkConnectSuccess/impl=otelkit'
set -euo pipefail
cd "$(dirname "$0")"
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
RUNS=${RUNS:-1}
N=${N:-30000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
bin=$dir/bench.test
CGO_ENABLED=0 go test -c -o "$bin" .

# per FILE FUNC: inclusive instructions per call of FUNC (exact name). Under
# callgrind Go's stack switches can make a function look recursive (FUNC'2):
# its calls are counted, its cost is already in the outer level's.
per() {
	awk -v fn="$2" '
		function name(s,   id, rest) {
			id = s; sub(/^c?fn=\(/, "", id); sub(/\).*/, "", id)
			rest = s; sub(/^c?fn=\([0-9]+\) ?/, "", rest)
			if (rest != "") names[id] = rest
			return names[id]
		}
		after { split($0, f, " "); incl += f[2]; after = 0; next }
		/^fn=/ { name($0); next }
		/^cfn=/ { n = name($0); base = n; sub(/\047[0-9]+$/, "", base); target = (base == fn); outer = (n == fn); next }
		/^calls=/ { if (target) { split($0, c, /[= ]/); calls += c[2]; after = outer } target = 0; next }
		END { if (calls) printf "%d", incl / calls; else printf "?" }
	' "$1"
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	names=(BenchmarkConnectSuccess/impl=otelconnect BenchmarkConnectSuccess/impl=otelkit BenchmarkConnectSuccess/impl=passthrough
		BenchmarkConnectError/case=4xx/impl=handwritten BenchmarkConnectError/case=4xx/impl=otelkit
		BenchmarkConnectError/case=5xx/impl=handwritten BenchmarkConnectError/case=5xx/impl=otelkit
		BenchmarkConnectClientError/impl=handwritten BenchmarkConnectClientError/impl=otelkit)
fi
for name in "${names[@]}"; do
	fn=github.com/otelkit/otelkit/bench_test.serveConnect.func2
	case $name in BenchmarkConnectClientError/*) fn=github.com/otelkit/otelkit/bench_test.BenchmarkConnectClientError.func1.2 ;; esac
	per_run=()
	for _ in $(seq 1 "$RUNS"); do
		GOGC=off BENCH_WARMUP=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$dir/out" \
			"$bin" -test.run '^$' -test.bench "^$name\$" -test.benchtime "${N}x" -test.count 1 >/dev/null 2>&1
		per_run+=("$(per "$dir/out" "$fn")")
	done
	echo "$name  ${per_run[*]} instructions/call"
done
