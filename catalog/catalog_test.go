package catalog_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/catalog"
	"github.com/otelkit/otelkit/errorsx"
)

// defSpec is a definition to register in a test registry.
type defSpec struct {
	status int
	id     string
	msg    string
	opts   []errorsx.DefOption
}

var testDefs = []defSpec{
	{http.StatusTooManyRequests, "auth.rate-limited", "Rate limited due to too many false auth attempts from this ip", nil},
	{http.StatusNotFound, "user.not-found", "The user was not found", []errorsx.DefOption{
		errorsx.Describe("No user has the id given in the path."),
		errorsx.Translate("fr", "L'utilisateur est introuvable"),
		errorsx.Translate("de", "Der Benutzer wurde nicht gefunden"),
	}},
	{http.StatusBadRequest, "request.bad-json", "The request body is not valid JSON", []errorsx.DefOption{
		errorsx.Translate("de", "Der Anfragetext ist kein gültiges JSON"),
	}},
	{http.StatusNotFound, "order.not-found", "The order was not found", nil},
}

// newTestRegistry defines testDefs in the given order and maps values, a
// concrete type and an interface type.
func newTestRegistry(t *testing.T, order []int, opts ...errorsx.RegistryOption) *errorsx.Registry {
	t.Helper()
	reg := errorsx.NewRegistry(opts...)
	defs := map[string]*errorsx.Def{}
	for _, i := range order {
		d := testDefs[i]
		defs[d.id] = reg.Define(d.status, d.id, d.msg, d.opts...)
	}
	if d, ok := defs["auth.rate-limited"]; ok {
		errorsx.MapTypeIn[net.Error](reg, d)
	}
	if d, ok := defs["request.bad-json"]; ok {
		errorsx.MapTypeIn[*json.SyntaxError](reg, d)
	}
	if d, ok := defs["user.not-found"]; ok {
		reg.Map(sql.ErrNoRows, d)
	}
	reg.Map(fs.ErrNotExist, errorsx.NotFound)
	return reg
}

func marshal(t *testing.T, c *catalog.Catalog) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, c.WriteJSON(&buf))
	return buf.String()
}

// serviceIDs is ids without the request decoding built-ins (those of
// errorsx.Builtins other than internal, not-found, method-not-allowed).
func serviceIDs(c *catalog.Catalog) []string {
	decoding := map[string]bool{}
	for _, d := range errorsx.Builtins()[3:] {
		decoding[d.ID()] = true
	}
	var out []string
	for _, id := range ids(c) {
		if !decoding[id] {
			out = append(out, id)
		}
	}
	return out
}

func ids(c *catalog.Catalog) []string {
	out := make([]string, len(c.Entries))
	for i, e := range c.Entries {
		out[i] = e.ID
	}
	return out
}

func TestNewOrderIsStable(t *testing.T) {
	want := []string{"empty-body", "json-type-mismatch", "malformed-json", "request.bad-json", "trailing-data", "truncated-json", "unknown-field",
		"not-found", "order.not-found", "user.not-found", "method-not-allowed", "body-too-large", "unsupported-media-type", "auth.rate-limited", "internal"}
	var first string
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			c := catalog.New(newTestRegistry(t, order))
			assert.Equal(t, want, ids(c))
			got := marshal(t, c)
			if first == "" {
				first = got
			}
			assert.Equal(t, first, got, "the output must not depend on definition order")
		})
	}
}

func TestNewEntries(t *testing.T) {
	c := catalog.New(newTestRegistry(t, []int{0, 1, 2, 3}))
	tests := []struct {
		id   string
		want catalog.Entry
	}{
		{"user.not-found", catalog.Entry{
			ID: "user.not-found", Type: catalog.TypeURNPrefix + "user.not-found", Status: 404, GRPCCode: "NOT_FOUND", Message: "The user was not found",
			Description: "No user has the id given in the path.",
			Translations: []catalog.Translation{
				{Lang: "de", Message: "Der Benutzer wurde nicht gefunden"},
				{Lang: "fr", Message: "L'utilisateur est introuvable"},
			},
			MappedFrom: []catalog.Mapped{{Kind: catalog.KindValue, Type: "*errors.errorString", Package: "errors", Text: "sql: no rows in result set"}},
		}},
		{"request.bad-json", catalog.Entry{
			ID: "request.bad-json", Type: catalog.TypeURNPrefix + "request.bad-json", Status: 400, GRPCCode: "INVALID_ARGUMENT", Message: "The request body is not valid JSON",
			Translations: []catalog.Translation{{Lang: "de", Message: "Der Anfragetext ist kein gültiges JSON"}},
			MappedFrom:   []catalog.Mapped{{Kind: catalog.KindType, Type: "*json.SyntaxError", Package: "encoding/json"}},
		}},
		{"auth.rate-limited", catalog.Entry{
			ID: "auth.rate-limited", Type: catalog.TypeURNPrefix + "auth.rate-limited", Status: 429, GRPCCode: "RESOURCE_EXHAUSTED", Message: "Rate limited due to too many false auth attempts from this ip",
			MappedFrom: []catalog.Mapped{{Kind: catalog.KindType, Type: "net.Error", Package: "net"}},
		}},
		{"not-found", catalog.Entry{
			ID: "not-found", Type: catalog.TypeURNPrefix + "not-found", Status: 404, GRPCCode: "NOT_FOUND", Message: errorsx.NotFound.Message(), Builtin: true,
			MappedFrom: []catalog.Mapped{{Kind: catalog.KindValue, Type: "*errors.errorString", Package: "errors", Text: "file does not exist"}},
		}},
		{"internal", catalog.Entry{ID: "internal", Type: "urn:otelkit:error:internal", Status: 500, GRPCCode: "INTERNAL", Message: errorsx.Internal.Message(), Builtin: true}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, ok := c.Lookup(tt.id)
			require.True(t, ok)
			assert.Equal(t, tt.want, got)
		})
	}
	_, ok := c.Lookup("nope")
	assert.False(t, ok)
	assert.Equal(t, []int{400, 404, 405, 413, 415, 429, 500}, c.Statuses())
	assert.Equal(t, []string{"de", "fr"}, c.Languages())
}

