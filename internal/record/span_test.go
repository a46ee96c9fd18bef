package record

import (
	"context"
	"errors"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/otelkit/otelkit/errorsx"
)

// TestSpanLabels: a rendered 4xx labels the span and the metrics with
// otelkit.error.id and leaves the status unset; a failure labels both
// with error.type and sets status Error; a second error of the same
// definition gets the same attributes (made once, shared).
func TestSpanLabels(t *testing.T) {
	reg := errorsx.NewRegistry()
	limited := reg.Define(http.StatusTooManyRequests, "idattr.limited", "Slow down")
	down := reg.Define(http.StatusServiceUnavailable, "idattr.down", "Down")
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	tests := []struct {
		def     *errorsx.Def
		want    attribute.KeyValue
		status  codes.Code
		failure bool
	}{
		{limited, attribute.String("otelkit.error.id", "idattr.limited"), codes.Unset, false},
		{down, attribute.String("error.type", "idattr.down"), codes.Error, true},
	}
	for _, tt := range tests {
		for range 2 {
			l := &otelhttp.Labeler{}
			ctx, span := tp.Tracer("t").Start(otelhttp.ContextWithLabeler(context.Background(), l), "request")
			f := Failure{Err: tt.def, Match: reg.Match(tt.def), Kind: KindError}
			Span(ctx, &f)
			span.End()

			got := sr.Ended()[len(sr.Ended())-1]
			if attrs := got.Attributes(); len(attrs) != 1 || attrs[0] != tt.want {
				t.Errorf("%s: span attributes %v, want [%v]", tt.def.ID(), attrs, tt.want)
			}
			if got.Status().Code != tt.status {
				t.Errorf("%s: status %v, want %v", tt.def.ID(), got.Status().Code, tt.status)
			}
			if labels := l.Get(); len(labels) != 1 || labels[0] != tt.want {
				t.Errorf("%s: metric labels %v, want [%v]", tt.def.ID(), labels, tt.want)
			}
		}
	}
}

// TestIDAttr: the slices handed to callees have room for nothing more, so
// an append by a callee cannot write into the shared array. (That the cache
// stops growing at maxCachedIDs is cowmap's TestMax.)
func TestIDAttr(t *testing.T) {
	reg := errorsx.NewRegistry()
	d := reg.Define(http.StatusConflict, "idattr.conflict", "Conflict")
	for _, failed := range []bool{false, true} {
		kv := idAttr(d, failed)
		if len(kv) != 1 || cap(kv) != 1 {
			t.Fatalf("idAttr(failed=%v): len %d cap %d, want 1 1", failed, len(kv), cap(kv))
		}
		_ = append(kv, attribute.String("x", "y"))
		if again := idAttr(d, failed); &again[0] != &kv[0] || again[0] != kv[0] {
			t.Fatalf("idAttr(failed=%v) not shared or changed: %v", failed, again)
		}
	}
	if got, want := idAttr(d, true)[0], attribute.String("error.type", "idattr.conflict"); got != want {
		t.Fatalf("failed: %v, want %v", got, want)
	}
}

// TestSpanAllocs: labelling the span of a rendered error costs no
// allocation of its own (an SDK span allocates when its attribute slice
// grows, as for any attribute; the stub keeps nothing).
func TestSpanAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	reg := errorsx.NewRegistry()
	d := reg.Define(http.StatusTooManyRequests, "idattr.allocs", "Slow down")
	stub := &recordingStub{}
	ctx := trace.ContextWithSpan(context.Background(), stub)
	for _, err := range []error{d, errors.New("unregistered")} {
		f := Failure{Err: err, Match: reg.Match(err), Kind: KindError}
		Span(ctx, &f) // the first error of a definition makes its attributes
		if n := testing.AllocsPerRun(100, func() { Span(ctx, &f) }); n != 0 {
			t.Errorf("Span(%s): %v allocations, want 0", f.Match.Def.ID(), n)
		}
	}
	if stub.set == 0 {
		t.Fatal("no attribute reached the span")
	}
}

// recordingStub is a recording span that keeps nothing.
type recordingStub struct {
	noop.Span
	set int
}

func (s *recordingStub) IsRecording() bool                      { return true }
func (s *recordingStub) SetAttributes(kv ...attribute.KeyValue) { s.set += len(kv) }

// TestSpanEventBytes: the attributes of an exception span event are
// copied into a slice their size (the option makes them escape), not into
// a larger buffer: a 5xx's six attributes cost 384 B, and with the
// options' own boxes the event stays under 512 B.
func TestSpanEventBytes(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	reg := errorsx.NewRegistry()
	d := reg.Define(http.StatusServiceUnavailable, "idattr.event", "Down")
	ctx := trace.ContextWithSpan(context.Background(), &recordingStub{})
	f := Failure{Err: d, Match: reg.Match(d), Kind: KindError, Stack: "main.main()\n\tmain.go:1\n", Signal: SignalSpanEvents}
	Exception(ctx, nil, nil, &f, nil) // masks the message once
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			Exception(ctx, nil, nil, &f, nil)
		}
		runtime.ReadMemStats(&after)
		least = min(least, (after.TotalAlloc-before.TotalAlloc)/100)
	}
	t.Logf("exception span event: %d B", least)
	if least >= 512 {
		t.Errorf("exception span event: %d B, want < 512", least)
	}
}

// TestIDAttrConcurrent: first errors of many definitions at once (run
// with -race): every caller gets its definition's attributes.
func TestIDAttrConcurrent(t *testing.T) {
	reg := errorsx.NewRegistry()
	defs := make([]*errorsx.Def, 32)
	for i := range defs {
		defs[i] = reg.Define(http.StatusConflict, "idattr.concurrent."+strconv.Itoa(i), "x")
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range defs {
				d := defs[(i+g)%len(defs)]
				if got := idAttr(d, false)[0]; got != attribute.String("otelkit.error.id", d.ID()) {
					t.Errorf("idAttr(%s) = %v", d.ID(), got)
				}
			}
		}()
	}
	wg.Wait()
}
