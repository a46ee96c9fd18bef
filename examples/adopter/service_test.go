package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/examples/adopter/api"
)

// logSink keeps the log records a provider emits.
type logSink struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (s *logSink) OnEmit(_ context.Context, r *sdklog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, r.Clone())
	return nil
}
func (s *logSink) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (s *logSink) Shutdown(context.Context) error                         { return nil }
func (s *logSink) ForceFlush(context.Context) error                       { return nil }

func (s *logSink) records() []sdklog.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sdklog.Record(nil), s.recs...)
}

// syncBuffer is an access log tests can read while requests run.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testService is one service with providers of its own: nothing global,
// so tests run in parallel.
type testService struct {
	*Service
	spans  *tracetest.SpanRecorder
	logs   *logSink
	access *syncBuffer
}

func newTestService(t *testing.T) *testService {
	t.Helper()
	ts := &testService{spans: tracetest.NewSpanRecorder(), logs: &logSink{}, access: &syncBuffer{}}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(ts.spans))
	mp := sdkmetric.NewMeterProvider()
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(ts.logs))
	t.Cleanup(func() {
		ctx := context.Background()
		_ = tp.Shutdown(ctx)
		_ = mp.Shutdown(ctx)
		_ = lp.Shutdown(ctx)
	})
	ts.Service = New(Config{TracerProvider: tp, MeterProvider: mp, LoggerProvider: lp, AccessLog: ts.access, StackFrames: 4})
	return ts
}

func (ts *testService) do(method, target, contentType, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	return rec
}

// errorBody decodes the company's error body, checking its media type.
func errorBody(t *testing.T, rec *httptest.ResponseRecorder) (code, message string, details map[string]any) {
	t.Helper()
	require.Equal(t, api.ContentType, rec.Header().Get("Content-Type"), rec.Body.String())
	var b struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&b))
	return b.Error.Code, b.Error.Message, b.Error.Details
}

