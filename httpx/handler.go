package httpx

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/byid"
	"github.com/otelkit/otelkit/internal/cowmap"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/internal/telctx"
)

// Handler returns middleware around next that renders errors from the
// registry: errors returned by [HandlerFunc]s and passed to [WriteError],
// recovered panics (as the registered internal error), and the router's
// answers for unknown routes (404) and wrong methods (405, keeping Allow).
// Each is also recorded on the request's span and metrics.
//
// Handlers nest: an inner Handler with its own registry handles the errors
// of its routes, and the outer one never renders them again.
func Handler(next http.Handler, opts ...Option) http.Handler {
	if next == nil {
		panic("httpx: Handler(nil)")
	}
	h := &handler{next: next, own: opts, cfg: newConfig(opts)}
	h.chi, _ = next.(chi.Routes)
	if _, ok := next.(*http.ServeMux); ok {
		h.mux = serveMuxSetsPattern()
	}
	return h
}

type handler struct {
	next http.Handler
	chi  chi.Routes // next, when it is a chi router
	// mux reports that next is a ServeMux that sets the pattern of every
	// request it routes ("" when nothing matched): inside it, a pattern
	// is always its own match, never the one the request arrived with.
	mux    bool
	own    []Option
	cfg    *config  // used outside any other Handler
	nested sync.Map // *config of an outer Handler -> *config inheriting it
	// routes maps a pattern to its http.route attribute, copied on write
	// (routeAttr): reading a plain map costs a fraction of a sync.Map's
	// interface hashing on every request.
	routes cowmap.Map[string, *routeEntry]
	// recent holds the entries of the patterns seen last, by routeSlot: a
	// router hands out the same string for a pattern on every request, so
	// most requests find theirs with one load and one comparison of
	// pointers, without hashing the pattern (about 130 instructions). Two
	// patterns that share a slot only fall back to the map.
	recent [16]atomic.Pointer[routeEntry]
}

// routeEntry is a pattern and its http.route attribute.
type routeEntry struct {
	pattern string
	attr    []attribute.KeyValue
}

// routeSlot spreads patterns over handler.recent by their length and two
// of their bytes (patterns share their start: "GET /…"). p is not empty.
func routeSlot(p string) int {
	return (len(p)*7 + int(p[len(p)-1]) + int(p[len(p)/2])) & 15
}

// under returns the configuration of h nested in a Handler configured with
// outer: outer's options, then h's own (see [Option]). Handlers are built
// at start-up, so the cache holds one entry per way of nesting.
func (h *handler) under(outer *config) *config {
	if c, ok := h.nested.Load(outer); ok {
		return c.(*config)
	}
	opts := make([]Option, 0, len(outer.opts)+len(h.own))
	opts = append(append(opts, outer.opts...), h.own...)
	c := newConfig(opts)
	c.nested = true
	v, _ := h.nested.LoadOrStore(outer, c)
	return v.(*config)
}

// routeAttr returns the http.route attribute of a pattern as a slice made
// once per pattern (patterns are the router's, so the cache is bounded):
// handing it to span.SetAttributes costs no allocation.
func (h *handler) routeAttr(pattern string) []attribute.KeyValue {
	if e := h.recent[routeSlot(pattern)].Load(); e != nil && e.pattern == pattern {
		return e.attr
	}
	return h.rememberRoute(pattern)
}

// rememberRoute returns the attribute of a pattern not in its recent slot,
// and puts it there.
func (h *handler) rememberRoute(pattern string) []attribute.KeyValue {
	e := h.routeEntry(pattern)
	h.recent[routeSlot(pattern)].Store(e)
	return e.attr
}

// routeEntry returns the entry of a pattern from the map, adding it there
// the first time.
func (h *handler) routeEntry(pattern string) *routeEntry {
	if e, ok := h.routes.Load(pattern); ok {
		return e
	}
	return h.routes.LoadOrMake(pattern, 0, func() *routeEntry {
		return &routeEntry{pattern: pattern, attr: []attribute.KeyValue{semconv.HTTPRoute(route(pattern))}}
	})
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parent := r.Context()
	outer := exchangeFrom(parent)
	var ex *exchange
	if outer == nil && h.chi == nil && !outcomeTracked.Load() && (r.Pattern == "" || h.mux) {
		ex = &exchange{parent: parent, cfg: h.cfg}
	} else {
		ex = h.exchangeFor(parent, outer, r.Pattern)
	}
	ex.w = w
	// The copy WithContext makes stays on the stack: the exchange holds
	// the request the wrapped handler gets.
	ex.req = *r.WithContext(ex)
	defer h.finish(ex, r)
	h.next.ServeHTTP(ex.writer(), &ex.req)
}

