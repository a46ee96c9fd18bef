package auditx_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/internal/reqctx"
)

// Issue 18 item 10: structured attribute values (maps, slices of maps,
// string slices) are masked in audit parameters and extras, in the body
// and in the attributes; so are secrets in free text (issue 14's value
// patterns).
func TestStructuredValuesMaskedItem10(t *testing.T) {
	const secret = "s3cr3t-value"
	reg, exp, _ := newRegistry(t)
	ctx := reqctx.WithExtras(context.Background(),
		attribute.Map("client", attribute.String("name", "cli"), attribute.String("api_key", secret)),
		attribute.StringSlice("argv", []string{"--user=ada", "--password=" + secret}))
	reg.Define("config.changed", auditx.LevelInfo, "{actor} changed {settings} with {flags} via {client}").Emit(ctx,
		attribute.String("actor", "ada"),
		attribute.Map("settings", attribute.String("smtp_host", "mail"), attribute.Map("smtp", attribute.String("password", secret))),
		attribute.StringSlice("flags", []string{"-v", "Authorization: Bearer " + secret}),
		attribute.Slice("other", attribute.MapValue(attribute.String("token", secret))),
		attribute.String("note", "card 4111 1111 1111 1111 on file"))
	r := exp.only(t)
	assert.NotContains(t, r.Body().AsString(), secret)
	assert.Contains(t, r.Body().AsString(), "ada changed")
	a := attrs(t, r)
	for k, v := range a {
		assert.NotContains(t, v.String(), secret, k)
	}
	assert.NotContains(t, a["note"].String(), "4111")
	assert.Contains(t, a["settings"].String(), "mail")
	assert.Contains(t, fmt.Sprint(a["argv"].AsStringSlice()), "--user=ada")

	reg.Emit(context.Background(), "not.defined", attribute.Map("m", attribute.String("password", secret)))
	for _, rec := range exp.records() {
		assert.NotContains(t, rec.Body().AsString(), secret)
	}
}

// Issue 18 item 12: the whole Bidi_Control class is escaped in bodies,
// U+061C (Arabic letter mark) included.
func TestBidiControlClassEscapedItem12(t *testing.T) {
	reg, exp, _ := newRegistry(t)
	reg.Define("x.y", auditx.LevelInfo, "name {name}").Emit(context.Background(),
		attribute.String("name", "a\u061cb\u200ec\u202ad\u2067e"))
	r := exp.only(t)
	assert.Equal(t, `name a\u061cb\u200ec\u202ad\u2067e`, r.Body().AsString())
}
