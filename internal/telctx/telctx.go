// Package telctx carries OpenTelemetry providers in a context, so that
// otelkit's own records (exception records, audits, Track's spans) made
// under that context go to them instead of the configured or global ones.
// Only package otelkittest sets them: it is how a test gets its own
// telemetry without replacing the process-wide providers, so tests can run
// in parallel.
package telctx

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
)

// Providers are the providers a context carries. A nil field leaves that
// signal to the configured or global provider.
type Providers struct {
	Tracer trace.TracerProvider
	Logger otellog.LoggerProvider

	loggers sync.Map // scope name -> otellog.Logger
}

type key struct{}

// used is set by the first NewContext: until then no context carries
// providers (the key is this package's), so FromContext answers without
// walking the context, which is what every record costs in production,
// where only tests (otelkittest) set providers.
var used atomic.Bool

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Providers) context.Context {
	used.Store(true)
	return context.WithValue(ctx, key{}, p)
}

// FromContext returns the providers ctx carries, or nil.
func FromContext(ctx context.Context) *Providers {
	if ctx == nil || !used.Load() {
		return nil
	}
	p, _ := ctx.Value(key{}).(*Providers)
	return p
}

// Logger returns the logger of scope from the provider ctx carries, or
// fallback when it carries none.
func Logger(ctx context.Context, scope string, fallback otellog.Logger) otellog.Logger {
	p := FromContext(ctx)
	if p == nil || p.Logger == nil {
		return fallback
	}
	if l, ok := p.loggers.Load(scope); ok {
		return l.(otellog.Logger)
	}
	l, _ := p.loggers.LoadOrStore(scope, p.Logger.Logger(scope))
	return l.(otellog.Logger)
}

// Tracer returns the tracer of scope from the provider ctx carries, or the
// global provider's.
func Tracer(ctx context.Context, scope string) trace.Tracer {
	if p := FromContext(ctx); p != nil && p.Tracer != nil {
		return p.Tracer.Tracer(scope)
	}
	return otel.Tracer(scope)
}
