package errtrack_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/errtrack"
	"github.com/otelkit/otelkit/errtrack/internal/errtracktest"
)

// generous bounds a wait that must end; it is never a timing assertion.
const generous = 30 * time.Second

func flush(t *testing.T, tr *errtrack.Tracker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, tr.ForceFlush(ctx))
}

// received drains what the server has received so far (after a flush).
func received(m *mailServer) []mail {
	var out []mail
	for {
		select {
		case x := <-m.mails:
			out = append(out, x)
		default:
			return out
		}
	}
}

func sampleNotification() errtrack.Notification {
	return errtrack.Notification{
		Reason: errtrack.ReasonFirst, Fingerprint: "order.failed", ErrorID: "order.failed", Status: 500,
		Type: "*errorsx.Error", Message: "charging the card failed", Count: 1,
		FirstSeen: t0, LastSeen: t0, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		Stack:  errtracktest.Stack("app.charge"),
		Extras: []attribute.KeyValue{attribute.String("order_id", "o-17")},
	}
}

func TestSMTPNotifier(t *testing.T) {
	tests := []struct {
		name     string
		implicit bool
		srvOpts  func(t *testing.T) []mailServerOpt
		opts     func(m *mailServer) []errtrack.SMTPOption
		user     string
	}{
		{
			name:    "no TLS",
			srvOpts: func(*testing.T) []mailServerOpt { return nil },
			opts: func(*mailServer) []errtrack.SMTPOption {
				return []errtrack.SMTPOption{errtrack.WithSMTPTLS(errtrack.TLSNone)}
			},
		},
		{
			name: "STARTTLS with auth",
			srvOpts: func(t *testing.T) []mailServerOpt {
				return []mailServerOpt{withCert(t), plainAuth("alerts", "s3cret")}
			},
			opts: func(m *mailServer) []errtrack.SMTPOption {
				return []errtrack.SMTPOption{
					errtrack.WithSMTPTLS(errtrack.TLSStartTLS),
					errtrack.WithSMTPTLSConfig(&tls.Config{RootCAs: m.pool, MinVersion: tls.VersionTLS12}),
					errtrack.WithSMTPAuth(smtp.PlainAuth("", "alerts", "s3cret", "127.0.0.1")),
				}
			},
			user: "alerts",
		},
		{
			name:     "implicit TLS",
			implicit: true,
			srvOpts:  func(t *testing.T) []mailServerOpt { return []mailServerOpt{withCert(t)} },
			opts: func(m *mailServer) []errtrack.SMTPOption {
				return []errtrack.SMTPOption{
					errtrack.WithSMTPTLS(errtrack.TLSImplicit),
					errtrack.WithSMTPTLSConfig(&tls.Config{RootCAs: m.pool, MinVersion: tls.VersionTLS12}),
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := startMailServer(t, tt.implicit, tt.srvOpts(t)...)
			opts := append(tt.opts(m), errtrack.WithSubjectPrefix("[shop]"))
			n, err := errtrack.NewSMTPNotifier(m.addr, "Errors <errors@shop.test>",
				[]string{"oncall@shop.test", "Dev Team <dev@shop.test>"}, opts...)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			require.NoError(t, n.Notify(ctx, sampleNotification()))

			got := received(m)
			require.Len(t, got, 1)
			assert.Equal(t, "errors@shop.test", got[0].from)
			assert.Equal(t, []string{"oncall@shop.test", "dev@shop.test"}, got[0].to)
			assert.Equal(t, tt.user, got[0].user)
			data := got[0].data
			assert.Contains(t, data, "Subject: [shop] [order.failed] charging the card failed\r\n")
			assert.Contains(t, data, "Content-Type: text/plain; charset=utf-8\r\n")
			_, body := parseMail(t, data)
			assert.Contains(t, body, "Trace id:    4bf92f3577b34da6a3ce929d0e0e4736")
			assert.Contains(t, body, "order_id = o-17")
			assert.Contains(t, body, "app.charge")
		})
	}
}

func TestSMTPNotifierErrors(t *testing.T) {
	plain := startMailServer(t, false)
	n, err := errtrack.NewSMTPNotifier(plain.addr, "errors@shop.test", []string{"oncall@shop.test"})
	require.NoError(t, err)
	err = n.Notify(context.Background(), sampleNotification())
	require.ErrorContains(t, err, "does not offer STARTTLS", "STARTTLS is required by default")

	rej := startMailServer(t, false, rejectData())
	n, err = errtrack.NewSMTPNotifier(rej.addr, "errors@shop.test", []string{"oncall@shop.test"}, errtrack.WithSMTPTLS(errtrack.TLSNone))
	require.NoError(t, err)
	err = n.Notify(context.Background(), sampleNotification())
	require.ErrorContains(t, err, "rejected by policy")

	for _, tt := range []struct {
		name, addr, from string
		to               []string
	}{
		{"no port", "localhost", "a@b.test", []string{"c@d.test"}},
		{"bad sender", "localhost:25", "not an address", []string{"c@d.test"}},
		{"no recipients", "localhost:25", "a@b.test", nil},
		{"bad recipient", "localhost:25", "a@b.test", []string{"c@d.test\r\nBcc: x@y.test"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := errtrack.NewSMTPNotifier(tt.addr, tt.from, tt.to)
			require.Error(t, err)
		})
	}
}

func TestSubjectIsOneLine(t *testing.T) {
	n := sampleNotification()
	n.Message = "line one\r\nBcc: victim@x.test\nline three"
	assert.Equal(t, "[p] [order.failed] line one Bcc: victim@x.test line three", n.Subject("[p]"))
	n.Reason, n.WindowCount = errtrack.ReasonRate, 12
	assert.Equal(t, "[order.failed] 12 occurrences: line one Bcc: victim@x.test line three", n.Subject(""))
}

// smtpTracker returns a tracker that mails through m and a logger feeding it.
func smtpTracker(t *testing.T, m *mailServer, opts ...errtrack.Option) (*errtrack.Tracker, func(errtracktest.Exception)) {
	t.Helper()
	n, err := errtrack.NewSMTPNotifier(m.addr, "errors@shop.test", []string{"oncall@shop.test"},
		errtrack.WithSMTPTLS(errtrack.TLSNone), errtrack.WithSubjectPrefix("[shop]"))
	require.NoError(t, err)
	tr := errtrack.New(append([]errtrack.Option{errtrack.WithNotifier(n)}, opts...)...)
	l := logger(t, tr)
	return tr, func(e errtracktest.Exception) { errtracktest.Emit(context.Background(), l, e) }
}

func subjects(ms []mail) []string {
	var out []string
	for _, m := range ms {
		for line := range strings.SplitSeq(m.data, "\r\n") {
			if s, ok := strings.CutPrefix(line, "Subject: "); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestNotifyFirstOccurrence(t *testing.T) {
	m := startMailServer(t, false)
	tr, emit := smtpTracker(t, m, errtrack.WithPageURL("http://localhost:8080/dev/errors/"))
	for i := range 5 {
		emit(registered("order.failed", 500, "charging failed", t0.Add(time.Duration(i)*time.Second)))
	}
	emit(registered("user.not_found", 404, "user not found", t0.Add(10*time.Second)))
	flush(t, tr)

	got := received(m)
	assert.Equal(t, []string{
		"[shop] [order.failed] charging failed",
		"[shop] [user.not_found] user not found",
	}, subjects(got), "one mail per new fingerprint, none for repeats")
	assert.Contains(t, got[0].data, "Details:     http://localhost:8080/dev/errors/order.failed")
	st := tr.Stats()
	assert.Equal(t, int64(2), st.Queued)
	assert.Equal(t, int64(2), st.Sent)
	assert.Zero(t, st.Failed)
}

func TestNotifyRateOncePerWindow(t *testing.T) {
	m := startMailServer(t, false)
	clk := newClock(t0)
	tr, emit := smtpTracker(t, m, errtrack.WithNotifyRate(3, time.Minute), errtrack.WithClock(clk.Now))
	// The rules run on processing time: the clock says when each record is
	// received (here also its timestamp).
	at := func(d time.Duration) {
		clk.Set(t0.Add(d))
		emit(registered("db.timeout", 503, "db timeout", t0.Add(d)))
	}

	at(0)                 // first occurrence: mail
	at(time.Second)       //
	at(2 * time.Second)   // 3 within a minute, but the first mail opened the window
	at(2 * time.Minute)   // 1 within the last minute
	at(150 * time.Second) // 2
	at(160 * time.Second) // 3 within a minute, window passed: mail
	at(170 * time.Second) // 4 within a minute, same window: none
	at(175 * time.Second) // none
	flush(t, tr)

	assert.Equal(t, []string{
		"[shop] [db.timeout] db timeout",
		"[shop] [db.timeout] 3 occurrences: db timeout",
	}, subjects(received(m)))

	// A fresh window opens 60 s after the rate mail.
	at(220 * time.Second) // noted at 160 s: 60 s later, 3 within a minute (170, 175, 220)
	at(10 * time.Minute)  // 1 within the last minute: none
	flush(t, tr)
	assert.Equal(t, []string{"[shop] [db.timeout] 3 occurrences: db timeout"}, subjects(received(m)))
}

func TestWebhookNotifier(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	var headers []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		bodies = append(bodies, v)
		headers = append(headers, r.Header.Clone())
		mu.Unlock()
		if v["fingerprint"] == "refused" {
			http.Error(w, "nope", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)

	wh, err := errtrack.NewWebhookNotifier(srv.URL+"/hooks/errors",
		errtrack.WithWebhookHeader("Authorization", "Bearer hook-token"),
		errtrack.WithWebhookTimeout(generous))
	require.NoError(t, err)
	tr := errtrack.New(errtrack.WithNotifier(wh), errtrack.WithNotifyRate(2, time.Hour))
	l := logger(t, tr)
	e := registered("order.failed", 500, "charging failed: token=tok_live_x", t0)
	e.Attrs = []attribute.KeyValue{attribute.String("order_id", "o-17"), attribute.String("card_token", "tok_live_x")}
	errtracktest.Emit(context.Background(), l, e)
	e.Time = t0.Add(time.Second)
	errtracktest.Emit(context.Background(), l, e) // rate reached, but within the first window
	errtracktest.Emit(context.Background(), l, errtracktest.Exception{Time: t0, Type: "*errors.errorString", ID: "internal", Fingerprint: "refused", Message: "x"})
	flush(t, tr)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 2)
	b := bodies[0]
	assert.Equal(t, "first", b["reason"])
	assert.Equal(t, "order.failed", b["fingerprint"])
	assert.Equal(t, "order.failed", b["error_id"])
	assert.InDelta(t, 500, b["status"], 0)
	assert.InDelta(t, 1, b["count"], 0)
	assert.Equal(t, "charging failed: token=**************", b["message"])
	assert.Equal(t, map[string]any{"order_id": "o-17", "card_token": "**************"}, b["extras"])
	assert.Equal(t, "2026-11-21T06:00:00Z", b["first_seen"])
	assert.Equal(t, "application/json", headers[0].Get("Content-Type"))
	assert.Equal(t, "Bearer hook-token", headers[0].Get("Authorization"))

	st := tr.Stats()
	assert.Equal(t, int64(1), st.Sent)
	assert.Equal(t, int64(1), st.Failed, "a non-2xx answer is a failure")

	for _, bad := range []string{"", "ftp://x/y", "/relative", "http://"} {
		_, err := errtrack.NewWebhookNotifier(bad)
		assert.Error(t, err, bad)
	}
}

// captureOtelErrors routes otel.Handle to a slice for the test.
func captureOtelErrors(t *testing.T) func() []error {
	t.Helper()
	var mu sync.Mutex
	var errs []error
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), errs...)
	}
}

func TestFailingServerIsCounted(t *testing.T) {
	errs := captureOtelErrors(t)
	m := startMailServer(t, false, rejectData())
	tr, emit := smtpTracker(t, m)
	emit(registered("a", 500, "a", t0))
	emit(registered("b", 500, "b", t0))
	flush(t, tr)

	st := tr.Stats()
	assert.Equal(t, int64(2), st.Failed)
	assert.Zero(t, st.Sent)
	assert.Equal(t, int64(2), st.Records, "failed delivery does not affect tracking")
	require.Len(t, errs(), 2)
	assert.ErrorContains(t, errs()[0], "rejected by policy")
}

func TestSlowServerDoesNotBlock(t *testing.T) {
	errs := captureOtelErrors(t)
	m := startMailServer(t, false, hangingData())
	// The per-send timeout is far away: only Shutdown can end the hung send.
	tr, emit := smtpTracker(t, m, errtrack.WithNotifyQueue(2), errtrack.WithNotifyTimeout(time.Hour))

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			emit(registered(fmt.Sprintf("e%d", i), 500, "boom", t0))
		}
	}()
	select {
	case <-done:
	case <-time.After(generous):
		t.Fatal("OnEmit blocked on a hanging mail server")
	}

	st := tr.Stats()
	assert.Equal(t, int64(20), st.Records)
	assert.GreaterOrEqual(t, st.Dropped, int64(17), "queue of 2 plus one in flight")
	assert.Equal(t, int64(20), st.Queued+st.Dropped)
	var full int
	for _, err := range errs() {
		if errors.Is(err, errtrack.ErrQueueFull) {
			full++
		}
	}
	assert.Equal(t, int(st.Dropped), full, "every drop is reported through otel.Handle")

	select {
	case <-m.inData:
	case <-time.After(generous):
		t.Fatal("the worker never reached the mail server")
	}

	// Shutdown with a short deadline cancels the hung send; the worker exits
	// before Shutdown returns.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- tr.Shutdown(ctx) }()
	select {
	case err := <-shut:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(generous):
		t.Fatal("Shutdown did not return")
	}
	st = tr.Stats()
	assert.Equal(t, int64(1), st.Failed, "the cancelled send")
	assert.Zero(t, st.Sent)
	assert.Equal(t, int64(20), st.Failed+st.Dropped, "nothing is lost without a count")
}

