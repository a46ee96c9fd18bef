package connectx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/connectx"
)

// Exception records of this interceptor keep at most two stack frames;
// WithStackFrames(0) would drop the stack trace.
func ExampleWithStackFrames() {
	logs := &logRecorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(logs))
	interceptors := connect.WithInterceptors(connectx.NewInterceptor(
		connectx.WithLoggerProvider(lp),
		connectx.WithStackFrames(2),
	))

	const procedure = "/example.v1.Jobs/Run"
	mux := http.NewServeMux()
	mux.Handle(procedure, connect.NewUnaryHandler(procedure,
		func(context.Context, *connect.Request[wrapperspb.StringValue]) (*connect.Response[emptypb.Empty], error) {
			return nil, errors.New("queue closed") // unregistered: an exception record
		}, interceptors))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := connect.NewClient[wrapperspb.StringValue, emptypb.Empty](srv.Client(), srv.URL+procedure)
	_, err := client.CallUnary(context.Background(), connect.NewRequest(wrapperspb.String("nightly")))
	fmt.Println(connect.CodeOf(err))

	logs.mu.Lock()
	defer logs.mu.Unlock()
	for _, r := range logs.recs {
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			if kv.Key == "exception.stacktrace" {
				s := kv.Value.AsString()
				fmt.Println(strings.Count(s, "\n\t"), "frames;", strings.HasSuffix(s, "...additional frames elided...\n"))
			}
			return true
		})
	}
	// Output:
	// internal
	// 2 frames; true
}
