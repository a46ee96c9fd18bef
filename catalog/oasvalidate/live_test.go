package oasvalidate_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/catalog"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/examples/quickstart/api"
	"github.com/otelkit/otelkit/httpx"
)

// quickstartCatalog is the catalog of the quickstart: importing its api
// package ran its definitions on the default registry and made its route
// groups' registries from it, as the catalog command sees them.
func quickstartCatalog() *catalog.Catalog {
	return catalog.New(errorsx.Default(), catalog.WithChildren(), catalog.WithTitle("otelkit quickstart errors"), catalog.WithBaseURL(api.DocsPath))
}

func ref(status int) map[string]any {
	return map[string]any{"$ref": "#/components/responses/" + catalog.ResponseName(status)}
}

func op(statuses ...int) map[string]any {
	responses := map[string]any{"2XX": map[string]any{"description": "Success"}}
	for _, s := range statuses {
		responses[strconv.Itoa(s)] = ref(s)
	}
	return map[string]any{"responses": responses}
}

func withID(o map[string]any) map[string]any {
	o["parameters"] = []any{map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}}
	return o
}

// quickstartSpec is the quickstart's catalog as OpenAPI with paths that
// refer to its responses, the way a service's own document would.
func quickstartSpec(t *testing.T) []byte {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(openAPI(t, quickstartCatalog()), &doc))
	doc["paths"] = map[string]any{
		"/users/{id}": map[string]any{
			"get":    withID(op(400, 404, 500)),
			"delete": withID(op(405)),
		},
		"/users":            map[string]any{"post": op(400, 422, 500)},
		"/login":            map[string]any{"post": op(400, 429)},
		"/orders/{id}":      map[string]any{"get": withID(op(503))},
		"/panic":            map[string]any{"get": op(500)},
		"/nope":             map[string]any{"get": op(404)},
		"/admin/users/{id}": map[string]any{"get": withID(op(404))},
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return b
}

// TestQuickstartBodiesMatchTheCatalog sends requests to the quickstart's
// real handler and checks every error response against the published
// contract: the body validates against the response of its status
// (libopenapi-validator, JSON Schema 2020-12), its id is one of the ids the
// catalog lists for that status, and its type and title are the catalog's.
func TestQuickstartBodiesMatchTheCatalog(t *testing.T) {
	assert.Equal(t, httpx.TypeURNPrefix, catalog.TypeURNPrefix, "catalog and httpx agree on the type of errors without a docs URL")

	spec := quickstartSpec(t)
	validateOAS31(t, spec)
	doc, err := libopenapi.NewDocument(spec)
	require.NoError(t, err)
	v, verrs := validator.NewValidator(doc)
	require.Empty(t, verrs)

	cat := quickstartCatalog()
	handler := api.Routes(nil)

	tests := []struct {
		method, path, body string
		acceptLanguage     string
		status             int
		id                 string
		contentLanguage    string
	}{
		{method: "GET", path: "/users/abc", status: 400, id: "users.bad-id"},
		{method: "GET", path: "/users/7", status: 404, id: "users.not-found"},
		{method: "GET", path: "/users/7", acceptLanguage: "de-CH, en;q=0.5", status: 404, id: "users.not-found", contentLanguage: "de"},
		{method: "GET", path: "/users/7", acceptLanguage: "fr", status: 404, id: "users.not-found", contentLanguage: "fr"},
		{method: "GET", path: "/users/7", acceptLanguage: "ja", status: 404, id: "users.not-found"},
		{method: "POST", path: "/users", body: "{", status: 400, id: "request.bad-json"},
		{method: "POST", path: "/users", body: "{}", status: 422, id: "users.invalid"},
		{method: "POST", path: "/login", body: `{"user":"ada","password":"secret"}`, status: 429, id: "auth.rate-limited"},
		{method: "GET", path: "/orders/1", status: 503, id: "storage.unavailable"},
		{method: "GET", path: "/panic", status: 500, id: "internal"},
		{method: "GET", path: "/nope", status: 404, id: "not-found"},
		{method: "DELETE", path: "/users/1", status: 405, id: "method-not-allowed"},
		{method: "GET", path: "/admin/users/1", status: 404, id: "admin.user-missing"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.acceptLanguage, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tt.acceptLanguage != "" {
				req.Header.Set("Accept-Language", tt.acceptLanguage)
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			resp := rec.Result()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tt.status, resp.StatusCode, string(body))

			ok, errs := v.ValidateHttpResponse(req, rec.Result())
			assert.True(t, ok, "body %s: %s", body, describe(errs))

			var p struct {
				Type, Title, ID string
				Status          int
			}
			require.NoError(t, json.Unmarshal(body, &p))
			assert.Equal(t, tt.id, p.ID)
			e, ok := cat.Lookup(p.ID)
			require.True(t, ok, "the catalog lists %s", p.ID)
			assert.Equal(t, e.Status, p.Status)
			assert.Equal(t, e.Type, p.Type)
			wantLang := tt.contentLanguage
			if wantLang == "" && len(e.Translations) > 0 {
				wantLang = "en" // the default message's language, when a choice was made
			}
			assert.Equal(t, wantLang, resp.Header.Get("Content-Language"))
			want := e.Message
			for _, tr := range e.Translations {
				if tr.Lang == tt.contentLanguage {
					want = tr.Message
				}
			}
			assert.Equal(t, want, p.Title)

			comps := cat.OpenAPIComponents()["responses"].(map[string]any)
			ids := comps[catalog.ResponseName(p.Status)].(map[string]any)["x-otelkit-ids"].([]string)
			assert.True(t, slices.Contains(ids, p.ID), "%s is listed for %d", p.ID, p.Status)
		})
	}
}

// TestResponseValidatorRejects proves the response validation above is
// not vacuous: bodies off the contract fail.
func TestResponseValidatorRejects(t *testing.T) {
	doc, err := libopenapi.NewDocument(quickstartSpec(t))
	require.NoError(t, err)
	v, verrs := validator.NewValidator(doc)
	require.Empty(t, verrs)
	tests := []struct{ name, body string }{
		{"no id and no type", `{"title":"x","status":404}`},
		{"status that is not the response's", `{"type":"urn:otelkit:error:users.not-found","title":"x","status":500,"id":"users.not-found"}`},
		{"id outside the id alphabet", `{"type":"urn:otelkit:error:X","title":"x","status":404,"id":"Not Found"}`},
		{"entries without ids", `{"type":"urn:otelkit:error:a","title":"x","status":404,"id":"a","errors":[{"title":"y"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/users/7", nil)
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", catalog.ProblemMediaType)
			rec.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(rec, tt.body)
			ok, errs := v.ValidateHttpResponse(req, rec.Result())
			assert.False(t, ok)
			assert.NotEmpty(t, errs)
		})
	}
}

// TestCatalogHandlerNotFoundMatchesTheSchema checks the catalog handler's
// own problem bodies against the published Problem schema.
func TestCatalogHandlerNotFoundMatchesTheSchema(t *testing.T) {
	kd := validateKin(t, openAPI(t, quickstartCatalog()))
	h := catalog.Handler(errorsx.Default(), catalog.WithBaseURL("/errors/"))
	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/errors/no.such-id", nil),
		httptest.NewRequest(http.MethodPost, "/errors/", nil),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var body any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		schema := kd.Components.Responses[catalog.ResponseName(rec.Code)].Value.Content.Get(catalog.ProblemMediaType).Schema.Value
		assert.NoError(t, kd.ValidateSchemaJSON(schema, body), "%s %s: %s", r.Method, r.URL, rec.Body)
	}
}
