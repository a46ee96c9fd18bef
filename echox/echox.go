package echox

import (
	"errors"
	"net/http"
	"slices"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/internal/reqctx"
)

// Middleware returns echo middleware that serves the rest of the chain
// inside an [httpx.Handler] configured with opts: a returned error is
// rendered with [httpx.WriteError], a panic is recovered and answered with
// the internal error, and echo's 404 and 405 become the registered
// not-found and method-not-allowed bodies. It returns nil: the error has
// been answered. Every httpx option applies; echo does the routing, so
// httpx's own detection of a router's 404/405 is off.
func Middleware(opts ...httpx.Option) echo.MiddlewareFunc {
	h := handler(opts)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			st := states.Get().(*state)
			st.c, st.res, st.next = c, c.Response(), next
			defer st.release()
			h.ServeHTTP(st, c.Request())
			return nil
		}
	}
}

// ErrorHandler returns an echo.HTTPErrorHandler that renders err as
// [Middleware] does, for the errors that do not pass through it. Nothing
// is written when the response has already started.
func ErrorHandler(opts ...httpx.Option) echo.HTTPErrorHandler {
	h := handler(opts)
	return func(err error, c echo.Context) {
		st := states.Get().(*state)
		st.c, st.res, st.err = c, c.Response(), err
		defer st.release()
		h.ServeHTTP(st, c.Request())
	}
}

func handler(opts []httpx.Option) http.Handler {
	return httpx.Handler(http.HandlerFunc(serve), append(slices.Clip(opts), httpx.WithoutRouteErrors())...)
}

// serve runs inside the httpx.Handler: r is the Handler's request (its
// context answers httpx, otelbridge and auditx) and w its response writer,
// which echo's handlers write through for the time of the chain.
func serve(w http.ResponseWriter, r *http.Request) {
	st := stateOf(w)
	c := st.c
	r.Pattern = c.Path() // http.route, as otelecho sees it
	err := st.err
	if st.next == nil && st.res.Committed {
		// The response has started: telemetry only, as httpx does.
		st.sent = true
		w.WriteHeader(st.res.Status)
	}
	if st.next != nil {
		req := c.Request()
		c.SetRequest(r)
		st.chain = *echo.NewResponse(w, c.Echo())
		c.SetResponse(&st.chain)
		defer func() { c.SetRequest(req); c.SetResponse(st.res) }()
		err = st.next(c)
	}
	if err != nil {
		httpx.WriteError(w, r, fromEcho(r, err))
	}
}

// fromEcho turns an *echo.HTTPError the registry does not resolve into
// the built-in definition of its status, keeping it as the cause.
func fromEcho(r *http.Request, err error) error {
	var he *echo.HTTPError
	if !errors.As(err, &he) || he.Code >= 500 {
		return err
	}
	if src, ok := r.Context().Value(reqctx.SourceKey).(interface{ Registry() *errorsx.Registry }); ok &&
		src.Registry().Match(err).Registered() {
		return err
	}
	var def *errorsx.Def
	switch he.Code {
	case http.StatusRequestEntityTooLarge:
		def = errorsx.BodyTooLarge
	case http.StatusUnsupportedMediaType:
		def = errorsx.UnsupportedMediaType
	default:
		def = errorsx.ForStatus(he.Code) // 404 and 405 give the built-ins
	}
	return def.Wrap(err)
}

// state is one request's passage through [Middleware] or [ErrorHandler],
// recycled. As the http.ResponseWriter handed to httpx.Handler it writes
// to echo's response, which keeps the status echo's instrumentation reads.
type state struct {
	c   echo.Context
	res *echo.Response // echo's response, under httpx's writer
	// chain is the response the chain writes to, through httpx's writer.
	chain echo.Response
	next  echo.HandlerFunc // Middleware
	err   error            // ErrorHandler
	sent  bool             // the response was sent before ErrorHandler
}

var states = sync.Pool{New: func() any { return new(state) }}

func (s *state) release() {
	*s = state{}
	states.Put(s)
}

func (s *state) Header() http.Header { return s.res.Header() }

func (s *state) Write(b []byte) (int, error) {
	if s.sent {
		return len(b), nil
	}
	return s.res.Write(b)
}

func (s *state) WriteHeader(code int) {
	if !s.sent {
		s.res.WriteHeader(code)
	}
}

// Unwrap returns echo's response, for http.ResponseController.
func (s *state) Unwrap() http.ResponseWriter { return s.res }

// stateOf finds the state under httpx's response writer.
func stateOf(w http.ResponseWriter) *state {
	for {
		if s, ok := w.(*state); ok {
			return s
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			panic("echox: response writer without the middleware's state")
		}
		w = u.Unwrap()
	}
}
