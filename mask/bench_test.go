package mask_test

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/mask"
)

// A typical 5xx error text: a wrapped driver error, nothing to mask.
const plainMessage = "orders.load: select order 42: dial tcp 10.0.0.7:5432: connect: connection refused"

// The same with secrets in it.
const secretMessage = "orders.load: dial postgres://app:hunter2@db:5432/shop: password=hunter2 token: t-1 Bearer abc.def"

func BenchmarkText(b *testing.B) {
	p := mask.Default()
	for _, bc := range []struct{ name, s string }{
		{"plain", plainMessage},
		{"secrets", secretMessage},
		{"card", "charge 4111 1111 1111 1111 declined"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.s)))
			for b.Loop() {
				_ = p.Text(bc.s)
			}
		})
	}
}

func BenchmarkAttr(b *testing.B) {
	p := mask.Default()
	kvs := []attribute.KeyValue{
		attribute.String("user", "alice"),
		attribute.String("password", "hunter2"),
		attribute.StringSlice("args", []string{"--verbose", "--region=eu"}),
		attribute.Map("req", attribute.String("method", "GET"), attribute.String("Authorization", "Bearer x")),
	}
	for _, kv := range kvs {
		b.Run(string(kv.Key), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = p.Attr(kv)
			}
		})
	}
}

func BenchmarkValue(b *testing.B) {
	p := mask.Default()
	type login struct {
		User     string `json:"user"`
		Password string `json:"password"`
		Attempts int    `json:"attempts"`
	}
	for _, bc := range []struct {
		name string
		v    any
	}{
		{"scalar", 30},
		{"clean map", map[string]any{"field": "email", "reason": "format"}},
		{"struct", login{User: "ada", Password: "x", Attempts: 3}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = p.Value(bc.v)
			}
		})
	}
}

func TestTextAllocsWithoutSecrets(t *testing.T) {
	p := mask.Default()
	for _, s := range []string{plainMessage, "user 42 not found", "GET /orders/42?page=2 took 3ms"} {
		if n := testing.AllocsPerRun(100, func() { _ = p.Text(s) }); n != 0 {
			t.Errorf("Text(%q) allocates %v times", s, n)
		}
	}
}

// BenchmarkSensitive: keys as code gives them to With and audit events;
// "retry_after" has pairs that begin words ("re", "tr"), so its positions
// are looked at word by word.
func BenchmarkSensitive(b *testing.B) {
	p := mask.Default()
	for _, key := range []string{"retry_after", "user_id", "X-Api-Key", "order.total_amount"} {
		b.Run(key, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = p.Sensitive(key)
			}
		})
	}
}
