#!/usr/bin/env bash
# API compatibility of the root module, checked with apidiff
# (golang.org/x/exp/cmd/apidiff) against the snapshot recorded in
# api/otelkit.apidiff (apidiff's module export data).
#
#   scripts/api.sh            # check: fail on an incompatible change
#   scripts/api.sh check      # the same
#   scripts/api.sh update     # record the current API as the snapshot
#
# After an intended breaking change: run `scripts/api.sh update`, commit the
# snapshot with the change, and mark the change **Breaking** in CHANGELOG.md.
# Internal packages and nested modules are not part of the API checked.
set -euo pipefail
cd "$(dirname "$0")/.."

module=github.com/otelkit/otelkit
snapshot=api/otelkit.apidiff
version=v0.0.0-20261113113407-e3970619a1a4 # golang.org/x/exp
tool="bin/tools/apidiff-$version"

if [ ! -x "$tool" ]; then
  echo "installing apidiff $version into bin/tools" >&2
  tmp=$(mktemp -d)
  GOBIN="$tmp" GOFLAGS=-mod=mod go install "golang.org/x/exp/cmd/apidiff@$version"
  mkdir -p bin/tools
  mv "$tmp/apidiff" "$tool"
  rm -rf "$tmp"
fi

# apidiff loads the module from the current directory (see apidiff -h).
export GOWORK=off
quiet() { grep -v '^Ignoring internal package' >&2 || true; }

case "${1:-check}" in
update)
  if [ -f "$snapshot" ]; then
    echo "changes against the previous snapshot:"
    "$tool" -m "$snapshot" "$module" 2> >(quiet) || true
  fi
  "$tool" -m -w "$snapshot" "$module" 2> >(quiet)
  echo "recorded the API of $module in $snapshot"
  ;;
check)
  if [ ! -f "$snapshot" ]; then
    echo "no API snapshot ($snapshot): run scripts/api.sh update" >&2
    exit 1
  fi
  report=$("$tool" -m "$snapshot" "$module" 2> >(quiet))
  if grep -q '^Incompatible changes:' <<<"$report"; then
    echo "$report"
    echo
    echo "The API changed incompatibly since $snapshot was recorded."
    echo "If that is intended: scripts/api.sh update, commit the snapshot, and"
    echo "mark the change **Breaking** in CHANGELOG.md."
    exit 1
  fi
  if [ -n "$report" ]; then
    echo "$report"
    echo "(compatible; scripts/api.sh update records it)"
  fi
  echo "API compatible with $snapshot"
  ;;
*)
  echo "usage: scripts/api.sh [check|update]" >&2
  exit 2
  ;;
esac
