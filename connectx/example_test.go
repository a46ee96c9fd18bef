package connectx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/connectx"
	"github.com/otelkit/otelkit/errorsx"
)

// The same definition answers a Connect call and turns back into itself in
// the client.
func Example() {
	reg := errorsx.NewRegistry()
	errNoService := reg.Define(404, "service.unknown", "No such service")

	// otelconnect makes the spans and goes first; connectx answers, records
	// and reads errors inside it. The filter leaves error.type to connectx.
	otel, _ := otelconnect.NewInterceptor(otelconnect.WithAttributeFilter(connectx.AttributeFilter))
	interceptors := connect.WithInterceptors(otel, connectx.NewInterceptor(connectx.WithRegistry(reg)))

	// Server: a procedure without generated code.
	const procedure = "/example.v1.Services/Lookup"
	mux := http.NewServeMux()
	mux.Handle(procedure, connect.NewUnaryHandler(procedure,
		func(ctx context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[emptypb.Empty], error) {
			return nil, errNoService.With("service", req.Msg.GetValue())
		}, interceptors))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Client: the same registry turns the error back into the definition
	// (add connect.WithGRPC() or connect.WithGRPCWeb() for the other
	// protocols; gRPC needs HTTP/2).
	client := connect.NewClient[wrapperspb.StringValue, emptypb.Empty](srv.Client(), srv.URL+procedure, interceptors)
	_, err := client.CallUnary(context.Background(), connect.NewRequest(wrapperspb.String("billing")))

	var ce *connect.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Code(), ce.Message())
		for _, d := range ce.Details() {
			if info, ok := must(d.Value()).(*errdetails.ErrorInfo); ok {
				fmt.Println(info.Reason, info.Domain, info.Metadata)
			}
		}
	}
	fmt.Println(errors.Is(err, errNoService), reg.Resolve(err) == errNoService)
	// Output:
	// not_found No such service
	// service.unknown otelkit map[service:billing]
	// true true
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func ExampleCode() {
	fmt.Println(connectx.Code(404), connectx.Code(429), connectx.Code(503), connectx.Code(418))
	fmt.Println(connectx.CodeName(connectx.Code(404)))
	// Output:
	// not_found resource_exhausted unavailable failed_precondition
	// NOT_FOUND
}

// FromError is what the interceptor does on a client; call it yourself for
// an error that did not come through the interceptor.
func ExampleFromError() {
	reg := errorsx.NewRegistry()
	errQuota := reg.Define(429, "quota.exceeded", "Quota exceeded")

	// As a server under connectx answers: code, message, ErrorInfo.
	ce := connect.NewError(connect.CodeResourceExhausted, errors.New("Quota exceeded"))
	ce.AddDetail(must(connect.NewErrorDetail(&errdetails.ErrorInfo{
		Reason: "quota.exceeded", Domain: connectx.DefaultDomain, Metadata: map[string]string{"limit": "100"},
	})))

	err := connectx.FromError(ce, reg)
	var occ *errorsx.Error
	if errors.As(err, &occ) {
		fmt.Println(occ.Def() == errQuota, occ.Info())
	}
	fmt.Println(errors.Is(err, errQuota), connect.CodeOf(err))
	// Output:
	// true [{limit 100}]
	// true resource_exhausted
}
