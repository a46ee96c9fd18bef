package mask_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelkit/otelkit/mask"
)

func TestNewHandler(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(mask.NewHandler(slog.NewJSONHandler(&buf, nil), nil))
	l = l.With("session_id", "sess-s3cr3t", "tenant", "acme").WithGroup("req")
	l.Error("login with token=tok-s3cr3t",
		"password", "pw-s3cr3t",
		"err", fmt.Errorf("save: %w", errors.New("dial postgres://app:db-s3cr3t@db/shop")),
		slog.Group("headers", "Authorization", "Bearer hdr-s3cr3t", "Accept", "*/*"),
		"args", []string{"-v", "--api-key=arg-s3cr3t"},
		"form", map[string]any{"passwd": "form-s3cr3t", "user": "ada"})
	out := buf.String()
	assert.NotContains(t, out, "s3cr3t")
	for _, kept := range []string{"acme", "save: dial postgres://app:", "*/*", "-v", `"user":"ada"`, `"session_id":"` + mask.Mask} {
		assert.Contains(t, out, kept)
	}
	assert.Equal(t, 1, strings.Count(out, "\n"))
}
