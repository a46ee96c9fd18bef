package auditx

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/mask"
)

// FuzzEmitValue checks emit's shortcut for short plain strings against the
// long way: whatever the value, a parameter's attribute and a non-parameter
// attribute hold policy.Text(value) and the body holds it escaped, under the
// default policy and under one with the fewest words.
func FuzzEmitValue(f *testing.F) {
	for _, s := range []string{"mallory", "203.0.113.7", "eyJhbGciOi", "4111111111111111", "password=x",
		"a\nb", "token", "AKIAIOSFODNN7EXAMPLE", "x\\y", "\u2028", "Bearer abc", "eyJ", "", "s3cr3t-value"} {
		f.Add(s)
	}
	type setup struct {
		policy *mask.Policy
		l      *lastLogger
		ev     *Event
	}
	var setups []setup
	for _, policy := range []*mask.Policy{mask.Default(), mask.New()} {
		l := &lastLogger{}
		reg := NewRegistry(WithLoggerProvider(lastProvider{l: l}), WithMask(policy),
			WithErrorHandler(otel.ErrorHandlerFunc(func(error) {})))
		setups = append(setups, setup{policy, l, reg.Define("fuzz.value", LevelInfo, "v={v} again {v}.")})
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, s := range setups {
			require.NoError(t, s.ev.Emit(context.Background(), attribute.String("v", value), attribute.String("note", value)))
			masked := s.policy.Text(value)
			esc := string(appendEscaped(nil, masked))
			require.Equal(t, "v="+esc+" again "+esc+".", s.l.rec.Body().AsString())
			got := map[string]string{}
			s.l.rec.WalkAttributes(func(kv attribute.KeyValue) bool {
				got[string(kv.Key)] = kv.Value.AsString()
				return true
			})
			require.Equal(t, masked, got["v"])
			require.Equal(t, masked, got["note"])
		}
	})
}
