package mask_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelkit/otelkit/mask"
)

func TestPolicyText(t *testing.T) {
	p := mask.New(mask.DefaultKeys()...)
	tests := []struct{ in, want string }{
		{"connect: password=hunter2 host=db", "connect: password=" + mask.Mask + " host=db"},
		{`{"user":"ada","api_key":"k-1"}`, `{"user":"ada","api_key":"` + mask.Mask + `"}`},
		{"Authorization: Bearer abc.def", "Authorization: " + mask.Mask},
		{"refresh_token: xyz, next", "refresh_token: " + mask.Mask + ", next"},
		{"Cookie: session=1", "Cookie: " + mask.Mask},
		{"no secrets here: user=ada", "no secrets here: user=ada"},
		{"dial postgres://app:hunter2@db:5432/shop: refused", "dial postgres://app:" + mask.Mask + "@db:5432/shop: refused"},
		{"see https://example.com/a:b@c and http://u@host", "see https://example.com/a:b@c and http://u@host"},
		{"X-Api-Key: k-1", "X-Api-Key: " + mask.Mask},
		{"password", "password"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, p.Text(tt.in))
		})
	}
	var nilPolicy *mask.Policy
	assert.Equal(t, "password=x", nilPolicy.Text("password=x"))
}

func TestPolicyTextDoesNotAllocateWithoutSecrets(t *testing.T) {
	p := mask.Default()
	s := "select user 0: sql: no rows in result set"
	allocs := testing.AllocsPerRun(100, func() { _ = p.Text(s) })
	assert.Zero(t, allocs)
}
