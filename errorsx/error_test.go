package errorsx_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/mask"
)

func TestOccurrences(t *testing.T) {
	r := errorsx.NewRegistry()
	limited := r.Define(http.StatusTooManyRequests, "occ.rate-limited", "Rate limited")
	failed := r.Define(http.StatusBadGateway, "occ.upstream", "Upstream failed")

	t.Run("With", func(t *testing.T) {
		occ := limited.With("retry_after", 30).With("scope", "login")
		assert.Same(t, limited, occ.Def())
		assert.Equal(t, []errorsx.Field{{"retry_after", 30}, {"scope", "login"}}, occ.Info())
		assert.Equal(t, "Rate limited", occ.Error())
		assert.True(t, errors.Is(occ, limited))
		assert.False(t, errors.Is(occ, failed))
		assert.Same(t, limited, r.Resolve(occ))
	})
	t.Run("With replaces a key and leaves the receiver alone", func(t *testing.T) {
		base := limited.With("retry_after", 30)
		again := base.With("retry_after", 60)
		assert.Equal(t, []errorsx.Field{{"retry_after", 30}}, base.Info())
		assert.Equal(t, []errorsx.Field{{"retry_after", 60}}, again.Info())
		extra := base.With("x", 1)
		assert.Len(t, base.Info(), 1)
		assert.Len(t, extra.Info(), 2)
	})
	t.Run("Detail", func(t *testing.T) {
		occ := limited.Detailf("try again in %ds", 30)
		assert.Equal(t, "try again in 30s", occ.Detail())
		assert.Equal(t, "Rate limited: try again in 30s", occ.Error())
		assert.Equal(t, "changed 2", occ.Detailf("changed %d", 2).Detail())
		assert.Equal(t, "try again in 30s", occ.Detail())
		chained := limited.With("retry_after", 30).Detailf("wait %ds", 30)
		assert.Equal(t, "wait 30s", chained.Detail())
		assert.Equal(t, []errorsx.Field{{"retry_after", 30}}, chained.Info())
	})
	t.Run("Wrap", func(t *testing.T) {
		occ := failed.Wrap(sql.ErrNoRows)
		assert.Equal(t, "Upstream failed: sql: no rows in result set", occ.Error())
		assert.Same(t, sql.ErrNoRows, occ.Cause())
		assert.True(t, errors.Is(occ, sql.ErrNoRows))
		assert.True(t, errors.Is(occ, failed))
		assert.True(t, errors.Is(fmt.Errorf("handler: %w", occ), sql.ErrNoRows))
		var target *errorsx.Error
		require.True(t, errors.As(fmt.Errorf("x: %w", occ), &target))
		assert.Same(t, occ, target)
		assert.Equal(t, "occ.upstream (502): Upstream failed: sql: no rows in result set", fmt.Sprintf("%+v", occ))
		assert.Equal(t, occ.Error(), fmt.Sprintf("%v", occ))

		w2 := limited.With("k", "v").Wrap(sql.ErrConnDone)
		assert.Same(t, sql.ErrConnDone, w2.Cause())
		assert.Equal(t, []errorsx.Field{{"k", "v"}}, w2.Info())
	})
	t.Run("Join", func(t *testing.T) {
		a := limited.With("field", "a")
		occ := failed.Join(a, nil, sql.ErrNoRows)
		assert.Equal(t, []error{a, sql.ErrNoRows}, occ.Entries())
		assert.True(t, errors.Is(occ, limited))
		assert.True(t, errors.Is(occ, sql.ErrNoRows))
		assert.Equal(t, "Upstream failed: Rate limited; sql: no rows in result set", occ.Error())
		assert.Same(t, failed, r.Resolve(occ), "the joining definition wins over its entries")
	})
	t.Run("ForStatus", func(t *testing.T) {
		occ := errorsx.ForStatus(http.StatusUnprocessableEntity).Join(limited, failed)
		d := occ.Def()
		assert.Equal(t, 422, d.Status())
		assert.Equal(t, "http.422", d.ID())
		assert.Equal(t, "Unprocessable Entity", d.Message())
		assert.True(t, d.Builtin())
		assert.Same(t, d, errorsx.ForStatus(422), "one generic definition per status")
		lookedUp, ok := r.Lookup("http.422")
		require.True(t, ok)
		assert.Same(t, d, lookedUp)
		assert.Same(t, errorsx.NotFound, errorsx.ForStatus(404))
		assert.Same(t, errorsx.MethodNotAllowed, errorsx.ForStatus(405))
		assert.Same(t, errorsx.Internal, errorsx.ForStatus(500))
		assert.Same(t, errorsx.Internal, errorsx.ForStatus(200))
	})
}

func TestErrorType(t *testing.T) {
	r := errorsx.NewRegistry()
	d := r.Define(http.StatusConflict, "et.conflict", "Conflict")
	tests := []struct {
		name string
		err  error
	}{
		{"def", d},
		{"with", d.With("k", 1)},
		{"wrap", d.Wrap(sql.ErrNoRows)},
		{"join", d.Join(sql.ErrNoRows)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, "et.conflict", tt.err.(interface{ ErrorType() string }).ErrorType())
			assert.Equal(t, semconv.ErrorTypeKey.String("et.conflict"), semconv.ErrorType(tt.err))
		})
	}
}

