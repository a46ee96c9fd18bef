package otelkittest

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// An open server span is waited for; an ended one, a client span or
// another method's span is not.
func TestOpenSpansWait(t *testing.T) {
	o := newOpenSpans()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(o))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tr := tp.Tracer("t")

	_, client := tr.Start(context.Background(), "pkg.S/M", trace.WithSpanKind(trace.SpanKindClient))
	defer client.End()
	if !o.wait("pkg.S/M", time.Hour) {
		t.Fatal("a client span is waited for")
	}
	_, srv := tr.Start(context.Background(), "pkg.S/M", trace.WithSpanKind(trace.SpanKindServer))
	if !o.wait("pkg.S/Other", time.Hour) {
		t.Fatal("another method's span is waited for")
	}
	if o.wait("pkg.S/M", time.Millisecond) {
		t.Fatal("an open server span is not waited for")
	}
	done := make(chan bool)
	go func() { done <- o.wait("pkg.S/M", time.Hour) }()
	srv.End()
	if !<-done {
		t.Fatal("wait did not end with the span")
	}
	if !o.wait("pkg.S/M", time.Hour) {
		t.Fatal("an ended span is waited for")
	}
}

// RPCSpan returns a server span that ends while it waits (as otelgrpc's
// does, after the client got the answer).
func TestRPCSpanWaitsForOpenSpan(t *testing.T) {
	for range 20 {
		k := New(t)
		_, s := k.TracerProvider().Tracer("t").Start(context.Background(), "pkg.S/M", trace.WithSpanKind(trace.SpanKindServer))
		got := make(chan sdktrace.ReadOnlySpan)
		go func() { got <- k.RPCSpan("/pkg.S/M") }()
		s.End()
		if r := <-got; r == nil || r.SpanContext().SpanID() != s.SpanContext().SpanID() {
			t.Fatalf("RPCSpan = %v, want the span that ended", r)
		}
	}
}
