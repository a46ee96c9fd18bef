package catalog_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/catalog"
	"github.com/otelkit/otelkit/errorsx"
)

func markdown(t *testing.T, c *catalog.Catalog) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, c.WriteMarkdown(&buf))
	return buf.String()
}

func TestMarkdown(t *testing.T) {
	tricky := errorsx.NewRegistry()
	tricky.Define(400, "tricky", "Pipes | and <b>tags</b>\nand *stars*",
		errorsx.Describe("Line one\nline two | with pipe"),
		errorsx.Translate("de", "Rohre | hier"))
	tricky.Map(errBacktick, tricky.Defs()[0])

	tests := []struct {
		name    string
		cat     *catalog.Catalog
		want    []string
		notWant []string
	}{
		{
			name: "rows in catalog order",
			cat:  catalog.New(newTestRegistry(t, []int{0, 1, 2, 3}), catalog.WithTitle("Shop errors"), catalog.WithVersion("1.0")),
			want: []string{
				"# Shop errors\n",
				"Version: 1.0\n",
				"| Status | gRPC code | ID | Message | Description | Translations | Mapped from |\n|---:|---|---|---|---|---|---|\n| 400 Bad Request | `INVALID_ARGUMENT` | `empty-body` (built-in) |",
				"| 400 Bad Request | `INVALID_ARGUMENT` | `request.bad-json` |",
				"| 413 Request Entity Too Large | `OUT_OF_RANGE` | `body-too-large` (built-in) |",
				"| 404 Not Found | `NOT_FOUND` | `user.not-found` | The user was not found | No user has the id given in the path. | `de`: Der Benutzer wurde nicht gefunden<br>`fr`: L'utilisateur est introuvable | value \"sql: no rows in result set\" (`*errors.errorString`) |\n",
				"type `*json.SyntaxError` from `encoding/json`",
				"| 500 Internal Server Error | `INTERNAL` | `internal` (built-in) | Internal server error |",
				"## Missing translations\n\n| ID | Missing languages |\n|---|---|\n| `request.bad-json` | fr |\n| `order.not-found` | de, fr |\n| `auth.rate-limited` | de, fr |\n",
			},
		},
		{
			name:    "links with a base URL",
			cat:     catalog.New(newTestRegistry(t, []int{0}), catalog.WithBaseURL("https://api.example.com/errors/")),
			want:    []string{"| [`auth.rate-limited`](https://api.example.com/errors/auth.rate-limited) |"},
			notWant: []string{"Version:"},
		},
		{
			name: "escaping",
			cat:  catalog.New(tricky, catalog.WithoutBuiltins()),
			want: []string{
				"| 400 Bad Request | `INVALID_ARGUMENT` | `tricky` | Pipes \\| and &lt;b&gt;tags&lt;/b&gt;<br>and \\*stars\\* | Line one<br>line two \\| with pipe | `de`: Rohre \\| hier | value \"a\\`b\" (`catalog_test.errorString`) |\n",
			},
			notWant: []string{"<b>", "## Missing translations"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := markdown(t, tt.cat)
			for _, w := range tt.want {
				assert.Contains(t, md, w)
			}
			for _, w := range tt.notWant {
				assert.NotContains(t, md, w)
			}
			for i, line := range strings.Split(strings.TrimSpace(md), "\n") {
				if strings.HasPrefix(line, "| ") {
					cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
					assert.Contains(t, []int{3, 8}, cells, "line %d has a broken row: %s", i+1, line)
				}
			}
		})
	}
}

var errBacktick = errorString("a`b")

type errorString string

func (e errorString) Error() string { return string(e) }

