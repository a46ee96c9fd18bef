package rpcstatus

import (
	"encoding/json"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	"github.com/otelkit/otelkit/errorsx"
)

// FuzzParse: whatever the details, Parse never panics and gives a
// definition only when it is registered, the one Def gives.
func FuzzParse(f *testing.F) {
	reg := errorsx.NewRegistry()
	def := reg.Define(404, "user.not-found", "No such user")
	info, _ := proto.Marshal(&errdetails.ErrorInfo{Reason: "user.not-found", Metadata: map[string]string{"k": "v", MetadataDetail: "d"}})
	br, _ := proto.Marshal(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "email", Reason: "user.not-found"}}})
	f.Add("type.googleapis.com/google.rpc.ErrorInfo", info, "google.rpc.BadRequest", br)
	f.Add("google.rpc.ErrorInfo", []byte{0xff, 0xff}, "", []byte(nil))
	f.Add("x/google.rpc.ErrorInfo", info, "google.rpc.ErrorInfo", info)
	f.Add("google.rpc.ErrorInfoX", info, "", []byte(nil))
	f.Fuzz(func(t *testing.T, t1 string, v1 []byte, t2 string, v2 []byte) {
		ds := []Detail{{t1, v1}, {t2, v2}}
		got, occ := Parse(reg, len(ds), func(i int) Detail { return ds[i] })
		if got != nil && got != def {
			t.Fatalf("Parse gave %v", got)
		}
		if d := Def(reg, len(ds), func(i int) Detail { return ds[i] }); d != got {
			t.Fatalf("Def gave %v, Parse %v", d, got)
		}
		if occ != nil && (got == nil || occ.Def() != got) {
			t.Fatalf("occurrence %v of %v", occ, got)
		}
	})
}

func TestIs(t *testing.T) {
	for typ, want := range map[string]bool{
		"google.rpc.ErrorInfo": true, "type.googleapis.com/google.rpc.ErrorInfo": true,
		"google.rpc.ErrorInfoX": false, "xgoogle.rpc.ErrorInfo": false, "": false,
	} {
		if got := is(typ, nameErrorInfo); got != want {
			t.Errorf("is(%q) = %v", typ, got)
		}
	}
}

func TestMetadataValue(t *testing.T) {
	type point struct{ X, Y int }
	for _, v := range []any{"s", 42, -7, int64(1 << 40), true, false, 1.5, []string{"a"}, point{1, 2}, nil} {
		want, _ := json.Marshal(v)
		if s, ok := v.(string); ok {
			want = []byte(s)
		}
		if got := metadataValue(v); got != string(want) {
			t.Errorf("metadataValue(%#v) = %q, want %q", v, got, want)
		}
	}
}
