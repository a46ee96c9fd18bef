package httpx_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

type note struct {
	Title string   `json:"title"`
	Stars int      `json:"stars"`
	Tags  []string `json:"tags"`
	Owner struct {
		Age int `json:"age"`
	} `json:"owner"`
}

func jsonRequest(body, contentType string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest("POST", "/notes", r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name string
		body string
		ct   string
		opts []httpx.DecodeOption
		want *errorsx.Def
		info map[string]any
	}{
		{"ok", `{"title":"a","stars":3}`, "application/json", nil, nil, nil},
		{"ok without content type", `{"title":"a"}`, "", nil, nil, nil},
		{"ok +json", `{"title":"a"}`, "application/merge-patch+json; charset=utf-8", nil, nil, nil},
		{"ok with trailing white space", "{\"title\":\"a\"}\n\t ", "application/json", nil, nil, nil},
		{"unknown field ignored by default", `{"title":"a","x":1}`, "application/json", nil, nil, nil},
		{"truncated", `{"title":`, "application/json", nil, errorsx.TruncatedJSON, map[string]any{"offset": int64(9)}},
		{"syntax", `{"title" "a"}`, "application/json", nil, errorsx.MalformedJSON, map[string]any{"offset": int64(9)}},
		{"not json at all", `title=a`, "", nil, errorsx.MalformedJSON, map[string]any{"offset": int64(1)}}, // 'i': "t" may start true,
		{"empty", ``, "application/json", nil, errorsx.EmptyBody, nil},
		{"white space only", " \n ", "application/json", nil, errorsx.EmptyBody, nil},
		{"empty allowed", ``, "application/json", []httpx.DecodeOption{httpx.AllowEmptyBody()}, nil, nil},
		{"wrong type", `{"stars":"many"}`, "application/json", nil, errorsx.JSONTypeMismatch,
			map[string]any{"field": "stars", "expected": "number", "got": "string", "offset": int64(15)}},
		{"wrong type nested", `{"owner":{"age":true}}`, "application/json", nil, errorsx.JSONTypeMismatch,
			map[string]any{"field": "owner.age", "expected": "number", "got": "bool", "offset": int64(20)}},
		{"wrong type in array", `{"tags":["a",2]}`, "application/json", nil, errorsx.JSONTypeMismatch,
			map[string]any{"field": "tags", "expected": "string", "got": "number", "offset": int64(14)}},
		{"wrong top-level type", `[1]`, "application/json", nil, errorsx.JSONTypeMismatch,
			map[string]any{"field": ".", "expected": "object", "got": "array", "offset": int64(1)}},
		{"unknown field refused", `{"title":"a","colour":"red"}`, "application/json", []httpx.DecodeOption{httpx.DisallowUnknownFields()},
			errorsx.UnknownField, map[string]any{"field": "colour"}},
		{"trailing value", `{"title":"a"}{"title":"b"}`, "application/json", nil, errorsx.TrailingData, map[string]any{"offset": int64(13)}},
		{"trailing garbage", `{"title":"a"} x`, "application/json", nil, errorsx.TrailingData, map[string]any{"offset": int64(13)}},
		{"too large", `{"title":"` + strings.Repeat("a", 100) + `"}`, "application/json", []httpx.DecodeOption{httpx.WithMaxBodyBytes(32)},
			errorsx.BodyTooLarge, map[string]any{"limit": int64(32)}},
		{"too large in trailing data", `{"title":"a"}` + strings.Repeat(" ", 100) + "x", "application/json", []httpx.DecodeOption{httpx.WithMaxBodyBytes(32)},
			errorsx.BodyTooLarge, map[string]any{"limit": int64(32)}},
		{"no limit", `{"title":"` + strings.Repeat("a", 2<<20) + `"}`, "application/json", []httpx.DecodeOption{httpx.WithMaxBodyBytes(0)}, nil, nil},
		{"default limit", `{"title":"` + strings.Repeat("a", 2<<20) + `"}`, "application/json", nil,
			errorsx.BodyTooLarge, map[string]any{"limit": int64(httpx.DefaultMaxBodyBytes)}},
		{"wrong content type", `{"title":"a"}`, "text/plain", nil, errorsx.UnsupportedMediaType,
			map[string]any{"content_type": "text/plain", "accepted": "application/json"}},
		{"form content type", `title=a`, "application/x-www-form-urlencoded", nil, errorsx.UnsupportedMediaType,
			map[string]any{"content_type": "application/x-www-form-urlencoded", "accepted": "application/json"}},
		{"malformed content type", `{}`, "application/json; =", nil, errorsx.UnsupportedMediaType,
			map[string]any{"content_type": "application/json; =", "accepted": "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v note
			err := httpx.DecodeJSON(jsonRequest(tt.body, tt.ct), &v, tt.opts...)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.want), "got %+v", err)
			m := errorsx.Default().Match(err)
			assert.Same(t, tt.want, m.Def)
			assert.Less(t, m.Def.Status(), 500)
			info := map[string]any{}
			if m.Occurrence != nil {
				for _, f := range m.Occurrence.Info() {
					info[f.Key] = f.Value
				}
			}
			if tt.info == nil {
				assert.Empty(t, info)
			} else {
				assert.Equal(t, tt.info, info)
			}
		})
	}
	t.Run("a MaxBytesReader of the service", func(t *testing.T) {
		req := jsonRequest(`{"title":"`+strings.Repeat("a", 100)+`"}`, "application/json")
		req.Body = http.MaxBytesReader(httptest.NewRecorder(), req.Body, 16)
		err := httpx.DecodeJSON(req, &note{}, httpx.WithMaxBodyBytes(0))
		assert.True(t, errors.Is(err, errorsx.BodyTooLarge), "%v", err)
	})
	t.Run("the caller's mistake is not the client's", func(t *testing.T) {
		var v note
		err := httpx.DecodeJSON(jsonRequest(`{}`, ""), v) // not a pointer
		var inv *json.InvalidUnmarshalError
		assert.True(t, errors.As(err, &inv))
		assert.Same(t, errorsx.Internal, errorsx.Resolve(err))
	})
	t.Run("the cause stays for telemetry", func(t *testing.T) {
		err := httpx.DecodeJSON(jsonRequest(`{"title":`, ""), &note{})
		assert.True(t, errors.Is(err, io.ErrUnexpectedEOF))
	})
}