// tracked returns a tracker with a settable processing clock that collects
// its notifications, and a function emitting a registered error fp with the
// record timestamp at.
func tracked(t *testing.T, opts ...errtrack.Option) (*errtrack.Tracker, *clock, *notes, func(fp string, at time.Time)) {
	t.Helper()
	clk := newClock(t0)
	got := &notes{}
	tr := errtrack.New(append([]errtrack.Option{errtrack.WithNotifier(got), errtrack.WithClock(clk.Now)}, opts...)...)
	l := logger(t, tr)
	return tr, clk, got, func(fp string, at time.Time) {
		errtracktest.Emit(context.Background(), l, registered(fp, 500, "boom "+fp, at))
	}
}

// TestNotifyEvictionKeepsWindow: a fingerprint evicted by the bound and seen
// again within its window is not new.
func TestNotifyEvictionKeepsWindow(t *testing.T) {
	t.Run("alternating fingerprints with room for one", func(t *testing.T) {
		tr, clk, got, emit := tracked(t, errtrack.WithMaxFingerprints(1), errtrack.WithNotifyRate(100, time.Hour))
		for i := range 10 {
			emit(fmt.Sprintf("fp%d", i%2), clk.Now())
			clk.Advance(time.Second)
		}
		flush(t, tr)
		assert.Equal(t, []string{"fp0:first", "fp1:first"}, got.Take())
		assert.Equal(t, int64(9), tr.Stats().Evicted, "every record evicted the other fingerprint")

		// Once the window has passed, a notification may be made again.
		clk.Advance(time.Hour)
		emit("fp0", clk.Now())
		emit("fp1", clk.Now())
		emit("fp0", clk.Now())
		flush(t, tr)
		assert.Equal(t, []string{"fp0:first", "fp1:first"}, got.Take())
	})
	t.Run("rate rule off", func(t *testing.T) {
		tr, clk, got, emit := tracked(t, errtrack.WithMaxFingerprints(1))
		for i := range 6 {
			emit(fmt.Sprintf("fp%d", i%2), clk.Now())
			clk.Advance(24 * time.Hour)
		}
		flush(t, tr)
		assert.Equal(t, []string{"fp0:first", "fp1:first"}, got.Take(), "first occurrence means once")
	})
	t.Run("the memory is bounded", func(t *testing.T) {
		// Room for 1 fingerprint: 4 evicted ones are remembered.
		tr, clk, got, emit := tracked(t, errtrack.WithMaxFingerprints(1), errtrack.WithNotifyRate(100, time.Hour))
		for i := range 6 {
			emit(fmt.Sprintf("fp%d", i), clk.Now())
		}
		emit("fp4", clk.Now()) // remembered
		emit("fp0", clk.Now()) // pushed out by fp1..fp4 and fp5
		flush(t, tr)
		assert.Equal(t, []string{"fp0:first", "fp1:first", "fp2:first", "fp3:first", "fp4:first", "fp5:first", "fp0:first"}, got.Take())
	})
}