func TestOpenAPI(t *testing.T) {
	c := catalog.New(newTestRegistry(t, []int{0, 1, 2, 3}), catalog.WithBaseURL("https://api.example.com/errors/"), catalog.WithVersion("3.4.5"))
	var buf bytes.Buffer
	require.NoError(t, c.WriteOpenAPI(&buf))

	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Title, Version string
		} `json:"info"`
		Components struct {
			Schemas  map[string]json.RawMessage `json:"schemas"`
			Examples map[string]struct {
				Summary string         `json:"summary"`
				Value   map[string]any `json:"value"`
			} `json:"examples"`
			Responses map[string]struct {
				Description string   `json:"description"`
				IDs         []string `json:"x-otelkit-ids"`
				Headers     map[string]any
				Content     map[string]struct {
					Examples map[string]struct {
						Ref string `json:"$ref"`
					} `json:"examples"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	assert.Equal(t, "Errors", doc.Info.Title)
	assert.Equal(t, "3.4.5", doc.Info.Version)
	assert.Contains(t, doc.Components.Schemas, "Problem")
	assert.Contains(t, doc.Components.Schemas, "ProblemEntry")
	assert.Len(t, doc.Components.Examples, len(c.Entries), "one example per id")

	ex := doc.Components.Examples["user.not-found"]
	assert.Equal(t, "The user was not found", ex.Summary)
	assert.Equal(t, map[string]any{
		"type": "https://api.example.com/errors/user.not-found", "title": "The user was not found",
		"status": float64(404), "id": "user.not-found",
	}, ex.Value)

	tests := []struct {
		status  int
		ids     []string
		headers []string
	}{
		{400, []string{"empty-body", "json-type-mismatch", "malformed-json", "request.bad-json", "trailing-data", "truncated-json", "unknown-field"}, []string{"Content-Language"}},
		{404, []string{"not-found", "order.not-found", "user.not-found"}, []string{"Content-Language"}},
		{405, []string{"method-not-allowed"}, []string{"Allow", "Content-Language"}},
		{413, []string{"body-too-large"}, []string{"Content-Language"}},
		{415, []string{"unsupported-media-type"}, []string{"Content-Language"}},
		{429, []string{"auth.rate-limited"}, []string{"Content-Language"}},
		{500, []string{"internal"}, []string{"Content-Language"}},
	}
	require.Len(t, doc.Components.Responses, len(tests))
	for _, tt := range tests {
		t.Run(catalog.ResponseName(tt.status), func(t *testing.T) {
			resp, ok := doc.Components.Responses[catalog.ResponseName(tt.status)]
			require.True(t, ok)
			assert.Equal(t, tt.ids, resp.IDs)
			media, ok := resp.Content[catalog.ProblemMediaType]
			require.True(t, ok)
			require.Len(t, media.Examples, len(tt.ids))
			for _, id := range tt.ids {
				assert.Equal(t, "#/components/examples/"+id, media.Examples[id].Ref)
				assert.Contains(t, resp.Description, "`"+id+"`")
			}
			var headers []string
			for h := range resp.Headers {
				headers = append(headers, h)
			}
			assert.ElementsMatch(t, tt.headers, headers)
		})
	}
}

func TestOpenAPIIsStable(t *testing.T) {
	render := func(order []int) string {
		var buf bytes.Buffer
		require.NoError(t, catalog.New(newTestRegistry(t, order)).WriteOpenAPI(&buf))
		return buf.String()
	}
	assert.Equal(t, render([]int{0, 1, 2, 3}), render([]int{3, 1, 0, 2}))
}

func TestOpenAPIWithoutLanguages(t *testing.T) {
	reg := errorsx.NewRegistry()
	reg.Define(409, "conflict", "Conflict")
	comps := catalog.New(reg).OpenAPIComponents()
	resp := comps["responses"].(map[string]any)["Problem409"].(map[string]any)
	assert.NotContains(t, resp, "headers", "no Content-Language without translations")
	ex := comps["examples"].(map[string]any)["conflict"].(map[string]any)
	assert.Equal(t, "urn:otelkit:error:conflict", ex["value"].(map[string]any)["type"], "the URN without a base URL")
}

// FuzzMarkdownRow checks that no message, description or translation can
// break the table: every entry is one line with exactly eight unescaped
// pipes.
func FuzzMarkdownRow(f *testing.F) {
	for _, s := range []string{"plain", "a | b", "line\nbreak", "`code`", `back\slash |`, "<b>&</b>", "\r\n|\r", "\\|"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, msg, desc string) {
		if strings.TrimSpace(msg) == "" {
			t.Skip("errorsx rejects empty messages")
		}
		reg := errorsx.NewRegistry()
		d := reg.Define(400, "fuzz", msg, errorsx.Describe(desc), errorsx.Translate("de", msg))
		reg.Map(errorString(desc), d)
		md := markdown(t, catalog.New(reg, catalog.WithoutBuiltins()))
		var rows []string
		for _, line := range strings.Split(md, "\n") {
			if strings.HasPrefix(line, "| 400 ") {
				rows = append(rows, line)
			}
		}
		require.Len(t, rows, 1, "one line per entry:\n%s", md)
		assert.Equal(t, 8, unescapedPipes(rows[0]), rows[0])
	})
}

// unescapedPipes counts the pipes not preceded by an odd number of
// backslashes.
func unescapedPipes(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '|' {
			continue
		}
		bs := 0
		for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 0 {
			n++
		}
	}
	return n
}
