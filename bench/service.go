package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/getsentry/sentry-go"
	sentryhttp "github.com/getsentry/sentry-go/http"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	lognoop "go.opentelemetry.io/otel/log/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// Implementations compared by the benchmarks.
const (
	ImplBare        = "bare"        // http.HandlerFunc in a ServeMux, no telemetry
	ImplOtelhttp    = "otelhttp"    // the same inside otelhttp
	ImplOtelkit     = "otelkit"     // otelhttp + httpx.Handler + httpx.HandlerFunc
	ImplHttpx       = "httpx"       // httpx.Handler + httpx.HandlerFunc without otelhttp
	ImplHandwritten = "handwritten" // otelhttp + the hand-written equivalent of otelkit
	ImplSentry      = "sentry"      // otelhttp + sentryhttp + CaptureException
	ImplHuma        = "huma"        // otelhttp + huma.WriteErr (RFC 9457), no recording
	ImplHumaRecord  = "humarec"     // huma + the hand-written recording (HandRecord)
	// ImplOtelhttpRoute and ImplHumaRecordRoute are otelhttp and humarec
	// with http.route set on the server span by hand (RouteOnSpan), as the
	// conventions require and otelkit does. No target: they say how much
	// of a gap to otelhttp or humarec is that attribute.
	ImplOtelhttpRoute   = "otelhttproute"
	ImplHumaRecordRoute = "humarecroute"
)

// Render-only implementations (no span, no logger, no otelhttp): what
// rendering an error costs by itself.
const (
	ImplRenderOtelkit = "otelkit" // httpx.Handler around a ServeMux, a no-op logger provider
	ImplRenderHuma    = "huma"    // huma.WriteErr around a ServeMux
	// ImplRenderHumaCtx is huma behind the smallest middleware that gives
	// the handler a context of its own (r.WithContext(context.WithValue…)),
	// as every middleware that adds a value does: the request copy and the
	// context that httpx's one allocation (the exchange) also holds. No
	// target; it says what the comparison with huma alone leaves out.
	ImplRenderHumaCtx = "humactx"
)

// Paths of the routes every implementation serves.
const (
	PathSuccess = "/users/42"
	Path4xx     = "/login"
	Path5xx     = "/orders/7"
	PathPanic   = "/panic"
)

// The error definitions, and their hand-written twins.
const (
	RateLimitedID  = "auth.rate-limited"
	RateLimitedMsg = "Rate limited due to too many false auth attempts from this ip"
	StorageID      = "storage.unavailable"
	StorageMsg     = "The storage is unavailable, try again later"
)

var okBody = []byte(`{"id":42,"name":"Ada Lovelace"}` + "\n")

// Defs is the registry of a service built by [NewService].
type Defs struct {
	Registry    *errorsx.Registry
	RateLimited *errorsx.Def
	Storage     *errorsx.Def
}

// NewDefs returns a fresh registry with the two definitions the error
// benchmarks use.
func NewDefs() *Defs {
	reg := errorsx.NewRegistry()
	return &Defs{
		Registry:    reg,
		RateLimited: reg.Define(http.StatusTooManyRequests, RateLimitedID, RateLimitedMsg),
		Storage:     reg.Define(http.StatusServiceUnavailable, StorageID, StorageMsg),
	}
}

// The cause of the 5xx, made once: it stands for a driver's error.
var errRefused = errors.New("dial tcp 10.0.0.7:5432: connect: connection refused")

// errRateLimited is the hand-written twin of RateLimited.
//
//lint:ignore ST1005 the registered message, capitalized as clients see it
var errRateLimited = errors.New(RateLimitedMsg)

// Otelhttp wraps h in otelhttp with the SDK providers of tel and the W3C
// trace-context propagator, as every implementation but bare is.
func Otelhttp(h http.Handler, tel *Telemetry) http.Handler {
	return otelhttp.NewHandler(h, "bench",
		otelhttp.WithTracerProvider(tel.Tracer),
		otelhttp.WithMeterProvider(tel.Meter),
		otelhttp.WithPropagators(propagation.TraceContext{}),
	)
}

