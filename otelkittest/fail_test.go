package otelkittest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/otelkittest"
)

// fakeT records what an assertion reports instead of failing the test.
type fakeT struct {
	testing.TB // the real test, for Cleanup, Name, …
	mu         sync.Mutex
	errors     []string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeT) Error(args ...any) { f.Errorf("%s", fmt.Sprint(args...)) }

func (f *fakeT) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.TB.Fatalf("unexpected Fatalf: "+format, args...)
}

func (f *fakeT) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

// mustFail checks that the assertion returned false and reported one error
// containing every want.
func mustFail(t *testing.T, f *fakeT, passed bool, want ...string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if passed {
		t.Errorf("the assertion passed; want a failure")
	}
	if len(f.errors) != 1 {
		t.Fatalf("reported %d errors, want 1: %q", len(f.errors), f.errors)
	}
	for _, w := range want {
		if !strings.Contains(f.errors[0], w) {
			t.Errorf("report lacks %q:\n%s", w, f.errors[0])
		}
	}
	f.errors = nil
}

// served returns a fake TB, its kit, and the kit's responses to requests.
func served(t *testing.T) (*fakeT, *otelkittest.Kit, func(method, path, body string) *otelkittest.Response) {
	f := &fakeT{TB: t}
	kit := otelkittest.New(f)
	h := routes()
	return f, kit, func(method, path, body string) *otelkittest.Response {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("X-User", "ada")
		return kit.Do(h, req)
	}
}

func TestAssertErrorFails(t *testing.T) {
	t.Parallel()
	f, kit, do := served(t)
	missing := do("GET", "/notes/7", "")
	mustFail(t, f, kit.AssertError(missing, ErrStorage),
		"response is not kittest.storage", "status: got 404, want 503", `id: got "kittest.note-not-found", want "kittest.storage"`,
		`body: {"type"`)
	mustFail(t, f, kit.AssertError(missing, ErrNoteNotFound, otelkittest.Info("note", 7)),
		"info.note: missing, want 7")
	limited := do("POST", "/login", `{"user":"mallory","password":"x"}`)
	mustFail(t, f, kit.AssertError(limited, ErrRateLimited, otelkittest.Info("retry_after", "30")),
		`info.retry_after: got 30, want "30"`)
	mustFail(t, f, kit.AssertError(limited, ErrRateLimited, otelkittest.NoLeak("Too many")),
		`leak: "Too many"`)
	ok := do("GET", "/notes/1", "")
	mustFail(t, f, kit.AssertError(ok, ErrNoteNotFound), "status: got 200, want 404", `id: got "1", want "kittest.note-not-found"`)

	// A handler that leaks its cause and a stack in a 5xx body.
	leaky := kit.Do(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "load note: %v (%T)\ngoroutine 7 [running]:\nmain.go:12", errDial, errDial)
	}), httptest.NewRequest("GET", "/", nil))
	mustFail(t, f, kit.AssertError(leaky, ErrStorage, otelkittest.NoLeak(ErrStorage.Wrap(fmt.Errorf("load note: %w", errDial)))),
		`content type: got "text/plain"`, "body: not a JSON object", "leak: a Go stack trace", `leak: "dial tcp 10.0.0.7:5432`, `leak: "*errors.errorString"`)
}

func TestAssertAuditFails(t *testing.T) {
	t.Parallel()
	f, kit, do := served(t)
	do("DELETE", "/notes/1", "")
	do("DELETE", "/notes/2", "")
	mustFail(t, f, kit.AssertAudit("kittest.note_deleted", attribute.String("user", "ada")),
		`audit kittest.note_deleted with user="ada": got 2, want 1`, "#1 ", "#2 ")
	mustFail(t, f, kit.AssertAudits("kittest.note_deleted", 2, attribute.String("user", "eve")),
		`got 0, want 2`, `differs: user="ada" (want "eve")`)
	mustFail(t, f, kit.AssertAudits("kittest.note_deleted", 2, attribute.Int("note", 1)),
		`note="1" (want 1)`)
	mustFail(t, f, kit.AssertAudit("kittest.nothing"),
		"audit kittest.nothing with any attributes: got 0, want 1", "other audit types: kittest.note_deleted")
}

func TestAssertRequestSpanFails(t *testing.T) {
	t.Parallel()
	f, kit, do := served(t)
	ok := do("GET", "/notes/1", "")
	mustFail(t, f, kit.AssertRequestSpan(ok, ErrStorage),
		"for kittest.storage", "status: got Unset, want Error", `error.type: got "", want "kittest.storage"`, "exception record: none")
	mustFail(t, f, kit.AssertRequestSpan(ok, ErrNoteNotFound),
		`otelkit.error.id: got "", want "kittest.note-not-found"`)
	broken := do("GET", "/notes/db", "")
	mustFail(t, f, kit.AssertRequestSpan(broken, nil),
		"for success", "status: got Error, want Unset", "error.type: got kittest.storage, want none for a success", "exception records: got")
	mustFail(t, f, kit.AssertRequestSpan(broken, ErrNoteNotFound),
		"status: got Error, want Unset", "want none for a 404")
	foreign := &otelkittest.Response{Response: &http.Response{StatusCode: 200, Header: http.Header{}}}
	mustFail(t, f, kit.AssertRequestSpan(foreign, nil), "no server span for the response")
}

func TestAssertMetricFails(t *testing.T) {
	t.Parallel()
	f, kit, do := served(t)
	ok := do("GET", "/notes/1", "")
	broken := do("GET", "/notes/db", "")
	mustFail(t, f, kit.AssertRequestMetric(ok, ErrStorage),
		`no data point with http.response.status_code=200 error.type="kittest.storage"`, "differs:")
	mustFail(t, f, kit.AssertRequestMetric(broken, nil),
		"without error.type without otelkit.error.id", `error.type="kittest.storage" (want none)`)
	mustFail(t, f, kit.AssertMetric("kittest.nothing"), "metric kittest.nothing: not recorded")
}

func TestAssertNoSecretFails(t *testing.T) {
	t.Parallel()
	f, kit, do := served(t)
	do("GET", "/notes/db", "")
	mustFail(t, f, kit.AssertNoSecret("10.0.0.7"), `secret "10.0.0.7" found`, "exception.message")
	// A handler that puts a secret in a header and a span attribute.
	kit.Do(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Debug", "token=s3cr3t")
		kit.Slog().InfoContext(r.Context(), "login", "token", "s3cr3t")
	}), httptest.NewRequest("GET", "/", nil))
	mustFail(t, f, kit.AssertNoSecret("s3cr3t"), "response #2 (200) header", "log record #", "attribute token")
	mustFail(t, f, kit.AssertNoSecret(""), "empty secret")
}
