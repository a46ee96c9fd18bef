package otelkittest

import (
	"context"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// rpcSpanWait bounds how long [Kit.RPCSpan] waits for a started server
// span of the method to end.
const rpcSpanWait = 10 * time.Second

// openSpans is a span processor that knows which server spans have started
// and not yet ended. It is registered after the recorder, so a span it sees
// end is already among the recorder's ended spans.
//
// A gRPC server's span (otelgrpc's stats handler) ends on the stats.End
// event, after the status went out on the wire: a client can read the
// answer before the span ends. The span has started before the handler
// ran, though, so "started and not ended" is exactly what to wait for.
type openSpans struct {
	mu      sync.Mutex
	open    map[trace.SpanID]string // server span → name at start
	changed chan struct{}           // closed and replaced when a tracked span ends
}

func newOpenSpans() *openSpans {
	return &openSpans{open: map[trace.SpanID]string{}, changed: make(chan struct{})}
}

func (o *openSpans) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	if s.SpanKind() != trace.SpanKindServer {
		return
	}
	o.mu.Lock()
	o.open[s.SpanContext().SpanID()] = s.Name()
	o.mu.Unlock()
}

func (o *openSpans) OnEnd(s sdktrace.ReadOnlySpan) {
	id := s.SpanContext().SpanID()
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.open[id]; !ok {
		return
	}
	delete(o.open, id)
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *openSpans) Shutdown(context.Context) error   { return nil }
func (o *openSpans) ForceFlush(context.Context) error { return nil }

// wait blocks until no server span named name is open, or until d has
// passed; it reports whether none is open.
func (o *openSpans) wait(name string, d time.Duration) bool {
	var timeout <-chan time.Time
	for {
		o.mu.Lock()
		pending := false
		for _, n := range o.open {
			if n == name {
				pending = true
				break
			}
		}
		changed := o.changed
		o.mu.Unlock()
		if !pending {
			return true
		}
		if timeout == nil {
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-changed:
		case <-timeout:
			return false
		}
	}
}