// exchangeFor makes the exchange of a request inside another Handler (an
// outer exchange), tracked (TrackOutcome), routed by the chi router this
// Handler wraps, or arriving with an entry pattern a ServeMux inside will
// not replace: these may need a side (see side).
func (h *handler) exchangeFor(parent context.Context, outer *exchange, entryPattern string) *exchange {
	cfg := h.cfg
	var outcome *Outcome
	if outer != nil {
		cfg = h.under(outer.cfg)
		outcome = outer.outcome()
	} else if outcomeTracked.Load() {
		outcome, _ = parent.Value(outcomeKey{}).(*Outcome)
	}
	var c *chi.Context
	if h.chi != nil && parent.Value(chi.RouteCtxKey) == nil {
		// Route for chi: given a routing context, it routes our request
		// instead of a copy of it, and the pattern it matched (through
		// every mounted sub-router) is known here even for requests
		// that end without an error, as it is for ServeMux.
		c = chiContexts.Get().(*chi.Context)
		c.Reset()
		c.Routes = h.chi
	}
	if outcome != nil || c != nil || (entryPattern != "" && !h.mux) {
		// One allocation still: the exchange and its side in one piece.
		b := &exchangeWithSide{s: side{Context: parent, outcome: outcome, entryPattern: entryPattern}}
		b.s.chi.Store(c)
		b.e.parent, b.e.cfg = &b.s, cfg
		return &b.e
	}
	return &exchange{parent: parent, cfg: cfg}
}

// finish runs deferred, so it also runs while a panic unwinds.
func (h *handler) finish(ex *exchange, r *http.Request) {
	pattern := ex.req.Pattern
	if s := ex.side(); s != nil && s.chi.Load() != nil {
		defer ex.releaseChi(s)
		if p := s.chiRoute(); p != "" {
			pattern = p
		}
	}
	// ServeMux sets Pattern on the request it was given, which is our copy:
	// hand it back so that otelhttp, outside, names the span and labels the
	// metrics with the route.
	if pattern != "" {
		r.Pattern = pattern
		if !ex.cfg.nested {
			h.recordRoute(ex.parent, pattern)
		}
	}
	v := recover()
	if v == nil {
		if ex.held != 0 {
			ex.writer().settle()
		}
		ex.noteStatus()
		return
	}
	recovered(ex, v)
}

// recovered renders and records v, a panic of the handler that finish
// recovered, unless it is http.ErrAbortHandler, which it panics with
// again. It aborts the connection when the response had started.
func recovered(ex *exchange, v any) {
	if v == http.ErrAbortHandler {
		panic(v)
	}
	r2 := &ex.req
	f := &record.Failure{
		Err:   &record.PanicError{Value: v},
		Match: errorsx.Match{Def: errorsx.Internal},
		Kind:  record.KindPanic,
		Stack: record.PanicStack(),
	}
	started := ex.wrote
	ex.cfg.fail(ex, ex.writer(), r2, f)
	ex.noteStatus()
	if started {
		// The client has part of a response that will never be right:
		// abort the connection, as net/http does for a panic, rather than
		// end a truncated body cleanly.
		panic(http.ErrAbortHandler)
	}
}

// recordRoute sets http.route on the request's span. The HTTP server span
// conventions make it conditionally required, "if and only if it's
// available" (semconv model/http/spans.yaml, span.http.server), and
// otelhttp sets it only from the pattern a request arrives with, before a
// router inside has matched (it renames the span after the handler, but
// adds no attribute).
//
// A span that does not record drops it in SetAttributes. Asking
// IsRecording first would cost the SDK's recording span a lock and an
// unlock more, and checking the SpanContext copying it twice: more than
// the cached route lookup either would spare. Only a context without a
// span skips the lookup: SpanFromContext then returns its no-op span,
// whose type (noSpan) no other span has; comparing types is a pointer
// comparison, where comparing the spans would compare their fields.
func (h *handler) recordRoute(ctx context.Context, pattern string) {
	if span := trace.SpanFromContext(ctx); reflect.TypeOf(span) != noSpan {
		span.SetAttributes(h.routeAttr(pattern)...)
	}
}

