package parity_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/propagation"

	"github.com/otelkit/otelkit/ginx"
	"github.com/otelkit/otelkit/transports/parity"
)

func init() {
	register(transport{name: "gin", event: "http.server.request.exception", route: "/cases/:name", metric: httpDuration, start: startGin})
}

// startGin serves the table with gin under otelgin and ginx; the client is
// plain HTTP (httpx.ResponseErr).
func startGin(t *testing.T, p providers) func(context.Context, string) answer {
	t.Helper()
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(otelgin.Middleware("parity", otelgin.WithTracerProvider(p.tp), otelgin.WithMeterProvider(p.mp),
		otelgin.WithPropagators(propagation.TraceContext{}), otelgin.WithGinMetricAttributeFn(ginx.MetricAttributes)))
	r.Use(ginx.Middleware(httpOptions(p)...))
	r.GET("/cases/:name", func(c *gin.Context) {
		if err := parity.Run(c.Param("name")); err != nil {
			_ = c.Error(err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	return callHTTP(t, serve(t, r))
}