// NewService returns the handler of impl serving four routes: GET
// /users/{id} (200), POST /login (429 with info retry_after=30), GET
// /orders/{id} (503 wrapping a cause) and GET /panic (a panic). Every
// implementation but bare is inside [Otelhttp].
func NewService(impl string, tel *Telemetry) (http.Handler, error) {
	logger := tel.Logger.Logger("github.com/otelkit/otelkit/otelbridge")
	mux := http.NewServeMux()
	switch impl {
	case ImplBare, ImplOtelhttp, ImplOtelhttpRoute:
		mux.HandleFunc("GET /users/{id}", success)
		switch impl {
		case ImplBare:
			return mux, nil
		case ImplOtelhttpRoute:
			return Otelhttp(RouteOnSpan(mux), tel), nil
		}
		return Otelhttp(mux, tel), nil
	case ImplOtelkit, ImplHttpx:
		defs := NewDefs()
		mux.Handle("GET /users/{id}", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			success(w, r)
			return nil
		}))
		mux.Handle("POST /login", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
			return defs.RateLimited.With("retry_after", 30)
		}))
		mux.Handle("GET /orders/{id}", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
			return defs.Storage.Wrap(fmt.Errorf("load order: %w", errRefused))
		}))
		mux.Handle("GET /panic", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
			panic("boom")
		}))
		h := httpx.Handler(mux, httpx.WithRegistry(defs.Registry), httpx.WithLoggerProvider(tel.Logger))
		if impl == ImplHttpx {
			return h, nil
		}
		return Otelhttp(h, tel), nil
	case ImplHandwritten:
		mux.HandleFunc("GET /users/{id}", success)
		mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
			HandError(w, r, logger, http.StatusTooManyRequests, RateLimitedID, RateLimitedMsg,
				map[string]any{"retry_after": 30}, errRateLimited, "")
		})
		mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
			err := fmt.Errorf("load order: %w", errRefused)
			HandError(w, r, logger, http.StatusServiceUnavailable, StorageID, StorageMsg, nil, err, HandStack(0))
		})
		mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
		return Otelhttp(HandRecover(mux, logger), tel), nil
	case ImplSentry:
		if err := InitSentry(); err != nil {
			return nil, err
		}
		mux.HandleFunc("GET /users/{id}", success)
		mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
			sentryError(w, r, http.StatusTooManyRequests, RateLimitedID, RateLimitedMsg,
				map[string]any{"retry_after": 30}, errRateLimited)
		})
		mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
			sentryError(w, r, http.StatusServiceUnavailable, StorageID, StorageMsg, nil,
				fmt.Errorf("load order: %w", errRefused))
		})
		mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
		sh := sentryhttp.New(sentryhttp.Options{Repanic: false})
		return Otelhttp(sh.Handle(mux), tel), nil
	case ImplHuma, ImplHumaRecord, ImplHumaRecordRoute:
		// huma renders RFC 9457 bodies (title = status text, detail = the
		// message) and records nothing; humarec adds the hand-written
		// recording so that both sides do the same work.
		record := impl != ImplHuma
		api := humago.New(http.NewServeMux(), huma.DefaultConfig("bench", "1.0.0"))
		mux.HandleFunc("GET /users/{id}", success)
		mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
			if record {
				HandRecord(r, logger, http.StatusTooManyRequests, RateLimitedID, errRateLimited, "")
			}
			_ = huma.WriteErr(api, humago.NewContext(nil, r, w), http.StatusTooManyRequests, RateLimitedMsg)
		})
		mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
			if record {
				err := fmt.Errorf("load order: %w", errRefused)
				HandRecord(r, logger, http.StatusServiceUnavailable, StorageID, err, HandStack(0))
			}
			_ = huma.WriteErr(api, humago.NewContext(nil, r, w), http.StatusServiceUnavailable, StorageMsg)
		})
		if impl == ImplHumaRecordRoute {
			return Otelhttp(RouteOnSpan(mux), tel), nil
		}
		return Otelhttp(mux, tel), nil
	}
	return nil, fmt.Errorf("bench: unknown implementation %q", impl)
}