// TestNotifyRateUsesProcessingTime: a record stamped a day ahead does not
// hold later notifications back.
func TestNotifyRateUsesProcessingTime(t *testing.T) {
	tr, clk, got, emit := tracked(t, errtrack.WithNotifyRate(3, time.Minute))
	emit("clock.skew", t0.Add(24*time.Hour)) // first: notified
	clk.Advance(2 * time.Minute)
	for i := range 3 {
		emit("clock.skew", clk.Now().Add(time.Duration(i)*time.Second))
	}
	flush(t, tr)
	assert.Equal(t, []string{"clock.skew:first", "clock.skew:rate"}, got.Take())

	g, ok := tr.Group("clock.skew")
	require.True(t, ok)
	assert.True(t, t0.Add(24*time.Hour).Equal(g.LastSeen), "the page still shows the records' timestamps")
	assert.True(t, t0.Add(2*time.Minute).Equal(g.FirstSeen), "the page still shows the records' timestamps")

	// And an old timestamp does not make a burst look spread out.
	clk.Advance(2 * time.Minute)
	for i := range 3 {
		emit("clock.skew", t0.Add(-time.Duration(i)*time.Hour))
	}
	flush(t, tr)
	assert.Equal(t, []string{"clock.skew:rate"}, got.Take())
}

