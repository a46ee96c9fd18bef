package parity_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/transports/parity"
)

// httpDuration is the server duration histogram of otelhttp and otelgin
// (semconv http.server.request.duration).
const httpDuration = "http.server.request.duration"

func init() {
	register(transport{name: "net-http", event: "http.server.request.exception", metric: httpDuration, start: func(t *testing.T, p providers) func(context.Context, string) answer {
		mux := http.NewServeMux()
		mux.Handle("GET /cases/{name}", caseHandler(func(r *http.Request) string { return r.PathValue("name") }))
		return serveHTTP(t, p, mux)
	}})
	register(transport{name: "chi", event: "http.server.request.exception", metric: httpDuration, start: func(t *testing.T, p providers) func(context.Context, string) answer {
		r := chi.NewRouter()
		r.Method(http.MethodGet, "/cases/{name}", caseHandler(func(r *http.Request) string { return chi.URLParam(r, "name") }))
		return serveHTTP(t, p, r)
	}})
}

// caseHandler runs the case named by the request.
func caseHandler(name func(*http.Request) string) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := parity.Run(name(r)); err != nil {
			return err
		}
		_, err := io.WriteString(w, "ok")
		return err
	}
}

// serveHTTP serves router inside httpx under otelhttp on 127.0.0.1 and
// returns how to call a case over HTTP, read back with httpx.ResponseErr.
func serveHTTP(t *testing.T, p providers, router http.Handler) func(context.Context, string) answer {
	t.Helper()
	h := otelhttp.NewHandler(httpx.Handler(router, httpOptions(p)...), "parity",
		otelhttp.WithTracerProvider(p.tp), otelhttp.WithMeterProvider(p.mp), otelhttp.WithPropagators(propagation.TraceContext{}))
	return callHTTP(t, serve(t, h))
}

// httpOptions are the httpx options of every HTTP transport.
func httpOptions(p providers) []httpx.Option {
	return []httpx.Option{httpx.WithRegistry(parity.Registry), httpx.WithLoggerProvider(p.lp)}
}

// serve runs h on a free port of 127.0.0.1 until the test ends and
// returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(lis)
	t.Cleanup(func() { srv.Close() })
	return "http://" + lis.Addr().String()
}

// callHTTP calls GET base/cases/{name} with the context's trace propagated
// and reads the answer as a client of any HTTP transport would.
func callHTTP(t *testing.T, base string) func(context.Context, string) answer {
	return func(ctx context.Context, name string) answer {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/cases/"+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		a := answer{status: resp.StatusCode}
		var wire strings.Builder
		for k, v := range resp.Header {
			fmt.Fprintf(&wire, "%s: %s\n", k, strings.Join(v, ", "))
		}
		wire.Write(body)
		a.wire = wire.String()
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		a.err = httpx.ResponseErr(resp, parity.Registry)
		if resp.StatusCode < 300 {
			return a
		}
		var p struct {
			ID     string         `json:"id"`
			Title  string         `json:"title"`
			Info   map[string]any `json:"info"`
			Errors []struct {
				ID string `json:"id"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		a.id, a.message = p.ID, p.Title
		if len(p.Info) > 0 {
			a.info = map[string]string{}
			for k, v := range p.Info {
				if s, ok := v.(string); ok {
					a.info[k] = s
				} else {
					b, _ := json.Marshal(v)
					a.info[k] = string(b)
				}
			}
		}
		for _, e := range p.Errors {
			a.entries = append(a.entries, e.ID)
		}
		return a
	}
}