// RouteOnSpan sets http.route on the request's span once next (a router)
// has matched the request: the HTTP server span conventions make it
// conditionally required, "if and only if it's available" (semconv
// model/http/spans.yaml, span.http.server), and otelhttp v0.72 sets it
// only from a pattern the request arrives with, before a router inside it
// has matched. It is what a service writes by hand around its ServeMux
// inside otelhttp; httpx.Handler does the same.
func RouteOnSpan(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if r.Pattern != "" {
			trace.SpanFromContext(r.Context()).SetAttributes(semconv.HTTPRoute(routeOf(r.Pattern)))
		}
	})
}

// NewRenderService returns the handler of impl (ImplRenderOtelkit or
// ImplRenderHuma) serving POST /login (429 with info retry_after=30) and
// GET /orders/{id} (503 wrapping a cause) without any telemetry: no
// otelhttp, so no span; otelkit records into a no-op logger provider.
func NewRenderService(impl string) (http.Handler, error) {
	mux := http.NewServeMux()
	switch impl {
	case ImplRenderOtelkit:
		defs := NewDefs()
		mux.Handle("POST /login", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
			return defs.RateLimited.With("retry_after", 30)
		}))
		mux.Handle("GET /orders/{id}", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
			return defs.Storage.Wrap(fmt.Errorf("load order: %w", errRefused))
		}))
		return httpx.Handler(mux, httpx.WithRegistry(defs.Registry), httpx.WithLoggerProvider(lognoop.NewLoggerProvider())), nil
	case ImplRenderHuma, ImplRenderHumaCtx:
		api := humago.New(http.NewServeMux(), huma.DefaultConfig("bench", "1.0.0"))
		mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
			_ = huma.WriteErr(api, humago.NewContext(nil, r, w), http.StatusTooManyRequests, RateLimitedMsg)
		})
		mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
			_ = fmt.Errorf("load order: %w", errRefused) // the cause the handler has, as otelkit's does
			_ = huma.WriteErr(api, humago.NewContext(nil, r, w), http.StatusServiceUnavailable, StorageMsg)
		})
		if impl == ImplRenderHumaCtx {
			return withContextValue(mux), nil
		}
		return mux, nil
	}
	return nil, fmt.Errorf("bench: unknown render implementation %q", impl)
}

type benchCtxKey struct{}

// withContextValue is the smallest middleware that puts a value in the
// request's context: a context.WithValue and the request copy of
// r.WithContext, 2 allocations (48 + 320 B with Go 1.26).
func withContextValue(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), benchCtxKey{}, r.URL)))
	})
}

func success(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(okBody)
}

// sentryError is what a sentry-go user writes: the same problem body with
// encoding/json, and the error captured on the request's hub (sentryhttp
// put it in the context).
func sentryError(w http.ResponseWriter, r *http.Request, status int, id, title string, info map[string]any, err error) {
	if hub := sentry.GetHubFromContext(r.Context()); hub != nil {
		hub.CaptureException(err)
	}
	if status >= 500 {
		info = nil
	}
	p := HandProblem{Type: "urn:otelkit:error:" + id, Title: title, Status: status, ID: id, Instance: r.URL.Path, Info: info}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(&p)
}

// InitSentry initialises sentry-go's global hub with a DSN on loopback and a
// transport that sends nowhere, so capture costs everything but the network.
func InitSentry() error {
	return sentry.Init(sentry.ClientOptions{
		Dsn:       "http://public@127.0.0.1/1",
		Transport: NopTransport{},
	})
}

// NopTransport is a sentry transport that drops every event.
type NopTransport struct{}

var _ sentry.Transport = NopTransport{}

// Flush reports success.
func (NopTransport) Flush(time.Duration) bool { return true }

// FlushWithContext reports success.
func (NopTransport) FlushWithContext(context.Context) bool { return true }

// Configure does nothing.
func (NopTransport) Configure(sentry.ClientOptions) {}

// SendEvent drops the event.
func (NopTransport) SendEvent(*sentry.Event) {}

// Close does nothing.
func (NopTransport) Close() {}
