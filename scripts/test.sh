#!/usr/bin/env bash
# Runs every test of otelkit: the root module (vet, race, fuzz seed corpora,
# examples, allocation budgets), then each nested module (the browser test,
# the OpenAPI validation, the collector end-to-end test, the benchmarks'
# allocation guards). It installs or builds what the tests need when it is
# missing: Debian's chromium, the collector distribution and the backends
# (VictoriaLogs, VictoriaMetrics, Jaeger: scripts/backends.sh), all cached in
# bin/. collector/test.sh runs the backend end-to-end test through
# scripts/stack.sh, the vmui browser test and the short scale-out fault test.
#
#   ./scripts/test.sh              # everything (about 6 minutes on a fresh 2-core machine)
#   SKIP_E2E=1 ./scripts/test.sh   # without the collector and backend builds and e2e tests
#   SKIP_BROWSER=1 ./scripts/test.sh  # without Chromium (the browser test skips)
#
# Needs Go 1.26, the module proxy, and, when Chromium is missing and
# SKIP_BROWSER is unset, Debian's apt-get as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n=== %s\n' "$*"; }

step "toolchain: $(go version)"

# The browser test skips without Chromium unless CI is set; here a missing
# browser must fail the run, so it is set unless SKIP_BROWSER says otherwise.
if [ -z "${SKIP_BROWSER:-}" ]; then
  export CI=true
fi

if [ ! -x /usr/bin/chromium ] && [ -z "${SKIP_BROWSER:-}" ]; then
  step "installing chromium for the /dev/errors browser test"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

step "root module: gofmt, go vet"
# Only the repository's own files: bin/ holds generated sources (the
# collector build), which gofmt -l . would list.
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*') || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

# staticcheck, pinned and cached in bin/tools (its analysis cache lives in
# the user cache directory, so a second run is fast).
staticcheck_version=v0.8.2
staticcheck="bin/tools/staticcheck-$staticcheck_version"
if [ ! -x "$staticcheck" ]; then
  step "installing staticcheck $staticcheck_version into bin/tools"
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
  mkdir -p bin/tools && mv "$tmp/staticcheck" "$staticcheck" && rm -rf "$tmp"
fi
step "root module: staticcheck"
"$staticcheck" ./...

step "root module: API compatibility (scripts/api.sh; scripts/api.sh update records an intended change)"
scripts/api.sh check

step "root module: go test -race"
go test -race -count=1 ./...

# The race detector changes allocation counts, so the allocation budgets
# (testing.AllocsPerRun) run again without it, in a second run of every test
# that runs each one twice (-count=2): a test that defines something in a
# process-wide registry, or leaves global state behind, fails here instead
# of on a developer's `go test -count=N`.
step "root module: go test -count=2 (allocation budgets, repeatability)"
go test -count=2 ./...

# Nested modules: each has its own go.mod so that chromedp, the OpenAPI
# validator, the collector's pdata and the benchmark peers never enter the
# root go.mod.
mapfile -t modules < <(find . -name go.mod -not -path './go.mod' -not -path './bin/*' -not -path '*/dist/*' -not -path '*/testdata/*' -printf '%h\n' | sort)
# A go.mod that needs tidying fails here with its diff and the command that
# fixes it, instead of as "updates to go.mod needed" in the middle of a test.
step "every module: go.mod and go.sum tidy (go mod tidy -diff)"
for dir in . "${modules[@]}"; do
  case "$dir" in ./bin/*) continue ;; esac
  if ! (cd "$dir" && go mod tidy -diff); then
    echo "go.mod/go.sum of $dir are not tidy: run (cd $dir && go mod tidy) and commit the result" >&2
    exit 1
  fi
done

for dir in "${modules[@]}"; do
  case "$dir" in
    ./collector*) continue ;; # collector/test.sh below builds the collector first
  esac
  if [ -x "$dir/test.sh" ]; then
    step "module $dir: $dir/test.sh"
    "$dir/test.sh"
  else
    step "module $dir: go vet, go test"
    (cd "$dir" && go vet ./... && go test -count=1 ./...)
  fi
done

if [ -n "${SKIP_E2E:-}" ]; then
  step "skipping the collector build and end-to-end test (SKIP_E2E)"
elif [ -x collector/test.sh ]; then
  step "collector: build the distribution and the backends, run the end-to-end, backend, scale-out and compose tests"
  collector/test.sh
fi

step "all tests passed"
