package ginx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"

	"github.com/otelkit/otelkit/ginx"
)

// nopWriter is a ResponseWriter that keeps nothing.
type nopWriter struct{ h http.Header }

func (w nopWriter) Header() http.Header       { return w.h }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}

// TestSuccessAllocs pins what ginx costs a successful request: one
// allocation over gin alone (httpx's exchange; ginx's own state is
// pooled).
func TestSuccessAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage and race instrumentation change allocation counts")
	}
	gin.SetMode(gin.ReleaseMode)
	measure := func(mw ...gin.HandlerFunc) float64 {
		r := gin.New()
		r.Use(mw...)
		r.GET("/users/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		req := httptest.NewRequest("GET", "/users/7", nil)
		w := nopWriter{http.Header{}}
		r.ServeHTTP(w, req)
		return testing.AllocsPerRun(200, func() { r.ServeHTTP(w, req) })
	}
	alone, with := measure(), measure(ginx.Middleware())
	t.Logf("gin: %.0f allocs/request, with ginx: %.0f", alone, with)
	assert.LessOrEqual(t, with, alone+1)
}
