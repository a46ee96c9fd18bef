package mask_test

import (
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"os"
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
			[]any{map[string]any{"Authorization": mask.Mask}, map[string]any{"ok": 1}}},
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

type withFunc struct {
	User     string
	Password string
	Hook     func()
}

type hostile struct{}

func (hostile) Error() string { panic("boom") }

type badJSON struct{ Token string }

func (badJSON) MarshalJSON() ([]byte, error) { return []byte(`{"token":"t-1","ok":1}`), nil }

// Issue 18 item 8: a value encoding/json cannot encode is masked by its
// structure; nothing falls back to %v unmasked.
func TestValueUnencodableItem8(t *testing.T) {
	p := mask.Default()
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"map with +Inf", map[string]any{"limit": math.Inf(1), "password": "hunter2"},
			map[string]any{"limit": "+Inf", "password": mask.Mask}},
		{"map[any]any", map[any]any{"token": "t-1", 7: "seven", "nested": map[any]any{"api_key": "k"}},
			map[string]any{"token": mask.Mask, "7": "seven", "nested": map[string]any{"api_key": mask.Mask}}},
		{"struct with func", withFunc{User: "ada", Password: "hunter2", Hook: func() {}},
			map[string]any{"User": "ada", "Password": mask.Mask, "Hook": "[unencodable func()]"}},
		{"chan and complex", []any{make(chan int), complex(1, 2)},
			[]any{"[unencodable chan int]", "(1+2i)"}},
		{"MarshalJSON output", badJSON{}, map[string]any{"token": mask.Mask, "ok": json.Number("1")}},
		{"NaN", math.NaN(), "NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := p.Value(tt.in)
			assert.True(t, changed)
			assert.Equal(t, tt.want, got)
			b, err := json.Marshal(got)
			require.NoError(t, err, "the masked value is always encodable")
			assert.NotContains(t, string(b), "hunter2")
		})
	}
}

// Issue 18 item 9: errors inside a value are replaced, not encoded field by
// field.
func TestValueErrorsInsideItem9(t *testing.T) {
	p := mask.Default()
	uerr := &url.Error{Op: "Get", URL: "https://api.example.com/x?access_token=s3cr3t", Err: errors.New("timeout")}
	perr := &os.PathError{Op: "open", Path: "/srv/keys/prod.pem", Err: os.ErrNotExist}
	got, changed := p.Value(map[string]any{"causes": []error{uerr, perr}, "h": hostile{}})
	require.True(t, changed)
	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "s3cr3t")
	assert.NotContains(t, string(b), `"URL"`, "not encoded field by field")
	assert.Contains(t, string(b), "[mask_test.hostile panicked]")

	ids, _ := p.ValueFunc([]error{uerr, perr}, func(error) any { return "io.failed" })
	assert.Equal(t, []any{"io.failed", "io.failed"}, ids)
	top, changed := p.ValueFunc(uerr, func(error) any { return "io.failed" })
	assert.True(t, changed)
	assert.Equal(t, "io.failed", top)
}
