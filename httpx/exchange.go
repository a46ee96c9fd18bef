package httpx

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/reqctx"
)

type exchangeKey struct{}

// exchange is one request inside one Handler. It is at once the request's
// context (answering the keys of httpx and reqctx without another context
// layer), the request given to the wrapped handler, and the response writer
// wrapper (responseWriter is the same struct), so that a request costs a
// single allocation: 352 B with Go 1.26's 304 B http.Request (see
// TestExchangeLayout). Fields used by few requests are derived or kept
// apart instead of stored: the exchange of an outer Handler is found in
// the parent context (outer), the writer needs no pointer back, and what
// only a tracked, mounted or chi-routed request needs is in a side context
// standing in the parent slot (see side).
//
// It is not pooled: the request, its context and the writer may be kept by
// goroutines the handler starts, after ServeHTTP has returned; a recycled
// exchange would hand them another request's data.
type exchange struct {
	// parent is the request's context as the Handler got it, or a *side
	// wrapping it when the request needs one.
	parent context.Context
	cfg    *config
	req    http.Request // the request given to the wrapped handler

	// The response writer's state (see responseWriter).
	w       http.ResponseWriter
	status  int32  // the status sent, 0 before the response starts
	held    uint16 // a 404/405 held back until its body shows whether a router wrote it
	wrote   bool
	swallow bool // the router's plain-text body after an answered 404/405
}

// side holds what only some requests need: the Outcome of TrackOutcome, the
// pattern of an outer router the Handler is mounted under, the routing
// context of a chi router the Handler wraps. It is a context wrapping the
// request's own, kept in the exchange's parent slot, so that a request that
// needs none of them (not tracked; around a ServeMux, or not mounted)
// costs no field for them; the others allocate the exchange and its side
// in one piece (exchangeWithSide, 416 B).
type side struct {
	context.Context // the request's context as the Handler got it

	outcome *Outcome // from TrackOutcome, or nil
	// entryPattern is the pattern the request arrived with: an outer
	// router's match when this Handler is mounted under a prefix. It is
	// not kept when the Handler wraps a ServeMux, which sets a pattern of
	// its own on every request (see handler.mux).
	entryPattern string
	// chi is the routing context this Handler gave the chi router it
	// wraps, nil when it wraps no chi router or one outside already
	// routes the request, and once the request is over (see chiRoute).
	chi atomic.Pointer[chi.Context]
}

// exchangeWithSide is an exchange and its side context in one allocation.
type exchangeWithSide struct {
	e exchange
	s side
}

// Value answers chi's key with the routing context this Handler gave chi,
// and passes every other key on.
func (s *side) Value(key any) any {
	if key == chi.RouteCtxKey {
		if c := s.chiContext(); c != nil {
			return c
		}
	}
	return s.Context.Value(key)
}

func (s *side) String() string { return "httpx.side" }

// side returns the exchange's side context, nil when the request needs
// none.
func (e *exchange) side() *side {
	s, _ := e.parent.(*side)
	return s
}

// outcome returns the Outcome the request's TrackOutcome asked for, nil if
// none.
func (e *exchange) outcome() *Outcome {
	if s := e.side(); s != nil {
		return s.outcome
	}
	return nil
}

// writer returns the exchange as the response writer the wrapped handler
// gets.
func (e *exchange) writer() *responseWriter { return (*responseWriter)(e) }

// outer returns the exchange of the Handler this one is nested in, nil if
// none.
func (e *exchange) outer() *exchange {
	if !e.cfg.nested {
		return nil
	}
	return exchangeFrom(e.parent)
}

func (e *exchange) Deadline() (deadline time.Time, ok bool) { return e.parent.Deadline() }
func (e *exchange) Done() <-chan struct{}                   { return e.parent.Done() }
func (e *exchange) Err() error                              { return e.parent.Err() }

// routed reports whether a router inside this Handler matched a pattern:
// the request's pattern is set and is not the one it arrived with. chi sets
// a pattern for a mounted sub-router before knowing whether a route inside
// it matches, so under chi it is always false (errors bring the pattern of
// their own request, see writeError).
func (e *exchange) routed() bool {
	p := e.req.Pattern
	if s := e.side(); s != nil {
		return s.chi.Load() == nil && p != "" && p != s.entryPattern
	}
	return p != ""
}

func (e *exchange) Value(key any) any {
	switch key {
	case exchangeKey{}, reqctx.SourceKey:
		return e
	}
	return e.parent.Value(key) // a side answers chi's key
}

func (e *exchange) String() string { return "httpx.exchange" }

// Registry returns the registry of the Handler serving the request, so that
// otelbridge's captures resolve errors as this Handler renders them.
func (e *exchange) Registry() *errorsx.Registry { return e.cfg.registry }

