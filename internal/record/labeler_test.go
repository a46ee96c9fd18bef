package record

import (
	"context"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

func TestLabelerFindsOtelhttps(t *testing.T) {
	want := &otelhttp.Labeler{}
	ctx := otelhttp.ContextWithLabeler(context.Background(), want)
	ctx = context.WithValue(ctx, struct{ k int }{1}, "other")
	if got := labeler(ctx); got != want {
		t.Fatalf("labeler under otelhttp = %p, want %p", got, want)
	}
	if got := labeler(context.Background()); got != nil {
		t.Fatalf("labeler outside otelhttp = %p, want nil", got)
	}
	if labelerKey() == nil {
		t.Fatal("otelhttp's labeler key was not learnt")
	}
}

func TestLabelerOutsideOtelhttpAllocatesNothing(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	ctx := context.WithValue(context.Background(), struct{ k int }{1}, "other")
	if n := testing.AllocsPerRun(100, func() { _ = labeler(ctx) }); n != 0 {
		t.Fatalf("labeler outside otelhttp: %v allocations, want 0", n)
	}
}
