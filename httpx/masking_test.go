package httpx_test

import (
	"errors"
	"math"
	"net/url"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/mask"
)

type withHook struct {
	User   string
	APIKey string `json:"api_key"`
	Hook   func()
}

// Issue 18 item 8: info values that encoding/json cannot encode are masked
// by their structure, never printed with %v into a 4xx body.
func TestUnencodableInfoMaskedItem8(t *testing.T) {
	te := newTestErrors()
	err := te.validation.
		With("limits", map[string]any{"max": math.Inf(1), "password": "hunter2"}).
		With("raw", map[any]any{"token": "tok-secret", 1: "one"}).
		With("client", withHook{User: "ada", APIKey: "key-secret", Hook: func() {}})
	rec := do(httpx.Handler(returning(err), httpx.WithRegistry(te.reg)), "GET", "/x")
	require.Equal(t, 422, rec.Code)
	for _, leak := range []string{"hunter2", "tok-secret", "key-secret", "0x"} {
		assert.NotContains(t, rec.Body.String(), leak)
	}
	info := body(t, rec)["info"].(map[string]any)
	assert.Equal(t, map[string]any{"max": "+Inf", "password": mask.Mask}, info["limits"])
	assert.Equal(t, map[string]any{"token": mask.Mask, "1": "one"}, info["raw"])
	assert.Equal(t, map[string]any{"User": "ada", "api_key": mask.Mask, "Hook": "[unencodable func()]"}, info["client"])
}

// Issue 18 item 9: errors inside info are replaced by their ids, at any
// depth, not encoded field by field.
func TestErrorsInsideInfoItem9(t *testing.T) {
	te := newTestErrors()
	uerr := &url.Error{Op: "Get", URL: "https://idp.example/userinfo?access_token=s3cr3t", Err: errors.New("timeout")}
	perr := &os.PathError{Op: "open", Path: "/srv/secrets/prod.pem", Err: os.ErrNotExist}
	err := te.validation.With("causes", []error{uerr, perr}).
		With("nested", map[string]any{"err": te.notFound.With("id", 7)})
	rec := do(httpx.Handler(returning(err), httpx.WithRegistry(te.reg)), "GET", "/x")
	for _, leak := range []string{"s3cr3t", "idp.example", "/srv/secrets", "URL", "Path"} {
		assert.NotContains(t, rec.Body.String(), leak)
	}
	info := body(t, rec)["info"].(map[string]any)
	assert.Equal(t, []any{"internal", "internal"}, info["causes"])
	assert.Equal(t, map[string]any{"err": "users.not-found"}, info["nested"])
}

// Issue 14: the keys of Sentry's default scrub list never reach a client in
// 4xx info.
func TestSentryKeysInInfo(t *testing.T) {
	te := newTestErrors()
	err := te.validation.With("passwd", "p-1").With("apikey", "k-1").With("session_id", "s-1").
		With("credentials", "c-1").With("field", "email")
	rec := do(httpx.Handler(returning(err), httpx.WithRegistry(te.reg)), "GET", "/x")
	assert.Equal(t, map[string]any{"passwd": mask.Mask, "apikey": mask.Mask, "session_id": mask.Mask,
		"credentials": mask.Mask, "field": "email"}, body(t, rec)["info"])
}
