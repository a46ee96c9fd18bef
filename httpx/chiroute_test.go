package httpx_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// TestChiRoutes: under chi, a successful request and an error on the same
// route get the same http.route (the full pattern through mounted
// sub-routers) on the span, the span name and the duration metric, so one
// route is one series (issue 17 item 3, issue 12). Audits emitted by a
// successful handler see the route too.
func TestChiRoutes(t *testing.T) {
	te := newTestErrors()
	archive := errorsx.NewRegistry(errorsx.WithParent(te.reg))
	gone := archive.Define(http.StatusGone, "archive.gone", "Archived note is gone")

	var seen []httpx.RequestInfo
	note := func(w http.ResponseWriter, r *http.Request) error {
		info, _ := httpx.RequestInfoFromContext(r.Context())
		seen = append(seen, info)
		switch chi.URLParam(r, "id") {
		case "missing":
			return te.notFound
		case "gone":
			return gone
		case "boom":
			panic("boom")
		}
		_, _ = w.Write([]byte("ok"))
		return nil
	}
	notes := chi.NewRouter()
	notes.Method("GET", "/notes/{id}", httpx.HandlerFunc(note))
	// A sub-router whose middleware routes a copy of the request (as
	// chi's RequestID does), and one with a Handler of its own.
	copying := chi.NewRouter()
	copying.Use(middleware.RequestID)
	copying.Method("GET", "/notes/{id}", httpx.HandlerFunc(note))
	own := chi.NewRouter()
	own.Method("GET", "/notes/{id}", httpx.HandlerFunc(note))

	root := chi.NewRouter()
	root.Method("GET", "/users/{id}", httpx.HandlerFunc(note))
	root.Mount("/archive", notes)
	root.Route("/v2", func(r chi.Router) { r.Mount("/copying", copying) })
	root.Mount("/grouped", httpx.Handler(own, httpx.WithRegistry(archive)))

	layouts := []struct {
		name    string
		handler func(tel *telemetry) http.Handler
		prefix  string
	}{
		{"chi in Handler", func(tel *telemetry) http.Handler { return tel.serve(root, httpx.WithRegistry(archive)) }, ""},
		{"Handler around chi on a ServeMux prefix", func(tel *telemetry) http.Handler {
			inner := chi.NewRouter()
			inner.Mount("/svc/archive", notes)
			mux := http.NewServeMux()
			mux.Handle("/svc/", httpx.Handler(inner, httpx.WithRegistry(archive)))
			return tel.serve(mux)
		}, "/svc"},
	}
	routes := []string{"/users/{id}", "/archive/notes/{id}", "/v2/copying/notes/{id}", "/grouped/notes/{id}"}
	for _, l := range layouts {
		for _, rt := range routes {
			if l.prefix != "" && rt != "/archive/notes/{id}" {
				continue
			}
			rt = l.prefix + rt
			t.Run(l.name+rt, func(t *testing.T) {
				tel := newTelemetry(t)
				h := l.handler(tel)
				cases := []struct {
					id     string
					status int
				}{{"1", 200}, {"missing", 404}, {"gone", 410}, {"boom", 500}}
				for _, c := range cases {
					tel.spans.Reset()
					seen = nil
					path := rt[:len(rt)-len("{id}")] + c.id
					rec := do(h, "GET", path)
					require.Equal(t, c.status, rec.Code, path)
					span := tel.onlySpan(t)
					assert.Equal(t, rt, attrMap(span.Attributes())["http.route"].AsString(), path)
					assert.Equal(t, "GET "+rt, span.Name(), path)
					require.Len(t, seen, 1)
					assert.Equal(t, rt, seen[0].Route, "the handler sees its route (audits)")
				}
				series := map[string]int{}
				for _, p := range tel.durationPoints(t) {
					series[pointRoute(p)] += int(p.Count)
				}
				assert.Equal(t, map[string]int{rt: len(cases)}, series,
					"success and errors on one route are one http.route series")
			})
		}
	}
	t.Run("unknown route under a mount", func(t *testing.T) {
		tel := newTelemetry(t)
		rec := do(tel.serve(root), "GET", "/archive/nope")
		assert.Equal(t, 404, rec.Code)
		assert.Equal(t, "not-found", body(t, rec)["id"], "the sub-router's own 404 is replaced")
	})
}

// TestChiMiddlewareSeesRoutes: the routing context httpx gives chi names
// the router, as chi's own does, for middleware that matches routes.
func TestChiMiddlewareSeesRoutes(t *testing.T) {
	r := chi.NewRouter()
	r.Use(middleware.GetHead) // calls rctx.Routes.Match
	r.Get("/users/{id}", ok)
	rec := do(httpx.Handler(r), "HEAD", "/users/1")
	assert.Equal(t, 200, rec.Code)
}

func pointRoute(p metricdata.HistogramDataPoint[float64]) string {
	v, ok := p.Attributes.Value("http.route")
	if !ok {
		return "<none>"
	}
	return v.AsString()
}

// TestChiRouteAllocs: a Handler around chi costs chi no more allocations
// than chi alone (it routes the request it is given instead of a copy).
func TestChiRouteAllocs(t *testing.T) {
	r := chi.NewRouter()
	r.Get("/users/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	req := httptestRequest(t.Context(), "GET", "/users/1")
	measure := func(h http.Handler) float64 {
		h.ServeHTTP(discard{}, req)
		return testing.AllocsPerRun(200, func() { h.ServeHTTP(discard{}, req) })
	}
	alone, wrapped := measure(r), measure(httpx.Handler(r))
	t.Logf("chi: %.0f allocs/request, in httpx.Handler: %.0f", alone, wrapped)
	if testing.CoverMode() == "" && !raceEnabled {
		assert.LessOrEqual(t, wrapped, alone)
	}
}

// TestChiRouteAfterRequest: a goroutine the handler starts may read the
// request's info (as an audit it emits does) while the request ends and
// after: it always gets chi's full pattern, also when a chi middleware
// routed a copy of the request, and (under -race) never races with the
// routing context's return to the pool.
func TestChiRouteAfterRequest(t *testing.T) {
	for _, copying := range []bool{false, true} {
		t.Run(map[bool]string{false: "chi routes the Handler's request", true: "a middleware copies the request"}[copying], func(t *testing.T) {
			var wg sync.WaitGroup
			routes := make(chan string, 1000)
			sub := chi.NewRouter()
			sub.Get("/{id}", func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range cap(routes) {
						info, _ := httpx.RequestInfoFromContext(ctx)
						routes <- info.Route
					}
				}()
				w.WriteHeader(http.StatusNoContent)
			})
			root := chi.NewRouter()
			if copying {
				root.Use(middleware.RequestID)
			}
			root.Mount("/users", sub)
			h := httpx.Handler(root)
			for range 5 {
				rec := do(h, "GET", "/users/7")
				require.Equal(t, http.StatusNoContent, rec.Code)
				wg.Wait()
				for range cap(routes) {
					require.Equal(t, "/users/{id}", <-routes)
				}
			}
		})
	}
}
