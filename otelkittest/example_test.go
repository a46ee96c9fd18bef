package otelkittest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/otelbridge"
	"github.com/otelkit/otelkit/otelkittest"
)

// printT stands in for the *testing.T of a test: it prints what an
// assertion reports. routes() is the small notes service of the package's
// tests (service_test.go).
type printT struct {
	testing.TB
	cleanups []func()
}

func (*printT) Helper()                           {}
func (p *printT) Cleanup(f func())                { p.cleanups = append(p.cleanups, f) }
func (*printT) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// done runs the cleanups, as the end of a test does.
func (p *printT) done() {
	for i := len(p.cleanups) - 1; i >= 0; i-- {
		p.cleanups[i]()
	}
}

// In a test, New(t) and the assertions read like this; each line reports
// its differences through t.
func ExampleNew() {
	var t testing.TB = &printT{} // a test's *testing.T
	kit := otelkittest.New(t)
	res := kit.Do(routes(), httptest.NewRequest("GET", "/notes/db", nil))
	kit.AssertError(res, ErrStorage, otelkittest.NoLeak(errDial))
	kit.AssertRequestSpan(res, ErrStorage)
	kit.AssertRequestMetric(res, ErrStorage)
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
	// Output:
	// 503 application/problem+json
}

func ExampleKit_AssertError() {
	kit := otelkittest.New(&printT{})
	req := httptest.NewRequest("POST", "/login", strings.NewReader(`{"user":"mallory","password":"hunter2"}`))
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	res := kit.Do(routes(), req)
	fmt.Println(kit.AssertError(res, ErrRateLimited, otelkittest.Info("retry_after", 30), otelkittest.NoLeak("hunter2")))
	fmt.Println(kit.AssertError(res, ErrRateLimited, otelkittest.Info("retry_after", 60)))
	// Output:
	// true
	// otelkittest: response is not kittest.rate-limited:
	//     info.retry_after: got 30, want 60
	// body: {"type":"urn:otelkit:error:kittest.rate-limited","title":"Too many attempts","status":429,"id":"kittest.rate-limited","instance":"/login","info":{"retry_after":30},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}
	// false
}

func ExampleKit_AssertAudit() {
	kit := otelkittest.New(&printT{})
	req := httptest.NewRequest("DELETE", "/notes/7", nil)
	req.Header.Set("X-User", "ada")
	kit.Do(routes(), req)
	kit.AssertAudit("kittest.note_deleted", attribute.String("note", "7"), attribute.String("user", "ada"))
	kit.AssertAudits("kittest.note_deleted", 0, attribute.String("user", "eve"))
	for _, r := range kit.Audits("kittest.note_deleted") {
		fmt.Println(r.Severity(), r.Body().AsString())
	}
	// Output:
	// INFO Note 7 deleted by ada
}

func ExampleKit_AssertRequestSpan() {
	kit := otelkittest.New(&printT{})
	ok := kit.Do(routes(), httptest.NewRequest("GET", "/notes/1", nil))
	broken := kit.Do(routes(), httptest.NewRequest("GET", "/notes/db", nil))
	fmt.Println(kit.AssertRequestSpan(ok, nil), kit.AssertRequestSpan(broken, ErrStorage))
	span := kit.SpanOf(broken)
	fmt.Println(span.Name(), span.Status().Code, span.Status().Description)
	// Output:
	// true true
	// GET /notes/{id} Error kittest.storage
}

func ExampleKit_AssertRequestMetric() {
	kit := otelkittest.New(&printT{})
	broken := kit.Do(routes(), httptest.NewRequest("GET", "/notes/db", nil))
	fmt.Println(kit.AssertRequestMetric(broken, ErrStorage))
	fmt.Println(kit.AssertMetric(otelkittest.MetricRequestDuration, attribute.String("http.route", "/notes/{id}")))
	// Output:
	// true
	// true
}

func ExampleKit_AssertNoSecret() {
	kit := otelkittest.New(&printT{})
	leaky := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Debug", "token=s3cr3t")
	})
	kit.Do(leaky, httptest.NewRequest("GET", "/", nil))
	kit.AssertNoSecret("s3cr3t")
	// Output:
	// otelkittest: secret "s3cr3t" found:
	//     response #1 (200) header: "X-Debug: token=s3cr3t\n"
}

// Code outside a request (a job, a consumer) takes the kit's context.
func ExampleKit_Context() {
	kit := otelkittest.New(&printT{})
	ctx := kit.Context(context.Background())
	_ = otelbridge.Track(ctx, "nightly.export", func(context.Context) error {
		return errors.New("partner answered 502")
	})
	for _, s := range kit.Spans() {
		fmt.Println(s.Name(), s.Status().Code, s.Status().Description)
	}
	// Output:
	// nightly.export Error internal
}

// A real server (here httptest's) runs the kit's Handler; Response reads
// what a client got, and the span is found by the request's traceparent.
// Any http.Handler works the same: a ServeMux, a chi router, a gin.Engine,
// an echo.Echo.
func ExampleKit_Handler() {
	kit := otelkittest.New(&printT{})
	srv := httptest.NewServer(kit.Handler(routes()))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/notes/7", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	res, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	r := kit.Response(res)
	fmt.Println(kit.AssertError(r, ErrNoteNotFound), kit.AssertRequestSpan(r, ErrNoteNotFound))
	fmt.Println(kit.SpanOf(r).SpanContext().TraceID())
	// Output:
	// true true
	// 4bf92f3577b34da6a3ce929d0e0e4736
}

// A gRPC server records into the kit with its server options, before
// grpcx's interceptor; here on an in-memory bufconn listener
// (grpcClient in grpc_test.go).
func ExampleKit_AssertGRPCError() {
	t := &printT{}
	defer t.done()
	kit := otelkittest.New(t)
	c := grpcClient(t, kit)
	err := check(c, "db")
	fmt.Println(kit.AssertGRPCError(err, ErrStorage, otelkittest.NoLeak(errDial)))
	fmt.Println(kit.AssertRPCSpan("/grpc.health.v1.Health/Check", ErrStorage))
	// Output:
	// true
	// true
}
