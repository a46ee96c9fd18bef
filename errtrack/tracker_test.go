package errtrack_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/errtrack"
	"github.com/otelkit/otelkit/errtrack/internal/errtracktest"
	"github.com/otelkit/otelkit/mask"
)

func TestGrouping(t *testing.T) {
	tr := errtrack.New()
	l := logger(t, tr)
	ctx, traceID := spanCtx(t)

	errtracktest.Emit(context.Background(), l, registered("user.not_found", 404, "user not found", t0))
	errtracktest.Emit(ctx, l, registered("user.not_found", 404, "user not found: 42", t0.Add(time.Second)))
	// Unregistered errors: the fingerprint is a hash the writer computed.
	errtracktest.Emit(ctx, l, errtracktest.Exception{
		Time: t0.Add(2 * time.Second), Type: "*errors.errorString", Message: "db: connection refused",
		ID: "internal", Fingerprint: "9f2c1a", Status: 500, Stack: errtracktest.Stack("app.load"),
		Route: "/users/{id}", Method: "GET", Attrs: []attribute.KeyValue{attribute.String("tenant", "acme")},
	})
	errtracktest.Emit(ctx, l, errtracktest.Exception{
		Time: t0.Add(3 * time.Second), Type: "*errors.errorString", Message: "db: timeout",
		ID: "internal", Fingerprint: "77ab01", Status: 500, Stack: errtracktest.Stack("app.save"),
	})
	// No fingerprint: grouped by otelkit.error.id, then by exception.type.
	errtracktest.Emit(ctx, l, errtracktest.Exception{Time: t0.Add(4 * time.Second), Type: "*fs.PathError", Message: "open x", ID: "job.failed"})
	errtracktest.Emit(ctx, l, errtracktest.Exception{Time: t0.Add(5 * time.Second), Type: "*fs.PathError", Message: "open y"})
	// Records that are not exceptions are ignored.
	var other log.Record
	other.SetEventName("user.login")
	other.SetSeverity(log.SeverityError)
	l.Emit(ctx, other)
	var plain log.Record
	plain.SetBody(attribute.StringValue("just a log line"))
	l.Emit(ctx, plain)

	groups := tr.Groups()
	fps := make([]string, len(groups))
	for i, g := range groups {
		fps[i] = g.Fingerprint
	}
	assert.Equal(t, []string{"*fs.PathError", "job.failed", "77ab01", "9f2c1a", "user.not_found"}, fps, "newest first")
	assert.Equal(t, int64(6), tr.Stats().Records)

	tests := []struct {
		fp      string
		id      string
		status  int
		count   int64
		message string
		first   time.Time
		last    time.Time
		trace   string
	}{
		{"user.not_found", "user.not_found", 404, 2, "user not found: 42", t0, t0.Add(time.Second), traceID},
		{"9f2c1a", "internal", 500, 1, "db: connection refused", t0.Add(2 * time.Second), t0.Add(2 * time.Second), traceID},
		{"job.failed", "job.failed", 0, 1, "open x", t0.Add(4 * time.Second), t0.Add(4 * time.Second), traceID},
		{"*fs.PathError", "", 0, 1, "open y", t0.Add(5 * time.Second), t0.Add(5 * time.Second), traceID},
	}
	for _, tt := range tests {
		t.Run(tt.fp, func(t *testing.T) {
			g, ok := tr.Group(tt.fp)
			require.True(t, ok)
			assert.Equal(t, tt.id, g.ID)
			assert.Equal(t, tt.status, g.Status)
			assert.Equal(t, tt.count, g.Count)
			assert.Equal(t, tt.message, g.Message)
			assert.True(t, tt.first.Equal(g.FirstSeen), "first seen %v", g.FirstSeen)
			assert.True(t, tt.last.Equal(g.LastSeen), "last seen %v", g.LastSeen)
			assert.Equal(t, tt.trace, g.TraceID)
			require.Len(t, g.Occurrences, int(tt.count))
		})
	}

	g, _ := tr.Group("9f2c1a")
	assert.Equal(t, "/users/{id}", g.Route)
	assert.Equal(t, "GET", g.Method)
	assert.Equal(t, []attribute.KeyValue{attribute.String("tenant", "acme")}, g.Extras)
	occ := g.Occurrences[0]
	assert.Contains(t, occ.Stack, "app.load")
	assert.Equal(t, traceID, occ.TraceID)
	assert.NotEmpty(t, occ.SpanID)
	assert.Contains(t, occ.Attributes, attribute.String("otelkit.error.id", "internal"))

	first, _ := tr.Group("user.not_found")
	assert.Empty(t, first.Occurrences[1].TraceID, "the first one was captured outside a span")
}

