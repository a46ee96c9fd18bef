package httpx_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/httpx"
)

// frames counts the frames of a stack trace (function lines; the location
// lines start with a tab) and says whether it ends by saying some were
// elided.
func frames(stack string) (n int, elided bool) {
	for _, l := range strings.Split(strings.TrimSuffix(stack, "\n"), "\n") {
		switch {
		case l == "...additional frames elided...":
			elided = true
		case l != "" && !strings.HasPrefix(l, "\t"):
			n++
		}
	}
	return n, elided
}

func failDeep(depth int) error {
	if depth == 0 {
		return errors.New("deep failure") // unregistered: a 500 with a stack
	}
	return failDeep(depth - 1)
}

// stackOf serves one failing request and returns the exception.stacktrace
// and the fingerprint of its span event and of its log record (they must
// agree); present is false when they carry no stack trace.
func stackOf(t *testing.T, path string, opts ...httpx.Option) (stack, fingerprint string, present bool) {
	t.Helper()
	tel := newTelemetry(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { explode() })
	mux.Handle("GET /err", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return failDeep(5) }))
	// A route group's Handler nested in the service's, with none of its own
	// stack options.
	mux.Handle("GET /group/err", httpx.Handler(httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return failDeep(5) })))
	mux.Handle("GET /group-all/err", httpx.Handler(httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return failDeep(5) }),
		httpx.WithStackFrames(-1)))
	opts = append([]httpx.Option{httpx.WithExceptionSignal(httpx.ExceptionLogsAndSpanEvents)}, opts...)
	rec := do(tel.serve(mux, opts...), "GET", path)
	require.Equal(t, http.StatusInternalServerError, rec.Code)

	events := exceptionEvents(tel.onlySpan(t))
	require.Len(t, events, 1)
	ev := attrMap(events[0].Attributes)
	recs := tel.logs.records()
	require.Len(t, recs, 1)
	la := logAttrs(recs[0])
	key := "exception.stacktrace"
	evSt, evHas := ev[key]
	laSt, laHas := la[key]
	assert.Equal(t, evHas, laHas, "span event and log record agree on the stack's presence")
	assert.Equal(t, evSt.AsString(), laSt.AsString(), "span event and log record carry the same stack")
	assert.Equal(t, ev["otelkit.error.fingerprint"].AsString(), la["otelkit.error.fingerprint"].AsString())
	return evSt.AsString(), ev["otelkit.error.fingerprint"].AsString(), evHas
}

// TestStackFrames checks that WithStackFrames bounds or removes the stack
// trace of span events and log records alike, without changing the
// fingerprint, and that a nested Handler inherits it unless it sets its
// own (issue 17 item 4).
func TestStackFrames(t *testing.T) {
	full, fp, ok := stackOf(t, "/err")
	require.True(t, ok, "by default failures carry a stack trace")
	n, elided := frames(full)
	require.Greater(t, n, 6, "the default keeps every frame captured:\n%s", full)
	assert.False(t, elided)

	t.Run("at most n frames, the innermost first", func(t *testing.T) {
		st, fp2, ok := stackOf(t, "/err", httpx.WithStackFrames(2))
		require.True(t, ok)
		n, elided := frames(st)
		assert.Equal(t, 2, n, st)
		assert.True(t, elided, "a cut stack says so")
		assert.True(t, strings.HasPrefix(full, strings.TrimSuffix(st, "...additional frames elided...\n")), "the first frames of the whole stack")
		assert.Equal(t, fp, fp2, "the fingerprint is computed from the whole stack")
	})
	t.Run("a bound above the depth keeps the stack whole", func(t *testing.T) {
		st, _, _ := stackOf(t, "/err", httpx.WithStackFrames(1000))
		n2, elided := frames(st)
		assert.Equal(t, n, n2)
		assert.False(t, elided)
	})
	t.Run("off", func(t *testing.T) {
		_, fp2, ok := stackOf(t, "/err", httpx.WithStackFrames(0))
		assert.False(t, ok, "no exception.stacktrace")
		assert.Equal(t, fp, fp2, "the fingerprint is computed from the whole stack")
	})
	t.Run("a panic", func(t *testing.T) {
		st, _, ok := stackOf(t, "/boom", httpx.WithStackFrames(1))
		require.True(t, ok)
		assert.True(t, strings.HasPrefix(st, "github.com/otelkit/otelkit/httpx_test.explode()\n"), st)
		n, _ := frames(st)
		assert.Equal(t, 1, n)
		_, _, ok = stackOf(t, "/boom", httpx.WithStackFrames(0))
		assert.False(t, ok)
	})
	t.Run("a nested Handler inherits the bound", func(t *testing.T) {
		_, _, ok := stackOf(t, "/group/err", httpx.WithStackFrames(0))
		assert.False(t, ok)
	})
	t.Run("a nested Handler's own option wins", func(t *testing.T) {
		st, _, ok := stackOf(t, "/group-all/err", httpx.WithStackFrames(0))
		require.True(t, ok)
		_, elided := frames(st)
		assert.False(t, elided)
	})
}
