package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/errtrack"
	"github.com/otelkit/otelkit/errtrack/internal/errtracktest"
)

// chromium returns the browser to drive. Without one the test fails under CI
// (CI=true) and is skipped elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("OTELKIT_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		msg := "chromium not found at " + path + " (install Debian's browser with `apt-get update && apt-get install -y chromium`, or set OTELKIT_CHROMIUM)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true requires the browser test to run")
		}
		t.Skip(msg)
	}
	return path
}

// browser starts a headless Chromium with a fresh profile; it is stopped
// before the test's temporary directories are removed.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	profile := t.TempDir()
	// The whole browser lives at most this long: a hung browser fails the
	// test instead of holding it.
	parent, cancelParent := context.WithTimeout(context.Background(), 2*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 760),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		cancelParent()
	})
	return ctx
}

// page causes errors and serves the page on 127.0.0.1:0: records written
// by hand as the telemetry contract describes them (an older history), then
// errors caused for real through otelbridge and httpx (see causeErrors).
func page(t *testing.T, opts ...errtrack.HandlerOption) (*errtrack.Tracker, *httptest.Server) {
	t.Helper()
	tr := errtrack.New(errtrack.WithMaxOccurrences(10))
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(tr))
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	l := lp.Logger(errtracktest.Scope)
	// The tracker reads exception span events too (the default signal).
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(tr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	installGlobal(t, lp, tp)

	now := time.Now().UTC().Truncate(time.Second)
	emit := func(ago time.Duration, e errtracktest.Exception) {
		ctx, span := tp.Tracer("shop").Start(context.Background(), "request")
		defer span.End()
		e.Time = now.Add(-ago)
		errtracktest.Emit(ctx, l, e)
	}
	for i := range 4 {
		emit(time.Duration(50-i*9)*time.Minute, errtracktest.Exception{
			Type: "*errorsx.Error", Message: "Payment provider declined the charge: card_token=tok_live_4242",
			ID: "payment.declined", Fingerprint: "payment.declined", Status: 502,
			Route: "/orders/{id}/pay", Method: "POST", Stack: errtracktest.Stack("shop.(*Payments).Charge"),
			Attrs: []attribute.KeyValue{
				attribute.String("otelkit.error.info.provider", "acme-pay"),
				attribute.String("order_id", "o-1017"),
				attribute.String("card_token", "tok_live_4242"),
			},
		})
	}
	for i := range 2 {
		emit(time.Duration(25-i*10)*time.Minute, errtracktest.Exception{
			Type: "*errorsx.Error", Message: "User not found", ID: "user.not_found",
			Fingerprint: "user.not_found", Status: 404, Route: "/users/{id}", Method: "GET",
			Attrs: []attribute.KeyValue{attribute.String("tenant", "acme")},
		})
	}
	emit(3*time.Minute, errtracktest.Exception{
		Type: "*net.OpError", Message: "inventory: dial tcp 10.0.3.7:5432: connect: connection refused",
		ID: "internal", Fingerprint: "internal:9c1f0e2a77d3b6f1", Status: 500, Kind: "error",
		Stack: errtracktest.Stack("shop.(*Inventory).Reserve"),
		Attrs: []attribute.KeyValue{attribute.String("otelkit.job", "inventory.sync")},
	})
	emit(time.Minute, errtracktest.Exception{
		Type: "runtime.boundsError", Message: `panic: runtime error: index out of range [3] with length 3 <script>alert(1)</script>`,
		ID: "internal", Fingerprint: "internal:51be08d4c2a9e6f0", Status: 500, Kind: "panic",
		Route: "/cart", Method: "GET", Stack: errtracktest.Stack("shop.cartTotal"),
	})

	causeErrors(t, tp)
	require.NoError(t, tr.ForceFlush(context.Background()))

	mux := http.NewServeMux()
	mux.Handle("/dev/errors/", tr.Handler(append([]errtrack.HandlerOption{errtrack.AllowLoopback()}, opts...)...))
	srv := httptest.NewServer(mux) // 127.0.0.1:0
	t.Cleanup(srv.Close)
	return tr, srv
}

type row struct {
	Fingerprint string `json:"fp"`
	ID          string `json:"id"`
	Status      string `json:"status"`
	Count       string `json:"count"`
	Message     string `json:"message"`
	Extras      string `json:"extras"`
	Route       string `json:"route"`
	Trace       string `json:"trace"`
}

const rowsJS = `Array.from(document.querySelectorAll("#groups tbody tr.group")).map(r => ({
	fp: r.dataset.fingerprint,
	id: r.querySelector("td.id a").textContent.trim(),
	status: r.querySelector("td.status").textContent.trim(),
	count: r.querySelector("td.count").textContent.trim(),
	message: r.querySelector("td.message").textContent.trim(),
	extras: r.querySelector("td.extras").textContent.trim(),
	route: (r.querySelector("td.id div.muted:not(.mono)") || {textContent: ""}).textContent.trim(),
	trace: r.querySelector("td.trace").textContent.trim(),
}))`

