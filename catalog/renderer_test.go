package catalog_test

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/catalog"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// companyBody is a custom renderer as an adopting team writes it:
// {"error":{"code":…,"message":…}}, without describing itself.
var companyBody = httpx.RendererFunc(func(w http.ResponseWriter, r *http.Request, p *httpx.Problem) error {
	w.Header().Set("Content-Type", "application/vnd.acme.error+json; charset=utf-8")
	w.WriteHeader(p.Status)
	return json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": p.ID, "message": p.Title}})
})

// describedBody is the same body from a renderer that describes it.
type describedBody struct{}

func (describedBody) Render(w http.ResponseWriter, r *http.Request, p *httpx.Problem) error {
	return companyBody(w, r, p)
}

func (describedBody) ContentTypes() []string { return []string{"application/vnd.acme.error+json"} }

func (describedBody) JSONSchema() []byte {
	return []byte(`{"type":"object","description":"Acme's error body.","required":["error"],
		"properties":{"error":{"$ref":"#/$defs/AcmeError"}},
		"$defs":{"AcmeError":{"type":"object","required":["code","message"],
			"properties":{"code":{"type":"string"},"message":{"type":"string"}}}}}`)
}

func rendererRegistry() *errorsx.Registry {
	reg := errorsx.NewRegistry()
	reg.Define(http.StatusNotFound, "note.not-found", "The note was not found")
	reg.Define(http.StatusConflict, "note.conflict", "The note changed")
	return reg
}

func openAPIDoc(t *testing.T, c *catalog.Catalog) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, c.WriteOpenAPI(&buf))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	return doc["components"].(map[string]any)
}

// TestWithRenderer checks that the catalog describes the bodies of the
// configured renderer: a custom one, described or not, and ErrorList,
// where before it promised application/problem+json whatever the service
// answered with.
func TestWithRenderer(t *testing.T) {
	tests := []struct {
		name         string
		renderer     httpx.Renderer
		contentTypes []string
		example      string // note.not-found's body
		schemas      []string
		markdown     []string
	}{
		{
			name:         "custom renderer without a description",
			renderer:     companyBody,
			contentTypes: []string{"application/vnd.acme.error+json"},
			example:      `{"error":{"code":"note.not-found","message":"The note was not found"}}`,
			schemas:      []string{catalog.ProblemSchema},
			markdown: []string{
				"Every error body is `application/vnd.acme.error+json`.\n",
				"```json\n{\"error\":{\"code\":\"note.not-found\",\"message\":\"The note was not found\"}}\n```",
			},
		},
		{
			name:         "custom renderer that describes itself",
			renderer:     describedBody{},
			contentTypes: []string{"application/vnd.acme.error+json"},
			example:      `{"error":{"code":"note.not-found","message":"The note was not found"}}`,
			schemas:      []string{catalog.ProblemSchema, "AcmeError"},
			markdown: []string{
				"Every error body is `application/vnd.acme.error+json`. Acme's error body.\n",
				"```json\n{\"error\":{\"code\":\"note.not-found\",\"message\":\"The note was not found\"}}\n```",
			},
		},
		{
			name:         "ErrorList",
			renderer:     httpx.ErrorList{},
			contentTypes: []string{"application/json"},
			example:      `{"errors":[{"code":"note.not-found","message":"The note was not found"}]}`,
			schemas:      []string{catalog.ProblemSchema, "ErrorListEntry"},
			markdown:     []string{"Every error body is `application/json`. "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := catalog.New(rendererRegistry(), catalog.WithoutBuiltins(), catalog.WithRenderer(tt.renderer))
			require.NotNil(t, cat.Body)
			assert.Equal(t, tt.contentTypes, cat.Body.ContentTypes)
			e, ok := cat.Lookup("note.not-found")
			require.True(t, ok)
			assert.JSONEq(t, tt.example, string(e.Example))

			md := markdown(t, cat)
			for _, w := range tt.markdown {
				assert.Contains(t, md, w)
			}
			assert.NotContains(t, md, "problem+json")

			comps := openAPIDoc(t, cat)
			schemas := comps["schemas"].(map[string]any)
			assert.ElementsMatch(t, tt.schemas, keys(schemas))
			resp := comps["responses"].(map[string]any)["Problem404"].(map[string]any)
			content := resp["content"].(map[string]any)
			assert.Equal(t, tt.contentTypes, keys(content), "only the renderer's media types")
			media := content[tt.contentTypes[0]].(map[string]any)
			assert.Equal(t, map[string]any{"$ref": "#/components/schemas/" + catalog.ProblemSchema}, media["schema"],
				"no status constraint on a body without a status")
			ex := comps["examples"].(map[string]any)["note.not-found"].(map[string]any)
			got, err := json.Marshal(ex["value"])
			require.NoError(t, err)
			assert.JSONEq(t, tt.example, string(got))
			assert.NotContains(t, mustJSON(t, comps), "#/$defs/", "references point into components")

			// The catalog travels as JSON (otelkit catalog): the body
			// description survives it.
			var buf bytes.Buffer
			require.NoError(t, cat.WriteJSON(&buf))
			back, err := catalog.ReadJSON(&buf)
			require.NoError(t, err)
			assert.Equal(t, md, markdown(t, back))
			assert.Equal(t, comps, openAPIDoc(t, back))
		})
	}
}

// TestWithRendererProblemJSON checks that giving the default renderer
// explicitly describes the same bodies as giving none.
func TestWithRendererProblemJSON(t *testing.T) {
	plain := catalog.New(rendererRegistry(), catalog.WithBaseURL("/errors/"))
	explicit := catalog.New(rendererRegistry(), catalog.WithBaseURL("/errors/"), catalog.WithRenderer(httpx.ProblemJSON{}))
	assert.Nil(t, plain.Body)
	require.NotNil(t, explicit.Body)
	assert.Equal(t, []string{"application/problem+json", "application/json"}, explicit.Body.ContentTypes)
	assert.Equal(t, markdown(t, plain), markdown(t, explicit))
	assert.Equal(t, openAPIDoc(t, plain), openAPIDoc(t, explicit))
	e, _ := explicit.Lookup("note.conflict")
	assert.JSONEq(t, `{"type":"/errors/note.conflict","title":"The note changed","status":409,"id":"note.conflict"}`, string(e.Example))
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestHandlerWithRenderer checks that an error's page shows the body the
// configured renderer writes.
func TestHandlerWithRenderer(t *testing.T) {
	h := catalog.Handler(rendererRegistry(), catalog.WithBaseURL("/errors/"), catalog.WithRenderer(httpx.ErrorList{}))
	req := httptest.NewRequest(http.MethodGet, "/errors/note.not-found", nil)
	req.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code)
	page := html.UnescapeString(w.Body.String())
	assert.Contains(t, page, "Content-Type: application/json\n")
	assert.Contains(t, page, `"code": "note.not-found"`)
	assert.NotContains(t, page, "problem+json")
}
