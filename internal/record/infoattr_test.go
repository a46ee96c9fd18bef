package record_test

import (
	"errors"
	"math"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/mask"
)

type panicky struct{}

func (panicky) String() string { panic("String() exploded") }

// Issue 18 items 8 and 9 on the telemetry side: info written as attributes
// is masked by structure, errors inside it become their masked text, and
// nothing is printed with %v.
func TestInfoAttrItems8And9(t *testing.T) {
	p := mask.Default()
	uerr := &url.Error{Op: "Get", URL: "https://idp.example/x?access_token=s3cr3t", Err: errors.New("timeout")}
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"map with +Inf", map[string]any{"max": math.Inf(1), "password": "s3cr3t"}, `{"max":"+Inf","password":"` + mask.Mask + `"}`},
		{"map[any]any", map[any]any{"token": "s3cr3t"}, `{"token":"` + mask.Mask + `"}`},
		{"errors inside", []error{uerr}, `["Get \"https://idp.example/x?access_token=` + mask.Mask + `\": timeout"]`},
		{"top-level error", uerr, `Get "https://idp.example/x?access_token=` + mask.Mask + `": timeout`},
		{"Stringer that panics", panicky{}, "[panicked]"},
		{"func", func() {}, "[unencodable func()]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := record.InfoAttr(p, errorsx.Field{Key: "k", Value: tt.value})
			assert.Equal(t, tt.want, kv.Value.AsString())
			assert.NotContains(t, kv.Value.AsString(), "s3cr3t")
		})
	}
}
