package connectx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/connectx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/otelbridge"
	"github.com/otelkit/otelkit/otelkittest"
)

var (
	audits     = auditx.NewRegistry()
	auditCheck = audits.Define("connect.checked", auditx.LevelInfo, "{user.id} called {rpc.method} from {client.address}")
)

const auditProcedure = "/otelkit.test.v1.AuditService/Check"

// userFromHeader is a WithUser resolver reading the X-User header of the
// call (connect keeps the call's headers in the handler's context).
func userFromHeader(ctx context.Context) string {
	if ci, ok := connect.CallInfoForHandlerContext(ctx); ok {
		return ci.RequestHeader().Get("X-User")
	}
	return ""
}

// startAuditing serves a handler that emits an audit, captures an error
// for "capture" and fails as errorFor says otherwise, under otelconnect and
// connectx with the kit's providers in every request's context.
func startAuditing(t *testing.T, kit *otelkittest.Kit) (string, *http.Client) {
	t.Helper()
	otel, err := otelconnect.NewInterceptor(otelconnect.WithTracerProvider(kit.TracerProvider()),
		otelconnect.WithMeterProvider(kit.MeterProvider()), otelconnect.WithPropagator(propagation.TraceContext{}),
		otelconnect.WithAttributeFilter(connectx.AttributeFilter))
	if err != nil {
		t.Fatal(err)
	}
	ic := connect.WithInterceptors(otel, connectx.NewInterceptor(connectx.WithRegistry(reg),
		connectx.WithUser(userFromHeader), connectx.WithLoggerProvider(kit.LoggerProvider())))
	mux := http.NewServeMux()
	mux.Handle(auditProcedure, connect.NewUnaryHandler(auditProcedure,
		func(ctx context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[emptypb.Empty], error) {
			if _, ok := httpx.RequestInfoFromContext(ctx); ok {
				return nil, errors.New("httpx.RequestInfoFromContext answers inside a Connect call")
			}
			if err := auditCheck.Emit(ctx); err != nil {
				return nil, err
			}
			if req.Msg.GetValue() == "capture" {
				otelbridge.Capture(ctx, errStoreDown.Wrap(fmt.Errorf("captured")))
				return connect.NewResponse(&emptypb.Empty{}), nil
			}
			if err := errorFor(req.Msg.GetValue()); err != nil {
				return nil, err
			}
			return connect.NewResponse(&emptypb.Empty{}), nil
		}, ic))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(kit.Context(r.Context())))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, srv.Client()
}

func callAudit(t *testing.T, url string, hc *http.Client, protocol connect.ClientOption, name, user string) error {
	t.Helper()
	c := connect.NewClient[wrapperspb.StringValue, emptypb.Empty](hc, url+auditProcedure, protocol)
	req := connect.NewRequest(wrapperspb.String(name))
	req.Header().Set("X-User", user)
	_, err := c.CallUnary(context.Background(), req)
	return err
}

func logAttrs(r sdklog.Record) map[string]string {
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

// TestAuditCarriesRPC: an audit emitted inside a Connect handler carries
// the RPC's context, over each protocol.
func TestAuditCarriesRPC(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			kit := otelkittest.New(t)
			url, hc := startAuditing(t, kit)
			if err := callAudit(t, url, hc, p.opt, "ok", "u-7"); err != nil {
				t.Fatal(err)
			}
			system := map[string]string{"connect": "connectrpc", "grpc": "grpc", "grpcweb": "grpc"}[p.name]
			kit.AssertAudit("connect.checked",
				attribute.String("rpc.system.name", system),
				attribute.String("rpc.method", "otelkit.test.v1.AuditService/Check"),
				attribute.String("client.address", "127.0.0.1"),
				attribute.String("user.id", "u-7"))
			recs := kit.Audits("connect.checked")
			if len(recs) != 1 {
				t.Fatalf("%d audits", len(recs))
			}
			if got, want := recs[0].Body().AsString(), "u-7 called otelkit.test.v1.AuditService/Check from 127.0.0.1"; got != want {
				t.Errorf("body %q, want %q", got, want)
			}
			for k, v := range logAttrs(recs[0]) {
				if v == "DUPLICATE" {
					t.Errorf("audit carries %s twice", k)
				}
			}
		})
	}
}

// TestExceptionRecordCarriesRPC: the exception record of a failure, and an
// error captured with otelbridge inside the handler, are named
// rpc.server.call.exception and carry the RPC's facts once each.
func TestExceptionRecordCarriesRPC(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs")
	kit := otelkittest.New(t)
	url, hc := startAuditing(t, kit)
	if err := callAudit(t, url, hc, connect.WithGRPC(), "5xx", "u-9"); err == nil {
		t.Fatal("no error")
	}
	// The kit's RPC span assertion holds for otelconnect's spans too.
	kit.AssertRPCSpan(auditProcedure, errStoreDown)
	if err := callAudit(t, url, hc, connect.WithGRPC(), "capture", "u-9"); err != nil {
		t.Fatal(err)
	}
	exc := kit.Exceptions()
	if len(exc) != 2 {
		t.Fatalf("%d exception records, want 2", len(exc))
	}
	for i, r := range exc {
		if got := r.EventName(); got != connectx.EventServerException {
			t.Errorf("#%d event name %q, want %q", i, got, connectx.EventServerException)
		}
		a := logAttrs(r)
		for k, want := range map[string]string{
			"rpc.system.name":  "grpc",
			"rpc.method":       "otelkit.test.v1.AuditService/Check",
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
	if got := logAttrs(exc[0])["rpc.response.status_code"]; got != "UNAVAILABLE" {
		t.Errorf("rpc.response.status_code %q, want UNAVAILABLE", got)
	}
}
