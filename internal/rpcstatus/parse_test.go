package rpcstatus

import (
	"errors"
	"reflect"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	"github.com/otelkit/otelkit/errorsx"
)

// TestParseOccurrence: whatever an ErrorInfo carries besides its reason
// (metadata, the detail, BadRequest entries), Parse gives an occurrence
// with exactly that, its info sorted by key, and none for a bare reason.
func TestParseOccurrence(t *testing.T) {
	reg := errorsx.NewRegistry()
	limited := reg.Define(429, "auth.rate-limited", "Rate limited")
	missing := reg.Define(400, "field.missing", "A field is missing")
	br, _ := proto.Marshal(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "email", Reason: "field.missing"}}})
	for _, tt := range []struct {
		name    string
		md      map[string]string
		br      bool
		detail  string
		info    []errorsx.Field
		entries int
	}{
		{"reason only", nil, false, "", nil, 0},
		{"one entry", map[string]string{"retry_after": "30"}, false, "", []errorsx.Field{{Key: "retry_after", Value: "30"}}, 0},
		{"two entries", map[string]string{"z": "1", "a": "2"}, false, "", []errorsx.Field{{Key: "a", Value: "2"}, {Key: "z", Value: "1"}}, 0},
		{"detail", map[string]string{MetadataDetail: "d"}, false, "d", nil, 0},
		{"detail and entry", map[string]string{MetadataDetail: "d", "a": "1", "z": "2"}, false, "d", []errorsx.Field{{Key: "a", Value: "1"}, {Key: "z", Value: "2"}}, 0},
		{"empty key", map[string]string{"": "x"}, false, "", []errorsx.Field{{Key: "", Value: "x"}}, 0},
		{"violations", map[string]string{"a": "1"}, true, "", []errorsx.Field{{Key: "a", Value: "1"}}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info, _ := proto.Marshal(&errdetails.ErrorInfo{Reason: limited.ID(), Metadata: tt.md})
			ds := []Detail{{"type.googleapis.com/google.rpc.ErrorInfo", info}}
			if tt.br {
				ds = append(ds, Detail{"type.googleapis.com/google.rpc.BadRequest", br})
			}
			def, occ := Parse(reg, len(ds), func(i int) Detail { return ds[i] })
			if def != limited {
				t.Fatalf("def %v", def)
			}
			if len(tt.md) == 0 && !tt.br {
				if occ != nil {
					t.Fatalf("occurrence %v for a bare reason", occ)
				}
				return
			}
			if occ == nil || occ.Def() != limited {
				t.Fatalf("occurrence %v", occ)
			}
			if occ.Detail() != tt.detail || !reflect.DeepEqual(occ.Info(), tt.info) || len(occ.Entries()) != tt.entries {
				t.Errorf("detail %q info %v entries %v, want %q %v %d", occ.Detail(), occ.Info(), occ.Entries(), tt.detail, tt.info, tt.entries)
			}
			if tt.br && !errors.Is(occ, missing) {
				t.Errorf("%v is not %s", occ, missing.ID())
			}
		})
	}
}
