package browsertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/otelbridge"
)

// installGlobal makes lp and tp the global providers that otelbridge and
// httpx write through, and restores the previous ones when the test ends.
func installGlobal(t *testing.T, lp *sdklog.LoggerProvider, tp *sdktrace.TracerProvider) {
	t.Helper()
	prevL, prevT := otel.GetLoggerProvider(), otel.GetTracerProvider()
	otel.SetLoggerProvider(lp)
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetLoggerProvider(prevL)
		otel.SetTracerProvider(prevT)
	})
}

// inventoryDown is the registered error the failing handler returns; defined
// once per process (ids are unique in the default registry).
var inventoryDown = sync.OnceValue(func() *errorsx.Def {
	return errorsx.Define(http.StatusServiceUnavailable, "shop.inventory_unavailable", "The inventory service is unavailable")
})

// Real captured errors shown on the page, newest first (causeErrors makes
// them in the opposite order).
const (
	realHTTPCount    = 3 // POST /orders answered 503 by httpx
	realCaptureCount = 2 // otelbridge.Capture of the same unregistered error
)

// causeErrors causes errors the way a service does: a failing handler and a
// panicking one behind httpx.Handler, served over HTTP on 127.0.0.1; an
// unregistered error captured with otelbridge.Capture under scoped extras;
// and a job run by otelbridge.Track that fails, then one that panics.
func causeErrors(t *testing.T, tp *sdktrace.TracerProvider) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST /orders", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		return inventoryDown().Wrap(errors.New("inventory: dial tcp 10.0.3.7:5432: connect: connection refused"))
	}))
	mux.Handle("GET /cart/{id}", httpx.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) error {
		items := []int{1, 2, 3}
		return fmt.Errorf("total: %d", items[len(r.PathValue("id"))+3]) // index out of range: a panic
	}))
	srv := httptest.NewServer(otelhttp.NewHandler(httpx.Handler(mux), "shop")) // 127.0.0.1:0
	defer srv.Close()
	call := func(method, path string, want int) {
		req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+path, strings.NewReader("{}"))
		require.NoError(t, err)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, "%s %s", method, path)
	}
	for range realHTTPCount {
		call(http.MethodPost, "/orders", http.StatusServiceUnavailable)
	}
	call(http.MethodGet, "/cart/7", http.StatusInternalServerError)

	ctx, span := tp.Tracer("shop").Start(context.Background(), "nightly")
	defer span.End()
	ctx = otelbridge.WithExtras(ctx, attribute.String("tenant", "acme"), attribute.String("api_key", "k-live-7f3a"))
	for range realCaptureCount {
		captureLedger(ctx)
	}
	err := otelbridge.Track(ctx, "billing.sync", func(context.Context) error {
		return fmt.Errorf("billing sync: %w", errors.New("upstream answered 502"))
	})
	require.EqualError(t, err, "billing sync: upstream answered 502")
	err = otelbridge.Track(ctx, "ledger.close", func(context.Context) error {
		var accounts map[string]*struct{ Balance int }
		return fmt.Errorf("balance %d", accounts["acct-1042"].Balance) // nil dereference: a panic
	})
	require.Error(t, err)
}

// captureLedger captures an unregistered error from one call site, so every
// call has the same fingerprint.
func captureLedger(ctx context.Context) {
	otelbridge.Capture(ctx, errors.New("ledger: reconcile mismatch on acct-1042"), attribute.String("ledger.batch", "b-88"))
}

// realRow is what the list must show for one group caused by causeErrors.
type realRow struct {
	message string // a part of the latest message that identifies the group
	id      string
	status  string
	count   string
	route   string // "METHOD /route" shown under the id, "" when none
	extras  []string
}

// realRows are the groups causeErrors makes, newest first. Jobs and
// captures outside a request have no HTTP status.
var realRows = []realRow{
	{message: "panic: runtime error: invalid memory address or nil pointer dereference", id: "internal", status: "", count: "1",
		extras: []string{"otelkit.job = ledger.close", "tenant = acme", "api_key = **************"}},
	{message: "billing sync: upstream answered 502", id: "internal", status: "", count: "1",
		extras: []string{"otelkit.job = billing.sync", "tenant = acme", "api_key = **************"}},
	{message: "ledger: reconcile mismatch on acct-1042", id: "internal", status: "", count: fmt.Sprint(realCaptureCount),
		extras: []string{"ledger.batch = b-88", "tenant = acme", "api_key = **************"}},
	{message: "panic: runtime error: index out of range [4] with length 3", id: "internal", status: "500", count: "1", route: "GET /cart/{id}"},
	{message: "The inventory service is unavailable: inventory: dial tcp", id: "shop.inventory_unavailable", status: "503",
		count: fmt.Sprint(realHTTPCount), route: "POST /orders"},
}