// TestDecodeJSONRendered: a truncated body returned from a handler is a
// 400 for the client, not a 500 with a stack (issue 17 item 1).
func TestDecodeJSONRendered(t *testing.T) {
	tel := newTelemetry(t)
	h := tel.serve(httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		var v note
		if err := httpx.DecodeJSON(r, &v); err != nil {
			return err
		}
		return nil
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, jsonRequest(`{"title":`, "application/json"))
	assert.Equal(t, 400, rec.Code)
	b := body(t, rec)
	assert.Equal(t, "truncated-json", b["id"])
	assert.Equal(t, map[string]any{"offset": float64(9)}, b["info"])
	assert.Empty(t, tel.logs.records(), "a client's mistake emits no exception record")

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, jsonRequest(`{"stars":"x"}`, "application/json"))
	assert.Equal(t, 400, rec.Code)
	b = body(t, rec)
	assert.Equal(t, "json-type-mismatch", b["id"])
	assert.Equal(t, "stars", b["info"].(map[string]any)["field"])
}

// FuzzDecodeJSON: whatever the body, DecodeJSON either decodes it or
// returns a registered 4xx; it never panics or yields an internal error.
// The seed corpus runs as an ordinary test; fuzz with
//
//	go test ./httpx -run '^$' -fuzz FuzzDecodeJSON -fuzztime 30s
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		``, ` `, `{}`, `{"title":`, `{"title":"a"}`, `{"stars":"x"}`, `[1,2]`, `null`, `{"title":"a"} x`,
		`{"title":"a"}{}`, `{"owner":{"age":1.5}}`, `{"tags":[1]}`, "\xff", `{"a":1}`, `"str"`, `{"title":"\u00e9"}`,
		`{"stars":1e400}`, `{"stars":-1}`, `{"title":"` + strings.Repeat("a", 80) + `"}`,
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, body string, strict bool) {
		opts := []httpx.DecodeOption{httpx.WithMaxBodyBytes(64)}
		if strict {
			opts = append(opts, httpx.DisallowUnknownFields())
		}
		var v note
		err := httpx.DecodeJSON(jsonRequest(body, "application/json"), &v, opts...)
		if err == nil {
			return
		}
		m := errorsx.Default().Match(err)
		if !m.Registered() || !m.Def.Builtin() || m.Def.Status() >= 500 {
			t.Fatalf("body %q: %v resolves to %s", body, err, m.Def)
		}
	})
}