func TestMappedOrder(t *testing.T) {
	reg := errorsx.NewRegistry()
	d := reg.Define(400, "bad", "Bad")
	errorsx.MapTypeIn[*json.UnmarshalTypeError](reg, d)
	errorsx.MapTypeIn[*json.SyntaxError](reg, d)
	reg.Map(errZ, d)
	reg.Map(errA, d)
	e, _ := catalog.New(reg).Lookup("bad")
	var got []string
	for _, m := range e.MappedFrom {
		got = append(got, m.Kind+" "+m.Type+" "+m.Text)
	}
	assert.Equal(t, []string{
		"value *errors.errorString a",
		"value *errors.errorString z",
		"type *json.SyntaxError ",
		"type *json.UnmarshalTypeError ",
	}, got)
}

var (
	errA = errors.New("a")
	errZ = errors.New("z")
)

func TestOptions(t *testing.T) {
	parent := errorsx.NewRegistry()
	pdef := parent.Define(409, "parent.conflict", "Conflict in the parent")
	parent.Map(sql.ErrNoRows, pdef)
	parent.Map(sql.ErrTxDone, pdef)
	child := newTestRegistry(t, []int{0, 1, 2, 3}, errorsx.WithParent(parent))

	tests := []struct {
		name  string
		reg   *errorsx.Registry
		opts  []catalog.Option
		check func(t *testing.T, c *catalog.Catalog)
	}{
		{"defaults", child, nil, func(t *testing.T, c *catalog.Catalog) {
			assert.Equal(t, "Errors", c.Title)
			assert.Empty(t, c.Version)
			assert.Empty(t, c.BaseURL)
			_, ok := c.Lookup("parent.conflict")
			assert.False(t, ok, "parents are left out by default")
			e, _ := c.Lookup("user.not-found")
			assert.Equal(t, "urn:otelkit:error:user.not-found", e.Type, "the URN httpx writes without a docs base URL")
		}},
		{"title and version", child, []catalog.Option{catalog.WithTitle("Shop API errors"), catalog.WithVersion("1.2.0")}, func(t *testing.T, c *catalog.Catalog) {
			assert.Equal(t, "Shop API errors", c.Title)
			assert.Equal(t, "1.2.0", c.Version)
		}},
		{"base URL gets a slash", child, []catalog.Option{catalog.WithBaseURL("https://api.example.com/errors")}, func(t *testing.T, c *catalog.Catalog) {
			assert.Equal(t, "https://api.example.com/errors/", c.BaseURL)
			e, _ := c.Lookup("user.not-found")
			assert.Equal(t, "https://api.example.com/errors/user.not-found", e.Type)
			e, _ = c.Lookup("internal")
			assert.Equal(t, "https://api.example.com/errors/internal", e.Type)
		}},
		{"relative base URL", child, []catalog.Option{catalog.WithBaseURL("/errors/")}, func(t *testing.T, c *catalog.Catalog) {
			e, _ := c.Lookup("auth.rate-limited")
			assert.Equal(t, "/errors/auth.rate-limited", e.Type)
		}},
		{"without builtins", child, []catalog.Option{catalog.WithoutBuiltins()}, func(t *testing.T, c *catalog.Catalog) {
			_, ok := c.Lookup("internal")
			assert.False(t, ok)
			_, ok = c.Lookup("method-not-allowed")
			assert.False(t, ok)
			_, ok = c.Lookup("not-found")
			assert.True(t, ok, "a mapping refers to not-found")
		}},
		{"with parents", child, []catalog.Option{catalog.WithParents()}, func(t *testing.T, c *catalog.Catalog) {
			p, ok := c.Lookup("parent.conflict")
			require.True(t, ok)
			assert.Equal(t, []catalog.Mapped{{Kind: catalog.KindValue, Type: "*errors.errorString", Package: "errors", Text: sql.ErrTxDone.Error()}},
				p.MappedFrom, "the child's mapping of sql.ErrNoRows shadows the parent's")
			u, _ := c.Lookup("user.not-found")
			require.Len(t, u.MappedFrom, 1)
			assert.Equal(t, sql.ErrNoRows.Error(), u.MappedFrom[0].Text)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, catalog.New(tt.reg, tt.opts...))
		})
	}
}

