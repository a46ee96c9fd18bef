package errtrack

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// A Tracker is also a span processor: where exceptions are recorded as
// span events only (OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN unset, the
// conventions' default), it reads them from ended spans, so that it sees
// every failure whatever the signal.
var _ sdktrace.SpanProcessor = (*Tracker)(nil)

// OnStart does nothing.
func (t *Tracker) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd records the exception events of s ([IsException] of their names),
// with the span's http.route, http.request.method and
// http.response.status_code. An event that was also emitted as a log record
// ("logs/dup": otelkit gives both the same timestamp) is counted once.
func (t *Tracker) OnEnd(s sdktrace.ReadOnlySpan) {
	if t.closed.Load() {
		return
	}
	evs := s.Events()
	var spanAttrs []attribute.KeyValue
	for i := range evs {
		if !IsException(evs[i].Name) {
			continue
		}
		if spanAttrs == nil {
			spanAttrs = make([]attribute.KeyValue, 0, 3)
			for _, kv := range s.Attributes() {
				switch kv.Key {
				case keyRoute, keyMethod, keyStatus:
					spanAttrs = append(spanAttrs, kv)
				}
			}
		}
		src := &spanEvent{sc: s.SpanContext(), ev: &evs[i], span: spanAttrs}
		o := t.read(src)
		if t.pair.seen(o) {
			continue
		}
		now := t.cfg.now()
		t.mu.Lock()
		n := t.add(o, now)
		t.mu.Unlock()
		if n != nil {
			t.del.enqueue(*n)
		}
	}
}

// spanEvent presents an exception span event as a record to read: its own
// attributes first, then the span's that the event does not carry.
type spanEvent struct {
	sc   trace.SpanContext
	ev   *sdktrace.Event
	span []attribute.KeyValue
}

func (e *spanEvent) AttributesLen() int { return len(e.ev.Attributes) + len(e.span) }

func (e *spanEvent) WalkAttributes(f func(attribute.KeyValue) bool) {
	for _, kv := range e.ev.Attributes {
		if !f(kv) {
			return
		}
	}
next:
	for _, kv := range e.span {
		for _, own := range e.ev.Attributes {
			if own.Key == kv.Key {
				continue next
			}
		}
		if !f(kv) {
			return
		}
	}
}

func (e *spanEvent) Body() attribute.Value        { return attribute.Value{} }
func (e *spanEvent) TraceID() trace.TraceID       { return e.sc.TraceID() }
func (e *spanEvent) SpanID() trace.SpanID         { return e.sc.SpanID() }
func (e *spanEvent) Timestamp() time.Time         { return e.ev.Time }
func (e *spanEvent) ObservedTimestamp() time.Time { return e.ev.Time }

// pairing remembers exception log records that belong to a span, so that
// the span event of the same exception ("logs/dup") is not counted again.
// It is bounded: past maxPending unpaired records the oldest are
// forgotten (then a "logs/dup" event that ends later than that many other
// exceptions is counted twice).
type pairing struct {
	mu   sync.Mutex
	keys map[pairKey]struct{}
	ring []pairKey
	next int
}

const maxPending = 4096

type pairKey struct {
	span        trace.SpanID
	at          int64
	fingerprint string
}

func keyOf(o occurrence) (pairKey, bool) {
	if o.occ.SpanID == "" {
		return pairKey{}, false
	}
	sid, err := trace.SpanIDFromHex(o.occ.SpanID)
	if err != nil {
		return pairKey{}, false
	}
	return pairKey{span: sid, at: o.occ.Time.UnixNano(), fingerprint: o.fingerprint}, true
}

// logged notes the log record o.
func (p *pairing) logged(o occurrence) {
	k, ok := keyOf(o)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys == nil {
		p.keys = make(map[pairKey]struct{})
	}
	if len(p.ring) < maxPending {
		p.ring = append(p.ring, k)
	} else {
		delete(p.keys, p.ring[p.next])
		p.ring[p.next] = k
		p.next = (p.next + 1) % maxPending
	}
	p.keys[k] = struct{}{}
}

// seen reports whether the span event o was already read as a log record.
func (p *pairing) seen(o occurrence) bool {
	k, ok := keyOf(o)
	if !ok {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok = p.keys[k]
	delete(p.keys, k) // its ring slot goes when the ring comes round
	return ok
}
