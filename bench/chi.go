package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/go-chi/chi/v5"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/httpx"
)

// NewChiService returns the handler of impl serving GET /users/{id} (200,
// the small JSON body of [NewService]) through a chi router inside
// [Otelhttp]: ImplOtelhttp is the chi router alone, ImplOtelkit the router
// inside httpx.Handler with the route's handler an httpx.HandlerFunc, and
// ImplOtelhttpRoute the router behind the hand-written equivalent of
// httpx's route telemetry ([ChiRoute]).
func NewChiService(impl string, tel *Telemetry) (http.Handler, error) {
	r := chi.NewRouter()
	switch impl {
	case ImplOtelhttp:
		r.Get("/users/{id}", success)
		return Otelhttp(r, tel), nil
	case ImplOtelhttpRoute:
		r.Get("/users/{id}", success)
		return Otelhttp(ChiRoute(r), tel), nil
	case ImplOtelkit:
		defs := NewDefs()
		r.Method(http.MethodGet, "/users/{id}", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			success(w, r)
			return nil
		}))
		return Otelhttp(httpx.Handler(r, httpx.WithRegistry(defs.Registry), httpx.WithLoggerProvider(tel.Logger)), tel), nil
	}
	return nil, fmt.Errorf("bench: unknown chi implementation %q", impl)
}

// ChiRoute is what a service writes by hand between otelhttp and a chi
// router for the route's telemetry that httpx gives: otelhttp sees the
// route only in the pattern of its own request, and chi routes a copy of
// it. ChiRoute gives chi a routing context (from a pool, as chi does), so
// that once chi has matched it sets the full pattern (through mounted
// sub-routers) on otelhttp's request, for the span name and the
// http.route of the metrics, and http.route on the span.
func ChiRoute(router http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := chiContexts.Get().(*chi.Context)
		rc.Reset()
		router.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rc)))
		if p := rc.RoutePattern(); p != "" {
			r.Pattern = p
			trace.SpanFromContext(r.Context()).SetAttributes(semconv.HTTPRoute(p))
		}
		chiContexts.Put(rc)
	})
}

var chiContexts = sync.Pool{New: func() any { return chi.NewRouteContext() }}
