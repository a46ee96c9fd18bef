package echox_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"

	"github.com/otelkit/otelkit/echox"
)

// nopWriter is a ResponseWriter that keeps nothing.
type nopWriter struct{ h http.Header }

func (w nopWriter) Header() http.Header       { return w.h }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}

// TestSuccessAllocs pins what echox costs a successful request: two
// allocations over echo alone, httpx's exchange and the closure echo makes
// for every middleware on every request (echo applies its middleware per
// request); echox's own state, with the echo.Response the chain writes
// through, is pooled.
func TestSuccessAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage and race instrumentation change allocation counts")
	}
	measure := func(mw ...echo.MiddlewareFunc) float64 {
		e := echo.New()
		e.Use(mw...)
		e.GET("/users/:id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		req := httptest.NewRequest("GET", "/users/7", nil)
		w := nopWriter{http.Header{}}
		e.ServeHTTP(w, req)
		return testing.AllocsPerRun(200, func() { e.ServeHTTP(w, req) })
	}
	alone, with := measure(), measure(echox.Middleware())
	t.Logf("echo: %.0f allocs/request, with echox: %.0f", alone, with)
	assert.LessOrEqual(t, with, alone+2)
}