// TestNotifyTimeout: a send that outlives WithNotifyTimeout fails, and the
// worker moves on to the next notification without waiting for Shutdown.
func TestNotifyTimeout(t *testing.T) {
	errs := captureOtelErrors(t)
	m := startMailServer(t, false, hangingData())
	tr, emit := smtpTracker(t, m, errtrack.WithNotifyTimeout(200*time.Millisecond))
	emit(registered("first.hang", 500, "a", t0))
	emit(registered("second.hang", 500, "b", t0))

	for i := range 2 {
		select {
		case <-m.inData:
		case <-time.After(generous):
			t.Fatalf("send %d never reached the mail server: the per-send timeout did not end the first one", i+1)
		}
		if i == 0 {
			continue
		}
		// The second send started, so the first one is over: timed out.
		st := tr.Stats()
		assert.GreaterOrEqual(t, st.Failed, int64(1))
		assert.Zero(t, st.Sent)
	}
	require.Eventually(t, func() bool { return tr.Stats().Failed == 2 }, generous, 10*time.Millisecond,
		"the second send times out as well")
	reported := errs()
	require.Len(t, reported, 2)
	for i, fp := range []string{"first.hang", "second.hang"} {
		assert.ErrorIs(t, reported[i], context.DeadlineExceeded, fp)
		assert.ErrorContains(t, reported[i], fp)
	}
	st := tr.Stats()
	assert.Equal(t, int64(2), st.Failed)
	assert.Zero(t, st.Sent)
	assert.Zero(t, st.Dropped)
}