// noSpan is the type of the span trace.SpanFromContext returns for a
// context without one.
var noSpan = reflect.TypeOf(trace.SpanFromContext(context.Background()))

// serveMuxSetsPattern reports whether a ServeMux sets the pattern of the
// requests it routes, as it does unless GODEBUG=httpmuxgo121=1 restores
// the Go 1.21 ServeMux, which has no patterns.
var serveMuxSetsPattern = sync.OnceValue(func() bool {
	m := http.NewServeMux()
	m.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}, Pattern: "entry"}
	m.ServeHTTP(nil, r)
	return r.Pattern == "/"
})

// chiContexts recycles the routing contexts given to chi routers, as chi
// itself does with the ones it makes.
var chiContexts = sync.Pool{New: func() any { return chi.NewRouteContext() }}

// chiBusy stands in side.chi while a goroutine reads the routing
// context through chiRoute or while the request's end releases it.
var chiBusy = new(chi.Context)

// chiContext returns the routing context this Handler gave chi, nil when
// none or once the request is over: chi's contract for its own contexts,
// which it recycles when its ServeHTTP returns (see chi.Context.Clone).
func (s *side) chiContext() *chi.Context {
	for {
		switch c := s.chi.Load(); c {
		case chiBusy:
			runtime.Gosched() // chiRoute or releaseChi, a few instructions
		default:
			return c
		}
	}
}

// chiRoute returns the full pattern chi matched for the request, "" when
// this Handler gave chi no routing context or chi matched nothing. It may
// be called from any goroutine, during the request or after it (an audit
// emitted by a goroutine the handler started): it holds the routing
// context (chiBusy in its place) while it reads it, and releaseChi takes
// it the same way, so that it is never read while recycled; after the
// request the pattern is on e.req (see releaseChi).
func (s *side) chiRoute() string {
	for {
		c := s.chi.Load()
		switch {
		case c == nil:
			return ""
		case c == chiBusy:
			runtime.Gosched()
		case s.chi.CompareAndSwap(c, chiBusy):
			p := ""
			if len(c.RoutePatterns) > 0 {
				p = c.RoutePattern()
			}
			s.chi.Store(c)
			return p
		}
	}
}

// releaseChi gives the routing context back to the pool once the request
// is over, as chi does with its own, after keeping the pattern chi matched
// on e.req (a chi middleware that copies the request, such as RequestID,
// leaves chi setting it on the copy only), for RequestInfo after the
// request. A goroutine that reads e.req.Pattern after finding s.chi nil
// reads it after it was set.
func (e *exchange) releaseChi(s *side) {
	for {
		c := s.chi.Load()
		if c == chiBusy {
			runtime.Gosched()
			continue
		}
		if !s.chi.CompareAndSwap(c, chiBusy) {
			continue
		}
		if len(c.RoutePatterns) > 0 {
			if p := c.RoutePattern(); p != e.req.Pattern {
				e.req.Pattern = p
			}
		}
		s.chi.Store(nil)
		c.Reset()
		chiContexts.Put(c)
		return
	}
}

func (e *exchange) answerRouteError(code int) {
	def := errorsx.NotFound
	if code == http.StatusMethodNotAllowed {
		def = errorsx.MethodNotAllowed
	}
	f := &record.Failure{Err: def, Match: errorsx.Match{Def: def, Matched: def}, Kind: record.KindError}
	e.cfg.fail(e, e.writer(), &e.req, f)
	e.swallow = true
}

// HandlerFunc is an HTTP handler that returns an error. A non-nil error is
// rendered with [WriteError].
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

var _ http.Handler = HandlerFunc(nil)

// ServeHTTP calls f and renders the error it returns.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		// The handler has returned: its frame heads the stack in
		// telemetry, which then goes on with the caller of ServeHTTP.
		writeError(w, r, err, reflect.ValueOf(f).Pointer(), 3)
	}
}

