package mask_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/mask"
)

type creds struct {
	User     string `json:"user"`
	Password string `json:"password"`
	Nested   struct {
		APIKey string `json:"api_key"`
	} `json:"nested"`
}

func TestPolicyValue(t *testing.T) {
	p := mask.Default()
	c := creds{User: "ada", Password: "hunter2"}
	c.Nested.APIKey = "k-1"
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"scalar", 30, 30},
		{"string", "password=x", "password=x"}, // text is Policy.Text's job
		{"map", map[string]string{"password": "hunter2", "user": "ada"},
			map[string]any{"password": mask.Mask, "user": "ada"}},
		{"struct", c, map[string]any{"user": "ada", "password": mask.Mask, "nested": map[string]any{"api_key": mask.Mask}}},
		{"pointer", &c, map[string]any{"user": "ada", "password": mask.Mask, "nested": map[string]any{"api_key": mask.Mask}}},
		{"slice of maps", []map[string]any{{"Authorization": "Bearer x"}, {"ok": 1}},
			[]any{map[string]any{"Authorization": mask.Mask}, map[string]any{"ok": float64(1)}}},
		{"nothing sensitive is returned as is", map[string]int{"a": 1}, map[string]int{"a": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := p.Value(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.name != "scalar" && tt.name != "string" && tt.name != "nothing sensitive is returned as is", changed)
		})
	}
	b, err := p.JSON(map[string]any{"session_token": "t", "n": 1})
	require.NoError(t, err)
	assert.JSONEq(t, `{"session_token":"**************","n":1}`, string(b))
	var nilPolicy *mask.Policy
	got, changed := nilPolicy.Value(c)
	assert.Equal(t, c, got)
	assert.False(t, changed)
}
