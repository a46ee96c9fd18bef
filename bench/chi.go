package bench

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/httpx"
)

// NewChiService returns the handler of impl serving GET /users/{id} (200,
// the small JSON body of [NewService]) through a chi router inside
// [Otelhttp]: ImplOtelhttp is the chi router alone, ImplOtelkit the router
// inside httpx.Handler with the route's handler an httpx.HandlerFunc, and
// ImplOtelhttpRoute the router with http.route set on the span by hand
// once it has matched (ChiRouteOnSpan), as httpx does.
func NewChiService(impl string, tel *Telemetry) (http.Handler, error) {
	r := chi.NewRouter()
	switch impl {
	case ImplOtelhttp:
		r.Get("/users/{id}", success)
		return Otelhttp(r, tel), nil
	case ImplOtelhttpRoute:
		r.Use(ChiRouteOnSpan)
		r.Get("/users/{id}", success)
		return Otelhttp(r, tel), nil
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

// ChiRouteOnSpan is chi middleware that sets http.route on the request's
// span once the router has matched (the routing context's pattern through
// every mounted sub-router): what a service writes by hand under otelhttp,
// which leaves it off when a router inside it matches (see RouteOnSpan).
func ChiRouteOnSpan(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if rc := chi.RouteContext(r.Context()); rc != nil {
			if p := rc.RoutePattern(); p != "" {
				trace.SpanFromContext(r.Context()).SetAttributes(semconv.HTTPRoute(p))
			}
		}
	})
}
