#!/usr/bin/env bash
# compare.sh measures the bench module's benchmarks at an earlier commit of
# otelkit ("before") and at the working tree ("after") in one interleaved
# run: both test binaries are built from this bench/ directory (so the
# benchmarks are the same code), the "before" one against a git worktree of
# REF, and each round runs before then after. benchstat compares the two.
#
#   bench/compare.sh d58f366                       # COUNT=10 BENCHTIME=0.1s
#   BENCH='BenchmarkRender' COUNT=20 bench/compare.sh d58f366
set -euo pipefail
cd "$(dirname "$0")"
ref=${1:?usage: compare.sh REF}
COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-0.1s}
BENCH=${BENCH:-BenchmarkRender|BenchmarkError/status=.../impl=(otelkit|humarec|huma)$|BenchmarkAuditEmit|BenchmarkSuccess}
OUT=${OUT:-out/compare.txt}
mkdir -p "$(dirname "$OUT")"
export PATH="$PATH:$(go env GOPATH)/bin"
command -v benchstat >/dev/null || go install golang.org/x/perf/cmd/benchstat@latest

tmp=$(mktemp -d)
cleanup() { git -C .. worktree remove --force "$tmp/tree" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
git -C .. worktree add --detach "$tmp/tree" "$ref" >/dev/null
rm -rf "$tmp/tree/bench"
cp -r . "$tmp/tree/bench"
(cd "$tmp/tree/bench" && go test -c -o "$tmp/before.test" .)
go test -c -o "$tmp/after.test" .

: >"$OUT"
for i in $(seq 1 "$COUNT"); do
	echo "round $i/$COUNT" >&2
	for v in before after; do
		echo "version: $v" >>"$OUT"
		"$tmp/$v.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count 1 -test.benchmem >>"$OUT"
	done
done
benchstat -col version "$OUT"