func TestWrapStack(t *testing.T) {
	r := errorsx.NewRegistry()
	d := r.Define(http.StatusServiceUnavailable, "stk.unavailable", "Unavailable")
	client := r.Define(http.StatusBadRequest, "stk.bad", "Bad")

	topFunction := func(pcs []uintptr) string {
		require.NotEmpty(t, pcs)
		fr, _ := runtime.CallersFrames(pcs).Next()
		return fr.Function
	}
	here := func() string {
		pc, _, _, _ := runtime.Caller(1)
		return runtime.FuncForPC(pc).Name()
	}

	occ := d.Wrap(sql.ErrNoRows)
	assert.Equal(t, here(), topFunction(occ.Stack()), "Def.Wrap's stack starts at its caller")
	occ2 := d.With("k", "v").Wrap(sql.ErrNoRows)
	assert.Equal(t, here(), topFunction(occ2.Stack()), "Error.Wrap's stack starts at its caller")
	assert.Empty(t, client.Wrap(sql.ErrNoRows).Stack(), "no stack for 4xx")
}

func TestLogValue(t *testing.T) {
	r := errorsx.NewRegistry()
	d := r.Define(http.StatusTooManyRequests, "lv.limited", "Limited")
	tests := []struct {
		name string
		err  error
		want map[string]any
	}{
		{"def", d, map[string]any{"id": "lv.limited", "status": 429.0, "message": "Limited"}},
		{"occurrence", d.With("retry_after", 30).With("password", "p").Detailf("x"),
			map[string]any{"id": "lv.limited", "status": 429.0, "message": "Limited", "detail": "x",
				"info": map[string]any{"retry_after": 30.0, "password": mask.Mask}}},
		{"wrap", d.Wrap(sql.ErrNoRows), map[string]any{"id": "lv.limited", "status": 429.0, "message": "Limited",
			"cause": "sql: no rows in result set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, nil))
			logger.Error("failed", "err", tt.err)
			var line map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
			assert.Equal(t, tt.want, line["err"])
		})
	}
}

func TestLocalized(t *testing.T) {
	r := errorsx.NewRegistry()
	d := r.Define(http.StatusTooManyRequests, "loc.limited", "Too many attempts",
		errorsx.Translate("de", "Zu viele Versuche"),
		errorsx.Translate("pt-BR", "Muitas tentativas"),
		errorsx.Translate("fr", "Trop de tentatives"))
	plain := r.Define(http.StatusBadRequest, "loc.plain", "Plain")

	tests := []struct {
		accept  string
		want    string
		wantTag string
	}{
		{"", "Too many attempts", "en"},
		{"de", "Zu viele Versuche", "de"},
		{"de-CH", "Zu viele Versuche", "de"},
		{"DE-de", "Zu viele Versuche", "de"},
		{"en-US,en;q=0.9", "Too many attempts", "en"},
		{"en-US, de;q=0.5", "Too many attempts", "en"},
		{"ja", "Too many attempts", "en"},
		{"ja, fr;q=0.8", "Trop de tentatives", "fr"},
		{"fr;q=0.5, de;q=0.9", "Zu viele Versuche", "de"},
		{"pt-BR", "Muitas tentativas", "pt-BR"},
		{"*", "Too many attempts", "en"},
		{";;;garbage", "Too many attempts", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			msg, tag := d.Localized(tt.accept)
			assert.Equal(t, tt.want, msg)
			assert.Equal(t, tt.wantTag, tag.String())
		})
	}
	msg, tag := plain.Localized("de")
	assert.Equal(t, "Plain", msg)
	assert.Equal(t, "und", tag.String(), "nothing is negotiated without translations")
	assert.Len(t, d.Translations(), 3)
	assert.Equal(t, "de", d.Translations()[0].Tag.String())
}

func TestDefaultLanguage(t *testing.T) {
	parent := errorsx.NewRegistry(errorsx.WithDefaultLanguage("de"))
	child := errorsx.NewRegistry(errorsx.WithParent(parent))
	d := child.Define(http.StatusNotFound, "lang.missing", "Nicht gefunden",
		errorsx.Translate("en", "Not found"))
	assert.Equal(t, "de", d.Language().String(), "inherited from the parent")
	for accept, want := range map[string]string{
		"":               "Nicht gefunden",
		"en-GB":          "Not found",
		"de-AT, en;q=.5": "Nicht gefunden",
		"fr":             "Nicht gefunden",
	} {
		msg, _ := d.Localized(accept)
		assert.Equal(t, want, msg, accept)
	}
	assert.Equal(t, "en", errorsx.NewRegistry().Define(400, "lang.default", "x").Language().String())
	assert.PanicsWithValue(t, `errorsx: Define("lang.dup"): Translate("de") is the default language`, func() {
		parent.Define(400, "lang.dup", "x", errorsx.Translate("de", "y"))
	})
	assert.Panics(t, func() { errorsx.WithDefaultLanguage("not a tag!") })
}

func TestFormatUsesOnlyMessageForDef(t *testing.T) {
	d := errorsx.NewRegistry().Define(http.StatusBadRequest, "fmt.bad", "Bad input")
	assert.False(t, strings.Contains(fmt.Sprint(d), "fmt.bad"))
}

func TestLogValueMasks(t *testing.T) {
	d := errorsx.NewRegistry().Define(http.StatusBadRequest, "logmask.bad", "Bad")
	err := d.With("password", "hunter2").With("creds", map[string]string{"api_key": "k-1"}).Wrap(errors.New("connect: token=abc"))
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Error("failed", "err", err)
	out := buf.String()
	for _, secret := range []string{"hunter2", "k-1", "token=abc"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, out, `"password":"**************"`)
	assert.Contains(t, out, `token=**************`)
}
