package parity_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/connectx"
	"github.com/otelkit/otelkit/transports/parity"
)

const connectProcedure = "/parity.v1.Cases/Run"

func init() {
	for _, p := range []struct {
		name string
		opt  connect.ClientOption
	}{
		{"connect", connect.WithClientOptions()},
		{"connect-grpc", connect.WithGRPC()},
		{"connect-grpcweb", connect.WithGRPCWeb()},
	} {
		register(transport{name: p.name, rpc: true, event: connectx.EventServerException, metric: "rpc.server.call.duration",
			start: func(t *testing.T, ps providers) func(context.Context, string) answer {
				return startConnect(t, ps, p.opt)
			}})
	}
}

func otelConnect(t *testing.T, tp trace.TracerProvider, extra ...otelconnect.Option) *otelconnect.Interceptor {
	t.Helper()
	i, err := otelconnect.NewInterceptor(append([]otelconnect.Option{
		otelconnect.WithTracerProvider(tp),
		otelconnect.WithPropagator(propagation.TraceContext{}),
		otelconnect.WithAttributeFilter(connectx.AttributeFilter),
	}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// startConnect serves the table with connect-go under otelconnect and
// connectx on 127.0.0.1 (TLS with HTTP/2: the gRPC protocol needs it), and
// calls it with a connect-go client of the given protocol through
// connectx's client interceptor.
func startConnect(t *testing.T, p providers, protocol connect.ClientOption) func(context.Context, string) answer {
	t.Helper()
	ic := connectx.NewInterceptor(connectx.WithRegistry(parity.Registry))
	server := connectx.NewInterceptor(connectx.WithRegistry(parity.Registry), connectx.WithLoggerProvider(p.lp))
	mux := http.NewServeMux()
	mux.Handle(connectProcedure, connect.NewUnaryHandler(connectProcedure,
		func(_ context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[emptypb.Empty], error) {
			if err := parity.Run(req.Msg.GetValue()); err != nil {
				return nil, err
			}
			return connect.NewResponse(&emptypb.Empty{}), nil
		}, connect.WithInterceptors(otelConnect(t, p.tp, otelconnect.WithTrustRemote(), otelconnect.WithMeterProvider(p.mp)), server)))
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := connect.NewClient[wrapperspb.StringValue, emptypb.Empty](srv.Client(), srv.URL+connectProcedure, protocol,
		connect.WithInterceptors(otelConnect(t, p.tp), ic))
	return func(ctx context.Context, name string) answer {
		_, err := client.CallUnary(ctx, connect.NewRequest(wrapperspb.String(name)))
		return connectAnswer(t, err)
	}
}

// connectAnswer reads a connect-go error in the table's terms.
func connectAnswer(t *testing.T, err error) answer {
	a := answer{err: err, code: codes.OK}
	if err == nil {
		return a
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("no *connect.Error in %v", err)
	}
	a.code = codes.Code(ce.Code())
	a.message = ce.Message()
	var wire strings.Builder
	wire.WriteString(ce.Message())
	for k, v := range ce.Meta() {
		fmt.Fprintf(&wire, "\n%s: %s", k, strings.Join(v, ", "))
	}
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			t.Fatalf("detail %s: %v", d.Type(), err)
		}
		fmt.Fprintf(&wire, "\n%v", v)
		switch v := v.(type) {
		case *errdetails.ErrorInfo:
			a.id = v.GetReason()
			if len(v.GetMetadata()) > 0 {
				a.info = v.GetMetadata()
			}
		case *errdetails.BadRequest:
			for _, fv := range v.GetFieldViolations() {
				a.entries = append(a.entries, fv.GetReason())
			}
		}
	}
	a.wire = wire.String()
	return a
}
