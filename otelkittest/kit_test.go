package otelkittest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/otelbridge"
	"github.com/otelkit/otelkit/otelkittest"
)

// TestKitPassesOnAService: every assertion passes on what a real httpx
// service records.
func TestKitPassesOnAService(t *testing.T) {
	t.Parallel()
	kit := otelkittest.New(t)
	h := routes()

	ok := kit.Do(h, httptest.NewRequest("GET", "/notes/1", nil))
	kit.AssertRequestSpan(ok, nil)
	kit.AssertRequestMetric(ok, nil)

	missing := kit.Do(h, httptest.NewRequest("GET", "/notes/7", nil))
	kit.AssertError(missing, ErrNoteNotFound)
	kit.AssertRequestSpan(missing, ErrNoteNotFound)
	kit.AssertRequestMetric(missing, ErrNoteNotFound)

	broken := kit.Do(h, httptest.NewRequest("GET", "/notes/db", nil))
	kit.AssertError(broken, ErrStorage, otelkittest.NoLeak(errDial, "load note"))
	kit.AssertRequestSpan(broken, ErrStorage)
	kit.AssertRequestMetric(broken, ErrStorage)

	panicked := kit.Do(h, httptest.NewRequest("GET", "/panic", nil))
	kit.AssertError(panicked, errorsx.Internal, otelkittest.NoLeak("nil map"))
	kit.AssertRequestSpan(panicked, errorsx.Internal)

	login := httptest.NewRequest("POST", "/login", strings.NewReader(`{"user":"mallory","password":"hunter2"}`))
	limited := kit.Do(h, login)
	kit.AssertError(limited, ErrRateLimited, otelkittest.Info("retry_after", 30))
	kit.AssertAudit("kittest.login_failed", attribute.String("user", "mallory"))
	kit.AssertNoSecret("hunter2")

	for _, id := range []string{"1", "2"} {
		req := httptest.NewRequest("DELETE", "/notes/"+id, nil)
		req.Header.Set("X-User", "ada")
		kit.Do(h, req)
	}
	kit.AssertAudits("kittest.note_deleted", 2, attribute.String("user", "ada"))
	kit.AssertAudit("kittest.note_deleted", attribute.String("note", "2"), attribute.String("user", "ada"))
	kit.AssertAudits("kittest.note_deleted", 0, attribute.String("user", "eve"))

	if got := len(kit.Audits()); got != 3 {
		t.Errorf("Audits() = %d records, want 3", got)
	}
	for _, res := range []*otelkittest.Response{broken, panicked} {
		if !hasException(kit, kit.SpanOf(res)) {
			t.Errorf("no exception record for the %d", res.StatusCode)
		}
	}
	if span := kit.SpanOf(broken); span == nil || span.Status().Description != ErrStorage.ID() {
		t.Errorf("SpanOf(broken) = %v", span)
	}
}

// hasException reports whether span s has an exception record, as a span
// event or a log record in it (OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN decides
// which).
func hasException(kit *otelkittest.Kit, s sdktrace.ReadOnlySpan) bool {
	if s == nil {
		return false
	}
	for _, e := range s.Events() {
		if strings.HasSuffix(e.Name, "exception") {
			return true
		}
	}
	for _, r := range kit.Exceptions() {
		if r.SpanID() == s.SpanContext().SpanID() {
			return true
		}
	}
	return false
}

// TestKitOutsideRequests: Capture and Track under Kit.Context record into
// the kit, not into the global providers.
func TestKitOutsideRequests(t *testing.T) {
	t.Parallel()
	kit := otelkittest.New(t)
	ctx := kit.Context(context.Background())
	otelbridge.Capture(ctx, ErrStorage.Wrap(errors.New("disk full")))
	_ = otelbridge.Track(ctx, "kittest.job", func(context.Context) error { return errors.New("job failed") })
	NoteDeleted.Emit(ctx, attribute.String("note", "9"), attribute.String("user", "cron"))

	var captured bool
	for _, r := range kit.Exceptions() {
		captured = captured || strings.Contains(r.Body().String(), "disk full")
	}
	if !captured {
		t.Error("Capture's exception record is not in the kit")
	}
	var job sdktrace.ReadOnlySpan
	for _, s := range kit.Spans() {
		if s.Name() == "kittest.job" {
			job = s
		}
	}
	if job == nil || !hasException(kit, job) {
		t.Errorf("Track's span, with its exception record, is not in the kit: %v", job)
	}
	kit.AssertAudit("kittest.note_deleted", attribute.String("user", "cron"))
}

// TestKitsAreIndependent runs kits in parallel: each sees only its own
// requests, and the global providers are left alone.
func TestKitsAreIndependent(t *testing.T) {
	globalTP := otel.GetTracerProvider()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			defer wg.Done()
			kit := otelkittest.New(t)
			h := routes()
			for j := 0; j <= i; j++ {
				req := httptest.NewRequest("DELETE", fmt.Sprintf("/notes/%d", j), nil)
				req.Header.Set("X-User", fmt.Sprint("user", i))
				kit.Do(h, req)
			}
			kit.AssertAudits("kittest.note_deleted", i+1, attribute.String("user", fmt.Sprint("user", i)))
			if n := len(kit.Spans()); n != i+1 {
				t.Errorf("kit %d: %d spans, want %d", i, n, i+1)
			}
		})
	}
	t.Cleanup(func() {
		if otel.GetTracerProvider() != globalTP {
			t.Error("the global tracer provider was replaced")
		}
		if _, isNoop := otel.GetTracerProvider().(noop.TracerProvider); isNoop {
			t.Log("global tracer provider is a no-op one")
		}
	})
}

// TestKitWithAServer: a response from a real server running Kit.Handler
// is found by its traceparent.
func TestKitWithAServer(t *testing.T) {
	t.Parallel()
	kit := otelkittest.New(t)
	srv := httptest.NewServer(kit.Handler(routes()))
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL+"/notes/db", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r := kit.Response(res)
	kit.AssertError(r, ErrStorage, otelkittest.NoLeak(errDial))
	kit.AssertRequestSpan(r, ErrStorage)
}
