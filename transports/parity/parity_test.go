package parity_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"

	"github.com/otelkit/otelkit/grpcx"
	"github.com/otelkit/otelkit/mask"
	"github.com/otelkit/otelkit/transports/parity"
)

// answer is what a client of one transport received for one case, in the
// table's terms.
type answer struct {
	status  int        // HTTP status; 0 for an RPC
	code    codes.Code // gRPC (or Connect) code; OK for an HTTP answer
	id      string     // the error's id ("" for success)
	message string     // the public message (problem title, status message)
	info    map[string]string
	entries []string // ids of a joined error's entries
	wire    string   // everything the client received, for the leak check
	err     error    // what the transport's client side made of the answer
}

// transport serves the table on 127.0.0.1 and calls it.
type transport struct {
	name string
	rpc  bool // answers with a gRPC code, not an HTTP status
	// event is the name of the exception span event on the server span.
	event string
	// route is the http.route of the error answers ("" for an RPC;
	// "/cases/{name}" when left empty on an HTTP transport).
	route string
	// metric is the server duration histogram of the transport's
	// instrumentation that otelkit labels (otelhttp's Labeler, otelgin's
	// metric attribute function, otelconnect's Labeler); "" where it
	// cannot: otelgrpc computes its metric attributes when the RPC begins
	// (WithMetricAttributesFn runs in TagRPC, before the handler), and
	// otelecho records no metrics.
	metric string
	// start serves the table with the server's spans, exception log
	// records and metrics going to p and returns how to call one case
	// under ctx (which carries the trace to join).
	start func(t *testing.T, p providers) func(ctx context.Context, name string) answer
}

// providers are the SDK providers a transport's server reports to. The
// client side reports to tp only.
type providers struct {
	tp trace.TracerProvider
	lp otellog.LoggerProvider
	mp metric.MeterProvider
}

// transports are registered by the files of each transport (init).
var transports []transport

func register(tr transport) { transports = append(transports, tr) }

// TestParity runs every case of the table through every transport, once
// per exception signal (OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN: span events,
// "logs", "logs/dup"; semconv docs/exceptions/README.md).
func TestParity(t *testing.T) {
	slices.SortFunc(transports, func(a, b transport) int { return strings.Compare(a.name, b.name) })
	for _, mode := range []struct {
		name, env    string
		events, logs bool
	}{
		{"span-events", "", true, false},
		{"logs", "logs", false, true},
		{"logs-dup", "logs/dup", true, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", mode.env)
			for _, tr := range transports {
				t.Run(tr.name, func(t *testing.T) {
					spans := newRecorder()
					tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
					exported := new(logs)
					lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exported)))
					reader := sdkmetric.NewManualReader()
					mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
					t.Cleanup(func() {
						_ = tp.Shutdown(context.Background())
						_ = lp.Shutdown(context.Background())
						_ = mp.Shutdown(context.Background())
					})
					call := tr.start(t, providers{tp: tp, lp: lp, mp: mp})
					for _, c := range parity.Cases {
						t.Run(c.Name, func(t *testing.T) {
							ctx, tid := newTrace()
							ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
							defer cancel()
							var before map[attribute.Distinct]metricdata.HistogramDataPoint[float64]
							if tr.metric != "" {
								before = points(t, reader, tr.metric)
							}
							a := call(ctx, c.Name)
							checkAnswer(t, tr, c, a)
							// The server span ends after the handler returned,
							// its log records were emitted and its duration
							// recorded (each instrumentation records the
							// metric before it ends the span).
							checkSpan(t, tr, c, mode.events, spans.server(t, tid))
							if err := lp.ForceFlush(ctx); err != nil {
								t.Fatal(err)
							}
							checkLogs(t, tr, c, mode.logs, exported.of(tid))
							if tr.metric != "" {
								checkMetric(t, c, before, points(t, reader, tr.metric))
							}
						})
					}
				})
			}
		})
	}
}

