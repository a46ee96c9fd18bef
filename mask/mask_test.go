package mask_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/mask"
)

func TestSensitive(t *testing.T) {
	p := mask.Default()
	tests := []struct {
		key  string
		want bool
	}{
		{"password", true},
		{"user_password", true},
		{"PASSWORD", true},
		{"Authorization", true},
		{"refresh_token", true},
		{"x_api_key", true},
		{"X-API_KEY", true},
		{"Set-Cookie", true},
		{"client_secret_hash", true},
		{"user", false},
		{"client_ip", false},
		{"api-key", true}, // - and _ are alike: the header X-Api-Key is masked
		{"", false},
		{"passwor", false},
		{"tok", false},
		{"пароль_password", true}, // non-ASCII prefix
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			assert.Equal(t, tt.want, p.Sensitive(tt.key))
		})
	}
}

func TestNewPolicy(t *testing.T) {
	p := mask.New(" SSN ", "", "Card")
	assert.Equal(t, []string{"ssn", "card"}, p.Words())
	assert.True(t, p.Sensitive("user_ssn"))
	assert.True(t, p.Sensitive("CreditCardNumber"))
	assert.False(t, p.Sensitive("password"))

	var nilPolicy *mask.Policy
	assert.False(t, nilPolicy.Sensitive("password"))
	assert.Nil(t, nilPolicy.Words())
	assert.Equal(t, "x", nilPolicy.String("password", "x"))

	var zero mask.Policy
	assert.False(t, zero.Sensitive("password"))
}

func TestStringAndAttrs(t *testing.T) {
	p := mask.Default()
	assert.Equal(t, mask.Mask, p.String("password", "hunter2"))
	assert.Equal(t, "alice", p.String("user", "alice"))

	assert.Equal(t, attribute.String("api_key", mask.Mask), p.Attr(attribute.Int("api_key", 42)))
	assert.Equal(t, attribute.Int("count", 42), p.Attr(attribute.Int("count", 42)))

	kvs := []attribute.KeyValue{attribute.String("token", "t"), attribute.String("user", "u")}
	got := p.Attrs(kvs)
	assert.Equal(t, []attribute.KeyValue{attribute.String("token", mask.Mask), attribute.String("user", "u")}, got)
	assert.Equal(t, got, kvs, "Attrs masks in place")
}

func TestDefaultAndSetDefault(t *testing.T) {
	t.Cleanup(func() { mask.SetDefault(nil) })
	assert.Equal(t, mask.DefaultKeys(), mask.Default().Words())
	mask.SetDefault(mask.New("ssn"))
	assert.True(t, mask.Default().Sensitive("ssn"))
	assert.False(t, mask.Default().Sensitive("password"))
	mask.SetDefault(nil)
	assert.True(t, mask.Default().Sensitive("password"))
}

func TestSensitiveAllocs(t *testing.T) {
	p := mask.Default()
	keys := []string{"user_password", "client_ip", "Authorization", "some_long_key_that_is_not_sensitive_at_all"}
	for _, k := range keys {
		allocs := testing.AllocsPerRun(100, func() { _ = p.Sensitive(k) })
		require.Zero(t, allocs, "Sensitive(%q)", k)
	}
	kv := attribute.String("user", "u")
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = p.Attr(kv) }))
}

func ExamplePolicy_String() {
	p := mask.Default()
	fmt.Println(p.String("user_password", "hunter2"))
	fmt.Println(p.String("user", "alice"))
	// Output:
	// **************
	// alice
}

func TestHyphenAndUnderscoreAlike(t *testing.T) {
	p := mask.Default()
	for _, k := range []string{"X-Api-Key", "x_api_key", "API-KEY", "refresh-token"} {
		assert.True(t, p.Sensitive(k), k)
	}
	assert.True(t, mask.New("session-id").Sensitive("SESSION_ID"))
	assert.True(t, p.Sensitive("apikeys")) // Sentry's list has apikey as well as api_key
	assert.False(t, p.Sensitive("api"))
}

func ExamplePolicy_With() {
	p := mask.Default().With(mask.WithKeys("ssn"), mask.WithPatterns(mask.AllPatterns&^mask.CardNumbers))
	fmt.Println(p.Text("ssn=123-45-6789 card 4111 1111 1111 1111 key AKIAIOSFODNN7EXAMPLE"))
	// Output:
	// ssn=************** card 4111 1111 1111 1111 key **************
}

func ExamplePolicy_Text() {
	p := mask.Default()
	fmt.Println(p.Text(`dial postgres://app:hunter2@db/shop: {"password":"x"} Authorization: Bearer eyJ.a.b`))
	// Output:
	// dial postgres://app:**************@db/shop: {"password":"**************"} Authorization: **************
}
