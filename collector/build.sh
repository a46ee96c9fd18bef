#!/usr/bin/env bash
# Builds the otelkit collector distribution (collector/builder-config.yaml)
# into bin/otelkit-otelcol with the OpenTelemetry Collector Builder.
#
# Idempotent: it does nothing when bin/otelkit-otelcol was built from the same
# manifest, script and Go version (bin/otelkit-otelcol.stamp); --force
# rebuilds. The generated sources and their go.mod live in bin/otelcol-build,
# a module of their own: the root go.mod is never touched.
set -euo pipefail

builder_version=v0.161.0 # same v0.N as the components in the manifest

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/bin"
out="$bin/otelkit-otelcol"
stamp="$bin/otelkit-otelcol.stamp"

want="$(cat "$root/collector/builder-config.yaml" "$root/collector/build.sh" | sha256sum | cut -d' ' -f1) $(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"
if [[ "${1:-}" != "--force" && -x "$out" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
	echo "collector: $out is up to date"
	exit 0
fi

start=$SECONDS
mkdir -p "$bin/tools"
GOBIN="$bin/tools" go install "go.opentelemetry.io/collector/cmd/builder@$builder_version"
# output_path in the manifest is relative to collector/.
(cd "$root/collector" && "$bin/tools/builder" --config builder-config.yaml)
install -m 0755 "$bin/otelcol-build/otelkit-otelcol" "$out"
echo "$want" >"$stamp"
echo "collector: built $out in $((SECONDS - start))s"