// checkAnswer: the answer is the case's, by the same rules on every
// transport.
func checkAnswer(t *testing.T, tr transport, c parity.Case, a answer) {
	t.Helper()
	if strings.Contains(a.wire, parity.Secret) {
		t.Errorf("the answer leaks the secret: %s", a.wire)
	}
	// Nor the cause's text, its Go type or a stack (issue 12: a 5xx or
	// unregistered error never carries its cause, type or stack).
	for _, leak := range []string{"boom", "postgres", "internal text", "errorString", "wrapError", "PanicError", "goroutine ", ".go:"} {
		if strings.Contains(a.wire, leak) {
			t.Errorf("the answer carries %q: %s", leak, a.wire)
		}
	}
	if c.Def == nil {
		if a.err != nil || a.id != "" {
			t.Errorf("success answered %v (id %q)", a.err, a.id)
		}
		if tr.rpc && a.code != codes.OK || !tr.rpc && a.status != 200 {
			t.Errorf("success answered status %d code %v", a.status, a.code)
		}
		return
	}
	def := c.Def
	if tr.rpc {
		if want := grpcx.Code(def.Status()); a.code != want {
			t.Errorf("code %v, want %v", a.code, want)
		}
	} else if a.status != def.Status() {
		t.Errorf("status %d, want %d", a.status, def.Status())
	}
	if a.id != def.ID() {
		t.Errorf("id %q, want %q", a.id, def.ID())
	}
	if a.message != def.Message() {
		t.Errorf("message %q, want %q", a.message, def.Message())
	}
	for k, want := range c.Info {
		if got := a.info[k]; got != want {
			t.Errorf("info %s = %q, want %q (info %v)", k, got, want, a.info)
		}
	}
	for _, k := range c.Masked {
		if got := a.info[k]; got != mask.Mask {
			t.Errorf("info %s = %q, want it masked", k, got)
		}
	}
	// Only what the table lists: a 5xx carries no info at all.
	for k := range a.info {
		if _, listed := c.Info[k]; !listed && !slices.Contains(c.Masked, k) {
			t.Errorf("info %s = %q is not the case's", k, a.info[k])
		}
	}
	var wantEntries []string
	for _, e := range c.Entries {
		wantEntries = append(wantEntries, e.ID())
	}
	if !slices.Equal(a.entries, wantEntries) {
		t.Errorf("entries %v, want %v", a.entries, wantEntries)
	}
	// The client side turns the answer back into the definition.
	if a.err == nil {
		t.Fatal("the client side returned no error")
	}
	if !errors.Is(a.err, def) {
		t.Errorf("errors.Is(%v, %s) is false", a.err, def.ID())
	}
	if got := parity.Registry.Resolve(a.err); got != def {
		t.Errorf("Resolve(%v) = %s, want %s", a.err, got.ID(), def.ID())
	}
	for _, e := range c.Entries {
		if !errors.Is(a.err, e) {
			t.Errorf("errors.Is(%v, entry %s) is false", a.err, e.ID())
		}
	}
}

// checkSpan: the server span follows otelkit's status rule on every
// transport.
func checkSpan(t *testing.T, tr transport, c parity.Case, events bool, s sdktrace.ReadOnlySpan) {
	t.Helper()
	attrs := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		attrs[kv.Key] = kv.Value
	}
	var exceptions int
	for _, e := range s.Events() {
		if e.Name == tr.event {
			exceptions++
		}
	}
	errType, hasErrType := attrs["error.type"]
	errID, hasErrID := attrs["otelkit.error.id"]
	switch {
	case c.Def == nil:
		if s.Status().Code == otelcodes.Error || hasErrType || hasErrID || exceptions > 0 {
			t.Errorf("success span: status %v, error.type %v, otelkit.error.id %v, %d exceptions", s.Status(), errType, errID, exceptions)
		}
	case c.Failure:
		if s.Status().Code != otelcodes.Error {
			t.Errorf("span status %v, want Error", s.Status())
		}
		if errType.AsString() != c.Def.ID() {
			t.Errorf("span error.type %q, want %q", errType.AsString(), c.Def.ID())
		}
		want := 0
		if events {
			want = 1
		}
		if exceptions != want {
			t.Errorf("%d %s events, want %d (events %v)", exceptions, tr.event, want, s.Events())
		}
	default:
		if s.Status().Code != otelcodes.Unset {
			t.Errorf("span status %v, want Unset", s.Status())
		}
		if hasErrType {
			t.Errorf("span has error.type %q", errType.AsString())
		}
		if errID.AsString() != c.Def.ID() {
			t.Errorf("span otelkit.error.id %q, want %q", errID.AsString(), c.Def.ID())
		}
		if exceptions != 0 {
			t.Errorf("%d exception events on a 4xx", exceptions)
		}
	}
	if c.Def != nil && !tr.rpc {
		want := tr.route
		if want == "" {
			want = "/cases/{name}"
		}
		if got := attrs["http.route"].AsString(); got != want {
			t.Errorf("span http.route %q, want %s", got, want)
		}
	}
}

// newTrace returns a context carrying a new remote trace for the client to
// propagate, so that the server span of the call can be found by its trace
// id.
func newTrace() (context.Context, trace.TraceID) {
	var tid trace.TraceID
	var sid trace.SpanID
	_, _ = rand.Read(tid[:])
	_, _ = rand.Read(sid[:])
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true})
	return trace.ContextWithRemoteSpanContext(context.Background(), sc), tid
}

// recorder keeps ended spans and wakes waiters.
type recorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
	more  chan struct{}
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{})} }

func (r *recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *recorder) Shutdown(context.Context) error                  { return nil }
func (r *recorder) ForceFlush(context.Context) error                { return nil }
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	close(r.more)
	r.more = make(chan struct{})
	r.mu.Unlock()
}

// server waits for the server span of trace tid: it may end after the
// client has its answer.
func (r *recorder) server(t *testing.T, tid trace.TraceID) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		for _, s := range r.spans {
			if s.SpanContext().TraceID() == tid && s.SpanKind() == trace.SpanKindServer {
				r.mu.Unlock()
				return s
			}
		}
		more := r.more
		r.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no server span of trace %s", tid)
		}
	}
}
