package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/grpcx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/otelbridge"
	"github.com/otelkit/otelkit/otelkittest"
)

var (
	audits     = auditx.NewRegistry()
	auditCheck = audits.Define("health.checked", auditx.LevelInfo, "{user.id} called {rpc.method} from {client.address}")
)

// auditingHealth emits an audit in each handler; Check also fails as the
// service field says, and captures an error with otelbridge for "capture".
type auditingHealth struct {
	grpc_health_v1.UnimplementedHealthServer
}

func (auditingHealth) Check(ctx context.Context, req *grpc_health_v1.HealthCheckRequest) (*grpc_health_v1.HealthCheckResponse, error) {
	if _, ok := httpx.RequestInfoFromContext(ctx); ok {
		return nil, errors.New("httpx.RequestInfoFromContext answers inside a gRPC call")
	}
	if err := auditCheck.Emit(ctx); err != nil {
		return nil, err
	}
	if req.Service == "capture" {
		otelbridge.Capture(ctx, errStoreDown.Wrap(fmt.Errorf("captured")))
		return &grpc_health_v1.HealthCheckResponse{}, nil
	}
	if err := errorFor(req.Service); err != nil {
		return nil, err
	}
	return &grpc_health_v1.HealthCheckResponse{}, nil
}

func (auditingHealth) Watch(req *grpc_health_v1.HealthCheckRequest, s grpc.ServerStreamingServer[grpc_health_v1.HealthCheckResponse]) error {
	if err := auditCheck.Emit(s.Context()); err != nil {
		return err
	}
	return errorFor(req.Service)
}

// userFromMetadata is a WithUser resolver reading the x-user metadata.
func userFromMetadata(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("x-user"); len(v) > 0 {
		return v[0]
	}
	return ""
}

// startKit serves auditingHealth on 127.0.0.1 under otelgrpc with the kit's
// providers and grpcx's interceptors.
func startKit(t *testing.T, kit *otelkittest.Kit) grpc_health_v1.HealthClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := []grpcx.Option{grpcx.WithRegistry(reg), grpcx.WithUser(userFromMetadata), grpcx.WithLoggerProvider(kit.LoggerProvider())}
	srv := grpc.NewServer(append(kit.GRPCServerOptions(),
		grpc.ChainUnaryInterceptor(grpcx.UnaryServerInterceptor(opts...)),
		grpc.ChainStreamInterceptor(grpcx.StreamServerInterceptor(opts...)))...)
	grpc_health_v1.RegisterHealthServer(srv, auditingHealth{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return grpc_health_v1.NewHealthClient(cc)
}

func attrsOf(r sdklog.Record) map[string]string {
	m := map[string]string{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if _, dup := m[string(kv.Key)]; dup {
			m[string(kv.Key)] = "DUPLICATE"
		} else {
			m[string(kv.Key)] = kv.Value.String()
		}
		return true
	})
	return m
}

// TestAuditCarriesRPC: an audit emitted inside a gRPC handler carries the
// RPC's context as one inside an httpx request carries the request's.
func TestAuditCarriesRPC(t *testing.T) {
	kit := otelkittest.New(t)
	client := startKit(t, kit)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-user", "u-7")

	if err := check(t, client, ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	rpc := []attribute.KeyValue{
		attribute.String("rpc.system.name", "grpc"),
		attribute.String("rpc.method", "grpc.health.v1.Health/Check"),
		attribute.String("client.address", "127.0.0.1"),
		attribute.String("user.id", "u-7"),
	}
	kit.AssertAudit("health.checked", rpc...)
	recs := kit.Audits("health.checked")
	if len(recs) != 1 {
		t.Fatalf("%d audits", len(recs))
	}
	if got, want := recs[0].Body().AsString(), "u-7 called grpc.health.v1.Health/Check from 127.0.0.1"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	for k, v := range attrsOf(recs[0]) {
		if v == "DUPLICATE" {
			t.Errorf("audit carries %s twice", k)
		}
		if k == "http.route" || k == "http.request.method" {
			t.Errorf("audit of an RPC carries %s", k)
		}
	}

	// Streams: the handler's stream context is the RPC's.
	stream, err := client.Watch(ctx, &grpc_health_v1.HealthCheckRequest{Service: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = stream.Recv()
	}
	kit.AssertAudit("health.checked", attribute.String("rpc.method", "grpc.health.v1.Health/Watch"), attribute.String("user.id", "u-7"))
}

// TestExceptionRecordCarriesRPC: the exception record of a failure, and an
// error captured with otelbridge inside the handler, are named
// rpc.server.call.exception and carry the RPC's facts once each.
func TestExceptionRecordCarriesRPC(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs")
	kit := otelkittest.New(t)
	client := startKit(t, kit)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-user", "u-9")

	if err := check(t, client, ctx, "5xx"); err == nil {
		t.Fatal("no error")
	}
	if err := check(t, client, ctx, "capture"); err != nil {
		t.Fatal(err)
	}
	exc := kit.Exceptions()
	if len(exc) != 2 {
		t.Fatalf("%d exception records, want 2", len(exc))
	}
	for i, r := range exc {
		if got := r.EventName(); got != grpcx.EventServerException {
			t.Errorf("#%d event name %q, want %q", i, got, grpcx.EventServerException)
		}
		a := attrsOf(r)
		for k, want := range map[string]string{
			"rpc.system.name":  "grpc",
			"rpc.method":       "grpc.health.v1.Health/Check",
			"client.address":   "127.0.0.1",
			"user.id":          "u-9",
			"otelkit.error.id": errStoreDown.ID(),
		} {
			if a[k] != want {
				t.Errorf("#%d %s = %q, want %q", i, k, a[k], want)
			}
		}
		if _, ok := a["http.response.status_code"]; ok {
			t.Errorf("#%d: an RPC's record carries http.response.status_code", i)
		}
	}
	// The answered failure carries the code it was answered with; the
	// capture answered nothing.
	if got := attrsOf(exc[0])["rpc.response.status_code"]; got != "UNAVAILABLE" {
		t.Errorf("rpc.response.status_code %q, want UNAVAILABLE", got)
	}
}