// WriteError renders err for the client and records it on the request's
// telemetry, using the settings of the innermost [Handler] around the
// request (or the defaults outside any). A 5xx or unregistered error shows
// only its registered message, id and trace id; its cause stays in
// telemetry. If the response has already started, only telemetry is
// written.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, err, 0, 3) // the stack starts at the caller of WriteError
}

// writeError renders err. site is the entry of the function that returned
// err, or 0; skip counts the frames above config.fail that stacks leave out
// (writeError and its callers inside httpx).
func writeError(w http.ResponseWriter, r *http.Request, err error, site uintptr, skip int) {
	if err == nil {
		return
	}
	ctx := r.Context()
	ex := exchangeFrom(ctx)
	var cfg *config
	if ex != nil {
		cfg = ex.cfg
		if !ex.routed() && r.Pattern != "" {
			// A router that copies the request (chi) sets the pattern on
			// its copy only: take it from there for http.route.
			ex.req.Pattern = r.Pattern
		}
	} else {
		cfg = defaultConfig()
	}
	// An ErrorByID in the chain counts only when nothing outside it
	// resolved, so that the outermost registered error wins as everywhere
	// else.
	m, why := byid.Match(cfg.registry, err)
	if why != nil {
		err = why // telemetry says why the internal error was rendered
	}
	f := record.Failure{Err: err, Match: m, Kind: record.KindError, Skip: skip, Site: site}
	cfg.fail(ex, w, r, &f)
}

// fail records f and renders it unless the response has started.
func (c *config) fail(ex *exchange, w http.ResponseWriter, r *http.Request, f *record.Failure) {
	ctx := r.Context()
	if f.Mask == nil {
		f.Mask = c.mask
	}
	if ex != nil {
		if o := ex.outcome(); o != nil {
			o.Def = f.Match.Def
			o.Panic = f.Kind == record.KindPanic
		}
	}
	f.Report = f.Report || c.logClient
	if f.Signal == record.SignalDefault {
		f.Signal = c.signal
	}
	if f.Frames == record.FramesDefault {
		f.Frames = c.frames
	}
	record.Record(ctx, telctx.Logger(ctx, record.ScopeName, c.logger), c.mask, f, nil)
	if ex != nil && ex.wrote {
		return
	}
	if _, ok := c.renderer.(ProblemJSON); ok {
		// The default renderer, called directly: the problem stays on
		// the stack, and its trace id goes into the body from its 16
		// bytes, without a string.
		var p Problem
		c.problem(ctx, r, f.Match, &p)
		handleRenderError(&p, ProblemJSON{}.Render(w, r, &p))
		return
	}
	c.renderPooled(ctx, w, r, f.Match)
}

// renderPooled renders with a Renderer of the service's own, which gets a
// pooled problem (one given to an interface method escapes) with its trace
// id as a string.
func (c *config) renderPooled(ctx context.Context, w http.ResponseWriter, r *http.Request, m errorsx.Match) {
	p := problemPool.Get().(*Problem)
	c.problem(ctx, r, m, p)
	if p.traceID.IsValid() {
		p.TraceID, p.traceID = p.traceID.String(), trace.TraceID{}
	}
	handleRenderError(p, c.renderer.Render(w, r, p))
	*p = Problem{}
	problemPool.Put(p)
}

// handleRenderError hands a renderer's error to otel.Handle.
func handleRenderError(p *Problem, err error) {
	if err != nil {
		otel.Handle(fmt.Errorf("httpx: rendering %q: %w", p.ID, err))
	}
}

// problemPool recycles problems: a Renderer does not keep the one it is
// given past Render.
var problemPool = sync.Pool{New: func() any { return new(Problem) }}

// ErrorByID returns an error that renders as the definition registered
// with id, for code that knows an id but not its *errorsx.Def. It does not
// stop the handler: return it. The id is looked up when the error is
// rendered, in the registry of the Handler that renders it; an unknown id
// renders the internal error and telemetry records why.
func ErrorByID(id string) error {
	return &byid.Error{ID: id}
}

// Abort returns [ErrorByID](id), and renders the internal error when the
// definition's status is not status.
//
// Deprecated: use [ErrorByID]; the id alone fixes the status.
func Abort(status int, id string) error {
	return &byid.Error{Status: status, ID: id}
}
