package ginx

import (
	"bufio"
	"net"
	"net/http"
	"slices"
	"sync"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// Middleware returns gin middleware that serves the rest of the chain
// inside an [httpx.Handler] configured with opts: the last error attached
// with c.Error is rendered with [httpx.WriteError], a panic is recovered
// and answered with the internal error, and gin's plain-text 404 and 405
// become the registered not-found and method-not-allowed bodies. Every
// httpx option applies; gin does the routing, so httpx's own detection of
// a router's 404/405 is off.
func Middleware(opts ...httpx.Option) gin.HandlerFunc {
	h := httpx.Handler(http.HandlerFunc(serve), append(slices.Clip(opts), httpx.WithoutRouteErrors())...)
	return func(c *gin.Context) {
		st := states.Get().(*state)
		st.c, st.gw = c, c.Writer
		defer st.release()
		h.ServeHTTP(st, c.Request)
		if !st.returned {
			// httpx recovered a panic and answered the internal error.
			c.Set(metricKey, internalAttrs)
		}
	}
}

// metricKey holds, in the gin context, the attributes [MetricAttributes]
// returns.
const metricKey = "otelkit.ginx.metric"

var internalAttrs = []attribute.KeyValue{semconv.ErrorTypeKey.String(errorsx.Internal.ID())}

// MetricAttributes returns the attributes otelkit adds to the request's
// duration metric: otelkit.error.id for a rendered 4xx, error.type for a
// 5xx, none for a success. Give it to otelgin with
// otelgin.WithGinMetricAttributeFn.
func MetricAttributes(c *gin.Context) []attribute.KeyValue {
	v, _ := c.Get(metricKey)
	switch v := v.(type) {
	case *otelhttp.Labeler:
		return v.Get()
	case []attribute.KeyValue:
		return v
	}
	return nil
}

// serve runs inside the httpx.Handler: r is the Handler's request (its
// context answers httpx, otelbridge and auditx) and w its response writer,
// which gin's handlers write through for the time of the chain.
func serve(w http.ResponseWriter, r *http.Request) {
	st := stateOf(w)
	c := st.c
	r.Pattern = c.FullPath() // http.route, as otelgin sees it
	st.w = writer{ResponseWriter: st.gw, hx: w}
	saved := c.Request
	c.Request, c.Writer = r, &st.w
	defer func() { c.Request, c.Writer = saved, st.gw }()
	c.Next()
	st.returned = true

	var err error
	if last := c.Errors.Last(); last != nil {
		err = last.Err
		c.Errors = c.Errors[:0] // rendered here: otelgin must not see them
	} else if c.FullPath() == "" && !st.gw.Written() {
		// gin's NoRoute/NoMethod chain ran without an answer of its own:
		// gin would write its plain-text body after the middleware.
		switch st.gw.Status() {
		case http.StatusNotFound:
			err = errorsx.NotFound
		case http.StatusMethodNotAllowed:
			err = errorsx.MethodNotAllowed
		}
	}
	if err == nil {
		return
	}
	// The id reaches otelgin's metric through a labeler, as it reaches
	// otelhttp's; made only for a request that failed.
	l := new(otelhttp.Labeler)
	c.Set(metricKey, l)
	httpx.WriteError(w, r.WithContext(otelhttp.ContextWithLabeler(r.Context(), l)), err)
}

// state is one request's passage through [Middleware], recycled. As the
// http.ResponseWriter handed to httpx.Handler it writes to gin's writer.
type state struct {
	c        *gin.Context
	gw       gin.ResponseWriter // gin's writer
	w        writer             // c.Writer inside the chain
	returned bool               // the chain returned (did not panic)
}

var states = sync.Pool{New: func() any { return new(state) }}

func (s *state) release() {
	*s = state{}
	states.Put(s)
}

func (s *state) Header() http.Header         { return s.gw.Header() }
func (s *state) Write(b []byte) (int, error) { return s.gw.Write(b) }
func (s *state) WriteHeader(code int)        { s.gw.WriteHeader(code) }

// Unwrap returns gin's writer, for http.ResponseController (Flush, Hijack).
func (s *state) Unwrap() http.ResponseWriter { return s.gw }

// stateOf finds the state under httpx's response writer.
func stateOf(w http.ResponseWriter) *state {
	for {
		if s, ok := w.(*state); ok {
			return s
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			panic("ginx: response writer without the middleware's state")
		}
		w = u.Unwrap()
	}
}

// writer is c.Writer inside the chain: gin's writer for what gin asks
// (Status, Size, Written), httpx's for what is sent, so that httpx knows
// whether the response has started.
type writer struct {
	gin.ResponseWriter
	hx http.ResponseWriter
}

var _ gin.ResponseWriter = (*writer)(nil)

func (w *writer) Header() http.Header               { return w.hx.Header() }
func (w *writer) WriteHeader(code int)              { w.hx.WriteHeader(code) }
func (w *writer) Write(b []byte) (int, error)       { return w.hx.Write(b) }
func (w *writer) WriteString(s string) (int, error) { return w.hx.Write([]byte(s)) }

// WriteHeaderNow sends the status gin holds (gin delays it to the first
// write) through httpx.
func (w *writer) WriteHeaderNow() {
	if !w.ResponseWriter.Written() {
		w.hx.WriteHeader(w.ResponseWriter.Status())
	}
	w.ResponseWriter.WriteHeaderNow()
}

// Hijack hands the connection over through httpx.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.hx).Hijack()
}

// Flush sends buffered data through httpx.
func (w *writer) Flush() { _ = http.NewResponseController(w.hx).Flush() }
