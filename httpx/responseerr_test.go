package httpx_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"testing"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// TestResponseErrOccurrence: whatever a problem body carries besides its
// id (info fields, a detail, entries), ResponseErr's error unwraps to an
// occurrence with exactly that, its info sorted by key.
func TestResponseErrOccurrence(t *testing.T) {
	reg := errorsx.NewRegistry()
	limited := reg.Define(429, "auth.rate-limited", "Rate limited")
	missing := reg.Define(400, "field.missing", "A field is missing")
	for _, tt := range []struct {
		name, body string
		detail     string
		info       []errorsx.Field
		entries    int
	}{
		{"one field", `{"id":"auth.rate-limited","info":{"retry_after":30}}`, "", []errorsx.Field{{Key: "retry_after", Value: 30.0}}, 0},
		{"two fields", `{"id":"auth.rate-limited","info":{"z":"b","a":true}}`, "", []errorsx.Field{{Key: "a", Value: true}, {Key: "z", Value: "b"}}, 0},
		{"detail", `{"id":"auth.rate-limited","detail":"from 10.0.0.1"}`, "from 10.0.0.1", nil, 0},
		{"detail and field", `{"id":"auth.rate-limited","detail":"d","info":{"retry_after":30}}`, "d", []errorsx.Field{{Key: "retry_after", Value: 30.0}}, 0},
		{"empty key", `{"id":"auth.rate-limited","info":{"":1}}`, "", []errorsx.Field{{Key: "", Value: 1.0}}, 0},
		{"entries", `{"id":"auth.rate-limited","detail":"d","info":{"k":"v"},"errors":[{"id":"field.missing","info":{"field":"email"}}]}`, "d", []errorsx.Field{{Key: "k", Value: "v"}}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: 429, Header: http.Header{"Content-Type": {"application/problem+json"}},
				Body: io.NopCloser(bytes.NewReader([]byte(tt.body)))}
			err := httpx.ResponseErr(resp, reg)
			var occ *errorsx.Error
			if !errors.Is(err, limited) || !errors.As(err, &occ) || occ.Def() != limited {
				t.Fatalf("%v: no occurrence of %s", err, limited.ID())
			}
			if occ.Detail() != tt.detail || !reflect.DeepEqual(occ.Info(), tt.info) && len(tt.info)+len(occ.Info()) > 0 || len(occ.Entries()) != tt.entries {
				t.Errorf("detail %q info %v entries %v, want %q %v %d", occ.Detail(), occ.Info(), occ.Entries(), tt.detail, tt.info, tt.entries)
			}
			if tt.entries > 0 && !errors.Is(err, missing) {
				t.Errorf("%v is not %s", err, missing.ID())
			}
		})
	}
}
