package oasvalidate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/catalog"
	"github.com/otelkit/otelkit/errorsx"
	adopter "github.com/otelkit/otelkit/examples/adopter/api"
	"github.com/otelkit/otelkit/httpx"
)

// openAPI renders the catalog as an OpenAPI document.
func openAPI(t *testing.T, c *catalog.Catalog) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, c.WriteOpenAPI(&buf))
	return buf.Bytes()
}

// validateOAS31 checks spec against the OpenAPI 3.1 JSON Schema with
// libopenapi-validator, which embeds the official schema.
func validateOAS31(t *testing.T, spec []byte) {
	t.Helper()
	doc, err := libopenapi.NewDocument(spec)
	require.NoError(t, err)
	require.Equal(t, "3.1.0", doc.GetVersion())
	ok, errs := schema_validation.ValidateOpenAPIDocument(doc)
	assert.True(t, ok, "OpenAPI 3.1 schema: %s", describe(errs))

	v, verrs := validator.NewValidator(doc)
	require.Empty(t, verrs)
	ok, errs = v.ValidateDocument()
	assert.True(t, ok, "ValidateDocument: %s", describe(errs))
}

func describe(errs []*liberrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    %s: %s", f.FieldPath, f.Reason)
		}
	}
	return b.String()
}

// validateKin loads spec with kin-openapi, validates it as an OpenAPI 3.1
// document, and checks every example against the Problem schema and the
// schema of each response that lists it, with JSON Schema 2020-12.
func validateKin(t *testing.T, spec []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	require.NoError(t, err)
	require.True(t, doc.IsOpenAPI31OrLater())
	require.NoError(t, doc.Validate(t.Context()))

	problem := doc.Components.Schemas[catalog.ProblemSchema]
	require.NotNil(t, problem)
	for id, ex := range doc.Components.Examples {
		assert.NoError(t, doc.ValidateSchemaJSON(problem.Value, ex.Value.Value, openapi3.EnableJSONSchema2020()), "example %s", id)
	}
	for name, resp := range doc.Components.Responses {
		var media *openapi3.MediaType
		for _, m := range resp.Value.Content {
			if len(m.Examples) > 0 {
				media = m // the renderer's default media type
			}
		}
		require.NotNil(t, media, name)
		for id, ex := range media.Examples {
			assert.NoError(t, doc.ValidateSchemaJSON(media.Schema.Value, ex.Value.Value, openapi3.EnableJSONSchema2020()),
				"example %s in %s", id, name)
		}
	}
	return doc
}

func testRegistry() *errorsx.Registry {
	reg := errorsx.NewRegistry()
	nf := reg.Define(http.StatusNotFound, "user.not-found", "The user was not found",
		errorsx.Describe("No user has the id given in the path.\nSecond line | with a pipe."),
		errorsx.Translate("de", "Der Benutzer wurde nicht gefunden"),
		errorsx.Translate("pt-BR", "Usuário não encontrado"))
	bad := reg.Define(http.StatusBadRequest, "request.bad-json", `The body is not "valid" JSON <sorry>`)
	reg.Define(http.StatusServiceUnavailable, "storage.unavailable", "Try again later")
	reg.Define(599, "edge.status", "An unnamed status")
	reg.Map(os.ErrNotExist, nf)
	errorsx.MapTypeIn[*json.SyntaxError](reg, bad)
	return reg
}

func TestOpenAPIValidates(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("..", "testdata", "quickstart.openapi.json"))
	require.NoError(t, err)

	tests := []struct {
		name string
		spec []byte
	}{
		{"service registry with a base URL", openAPI(t, catalog.New(testRegistry(),
			catalog.WithBaseURL("https://api.example.com/errors/"), catalog.WithTitle("Test"), catalog.WithVersion("1.0.0")))},
		{"service registry without a base URL", openAPI(t, catalog.New(testRegistry()))},
		{"built-ins only", openAPI(t, catalog.New(errorsx.NewRegistry()))},
		{"quickstart golden file", golden},
		{"quickstart live", openAPI(t, quickstartCatalog())},
		{"ErrorList renderer", openAPI(t, catalog.New(testRegistry(), catalog.WithRenderer(httpx.ErrorList{})))},
		{"custom renderer that describes its body", openAPI(t, catalog.New(testRegistry(), catalog.WithRenderer(companyRenderer{})))},
		{"custom renderer without a description", openAPI(t, catalog.New(testRegistry(),
			catalog.WithRenderer(httpx.RendererFunc(companyRenderer{}.Render))))},
		{"adopter example's body", openAPI(t, catalog.New(adopter.Registry, catalog.WithParents(), catalog.WithRenderer(adopter.Body{})))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			validateOAS31(t, tt.spec)
			validateKin(t, tt.spec)
		})
	}
}