func TestEnabled(t *testing.T) {
	tr := errtrack.New()
	tests := []struct {
		name string
		p    sdklog.EnabledParameters
		want bool
	}{
		{"exception", sdklog.EnabledParameters{EventName: "exception", Severity: log.SeverityError}, true},
		{"other event", sdklog.EnabledParameters{EventName: "user.login", Severity: log.SeverityError}, false},
		{"unknown event, error", sdklog.EnabledParameters{Severity: log.SeverityError}, true},
		{"unknown event, info", sdklog.EnabledParameters{Severity: log.SeverityInfo}, false},
		{"unknown event, unknown severity", sdklog.EnabledParameters{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tr.Enabled(context.Background(), tt.p))
		})
	}
}

func TestIgnoredRecordsDoNotAllocate(t *testing.T) {
	tr := errtrack.New()
	var r sdklog.Record
	r.SetEventName("user.login")
	allocs := testing.AllocsPerRun(100, func() {
		_ = tr.OnEmit(context.Background(), &r)
	})
	assert.Zero(t, allocs)
}

func TestEvictionBound(t *testing.T) {
	tr := errtrack.New(errtrack.WithMaxFingerprints(3), errtrack.WithMaxOccurrences(4))
	l := logger(t, tr)
	ctx := context.Background()
	for i := range 5 {
		errtracktest.Emit(ctx, l, registered(fmt.Sprintf("e%d", i), 500, "boom", t0.Add(time.Duration(i)*time.Second)))
	}
	// e2 is seen again, so e3 is now the least recently seen.
	errtracktest.Emit(ctx, l, registered("e2", 500, "boom", t0.Add(10*time.Second)))
	errtracktest.Emit(ctx, l, registered("e5", 500, "boom", t0.Add(11*time.Second)))

	var fps []string
	for _, g := range tr.Groups() {
		fps = append(fps, g.Fingerprint)
	}
	assert.Equal(t, []string{"e5", "e2", "e4"}, fps)
	st := tr.Stats()
	assert.Equal(t, 3, st.Fingerprints)
	assert.Equal(t, int64(3), st.Evicted)
	_, ok := tr.Group("e0")
	assert.False(t, ok)

	for i := range 10 {
		errtracktest.Emit(ctx, l, registered("e5", 500, fmt.Sprintf("boom %d", i), t0.Add(time.Minute+time.Duration(i)*time.Second)))
	}
	g, ok := tr.Group("e5")
	require.True(t, ok)
	assert.Equal(t, int64(11), g.Count)
	require.Len(t, g.Occurrences, 4, "the ring keeps the newest occurrences")
	var msgs []string
	for _, o := range g.Occurrences {
		msgs = append(msgs, o.Message)
	}
	assert.Equal(t, []string{"boom 9", "boom 8", "boom 7", "boom 6"}, msgs)
	assert.True(t, t0.Add(11*time.Second).Equal(g.FirstSeen))
}

