package parity_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"
	"go.opentelemetry.io/otel/propagation"

	"github.com/otelkit/otelkit/echox"
	"github.com/otelkit/otelkit/transports/parity"
)

func init() {
	register(transport{name: "echo", event: "http.server.request.exception", route: "/cases/:name", start: startEcho})
}

// startEcho serves the table with echo under otelecho and echox; the
// client is plain HTTP (httpx.ResponseErr).
func startEcho(t *testing.T, p providers) func(context.Context, string) answer {
	t.Helper()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(otelecho.Middleware("parity", otelecho.WithTracerProvider(p.tp), otelecho.WithPropagators(propagation.TraceContext{})))
	e.Use(echox.Middleware(httpOptions(p)...))
	e.HTTPErrorHandler = echox.ErrorHandler(httpOptions(p)...)
	e.GET("/cases/:name", func(c echo.Context) error {
		if err := parity.Run(c.Param("name")); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	})
	return callHTTP(t, serve(t, e))
}