// RequestInfo implements reqctx.Source, lazily.
func (e *exchange) RequestInfo() reqctx.Info {
	r := &e.req
	pattern := ""
	if s := e.side(); s != nil {
		pattern = s.chiRoute() // a chi middleware may have routed a copy of r
	}
	if pattern == "" {
		pattern = r.Pattern
	}
	info := reqctx.Info{
		Route:         route(pattern),
		Method:        r.Method,
		ClientAddress: e.cfg.clientAddr(r),
	}
	for x := e; x != nil && info.UserID == ""; x = x.outer() {
		if x.cfg.user != nil {
			info.UserID = x.cfg.user(r)
		}
	}
	return info
}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// route turns a ServeMux pattern ("GET example.com/users/{id}") into the
// http.route of the semantic conventions ("/users/{id}").
func route(pattern string) string {
	if pattern == "" {
		return ""
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimLeft(pattern[i+1:], " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // drop the host
	}
	return pattern
}

// RequestInfo describes the request a context belongs to, as audit and
// exception records see it.
type RequestInfo struct {
	// Route is the http.route, e.g. "/users/{id}" ("" before a router
	// inside the Handler has matched).
	Route string
	// Method is the http.request.method.
	Method string
	// ClientAddress is the client.address (see [WithClientAddress]).
	ClientAddress string
	// UserID is the user.id from [WithUser] ("" for anonymous requests).
	UserID string
}

// RequestInfoFromContext returns the request info of an httpx request; ok
// is false outside a [Handler] (inside a gRPC call served under grpcx too).
func RequestInfoFromContext(ctx context.Context) (info RequestInfo, ok bool) {
	i, ok := reqctx.FromContext(ctx)
	if !ok || i.Method == "" {
		return RequestInfo{}, false // not an HTTP request: a gRPC call
	}
	return RequestInfo{Route: i.Route, Method: i.Method, ClientAddress: i.ClientAddress, UserID: i.UserID}, true
}

// responseWriter is the exchange seen as the response writer: it tracks
// whether the response has started and lets the Handler answer the
// router's plain-text 404 and 405 in JSON.
type responseWriter exchange

// ex returns the exchange the writer is.
func (w *responseWriter) ex() *exchange { return (*exchange)(w) }

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
	_ http.Hijacker       = (*responseWriter)(nil)
	_ io.ReaderFrom       = (*responseWriter)(nil)
)

func (w *responseWriter) Header() http.Header { return w.w.Header() }

func (w *responseWriter) WriteHeader(code int) {
	if !w.wrote && w.held == 0 && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) && w.mayBeRouter() {
		w.held = uint16(code) // decided by the body: see Write
		return
	}
	w.release()
	if code >= 200 && !w.wrote {
		w.wrote, w.status = true, int32(code)
	}
	w.w.WriteHeader(code)
}

// mayBeRouter reports whether a 404/405 may be a router's answer to a
// request that matched no route: no ServeMux inside matched a pattern, and
// the response is plain text (http.Error) or untyped (chi's 405).
func (w *responseWriter) mayBeRouter() bool {
	if !w.ex().cfg.routeErrors || w.ex().routed() {
		return false
	}
	ct := w.w.Header().Get("Content-Type")
	return ct == "" || ct == "text/plain; charset=utf-8"
}

// routerBody reports whether b, the first body write after a held status,
// is what routers write when nothing matched: http.NotFound's text,
// ServeMux's 405 text, or chi's empty 405. A handler's own 404 ("gone to
// archive", JSON…) is left alone.
func routerBody(code int, b []byte) bool {
	switch code {
	case http.StatusNotFound:
		return string(b) == "404 page not found\n"
	case http.StatusMethodNotAllowed:
		return len(b) == 0 || string(b) == "Method Not Allowed\n"
	}
	return false
}

// release sends a held status on as it is.
func (w *responseWriter) release() {
	if code := w.held; code != 0 {
		w.held = 0
		w.wrote, w.status = true, int32(code)
		w.w.WriteHeader(int(code))
	}
}

// settle decides a status still held when the handler returns without a
// body: a bare 405 is a router's (chi), a bare 404 the handler's.
func (w *responseWriter) settle() {
	if w.held == http.StatusMethodNotAllowed {
		w.held = 0
		w.ex().answerRouteError(http.StatusMethodNotAllowed)
		return
	}
	w.release()
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	if w.held != 0 {
		if code := int(w.held); routerBody(code, b) {
			w.held = 0
			w.ex().answerRouteError(code)
			return len(b), nil
		}
		w.release()
	}
	if !w.wrote {
		w.wrote, w.status = true, http.StatusOK
	}
	return w.w.Write(b)
}

// ReadFrom copies from src, through the underlying writer's ReadFrom when
// it has one (sendfile for *os.File bodies).
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.swallow {
		return io.Copy(io.Discard, src)
	}
	w.release()
	if !w.wrote {
		w.wrote, w.status = true, http.StatusOK
	}
	if rf, ok := w.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w.w}, src)
}

// writerOnly hides every method but Write, so io.Copy cannot loop back
// into ReadFrom.
type writerOnly struct{ io.Writer }

// Flush sends buffered data to the client when the underlying writer can.
func (w *responseWriter) Flush() {
	w.release()
	if !w.wrote {
		w.wrote, w.status = true, http.StatusOK
	}
	_ = http.NewResponseController(w.w).Flush()
}

// Hijack lets the caller take over the connection when the underlying
// writer supports it.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.held = 0 // the connection is the caller's now
	c, rw, err := http.NewResponseController(w.w).Hijack()
	if err == nil {
		w.wrote = true
	}
	return c, rw, err
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.w }
