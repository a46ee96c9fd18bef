#!/usr/bin/env bash
# Builds the backends of the verified stack from their Go modules into bin/:
#
#   bin/victoria-logs     VictoriaLogs     (logs and audits; LogsQL; vmui)
#   bin/victoria-metrics  VictoriaMetrics  (metrics over OTLP; PromQL)
#   bin/jaeger            Jaeger v2        (traces over OTLP; query API)
#
#   scripts/backends.sh                 # all three, each skipped when up to date
#   scripts/backends.sh victoria-logs   # only the named ones
#   scripts/backends.sh --force ...     # rebuild
#
# Like collector/build.sh: a backend is rebuilt only when its stamp
# (bin/<name>.stamp: version, this script, Go version) changed. Jaeger's
# go.mod has replace directives, so `go install …@version` is refused; it is
# built as a tool dependency of a module of its own generated in
# bin/jaeger-build (never committed; bin/ is git-ignored). Nothing here
# touches the root go.mod.
set -euo pipefail

victorialogs_version=v1.52.1
victoriametrics_version=v1.151.0
jaeger_version=v1.76.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/bin"
mkdir -p "$bin"

force=
names=()
for a in "$@"; do
	case "$a" in
	--force) force=1 ;;
	victoria-logs | victoria-metrics | jaeger) names+=("$a") ;;
	*) echo "backends.sh: unknown argument $a (want victoria-logs, victoria-metrics, jaeger, --force)" >&2; exit 2 ;;
	esac
done
[ ${#names[@]} -gt 0 ] || names=(victoria-logs victoria-metrics jaeger)

script_sum="$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
goenv="$(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"

uptodate() { # name version
	local out="$bin/$1" stamp="$bin/$1.stamp"
	[ -z "$force" ] && [ -x "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" == "$2 $script_sum $goenv" ]
}

build() { # name version
	local name=$1 version=$2 start=$SECONDS tmp
	if uptodate "$name" "$version"; then
		echo "backends: $bin/$name $version is up to date"
		return
	fi
	tmp="$(mktemp -d "$bin/.build-$name.XXXXXX")"
	trap 'rm -rf "$tmp"' RETURN
	case "$name" in
	victoria-logs)
		GOBIN="$tmp" go install "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$version"
		;;
	victoria-metrics)
		GOBIN="$tmp" go install "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$version"
		;;
	jaeger)
		local mod="$bin/jaeger-build"
		rm -rf "$mod" && mkdir -p "$mod"
		(
			cd "$mod"
			go mod init otelkit.local/jaeger-build >/dev/null 2>&1
			go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$version"
			go build -o "$tmp/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
		)
		;;
	esac
	install -m 0755 "$tmp/$name" "$bin/$name"
	echo "$version $script_sum $goenv" >"$bin/$name.stamp"
	echo "backends: built $bin/$name $version in $((SECONDS - start))s"
}

for n in "${names[@]}"; do
	case "$n" in
	victoria-logs) build victoria-logs "$victorialogs_version" ;;
	victoria-metrics) build victoria-metrics "$victoriametrics_version" ;;
	jaeger) build jaeger "$jaeger_version" ;;
	esac
done