func TestPageInChromium(t *testing.T) {
	ctx := browser(t)
	tr, srv := page(t)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/dev/errors/"),
		chromedp.WaitVisible(chromedp.CSS("#groups")),
	))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]row](rowsJS))
	require.NoError(t, err)
	require.Len(t, rows, len(realRows)+4)

	// The errors caused for real (otelbridge.Capture, Track, httpx) are the
	// newest. Their unregistered fingerprints are hashes: the page must show
	// the ones the tracker computed from the records.
	fingerprintOf := map[string]string{}
	for _, g := range tr.Groups() {
		fingerprintOf[g.Message] = g.Fingerprint
	}
	for i, w := range realRows {
		r := rows[i]
		assert.Contains(t, r.Message, w.message, "row %d (newest first)", i)
		var fps []string
		for msg, f := range fingerprintOf {
			if strings.Contains(msg, w.message) {
				fps = append(fps, f)
			}
		}
		assert.Equal(t, []string{r.Fingerprint}, fps, "row %d: %s", i, w.message)
		assert.Equal(t, w.id, r.ID, "row %d: %s", i, w.message)
		assert.Equal(t, w.status, r.Status, "row %d: %s", i, w.message)
		assert.Equal(t, w.count, r.Count, "row %d: %s", i, w.message)
		assert.Equal(t, w.route, r.Route, "row %d: %s", i, w.message)
		for _, x := range w.extras {
			assert.Contains(t, r.Extras, x, "row %d: %s", i, w.message)
		}
		assert.NotContains(t, r.Extras, "k-live-7f3a", "extras are masked")
		assert.Len(t, []rune(r.Trace), 12, "row %d: a trace id (shortened)", i)
	}
	assert.Equal(t, rows[1].Trace, rows[0].Trace, "both jobs ran under the same trace")

	rows = rows[len(realRows):] // the older, hand-written history
	want := []struct{ fp, id, status, count string }{
		{"internal:51be08d4c2a9e6f0", "internal", "500", "1"},
		{"internal:9c1f0e2a77d3b6f1", "internal", "500", "1"},
		{"user.not_found", "user.not_found", "404", "2"},
		{"payment.declined", "payment.declined", "502", "4"},
	}
	for i, w := range want {
		assert.Equal(t, w.fp, rows[i].Fingerprint, "row %d (newest first)", i)
		assert.Equal(t, w.id, rows[i].ID, "row %d", i)
		assert.Equal(t, w.status, rows[i].Status, "row %d", i)
		assert.Equal(t, w.count, rows[i].Count, "row %d", i)
	}
	assert.Contains(t, rows[0].Message, "<script>alert(1)</script>", "shown as text")
	assert.Contains(t, rows[3].Message, "card_token=**************")
	assert.Contains(t, rows[3].Extras, "card_token = **************")
	assert.NotContains(t, rows[3].Extras+rows[3].Message, "tok_live_4242")

	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("script").length`))
	require.NoError(t, err)
	assert.Zero(t, scripts, "the message's markup was escaped, not rendered")
	summary, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#summary")))
	require.NoError(t, err)
	assert.Contains(t, summary, fmt.Sprintf("%d fingerprints", len(realRows)+4))

	list, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "dev-errors.png"), list, 0o644))
	if out := os.Getenv("OTELKIT_SCREENSHOT"); out != "" {
		require.NoError(t, os.WriteFile(out, list, 0o644))
		t.Logf("screenshot written to %s", out)
	}

	// Open the detail view of the payment error.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr.group[data-fingerprint="payment.declined"] a.detail`)),
		chromedp.WaitVisible(chromedp.CSS("#facts")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/dev/errors/payment.declined", loc)
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#facts dd.count")))
	require.NoError(t, err)
	assert.Equal(t, "4", strings.TrimSpace(count))
	occurrences, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("section.occurrence").length`))
	require.NoError(t, err)
	assert.Equal(t, 4, occurrences)
	stack, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("section.occurrence pre.stack")))
	require.NoError(t, err)
	assert.Contains(t, stack, "shop.(*Payments).Charge")
	trace, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#facts dd.trace")))
	require.NoError(t, err)
	assert.Len(t, strings.TrimSpace(trace), 32, "latest trace id")
	attrs, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("section.occurrence details.attrs")))
	require.NoError(t, err)
	assert.Contains(t, attrs, "order_id = o-1017")
	assert.NotContains(t, attrs, "tok_live_4242")

	detail, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "dev-errors-detail.png"), detail, 0o644))

	// The detail views of errors caused for real show their real stacks.
	for _, tt := range []struct {
		fp, count, stack string
	}{
		{"shop.inventory_unavailable", fmt.Sprint(realHTTPCount), "browsertest.causeErrors.func1"},
		{fingerprintOf["ledger: reconcile mismatch on acct-1042"], fmt.Sprint(realCaptureCount), "browsertest.captureLedger"},
		{fingerprintOf["panic: runtime error: invalid memory address or nil pointer dereference"], "1", "browsertest.causeErrors.func"},
	} {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/dev/errors/"),
			chromedp.WaitVisible(chromedp.CSS("#groups")),
			chromedp.Click(chromedp.CSS(`tr.group[data-fingerprint="`+tt.fp+`"] a.detail`)),
			chromedp.WaitVisible(chromedp.CSS("#facts")),
		), tt.fp)
		count, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#facts dd.count")))
		require.NoError(t, err)
		assert.Equal(t, tt.count, strings.TrimSpace(count), tt.fp)
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("section.occurrence").length`))
		require.NoError(t, err)
		assert.Equal(t, atoi(t, tt.count), n, tt.fp)
		stack, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("section.occurrence pre.stack")))
		require.NoError(t, err)
		assert.Contains(t, stack, tt.stack, tt.fp)
		assert.Contains(t, stack, "browsertest/capture_test.go:", tt.fp)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// TestPageGuardInChromium checks the access rule as a browser sees it.
func TestPageGuardInChromium(t *testing.T) {
	ctx := browser(t)
	_, srv := page(t, errtrack.WithGuard(func(r *http.Request) bool { return r.Header.Get("X-Ops") == "yes" }))

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/dev/errors/")))
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	require.NoError(t, err)
	assert.Contains(t, body, `"title": "Forbidden"`)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("tr.group").length`))
	require.NoError(t, err)
	assert.Zero(t, rows)
}
