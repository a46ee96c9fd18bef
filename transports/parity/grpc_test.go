package parity_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/otelkit/otelkit/grpcx"
	"github.com/otelkit/otelkit/transports/parity"
)

func init() {
	register(transport{name: "grpc", rpc: true, event: grpcx.EventServerException, start: startGRPC})
}

// health answers Check by running the case named by the service field.
type health struct {
	grpc_health_v1.UnimplementedHealthServer
}

func (health) Check(_ context.Context, req *grpc_health_v1.HealthCheckRequest) (*grpc_health_v1.HealthCheckResponse, error) {
	if err := parity.Run(req.Service); err != nil {
		return nil, err
	}
	return &grpc_health_v1.HealthCheckResponse{Status: grpc_health_v1.HealthCheckResponse_SERVING}, nil
}

// startGRPC serves the table with grpc-go under otelgrpc and grpcx on
// 127.0.0.1, and calls it through grpcx's client interceptor.
func startGRPC(t *testing.T, p providers) func(context.Context, string) answer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := []grpcx.Option{grpcx.WithRegistry(parity.Registry)}
	srv := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(p.tp), otelgrpc.WithMeterProvider(p.mp), otelgrpc.WithPropagators(propagation.TraceContext{}))),
		grpc.ChainUnaryInterceptor(grpcx.UnaryServerInterceptor(append(opts, grpcx.WithLoggerProvider(p.lp))...)),
	)
	grpc_health_v1.RegisterHealthServer(srv, health{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(grpcx.ClientHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(p.tp), otelgrpc.WithPropagators(propagation.TraceContext{})), opts...)),
		grpc.WithChainUnaryInterceptor(grpcx.UnaryClientInterceptor(opts...)),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	client := grpc_health_v1.NewHealthClient(cc)
	return func(ctx context.Context, name string) answer {
		_, err := client.Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: name})
		return rpcAnswer(err)
	}
}

// rpcAnswer reads a gRPC status (as grpc-go or connect-go's gRPC protocol
// hands it back) in the table's terms.
func rpcAnswer(err error) answer {
	a := answer{err: err}
	st, _ := status.FromError(err)
	a.code = st.Code()
	a.message = st.Message()
	var wire strings.Builder
	wire.WriteString(st.Message())
	for _, d := range st.Details() {
		fmt.Fprintf(&wire, "\n%v", d)
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			a.id = d.GetReason()
			if len(d.GetMetadata()) > 0 {
				a.info = d.GetMetadata()
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				a.entries = append(a.entries, v.GetReason())
			}
		}
	}
	a.wire = wire.String()
	return a
}
