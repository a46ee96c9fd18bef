#!/usr/bin/env bash
# audit-instructions.sh counts the instructions one audit emit costs
# (cmd/icount -case audit) with valgrind's callgrind, for auditx's
# Event.Emit and for the hand-written bench.HandAudit of the same record:
# deterministic where times on a shared machine are not. Each runs at two
# counts N1 and N2; the difference divided by N2-N1 is instructions per
# emit, start-up cancelled out. GOGC=off (the default here) leaves the
# garbage collector out, whose share moves by ±10% from run to run with
# the timing of its cycles; GOGC=100 puts it back. GOMAXPROCS=1,
# asyncpreemptoff and cpu.rdtscp=off as in grpc-instructions.sh.
#
#   bench/audit-instructions.sh                  # GC off
#   GOGC=100 N2=52000 bench/audit-instructions.sh
set -euo pipefail
cd "$(dirname "$0")"
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
N1=${N1:-2000}
N2=${N2:-12000}
GC=${GOGC:-off}
bin=$(mktemp -d)/icount
trap 'rm -rf "$(dirname "$bin")"' EXIT
CGO_ENABLED=0 go build -o "$bin" ./cmd/icount

ir() { # ir IMPL N: total instructions of one run
	local out
	out=$(mktemp)
	GOGC=$GC GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$bin" -case audit -impl "$1" -n "$2" >/dev/null 2>&1
	grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
	rm -f "$out"
}

declare -A per
for impl in otelkit handwritten; do
	a=$(ir "$impl" "$N1")
	b=$(ir "$impl" "$N2")
	per[$impl]=$(((b - a) / (N2 - N1)))
	echo "audit $impl: ${per[$impl]} instructions/emit (GOGC=$GC)"
done
awk -v k="${per[otelkit]}" -v h="${per[handwritten]}" 'BEGIN { printf "audit otelkit / handwritten: %.3fx\n", k / h }'
