package errtrack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/errtrack"
	"github.com/otelkit/otelkit/errtrack/internal/errtracktest"
)

// structuredSecrets are attribute values that hide a secret inside a
// structure: a map's inner key, a slice of maps, strings of a string slice.
func structuredSecrets(secret string) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.Map("request", attribute.String("method", "POST"),
			attribute.String("Authorization", "Bearer "+secret),
			attribute.Map("body", attribute.String("password", secret))),
		attribute.StringSlice("headers", []string{"Accept: */*", "Authorization: Bearer " + secret}),
		attribute.Slice("logins", attribute.MapValue(attribute.String("user", "ada"), attribute.String("password", secret))),
		attribute.Map("error.info.form", attribute.String("passwd", secret)),
	}
}

// Issue 18 item 10: structured attributes are masked on /dev/errors and in
// webhook and mail payloads.
func TestStructuredAttributesMaskedItem10(t *testing.T) {
	const secret = "s3cr3t-value"
	var n notes
	m := startMailServer(t, false)
	mailer, err := errtrack.NewSMTPNotifier(m.addr, "errors@shop.test", []string{"oncall@shop.test"},
		errtrack.WithSMTPTLS(errtrack.TLSNone))
	require.NoError(t, err)
	tr := errtrack.New(errtrack.WithNotifier(&n), errtrack.WithNotifier(mailer))
	l := logger(t, tr)
	e := registered("order.failed", 500, "charging failed", t0)
	e.Attrs = structuredSecrets(secret)
	errtracktest.Emit(context.Background(), l, e)
	flush(t, tr)

	g, ok := tr.Group("order.failed")
	require.True(t, ok)
	assert.NotContains(t, fmt.Sprintf("%+v", g), secret)
	for _, path := range []string{"/dev/errors", "/dev/errors/order.failed"} {
		for _, accept := range []string{"application/json", "text/html"} {
			body := get(t, tr.Handler(errtrack.AllowLoopback()), path, "127.0.0.1:1", accept).body
			assert.NotContains(t, body, secret, path+" "+accept)
			assert.Contains(t, body, "order.failed")
		}
	}
	n.mu.Lock()
	require.Len(t, n.all, 1)
	payload, err := json.Marshal(n.all[0])
	n.mu.Unlock()
	require.NoError(t, err)
	assert.NotContains(t, string(payload), secret, "webhook payload")
	assert.Contains(t, string(payload), `"method":"POST"`)
	mails := received(m)
	require.Len(t, mails, 1)
	assert.NotContains(t, mails[0].data, secret, "mail")
}

// Issue 18 item 17: attribute keys are capped like values.
func TestAttributeKeysCappedItem17(t *testing.T) {
	tr := errtrack.New(errtrack.WithMaxOccurrences(5))
	l := logger(t, tr)
	longKey := strings.Repeat("k", 1<<20)
	e := registered("keys.huge", 500, "x", t0)
	e.Attrs = []attribute.KeyValue{attribute.Int(longKey, 1), attribute.Int("error.info."+longKey, 2)}
	for range 5 {
		errtracktest.Emit(context.Background(), l, e)
	}
	g, ok := tr.Group("keys.huge")
	require.True(t, ok)
	for _, kv := range g.Info {
		assert.LessOrEqual(t, len(kv.Key), errtrack.MaxKeyBytes+64)
	}
	for _, kv := range g.Extras {
		assert.LessOrEqual(t, len(kv.Key), errtrack.MaxKeyBytes+64)
	}
	total := 0
	for _, o := range g.Occurrences {
		for _, kv := range o.Attributes {
			assert.LessOrEqual(t, len(kv.Key), errtrack.MaxKeyBytes+64)
			total += len(kv.Key)
		}
	}
	assert.Less(t, total, 64<<10, "5 occurrences hold bounded keys")
}
