package httpx

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/otelkit/otelkit/internal/reqctx"
)

type exchangeKey struct{}

// exchange is one request inside one Handler. It is at once the request's
// context (answering the keys of httpx and reqctx without another context
// layer), the request given to the wrapped handler, and the response writer
// wrapper, so that a request costs a single allocation.
type exchange struct {
	context.Context // the parent context
	cfg             *config
	req             http.Request // the request given to the wrapped handler
	rw              responseWriter
	outer           *exchange
	// entryPattern is the pattern the request arrived with: an outer
	// ServeMux's match when this Handler is mounted under a prefix.
	entryPattern string
}

// routed reports whether a router inside this Handler matched a pattern:
// the request's pattern is set and is not the one it arrived with.
func (e *exchange) routed() bool {
	return e.req.Pattern != "" && e.req.Pattern != e.entryPattern
}

func (e *exchange) Value(key any) any {
	switch key {
	case exchangeKey{}, reqctx.SourceKey:
		return e
	}
	return e.Context.Value(key)
}

func (e *exchange) String() string { return "httpx.exchange" }

// RequestInfo implements reqctx.Source, lazily.
func (e *exchange) RequestInfo() reqctx.Info {
	r := &e.req
	info := reqctx.Info{
		Route:         route(r.Pattern),
		Method:        r.Method,
		ClientAddress: e.cfg.clientAddr(r),
	}
	for x := e; x != nil && info.UserID == ""; x = x.outer {
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
type RequestInfo = reqctx.Info

// RequestInfoFromContext returns the request info of an httpx request; ok
// is false outside a [Handler].
func RequestInfoFromContext(ctx context.Context) (info RequestInfo, ok bool) {
	return reqctx.FromContext(ctx)
}

// responseWriter tracks whether the response has started and lets the
// Handler answer the router's plain-text 404 and 405 in JSON.
type responseWriter struct {
	ex      *exchange
	w       http.ResponseWriter
	status  int
	wrote   bool
	swallow bool // the router's plain-text body after an answered 404/405
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
	_ http.Hijacker       = (*responseWriter)(nil)
	_ io.ReaderFrom       = (*responseWriter)(nil)
)

func (w *responseWriter) Header() http.Header { return w.w.Header() }

func (w *responseWriter) WriteHeader(code int) {
	if !w.wrote && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) && w.routerError() {
		w.ex.answerRouteError(code)
		return
	}
	if code >= 200 && !w.wrote {
		w.wrote, w.status = true, code
	}
	w.w.WriteHeader(code)
}

// routerError reports whether a 404/405 comes from a router that matched no
// route: no router inside matched a pattern, and the body is plain text
// (http.Error) or untyped (chi's 405).
func (w *responseWriter) routerError() bool {
	if !w.ex.cfg.routeErrors || w.ex.routed() {
		return false
	}
	ct := w.w.Header().Get("Content-Type")
	return ct == "" || ct == "text/plain; charset=utf-8"
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
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
	if !w.wrote {
		w.wrote, w.status = true, http.StatusOK
	}
	_ = http.NewResponseController(w.w).Flush()
}

// Hijack lets the caller take over the connection when the underlying
// writer supports it.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.w).Hijack()
	if err == nil {
		w.wrote = true
	}
	return c, rw, err
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.w }

// started reports whether the response has begun, looking through nested
// handlers' writers.
func (w *responseWriter) started() bool { return w.wrote }