func TestMasking(t *testing.T) {
	tests := []struct {
		name   string
		opts   []errtrack.Option
		secret string
		attrs  []attribute.KeyValue
		msg    string
	}{
		{
			name:   "default policy",
			secret: "hunter2",
			msg:    "login failed: password=hunter2, Authorization: Bearer hunter2",
			attrs: []attribute.KeyValue{
				attribute.String("user_password", "hunter2"),
				attribute.String("otelkit.error.info.api_key", "hunter2"),
				attribute.String("query", "a=1&token=hunter2"),
				attribute.KeyValue{Key: "ctx", Value: attribute.MapValue(attribute.String("session_secret", "hunter2"))},
			},
		},
		{
			name:   "WithMask policy",
			opts:   []errtrack.Option{errtrack.WithMask(mask.New("ssn"))},
			secret: "123-45-6789",
			msg:    `bad input {"ssn":"123-45-6789"}`,
			attrs:  []attribute.KeyValue{attribute.String("customer_ssn", "123-45-6789")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := errtrack.New(tt.opts...)
			l := logger(t, tr)
			e := registered("login.failed", 401, tt.msg, t0)
			e.Attrs = tt.attrs
			errtracktest.Emit(context.Background(), l, e)

			g, ok := tr.Group("login.failed")
			require.True(t, ok)
			assert.Contains(t, g.Message, mask.Mask)
			dump := fmt.Sprintf("%+v", g)
			assert.NotContains(t, dump, tt.secret)
			for _, accept := range []string{"application/json", "text/html"} {
				body := get(t, tr.Handler(errtrack.AllowLoopback()), "/dev/errors/login.failed", "127.0.0.1:40000", accept).body
				assert.NotContains(t, body, tt.secret, accept)
				body = get(t, tr.Handler(errtrack.AllowLoopback()), "/dev/errors", "127.0.0.1:40000", accept).body
				assert.NotContains(t, body, tt.secret, accept)
				assert.Contains(t, body, "login.failed")
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	tr := errtrack.New(errtrack.WithMaxFingerprints(8), errtrack.WithMaxOccurrences(3),
		errtrack.WithNotifier(errtrack.NotifierFunc(func(context.Context, errtrack.Notification) error { return nil })))
	l := logger(t, tr)
	h := tr.Handler(errtrack.AllowLoopback())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				errtracktest.Emit(context.Background(), l, registered(fmt.Sprintf("e%d", (w*7+i)%16), 500, "boom", time.Time{}))
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			for _, g := range tr.Groups() {
				_, _ = tr.Group(g.Fingerprint)
			}
			_ = get(t, h, "/dev/errors/", "127.0.0.1:1", "text/html")
			_ = tr.Stats()
		}
	})
	wg.Wait()
	st := tr.Stats()
	assert.Equal(t, int64(800), st.Records)
	assert.LessOrEqual(t, st.Fingerprints, 8)
	var total int64
	for _, g := range tr.Groups() {
		total += g.Count
		gg, _ := tr.Group(g.Fingerprint)
		assert.LessOrEqual(t, len(gg.Occurrences), 3)
	}
	assert.LessOrEqual(t, total, int64(800))
	assert.True(t, strings.HasPrefix(tr.Groups()[0].Fingerprint, "e"))
}

func TestShutdownStopsIntake(t *testing.T) {
	tr := errtrack.New()
	var r sdklog.Record
	r.SetEventName("exception")
	require.NoError(t, tr.OnEmit(context.Background(), &r))
	require.NoError(t, tr.Shutdown(context.Background()))
	require.NoError(t, tr.OnEmit(context.Background(), &r))
	assert.Equal(t, int64(1), tr.Stats().Records)
	assert.False(t, tr.Enabled(context.Background(), sdklog.EnabledParameters{EventName: "exception"}))
	require.NoError(t, tr.ForceFlush(context.Background()))
	require.NoError(t, tr.Shutdown(context.Background()), "a second Shutdown is a no-op")
}

// TestOccurrenceSizeCaps: one huge record cannot make the tracker hold more
// than the per-occurrence caps.
func TestOccurrenceSizeCaps(t *testing.T) {
	tr := errtrack.New(errtrack.WithMaxOccurrences(3))
	l := logger(t, tr)
	const slack = 64                    // room for the truncation marker
	huge := strings.Repeat("é", 64<<10) // 128 KiB of two-byte runes
	e := registered("huge.error", 500, "password=hunter2 "+huge, t0)
	e.Stack = errtracktest.Stack("app.deep") + strings.Repeat("\tframe\n", 20<<10)
	e.Attrs = []attribute.KeyValue{
		attribute.String("payload", huge),
		attribute.String("otelkit.error.info.body", huge),
		attribute.StringSlice("ids", strings.Split(strings.Repeat("id-0001,", 4<<10), ",")),
		attribute.KeyValue{Key: "nested", Value: attribute.MapValue(attribute.String("blob", huge))},
		attribute.String("small", "kept as is"),
		attribute.Int("n", 7),
	}
	for range 5 {
		errtracktest.Emit(context.Background(), l, e)
	}

	g, ok := tr.Group("huge.error")
	require.True(t, ok)
	require.Len(t, g.Occurrences, 3)
	capped := func(what, s string, limit int) {
		t.Helper()
		assert.LessOrEqual(t, len(s), limit+slack, what)
		assert.Contains(t, s, "… [truncated ", what)
		assert.True(t, utf8.ValidString(s), "%s is cut at a rune boundary", what)
	}
	capped("group message", g.Message, errtrack.MaxMessageBytes)
	assert.True(t, strings.HasPrefix(g.Message, "password="+mask.Mask+" éé"), "masked before it is cut")
	for _, kv := range g.Info {
		capped("info "+string(kv.Key), kv.Value.String(), errtrack.MaxValueBytes)
	}
	for _, o := range g.Occurrences {
		capped("message", o.Message, errtrack.MaxMessageBytes)
		capped("stack", o.Stack, errtrack.MaxStackBytes)
		assert.True(t, strings.HasPrefix(o.Stack, "goroutine 1 [running]:\napp.deep"))
		for _, kv := range o.Attributes {
			v := kv.Value.String()
			assert.LessOrEqual(t, len(v), errtrack.MaxValueBytes+slack, string(kv.Key))
			switch kv.Key {
			case "payload", "otelkit.error.info.body", "ids", "nested", "exception.message":
				capped(string(kv.Key), v, errtrack.MaxValueBytes)
			}
		}
		assert.Contains(t, o.Attributes, attribute.String("small", "kept as is"))
		assert.Contains(t, o.Attributes, attribute.Int("n", 7))
	}
	body := get(t, tr.Handler(errtrack.AllowLoopback()), "/dev/errors/huge.error", "127.0.0.1:1", "application/json").body
	assert.Less(t, len(body), 3*(errtrack.MaxMessageBytes+errtrack.MaxStackBytes+10*errtrack.MaxValueBytes)*2)
}

// TestStackFrames: WithStackFrames bounds the stack the Tracker keeps of
// each occurrence, or keeps none (issue 17 item 4).
func TestStackFrames(t *testing.T) {
	deep := errtracktest.Stack("app.deep") + "app.caller()\n\t/app/caller.go:7 +0x11\n"
	for _, tt := range []struct {
		name string
		opts []errtrack.Option
		want string
	}{
		{"default: every frame", nil, deep},
		{"every frame, explicitly", []errtrack.Option{errtrack.WithStackFrames(-1)}, deep},
		{"one frame", []errtrack.Option{errtrack.WithStackFrames(1)},
			"goroutine 1 [running]:\napp.deep(...)\n\t/app/app.deep.go:42 +0x1d\n...additional frames elided...\n"},
		{"none", []errtrack.Option{errtrack.WithStackFrames(0)}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := errtrack.New(tt.opts...)
			e := registered("deep.error", 500, "deep", t0)
			e.Stack = deep
			errtracktest.Emit(context.Background(), logger(t, tr), e)
			g, ok := tr.Group("deep.error")
			require.True(t, ok)
			require.Len(t, g.Occurrences, 1)
			assert.Equal(t, tt.want, g.Occurrences[0].Stack)
		})
	}
}

// TestStatusKeptAcrossTransports: the same id answered over HTTP and then
// over gRPC (whose record has no http.response.status_code) keeps the
// group's HTTP status.
func TestStatusKeptAcrossTransports(t *testing.T) {
	tr := errtrack.New()
	l := logger(t, tr)
	errtracktest.Emit(context.Background(), l, errtracktest.Exception{Time: t0, Type: "*errors.errorString", Message: "down",
		ID: "store.down", Fingerprint: "store.down", Status: 503})
	errtracktest.Emit(context.Background(), l, errtracktest.Exception{Time: t0.Add(time.Second), Type: "*errors.errorString", Message: "down",
		ID: "store.down", Fingerprint: "store.down"})
	groups := tr.Groups()
	require.Len(t, groups, 1)
	assert.Equal(t, int64(2), groups[0].Count)
	assert.Equal(t, 503, groups[0].Status)
}
