// Package bench measures otelkit side by side with hand-written code and with
// the tools users would pick instead (otelhttp alone, sentry-go, huma, slog
// through otelslog). It is a Go module of its own so that those peers never
// enter otelkit's go.mod.
//
// The benchmarks live in the _test.go files; run.sh runs them with -count
// repeats and prints the ratios through benchstat, and cmd/targets checks
// the project's targets against the same raw output. load.sh drives
// cmd/loadsrv with wrk. BENCHMARKS.md at the repository root records one run.
//
// Every benchmark runs inside the same telemetry: a real SDK tracer provider
// (always sample, a span processor that drops), a real SDK meter provider
// with a manual reader that is never collected, and an SDK logger provider
// whose processor drops. Export cost is therefore not measured; what is
// measured is the work each implementation does on the request path.
package bench
