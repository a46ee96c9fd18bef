package otelkittest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"

	"github.com/otelkit/otelkit/grpcx"
	"github.com/otelkit/otelkit/otelkittest"
)

// notesHealth answers Check by the service name: "" serves, "missing" is
// the 404 definition, "db" the 503 with an internal cause, "limited" the
// 429 with public info.
type notesHealth struct {
	grpc_health_v1.UnimplementedHealthServer
}

func (notesHealth) Check(_ context.Context, req *grpc_health_v1.HealthCheckRequest) (*grpc_health_v1.HealthCheckResponse, error) {
	switch req.GetService() {
	case "missing":
		return nil, ErrNoteNotFound
	case "db":
		return nil, ErrStorage.Wrap(fmt.Errorf("load note: %w", errDial))
	case "limited":
		return nil, ErrRateLimited.With("retry_after", 30)
	}
	return &grpc_health_v1.HealthCheckResponse{Status: grpc_health_v1.HealthCheckResponse_SERVING}, nil
}

const checkMethod = "/grpc.health.v1.Health/Check"

// grpcClient serves notesHealth on a bufconn listener with the kit's
// server options and grpcx's interceptor, and returns a client.
func grpcClient(t testing.TB, kit *otelkittest.Kit) grpc_health_v1.HealthClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(append(kit.GRPCServerOptions(),
		grpc.ChainUnaryInterceptor(grpcx.UnaryServerInterceptor()))...)
	grpc_health_v1.RegisterHealthServer(srv, notesHealth{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return grpc_health_v1.NewHealthClient(cc)
}

func check(c grpc_health_v1.HealthClient, service string) error {
	_, err := c.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{Service: service})
	return err
}

func TestKitWithAGRPCServer(t *testing.T) {
	t.Parallel()
	kit := otelkittest.New(t)
	c := grpcClient(t, kit)

	if err := check(c, ""); err != nil {
		t.Fatal(err)
	}
	kit.AssertRPCSpan(checkMethod, nil)

	kit.AssertGRPCError(check(c, "missing"), ErrNoteNotFound)
	kit.AssertRPCSpan(checkMethod, ErrNoteNotFound)

	kit.AssertGRPCError(check(c, "db"), ErrStorage, otelkittest.NoLeak(errDial, "load note"))
	kit.AssertRPCSpan(checkMethod, ErrStorage)

	kit.AssertGRPCError(check(c, "limited"), ErrRateLimited, otelkittest.Info("retry_after", 30))
	kit.AssertRPCSpan(checkMethod, ErrRateLimited)
}

func TestAssertGRPCErrorFails(t *testing.T) {
	t.Parallel()
	f := &fakeT{TB: t}
	kit := otelkittest.New(f)
	c := grpcClient(t, kit)
	missing := check(c, "missing")
	mustFail(t, f, kit.AssertGRPCError(missing, ErrStorage),
		"gRPC error is not kittest.storage", "code: got NotFound, want Unavailable", `ErrorInfo.reason: got "kittest.note-not-found", want "kittest.storage"`)
	mustFail(t, f, kit.AssertGRPCError(missing, ErrNoteNotFound, otelkittest.GRPCCode(codes.Internal)), "code: got NotFound, want Internal")
	mustFail(t, f, kit.AssertGRPCError(check(c, "limited"), ErrRateLimited, otelkittest.Info("retry_after", 60)),
		`metadata retry_after: got "30", want "60"`)
	mustFail(t, f, kit.AssertGRPCError(check(c, "limited"), ErrRateLimited, otelkittest.NoLeak("Too many")), `leak: "Too many"`)
	mustFail(t, f, kit.AssertGRPCError(errors.New("plain"), ErrStorage), "want a gRPC status")
	mustFail(t, f, kit.AssertGRPCError(nil, ErrStorage), "got <nil>, want a gRPC status")

	_ = check(c, "db")
	mustFail(t, f, kit.AssertRPCSpan(checkMethod, nil), "status: got Error, want Unset")
	mustFail(t, f, kit.AssertRPCSpan("/no.Such/Method", nil), "no server span for /no.Such/Method")
}
