#!/usr/bin/env bash
# Runs otelkit's verified backend stack on loopback, without Docker:
#
#   scripts/stack.sh up      # build what is missing, start, wait until healthy, print endpoints
#   scripts/stack.sh down    # stop everything `up` started
#   scripts/stack.sh status  # what runs, from the pid files
#
# The stack is the collector distribution (collector/build.sh) with
# collector/config.yaml, VictoriaLogs (logs and audits), VictoriaMetrics
# (metrics) and Jaeger v2 (traces, collector/jaeger.yaml), built from their Go
# modules by scripts/backends.sh and cached under bin/.
#
# Environment (defaults in brackets):
#   OTELKIT_STACK_DIR              data, logs and pid files [bin/stack]; the
#                                  collector's JSONL archive is in its export/
#   OTELKIT_STACK_HOST             listen host [127.0.0.1]
#   OTELKIT_STACK_OTLP_GRPC_PORT   collector OTLP/gRPC [4317]
#   OTELKIT_STACK_OTLP_HTTP_PORT   collector OTLP/HTTP [4318]
#   OTELKIT_STACK_HEALTH_PORT      collector health check [13133]
#   OTELKIT_STACK_SELF_METRICS_PORT collector's own metrics [8888]
#   OTELKIT_STACK_VICTORIALOGS_PORT    VictoriaLogs [9428]
#   OTELKIT_STACK_VICTORIAMETRICS_PORT VictoriaMetrics [8428]
#   OTELKIT_STACK_JAEGER_QUERY_PORT    Jaeger query API [16686]
#   OTELKIT_STACK_JAEGER_OTLP_PORT     Jaeger OTLP/gRPC (the collector sends there) [14317]
#   OTELKIT_STACK_JAEGER_PORTS_BASE    Jaeger's other ports: base+0 OTLP/HTTP, +1 query
#                                      gRPC, +2 health, +3 own metrics [14318]
#   OTELKIT_STACK_TIMEOUT          seconds to wait for health [60]
#
# `up` fails with a message naming the port when one is taken, and when a
# build or a start fails it stops whatever it had started before exiting, so
# it never leaves processes behind. Exit status 0 means all four are healthy.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${OTELKIT_STACK_DIR:-$root/bin/stack}"
host="${OTELKIT_STACK_HOST:-127.0.0.1}"
p_grpc="${OTELKIT_STACK_OTLP_GRPC_PORT:-4317}"
p_http="${OTELKIT_STACK_OTLP_HTTP_PORT:-4318}"
p_health="${OTELKIT_STACK_HEALTH_PORT:-13133}"
p_self="${OTELKIT_STACK_SELF_METRICS_PORT:-8888}"
p_vl="${OTELKIT_STACK_VICTORIALOGS_PORT:-9428}"
p_vm="${OTELKIT_STACK_VICTORIAMETRICS_PORT:-8428}"
p_jq="${OTELKIT_STACK_JAEGER_QUERY_PORT:-16686}"
p_jotlp="${OTELKIT_STACK_JAEGER_OTLP_PORT:-14317}"
p_jbase="${OTELKIT_STACK_JAEGER_PORTS_BASE:-14318}"
timeout="${OTELKIT_STACK_TIMEOUT:-60}"

# Start order; `down` stops in reverse.
services=(victoria-logs victoria-metrics jaeger collector)

die() { echo "stack: $*" >&2; exit 1; }

fail() { # message: stop what up started, then exit 1
	echo "stack: up failed ($*): stopping what was started" >&2
	down >&2
	exit 1
}

pidfile() { echo "$dir/run/$1.pid"; }

