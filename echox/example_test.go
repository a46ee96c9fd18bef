package echox_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"

	"github.com/otelkit/otelkit/echox"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// An echo handler returns a registered error; echox renders it as httpx
// would, and records it on otelecho's span.
func Example() {
	reg := errorsx.NewRegistry()
	errUserNotFound := reg.Define(404, "users.not-found", "No such user")

	e := echo.New()
	e.HideBanner = true
	// otelecho makes the span and goes first; echox renders inside it, and
	// its ErrorHandler renders what middleware before it returns.
	e.Use(otelecho.Middleware("api"))
	e.Use(echox.Middleware(httpx.WithRegistry(reg)))
	e.HTTPErrorHandler = echox.ErrorHandler(httpx.WithRegistry(reg))
	e.GET("/users/:id", func(c echo.Context) error {
		return errUserNotFound.With("id", c.Param("id"))
	})
	srv := httptest.NewServer(e)
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