func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestDecodeJSON (issue 17 item 1): every malformed request body is the
// client's registered 4xx in the company's body, never a 500 with a stack.
func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, body string
		status                  int
		code                    string
		details                 map[string]any
	}{
		{"truncated", "application/json", `{"title":`, 400, "truncated-json", map[string]any{"offset": float64(9)}},
		{"malformed", "application/json", `{"title" "x"}`, 400, "malformed-json", nil},
		{"empty", "application/json", ``, 400, "empty-body", nil},
		{"wrong type", "application/json", `{"title": 5}`, 400, "json-type-mismatch",
			map[string]any{"field": "title", "expected": "string", "got": "number"}},
		{"unknown field", "application/json", `{"title":"a","color":"red"}`, 400, "unknown-field", map[string]any{"field": "color"}},
		{"trailing data", "application/json", `{"title":"a"} {}`, 400, "trailing-data", nil},
		{"wrong media type", "text/plain", `{"title":"a"}`, 415, "unsupported-media-type", nil},
		{"too large", "application/json", `{"title":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "body-too-large", nil},
		{"missing title", "application/json", `{"body":"b"}`, 422, "note.title-missing", map[string]any{"field": "title"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestService(t)
			rec := ts.do(http.MethodPost, "/notes", tt.contentType, tt.body)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			code, _, details := errorBody(t, rec)
			assert.Equal(t, tt.code, code)
			for k, v := range tt.details {
				assert.Equal(t, v, details[k], "details.%s", k)
			}
			spans := ts.spans.Ended()
			require.Len(t, spans, 1)
			assert.Equal(t, codes.Unset, spans[0].Status().Code, "a client's mistake is not a server failure")
			assert.Empty(t, spans[0].Events(), "no exception event")
			assert.Equal(t, tt.code, spanAttrs(spans[0])["otelkit.error.id"].AsString())
			assert.Empty(t, ts.logs.records(), "no exception record")
		})
	}

	t.Run("a valid note", func(t *testing.T) {
		t.Parallel()
		ts := newTestService(t)
		rec := ts.do(http.MethodPost, "/notes", "application/json", `{"title":"groceries"}`)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		assert.JSONEq(t, `{"id":1,"title":"groceries"}`, rec.Body.String())
	})
}

// TestAdminGroupInheritsBody (issue 17 item 2): the /admin/ group's Handler
// sets only its registry and answers in the service's body, with the
// service's logger provider and stack bound.
func TestAdminGroupInheritsBody(t *testing.T) {
	t.Parallel()
	ts := newTestService(t)
	rec := ts.do(http.MethodPost, "/admin/notes/1/purge", "", "")
	require.Equal(t, http.StatusForbidden, rec.Code)
	code, msg, _ := errorBody(t, rec)
	assert.Equal(t, "admin.forbidden", code, "the group's own registry")
	assert.Equal(t, "Only administrators may do that", msg)

	rec = ts.do(http.MethodGet, "/admin/nothing", "", "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	code, _, _ = errorBody(t, rec)
	assert.Equal(t, "not-found", code, "the router's 404 in the service's body too")
}

// TestAccessLog (issue 17 item 11): middleware outside the Handler logs
// the id, status and panic of every request from httpx.TrackOutcome.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	ts := newTestService(t)
	ts.do(http.MethodPost, "/notes", "application/json", `{"title":"a"}`)
	ts.do(http.MethodGet, "/notes/1", "", "")
	ts.do(http.MethodGet, "/notes/9", "", "")
	ts.do(http.MethodPost, "/notes", "application/json", `{"title":`)
	ts.do(http.MethodGet, "/panic", "", "")
	ts.Close()
	ts.do(http.MethodGet, "/notes/1", "", "")

	assert.Equal(t, strings.Join([]string{
		`POST /notes status=201 error="" panic=false`,
		`GET /notes/1 status=200 error="" panic=false`,
		`GET /notes/9 status=404 error="note.not-found" panic=false`,
		`POST /notes status=400 error="truncated-json" panic=false`,
		`GET /panic status=500 error="internal" panic=true`,
		`GET /notes/1 status=503 error="store.closed" panic=false`,
	}, "\n")+"\n", ts.access.String())
}

// TestFailuresBoundedStacks: a failure (a panic, a mapped 5xx) has an
// exception record whose stack is bounded by the service's option.
func TestFailuresBoundedStacks(t *testing.T) {
	t.Parallel()
	ts := newTestService(t)
	rec := ts.do(http.MethodGet, "/panic", "", "")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	code, _, _ := errorBody(t, rec)
	assert.Equal(t, "internal", code)
	assert.NotContains(t, rec.Body.String(), "corrupt", "the panic value stays on the server")

	spans := ts.spans.Ended()
	require.Len(t, spans, 1)
	assert.Equal(t, codes.Error, spans[0].Status().Code)
	require.Len(t, spans[0].Events(), 1)
	var stack string
	for _, kv := range spans[0].Events()[0].Attributes {
		if kv.Key == "exception.stacktrace" {
			stack = kv.Value.AsString()
		}
	}
	assert.Equal(t, 4, strings.Count(stack, "\n\t"), "at most 4 frames:\n%s", stack)
	assert.True(t, strings.HasSuffix(stack, "...additional frames elided...\n"), stack)
}

// TestServicesApart (issue 17 item 8): two services side by side, in
// parallel, each with its own providers, audit registry and Recorder;
// neither sees the other's audits, spans or exception records, and no
// global is touched.
func TestServicesApart(t *testing.T) {
	for _, user := range []string{"ann", "bob"} {
		t.Run(user, func(t *testing.T) {
			t.Parallel()
			ts := newTestService(t)
			require.Equal(t, http.StatusCreated, ts.do(http.MethodPost, "/notes", "application/json", `{"title":"`+user+`"}`).Code)
			require.Equal(t, http.StatusNoContent, ts.do(http.MethodDelete, "/notes/1", "", "", "X-User", user).Code)

			recs := ts.logs.records()
			require.Len(t, recs, 1, "this service's audit only")
			assert.Equal(t, "note.deleted", recs[0].EventName())
			assert.Equal(t, "Note 1 deleted by "+user, recs[0].Body().AsString())

			// The background job reports through the service's Recorder.
			ts.Close()
			err := ts.Compact(context.Background())
			require.ErrorIs(t, err, api.ErrClosed)
			var job sdktrace.ReadOnlySpan
			for _, s := range ts.spans.Ended() {
				if s.Name() == "notes.compact" {
					job = s
				}
			}
			require.NotNil(t, job, "the job's span went to this service's provider")
			assert.Equal(t, "store.closed", spanAttrs(job)["error.type"].AsString(), "resolved with the service's registry")
		})
	}
}
