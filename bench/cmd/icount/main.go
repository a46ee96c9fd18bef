// Command icount serves one request of a benchmark's handler N times, for
// counting instructions under valgrind (callgrind), which on a shared
// machine repeat where times do not:
//
//	go build -o /tmp/icount ./cmd/icount
//	GOGC=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 \
//	  valgrind --tool=callgrind /tmp/icount -case render429 -impl otelkit -n 20000
//
// Run it with two values of -n: the difference divided by the difference
// of n is the instructions per request, without start-up.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/bench"
)

func main() {
	kase := flag.String("case", "render429", "render429, render503, error429, error503, success, audit, gin429, gin503, echo429 or echo503")
	impl := flag.String("impl", "otelkit", "implementation (see bench.NewService, bench.NewRenderService; audit: otelkit or handwritten)")
	n := flag.Int("n", 10000, "requests")
	flag.Parse()
	f, err := setup(*kase, *impl)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for range *n {
		f()
	}
}

func setup(kase, impl string) (func(), error) {
	var (
		h            http.Handler
		err          error
		method, path string
		status       int
	)
	switch kase {
	case "render429", "render503":
		h, err = bench.NewRenderService(impl)
	case "error429", "error503", "success":
		h, err = bench.NewService(impl, bench.NewTelemetry())
	case "gin429", "gin503":
		h = bench.NewGinService(impl, bench.NewTelemetry())
	case "echo429", "echo503":
		h = bench.NewEchoService(impl, bench.NewTelemetry())
	case "audit":
		return audit(impl)
	default:
		return nil, fmt.Errorf("unknown case %q", kase)
	}
	if err != nil {
		return nil, err
	}
	switch kase {
	case "render429", "error429", "gin429", "echo429":
		method, path, status = http.MethodPost, bench.Path4xx, http.StatusTooManyRequests
	case "render503", "error503", "gin503", "echo503":
		method, path, status = http.MethodGet, bench.Path5xx, http.StatusServiceUnavailable
	default:
		method, path, status = http.MethodGet, bench.PathSuccess, http.StatusOK
	}
	req := httptest.NewRequest(method, path, nil)
	rec := bench.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Status != status {
		return nil, fmt.Errorf("%s %s: status %d, want %d", impl, kase, rec.Status, status)
	}
	return func() {
		rec.Reset()
		h.ServeHTTP(rec, req)
	}, nil
}

func audit(impl string) (func(), error) {
	tel := bench.NewTelemetry()
	ctx := bench.AuditCtx()
	switch impl {
	case "otelkit":
		reg := auditx.NewRegistry(auditx.WithLoggerProvider(tel.Logger))
		ev := reg.Define(bench.AuditType, auditx.LevelWarn, bench.AuditTemplate)
		return func() {
			_ = ev.Emit(ctx,
				attribute.String("user", bench.AuditUser),
				attribute.String("client_ip", bench.AuditIP),
				attribute.String("password", bench.AuditPassword))
		}, nil
	case "handwritten":
		logger := tel.Logger.Logger(auditx.ScopeName)
		return func() { bench.HandAudit(ctx, logger, bench.AuditUser, bench.AuditIP, bench.AuditPassword) }, nil
	}
	return nil, fmt.Errorf("audit: unknown implementation %q", impl)
}
