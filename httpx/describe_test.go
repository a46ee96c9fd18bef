package httpx_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// TestDescriber checks that the built-in renderers describe the bodies
// they write: the Content-Type written is their first media type, and
// every field of a full body (detail, info, trace id, entries) is a
// property of their schema, the required ones present.
func TestDescriber(t *testing.T) {
	p := &httpx.Problem{
		Type: "urn:otelkit:error:bad", Title: "Bad", Status: 400, ID: "bad", Instance: "/x",
		Detail: "d", Info: []errorsx.Field{{Key: "field", Value: "name"}}, TraceID: "0af7651916cd43dd8448eb211c80319c",
		Errors: []httpx.Entry{{ID: "a", Title: "A", Status: 400, Detail: "x", Info: []errorsx.Field{{Key: "k", Value: 1}}}, {ID: "b", Title: "B", Status: 422}},
	}
	for _, r := range []httpx.Renderer{httpx.ProblemJSON{}, httpx.ErrorList{}} {
		d, ok := r.(httpx.Describer)
		require.True(t, ok, "%T describes itself", r)
		var schema jsonSchema
		require.NoError(t, json.Unmarshal(d.JSONSchema(), &schema), "%T's schema is JSON", r)

		w := httptest.NewRecorder()
		require.NoError(t, r.Render(w, httptest.NewRequest(http.MethodGet, "/x", nil), p))
		assert.Equal(t, d.ContentTypes()[0], w.Header().Get("Content-Type"), "%T writes its first media type", r)
		var body map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		schema.check(t, body)
	}
}

// jsonSchema is the part of a JSON Schema the test checks: properties,
// required ones, array items and references into $defs.
type jsonSchema struct {
	Ref        string                 `json:"$ref"`
	Required   []string               `json:"required"`
	Properties map[string]*jsonSchema `json:"properties"`
	Items      *jsonSchema            `json:"items"`
	Defs       map[string]*jsonSchema `json:"$defs"`
}

func (s *jsonSchema) check(t *testing.T, body map[string]any) {
	t.Helper()
	s.checkValue(t, s, body, "body")
}

func (s *jsonSchema) checkValue(t *testing.T, root *jsonSchema, v any, path string) {
	t.Helper()
	if s.Ref != "" {
		name := s.Ref[len("#/$defs/"):]
		def, ok := root.Defs[name]
		require.True(t, ok, "%s: $ref %s is defined", path, s.Ref)
		s = def
	}
	switch v := v.(type) {
	case map[string]any:
		for _, r := range s.Required {
			assert.Contains(t, v, r, "%s: required property", path)
		}
		if s.Properties == nil {
			return
		}
		for k, x := range v {
			ps, ok := s.Properties[k]
			if !assert.True(t, ok, "%s.%s is a property of the schema", path, k) {
				continue
			}
			ps.checkValue(t, root, x, path+"."+k)
		}
	case []any:
		if s.Items != nil {
			for _, x := range v {
				s.Items.checkValue(t, root, x, path+"[]")
			}
		}
	}
}

// The error catalog asks a renderer what it writes; a custom renderer
// answers by implementing Describer next to Render.
func ExampleDescriber() {
	var r httpx.Renderer = httpx.ErrorList{}
	if d, ok := r.(httpx.Describer); ok {
		fmt.Println(d.ContentTypes())
		var schema struct{ Required []string }
		_ = json.Unmarshal(d.JSONSchema(), &schema)
		fmt.Println(schema.Required)
	}
	// Output:
	// [application/json]
	// [errors]
}