// TestValidatorsReject proves the validators are not vacuous: broken
// documents fail.
func TestValidatorsReject(t *testing.T) {
	base := openAPI(t, catalog.New(testRegistry()))
	mutate := func(f func(doc map[string]any)) []byte {
		var doc map[string]any
		require.NoError(t, json.Unmarshal(base, &doc))
		f(doc)
		b, err := json.Marshal(doc)
		require.NoError(t, err)
		return b
	}
	responses := func(doc map[string]any) map[string]any {
		return doc["components"].(map[string]any)["responses"].(map[string]any)
	}

	t.Run("a response without description fails the OpenAPI 3.1 schema", func(t *testing.T) {
		spec := mutate(func(doc map[string]any) { delete(responses(doc)["Problem404"].(map[string]any), "description") })
		d, err := libopenapi.NewDocument(spec)
		require.NoError(t, err)
		ok, errs := schema_validation.ValidateOpenAPIDocument(d)
		assert.False(t, ok)
		assert.NotEmpty(t, errs)

		kd, err := openapi3.NewLoader().LoadFromData(spec)
		require.NoError(t, err)
		assert.Error(t, kd.Validate(t.Context()))
	})

	t.Run("an example with status 200 fails the Problem schema", func(t *testing.T) {
		spec := mutate(func(doc map[string]any) {
			ex := doc["components"].(map[string]any)["examples"].(map[string]any)["user.not-found"].(map[string]any)
			ex["value"].(map[string]any)["status"] = 200
		})
		kd, err := openapi3.NewLoader().LoadFromData(spec)
		require.NoError(t, err)
		problem := kd.Components.Schemas[catalog.ProblemSchema].Value
		ex := kd.Components.Examples["user.not-found"].Value.Value
		assert.Error(t, kd.ValidateSchemaJSON(problem, ex, openapi3.EnableJSONSchema2020()))
	})

	t.Run("a 3.0-only schema keyword fails as 3.1", func(t *testing.T) {
		spec := mutate(func(doc map[string]any) {
			p := doc["components"].(map[string]any)["schemas"].(map[string]any)["Problem"].(map[string]any)
			p["properties"].(map[string]any)["status"].(map[string]any)["exclusiveMinimum"] = true
		})
		kd, err := openapi3.NewLoader().LoadFromData(spec)
		require.NoError(t, err)
		assert.Error(t, kd.Validate(t.Context()))
	})
}

// companyRenderer is a service's own error body, {"error":{"code","message"}},
// described with httpx.Describer.
type companyRenderer struct{}

func (companyRenderer) Render(w http.ResponseWriter, r *http.Request, p *httpx.Problem) error {
	w.Header().Set("Content-Type", "application/vnd.acme.error+json")
	w.WriteHeader(p.Status)
	return json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": p.ID, "message": p.Title}})
}

func (companyRenderer) ContentTypes() []string { return []string{"application/vnd.acme.error+json"} }

func (companyRenderer) JSONSchema() []byte {
	return []byte(`{"type":"object","required":["error"],"additionalProperties":false,
		"properties":{"error":{"$ref":"#/$defs/AcmeError"}},
		"$defs":{"AcmeError":{"type":"object","required":["code","message"],"additionalProperties":false,
			"properties":{"code":{"type":"string","pattern":"^[a-z0-9._-]+$"},"message":{"type":"string"}}}}}`)
}

// TestCustomRendererSchemaRejects proves the custom renderer's examples are
// checked against its schema: a body of another shape fails it.
func TestCustomRendererSchemaRejects(t *testing.T) {
	spec := openAPI(t, catalog.New(testRegistry(), catalog.WithRenderer(companyRenderer{})))
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	require.NoError(t, err)
	body := doc.Components.Schemas[catalog.ProblemSchema].Value
	ok := map[string]any{"error": map[string]any{"code": "user.not-found", "message": "x"}}
	assert.NoError(t, doc.ValidateSchemaJSON(body, ok, openapi3.EnableJSONSchema2020()))
	problem := map[string]any{"type": "urn:otelkit:error:user.not-found", "title": "x", "status": 404, "id": "user.not-found"}
	assert.Error(t, doc.ValidateSchemaJSON(body, problem, openapi3.EnableJSONSchema2020()), "a problem body is not the company's body")
	missing := map[string]any{"error": map[string]any{"code": "user.not-found"}}
	assert.Error(t, doc.ValidateSchemaJSON(body, missing, openapi3.EnableJSONSchema2020()), "the message is required ($ref into components)")
}