// parseMail parses a received message and decodes its quoted-printable body
// (line breaks as "\n").
func parseMail(t *testing.T, data string) (netmail.Header, string) {
	t.Helper()
	msg, err := netmail.ReadMessage(strings.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, "quoted-printable", msg.Header.Get("Content-Transfer-Encoding"))
	b, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	require.NoError(t, err)
	return msg.Header, strings.ReplaceAll(string(b), "\r\n", "\n")
}

// TestSMTPMessageFormat: long lines are wrapped by quoted-printable (no line
// over 998 octets), and each message has a Date and a unique Message-ID.
func TestSMTPMessageFormat(t *testing.T) {
	m := startMailServer(t, false)
	n, err := errtrack.NewSMTPNotifier(m.addr, "Errors <errors@shop.test>", []string{"oncall@shop.test"},
		errtrack.WithSMTPTLS(errtrack.TLSNone))
	require.NoError(t, err)

	note := sampleNotification()
	note.Message = "payload rejected: " + strings.Repeat("0123456789abcdef", 400) // 6 KiB on one line
	note.Stack = "goroutine 1 [running]:\nmain.handle(" + strings.Repeat("0x1, ", 600) + ")\n\t/app/main.go:10 +0x25\n"
	note.Extras = append(note.Extras, attribute.String("query", "a=1&b=2 ünïcode"))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, n.Notify(ctx, note))
	require.NoError(t, n.Notify(ctx, sampleNotification()))

	got := received(m)
	require.Len(t, got, 2)
	for i, line := range strings.Split(got[0].data, "\r\n") {
		require.LessOrEqual(t, len(line), 998, "line %d is %d octets", i, len(line))
	}
	h, body := parseMail(t, got[0].data)
	assert.Equal(t, note.Text(), body, "the body decodes to the text")
	assert.Contains(t, body, note.Message)
	assert.Contains(t, body, "query = a=1&b=2 ünïcode")

	date, err := h.Date()
	require.NoError(t, err, "Date header")
	assert.WithinDuration(t, time.Now(), date, time.Hour)
	id := h.Get("Message-ID")
	assert.Regexp(t, `^<[^<>@\s]+@shop\.test>$`, id)
	h2, _ := parseMail(t, got[1].data)
	assert.NotEqual(t, id, h2.Get("Message-ID"), "one Message-ID per message")
	assert.NotEmpty(t, h2.Get("Message-ID"))
}