func TestMappingToForeignDefinition(t *testing.T) {
	other := errorsx.NewRegistry()
	foreign := other.Define(418, "teapot", "I am a teapot")
	reg := errorsx.NewRegistry()
	reg.Map(errA, foreign)
	e, ok := catalog.New(reg).Lookup("teapot")
	require.True(t, ok, "a definition a mapping refers to is catalogued")
	assert.Len(t, e.MappedFrom, 1)
}

func TestMissingTranslations(t *testing.T) {
	tests := []struct {
		name string
		defs []defSpec
		want []catalog.Missing
	}{
		{"no translations at all", []defSpec{{400, "a", "A", nil}, {404, "b", "B", nil}}, nil},
		{"complete", []defSpec{
			{400, "a", "A", []errorsx.DefOption{errorsx.Translate("de", "A-de")}},
			{404, "b", "B", []errorsx.DefOption{errorsx.Translate("de", "B-de")}},
		}, nil},
		{"gaps", []defSpec{
			{400, "a", "A", []errorsx.DefOption{errorsx.Translate("de", "A-de"), errorsx.Translate("pt-BR", "A-pt")}},
			{404, "b", "B", []errorsx.DefOption{errorsx.Translate("fr", "B-fr")}},
			{409, "c", "C", nil},
		}, []catalog.Missing{
			{ID: "a", Languages: []string{"fr"}},
			{ID: "b", Languages: []string{"de", "pt-BR"}},
			{ID: "c", Languages: []string{"de", "fr", "pt-BR"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := errorsx.NewRegistry()
			for _, d := range tt.defs {
				reg.Define(d.status, d.id, d.msg, d.opts...)
			}
			assert.Equal(t, tt.want, catalog.New(reg).MissingTranslations(), "built-ins are never reported")
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	c := catalog.New(newTestRegistry(t, []int{0, 1, 2, 3}), catalog.WithBaseURL("https://x.test/e/"), catalog.WithVersion("2"))
	var buf bytes.Buffer
	require.NoError(t, c.WriteJSON(&buf))
	assert.True(t, json.Valid(buf.Bytes()))
	back, err := catalog.ReadJSON(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.True(t, reflect.DeepEqual(c, back), "ReadJSON(WriteJSON(c)) == c")

	_, err = catalog.ReadJSON(bytes.NewReader([]byte("{")))
	require.Error(t, err)
}

func TestJSONShape(t *testing.T) {
	c := catalog.New(newTestRegistry(t, []int{0, 1, 2, 3}), catalog.WithBaseURL("https://x.test/e/"))
	var doc struct {
		Title   string           `json:"title"`
		BaseURL string           `json:"base_url"`
		Errors  []map[string]any `json:"errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(marshal(t, c)), &doc))
	assert.Equal(t, "https://x.test/e/", doc.BaseURL)
	require.Len(t, doc.Errors, 4+len(errorsx.Builtins()))
	first := doc.Errors[3] // after empty-body, json-type-mismatch, malformed-json
	assert.Equal(t, "request.bad-json", first["id"])
	assert.EqualValues(t, 400, first["status"])
	assert.Equal(t, "https://x.test/e/request.bad-json", first["type"])
	assert.NotContains(t, first, "builtin", "false is omitted")
	assert.NotContains(t, first, "description", "empty is omitted")
}

func isClosedForCatalog(err error) bool { return errors.Is(err, errZ) }

// TestMappedFunc: a predicate mapping (errorsx.MapFunc) is listed after the
// values and types, by function name, in every format.
func TestMappedFunc(t *testing.T) {
	reg := errorsx.NewRegistry()
	d := reg.Define(503, "store.closed", "Closed")
	reg.Map(errA, d)
	reg.MapFunc(isClosedForCatalog, d)
	reg.MapFunc(func(error) bool { return false }, d)
	e, _ := catalog.New(reg).Lookup("store.closed")
	require.Len(t, e.MappedFrom, 3)
	assert.Equal(t, catalog.KindValue, e.MappedFrom[0].Kind)
	assert.Equal(t, catalog.Mapped{Kind: catalog.KindFunc, Type: "github.com/otelkit/otelkit/catalog_test.TestMappedFunc.func1"}, e.MappedFrom[1])
	assert.Equal(t, catalog.Mapped{Kind: catalog.KindFunc, Type: "github.com/otelkit/otelkit/catalog_test.isClosedForCatalog"}, e.MappedFrom[2],
		"two predicates are two mappings")
	var md bytes.Buffer
	require.NoError(t, catalog.New(reg).WriteMarkdown(&md))
	assert.Contains(t, md.String(), "errors for which `github.com/otelkit/otelkit/catalog_test.isClosedForCatalog` reports true")
}
