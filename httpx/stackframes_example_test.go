package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/httpx"
)

// printStacks is a log processor that prints how many frames the
// exception.stacktrace of each record has.
type printStacks struct{}

func (printStacks) OnEmit(_ context.Context, r *sdklog.Record) error {
	stack := "none"
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if kv.Key == "exception.stacktrace" {
			stack = fmt.Sprintf("%d frames, elided: %v",
				strings.Count(kv.Value.AsString(), "\n\t"), strings.HasSuffix(kv.Value.AsString(), "elided...\n"))
		}
		return true
	})
	fmt.Println("exception.stacktrace:", stack)
	return nil
}
func (printStacks) Shutdown(context.Context) error                         { return nil }
func (printStacks) ForceFlush(context.Context) error                       { return nil }
func (printStacks) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// A service that keeps exception records small bounds their stack traces;
// a route group can keep none.
func ExampleWithStackFrames() {
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(printStacks{}))
	failing := httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return errors.New("store closed") })

	mux := http.NewServeMux()
	mux.Handle("/orders", failing)
	mux.Handle("/internal/", httpx.Handler(failing, httpx.WithStackFrames(0))) // its own bound wins
	h := httpx.Handler(mux, httpx.WithLoggerProvider(lp), httpx.WithStackFrames(2))

	for _, path := range []string{"/orders", "/internal/jobs"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	// Output:
	// exception.stacktrace: 2 frames, elided: true
	// exception.stacktrace: none
}