running() { # name: 0 when its recorded process is alive
	local f; f="$(pidfile "$1")"
	[ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

stop_one() { # name
	local f pid i
	f="$(pidfile "$1")"
	[ -f "$f" ] || return 0
	pid="$(cat "$f")"
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "stack: $1 (pid $pid) did not stop in 10s: killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		echo "stack: stopped $1 (pid $pid)"
	fi
	rm -f "$f"
}

down() {
	local i
	for ((i = ${#services[@]} - 1; i >= 0; i--)); do
		stop_one "${services[$i]}"
	done
}

port_taken() { # port: 0 when something accepts connections there
	(exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}

start() { # name, then the command; output to $dir/logs/name.log
	local name=$1; shift
	mkdir -p "$dir/run" "$dir/logs"
	# setsid: the service is not in the shell's process group, so a ^C on
	# `up` does not reach it; `down` stops it by its pid.
	setsid "$@" >>"$dir/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$(pidfile "$name")"
}

wait_healthy() { # name url [body-substring]
	local name=$1 url=$2 want=${3:-} deadline=$((SECONDS + timeout)) body
	while ((SECONDS < deadline)); do
		if ! running "$name"; then
			echo "stack: $name exited before it was healthy; its log ($dir/logs/$name.log) ends with:" >&2
			tail -n 20 "$dir/logs/$name.log" >&2 || true
			return 1
		fi
		if body="$(curl -fsS --max-time 2 "$url" 2>/dev/null)" && [[ -z "$want" || "$body" == *"$want"* ]]; then
			return 0
		fi
		sleep 0.3
	done
	echo "stack: $name is not healthy after ${timeout}s ($url); its log ($dir/logs/$name.log) ends with:" >&2
	tail -n 20 "$dir/logs/$name.log" >&2 || true
	return 1
}

up() {
	for s in "${services[@]}"; do
		if running "$s"; then
			die "$s is already running (pid $(cat "$(pidfile "$s")"), $dir): run scripts/stack.sh down first"
		fi
	done
	local port what
	for what in "collector OTLP/gRPC:$p_grpc" "collector OTLP/HTTP:$p_http" "collector health:$p_health" \
		"collector metrics:$p_self" "VictoriaLogs:$p_vl" "VictoriaMetrics:$p_vm" "Jaeger query:$p_jq" \
		"Jaeger OTLP/gRPC:$p_jotlp" "Jaeger OTLP/HTTP:$p_jbase" "Jaeger query gRPC:$((p_jbase + 1))" \
		"Jaeger health:$((p_jbase + 2))" "Jaeger metrics:$((p_jbase + 3))"; do
		port="${what##*:}"
		if port_taken "$port"; then
			die "port $port ($host, ${what%:*}) is taken; free it or set the OTELKIT_STACK_* variable for it (see scripts/stack.sh)"
		fi
	done

	"$root/collector/build.sh" || die "the collector build failed (collector/build.sh); nothing was started"
	"$root/scripts/backends.sh" || die "a backend build failed (scripts/backends.sh); nothing was started"

	# From here on, a failure (or ^C) stops what was started.
	trap 'fail "interrupted"' INT TERM
	mkdir -p "$dir/victoria-logs" "$dir/victoria-metrics" "$dir/export" "$dir/file_storage"

	start victoria-logs "$root/bin/victoria-logs" -httpListenAddr="$host:$p_vl" \
		-storageDataPath="$dir/victoria-logs" -loggerLevel=WARN
	# -search.latencyOffset=1s: a local stack shows a sample a second after
	# it arrived (the default, 30 s, suits scraped production data).
	start victoria-metrics "$root/bin/victoria-metrics" -httpListenAddr="$host:$p_vm" \
		-storageDataPath="$dir/victoria-metrics" -loggerLevel=WARN \
		-opentelemetry.usePrometheusNaming -search.latencyOffset=1s
	JAEGER_OTLP_GRPC_ENDPOINT="$host:$p_jotlp" JAEGER_OTLP_HTTP_ENDPOINT="$host:$p_jbase" \
		JAEGER_QUERY_HTTP_ENDPOINT="$host:$p_jq" JAEGER_QUERY_GRPC_ENDPOINT="$host:$((p_jbase + 1))" \
		JAEGER_HEALTH_ENDPOINT="$host:$((p_jbase + 2))" JAEGER_SELF_METRICS_HOST="$host" \
		JAEGER_SELF_METRICS_PORT="$((p_jbase + 3))" \
		start jaeger "$root/bin/jaeger" --config "$root/collector/jaeger.yaml"
	OTELKIT_OTLP_GRPC_ENDPOINT="$host:$p_grpc" OTELKIT_OTLP_HTTP_ENDPOINT="$host:$p_http" \
		OTELKIT_HEALTH_ENDPOINT="$host:$p_health" OTELKIT_SELF_METRICS_HOST="$host" \
		OTELKIT_SELF_METRICS_PORT="$p_self" \
		OTELKIT_TRACES_OTLP_ENDPOINT="$host:$p_jotlp" \
		OTELKIT_METRICS_OTLP_ENDPOINT="http://$host:$p_vm/opentelemetry" \
		OTELKIT_LOGS_OTLP_ENDPOINT="http://$host:$p_vl/insert/opentelemetry" \
		OTELKIT_AUDIT_OTLP_ENDPOINT="http://$host:$p_vl/insert/opentelemetry" \
		OTELKIT_EXPORT_DIR="$dir/export" OTELKIT_STORAGE_DIR="$dir/file_storage" \
		start collector "$root/bin/otelkit-otelcol" --config "$root/collector/config.yaml"

	wait_healthy victoria-logs "http://$host:$p_vl/health" OK || fail "victoria-logs is not healthy"
	wait_healthy victoria-metrics "http://$host:$p_vm/health" OK || fail "victoria-metrics is not healthy"
	wait_healthy jaeger "http://$host:$p_jq/api/services" || fail "jaeger is not healthy"
	wait_healthy collector "http://$host:$p_health/" || fail "collector is not healthy"
	trap - INT TERM

	cat <<-EOT
	stack: up (data, logs and pid files in $dir)
	  OTEL_EXPORTER_OTLP_ENDPOINT=http://$host:$p_http   (OTLP/HTTP; gRPC at $host:$p_grpc)
	  audits and logs   VictoriaLogs     http://$host:$p_vl/select/vmui/   (LogsQL: http://$host:$p_vl/select/logsql/query)
	  metrics           VictoriaMetrics  http://$host:$p_vm/vmui/          (PromQL: http://$host:$p_vm/api/v1/query)
	  traces            Jaeger           http://$host:$p_jq/api/traces/<trace-id>   (query API)
	  collector health  http://$host:$p_health/
	  JSONL archive     $dir/export/audit.jsonl (and traces, metrics, logs .jsonl)
	stop it with: scripts/stack.sh down
	EOT
}

status() {
	local s
	for s in "${services[@]}"; do
		if running "$s"; then
			echo "$s: running (pid $(cat "$(pidfile "$s")"))"
		else
			echo "$s: stopped"
		fi
	done
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: scripts/stack.sh up|down|status (see the top of the script for the environment)" >&2; exit 2 ;;
esac
