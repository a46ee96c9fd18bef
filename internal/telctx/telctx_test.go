package telctx_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/internal/telctx"
)

func TestLoggerAndTracer(t *testing.T) {
	fallback := noop.NewLoggerProvider().Logger("x")
	ctx := context.Background()
	if telctx.FromContext(ctx) != nil {
		t.Fatal("providers in an empty context")
	}
	if got := telctx.Logger(ctx, "s", fallback); got != fallback {
		t.Fatal("no providers: want the fallback")
	}
	lp := sdklog.NewLoggerProvider()
	tp := sdktrace.NewTracerProvider()
	ctx = telctx.NewContext(ctx, &telctx.Providers{Tracer: tp, Logger: lp})
	l1, l2 := telctx.Logger(ctx, "s", fallback), telctx.Logger(ctx, "s", fallback)
	if l1 == fallback || l1 != l2 {
		t.Fatalf("want the context's logger, cached: %v %v", l1, l2)
	}
	_, span := telctx.Tracer(ctx, "s").Start(ctx, "op")
	if !span.SpanContext().IsValid() {
		t.Fatal("want a span of the context's tracer provider")
	}
	span.End()
	if _, span := telctx.Tracer(context.Background(), "s").Start(context.Background(), "op"); span.SpanContext().IsValid() {
		t.Fatal("without providers: the global (no-op) tracer")
	}
}
