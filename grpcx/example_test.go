package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/grpcx"
)

type notFoundHealth struct {
	grpc_health_v1.UnimplementedHealthServer
	def *errorsx.Def
}

func (h notFoundHealth) Check(context.Context, *grpc_health_v1.HealthCheckRequest) (*grpc_health_v1.HealthCheckResponse, error) {
	return nil, h.def.With("service", "billing")
}

// The same definition answers a gRPC call and turns back into itself in
// the client.
func Example() {
	reg := errorsx.NewRegistry()
	errNoService := reg.Define(404, "service.unknown", "No such service")

	// Server: otelgrpc makes the spans, grpcx answers and records errors.
	srv := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ChainUnaryInterceptor(grpcx.UnaryServerInterceptor(grpcx.WithRegistry(reg))),
		grpc.ChainStreamInterceptor(grpcx.StreamServerInterceptor(grpcx.WithRegistry(reg))),
	)
	grpc_health_v1.RegisterHealthServer(srv, notFoundHealth{def: errNoService})
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(lis)
	defer srv.Stop()

	// Client: the same registry turns statuses back into definitions.
	cc, _ := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(grpcx.ClientHandler(otelgrpc.NewClientHandler(), grpcx.WithRegistry(reg))),
		grpc.WithChainUnaryInterceptor(grpcx.UnaryClientInterceptor(grpcx.WithRegistry(reg))),
	)
	defer cc.Close()
	_, err := grpc_health_v1.NewHealthClient(cc).Check(context.Background(), &grpc_health_v1.HealthCheckRequest{})

	st, _ := status.FromError(err)
	fmt.Println(st.Code(), st.Message())
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			fmt.Println(info.Reason, info.Domain, info.Metadata)
		}
	}
	fmt.Println(errors.Is(err, errNoService), reg.Resolve(err) == errNoService)
	// Output:
	// NotFound No such service
	// service.unknown otelkit map[service:billing]
	// true true
}

func ExampleCode() {
	fmt.Println(grpcx.Code(404), grpcx.Code(429), grpcx.Code(503), grpcx.Code(418))
	// Output: NotFound ResourceExhausted Unavailable FailedPrecondition
}
