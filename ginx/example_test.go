package ginx_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/ginx"
	"github.com/otelkit/otelkit/httpx"
)

// A gin handler attaches a registered error with c.Error; ginx renders it
// as httpx would, and records it on otelgin's span and metric.
func Example() {
	reg := errorsx.NewRegistry()
	errUserNotFound := reg.Define(404, "users.not-found", "No such user")

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// otelgin makes the span and goes first; ginx renders inside it.
	r.Use(otelgin.Middleware("api", otelgin.WithGinMetricAttributeFn(ginx.MetricAttributes)))
	r.Use(ginx.Middleware(httpx.WithRegistry(reg)))
	r.GET("/users/:id", func(c *gin.Context) {
		_ = c.Error(errUserNotFound.With("id", c.Param("id")))
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	for _, path := range []string{"/users/7", "/nope"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
		fmt.Print(string(body)) // ends with a newline
	}
	// Output:
	// 404 application/problem+json
	// {"type":"urn:otelkit:error:users.not-found","title":"No such user","status":404,"id":"users.not-found","instance":"/users/7","info":{"id":"7"}}
	// 404 application/problem+json
	// {"type":"urn:otelkit:error:not-found","title":"The requested resource was not found","status":404,"id":"not-found","instance":"/nope"}
}
