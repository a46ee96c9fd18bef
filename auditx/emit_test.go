package auditx_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/noop"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/mask"
)

const loginTemplate = "User '{user}' failed to log in from {client_ip}"

func TestEmitRecord(t *testing.T) {
	reg, exp, sink := newRegistry(t)
	ev := reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate)
	before := time.Now()

	ev.Emit(context.Background(), attribute.String("user", "alice"), attribute.String("client_ip", "10.0.0.7"))

	r := exp.only(t)
	assert.Equal(t, "auth.login_failed", r.EventName())
	assert.Equal(t, log.Severity(13), r.Severity())
	assert.Equal(t, "WARN", r.SeverityText())
	assert.Equal(t, attribute.STRING, r.Body().Type())
	assert.Equal(t, "User 'alice' failed to log in from 10.0.0.7", r.Body().AsString())
	assert.Equal(t, auditx.ScopeName, r.InstrumentationScope().Name)
	assert.Equal(t, "github.com/otelkit/otelkit/auditx", r.InstrumentationScope().Name)
	assert.False(t, r.Timestamp().Before(before), "timestamp is the time of Emit")
	assert.False(t, r.TraceID().IsValid(), "no span in the context")

	a := attrs(t, r)
	assert.Equal(t, "alice", a["user"].AsString())
	assert.Equal(t, "10.0.0.7", a["client_ip"].AsString())
	assert.Equal(t, loginTemplate, a["otelkit.audit.template"].AsString())
	assert.NotEmpty(t, a["otelkit.audit.record_id"].AsString())
	assert.Equal(t, []string{"user", "client_ip", "otelkit.audit.template", "otelkit.audit.record_id"}, keys(r))
	assert.Empty(t, sink.all())
}

func TestLevels(t *testing.T) {
	tests := []struct {
		level auditx.Level
		sev   log.Severity
		text  string
	}{
		{auditx.LevelDebug, 5, "DEBUG"},
		{auditx.LevelInfo, 9, "INFO"},
		{auditx.LevelWarn, 13, "WARN"},
		{auditx.LevelError, 17, "ERROR"},
		{auditx.LevelCritical, 21, "CRITICAL"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			reg, exp, _ := newRegistry(t)
			reg.Define("level.test", tt.level, "level").Emit(context.Background())
			r := exp.only(t)
			assert.Equal(t, tt.sev, r.Severity())
			assert.Equal(t, tt.text, r.SeverityText())
			assert.Equal(t, tt.sev, tt.level.Severity())
			assert.Equal(t, tt.text, tt.level.String())
		})
	}
	assert.Equal(t, "Level(7)", auditx.Level(7).String())
}

func TestRenderValues(t *testing.T) {
	tests := []struct {
		name string
		tmpl string
		attr attribute.KeyValue
		body string
	}{
		{"string", "v={v}", attribute.String("v", "plain"), "v=plain"},
		{"int", "v={v}", attribute.Int("v", -42), "v=-42"},
		{"bool", "v={v}", attribute.Bool("v", true), "v=true"},
		{"float", "v={v}", attribute.Float64("v", 1.5), "v=1.5"},
		{"string slice", "v={v}", attribute.StringSlice("v", []string{"a", "b"}), `v=["a","b"]`},
		{"int slice", "v={v}", attribute.IntSlice("v", []int{1, 2}), "v=[1,2]"},
		{"empty string", "v=[{v}]", attribute.String("v", ""), "v=[]"},
		{"repeated", "{v}-{v}", attribute.String("v", "x"), "x-x"},
		{"escaped braces", "{{literal}} {v} }}{{", attribute.String("v", "x"), "{literal} x }{"},
		{"escaped around placeholder", "{{{v}}}", attribute.String("v", "x"), "{x}"},
		{"dotted name", "route {http.route}!", attribute.String("http.route", "/a"), "route /a!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, exp, sink := newRegistry(t)
			reg.Define("render.test", auditx.LevelInfo, tt.tmpl).Emit(context.Background(), tt.attr)
			r := exp.only(t)
			assert.Equal(t, tt.body, r.Body().AsString())
			assert.Equal(t, tt.attr.Value, attrs(t, r)[string(tt.attr.Key)], "the attribute keeps the typed value")
			assert.Empty(t, sink.all())
		})
	}
}

// Values are data: a value that looks like a placeholder is not expanded,
// and a value cannot put a second line into the body.
func TestValuesAreData(t *testing.T) {
	tests := []struct {
		name  string
		value string
		body  string
	}{
		{"placeholder", "{client_ip}", "User '{client_ip}' from 10.0.0.7"},
		{"escaped placeholder", "{{user}}", "User '{{user}}' from 10.0.0.7"},
		{"quote", "x' is admin; '", "User 'x' is admin; '' from 10.0.0.7"},
		{"double quote", `say "hi"`, `User 'say "hi"' from 10.0.0.7`},
		{"newline", "bob\nINFO forged record", `User 'bob\nINFO forged record' from 10.0.0.7`},
		{"crlf", "bob\r\nX", `User 'bob\r\nX' from 10.0.0.7`},
		{"tab", "a\tb", `User 'a\tb' from 10.0.0.7`},
		{"backslash", `C:\n`, `User 'C:\\n' from 10.0.0.7`},
		{"control", "a\x1b[31mred", `User 'a\x1b[31mred' from 10.0.0.7`},
		{"del", "a\x7f", `User 'a\x7f' from 10.0.0.7`},
		{"invalid utf8", "a\xffb", `User 'a\xffb' from 10.0.0.7`},
		{"line separator", "a\u2028b", `User 'a\u2028b' from 10.0.0.7`},
		{"next line", "a\u0085b", `User 'a\u0085b' from 10.0.0.7`},
		{"bidi override", "a\u202eb", `User 'a\u202eb' from 10.0.0.7`},
		{"unicode kept", "Jürgen 日本", "User 'Jürgen 日本' from 10.0.0.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, exp, sink := newRegistry(t)
			ev := reg.Define("data.test", auditx.LevelInfo, "User '{user}' from {client_ip}")
			ev.Emit(context.Background(), attribute.String("user", tt.value), attribute.String("client_ip", "10.0.0.7"))
			r := exp.only(t)
			body := r.Body().AsString()
			assert.Equal(t, tt.body, body)
			assert.NotContains(t, body, "\n")
			assert.NotContains(t, body, "\r")
			assert.Equal(t, tt.value, attrs(t, r)["user"].AsString(), "the attribute keeps the raw value")
			assert.Empty(t, sink.all(), "a value that looks like a placeholder is not a missing parameter")
		})
	}
}

func TestMissingParam(t *testing.T) {
	reg, exp, sink := newRegistry(t)
	ev := reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate)

	ev.Emit(context.Background(), attribute.String("user", "alice"))

	r := exp.only(t)
	assert.Equal(t, "User 'alice' failed to log in from <missing client_ip>", r.Body().AsString())
	a := attrs(t, r)
	assert.Equal(t, []string{"client_ip"}, a["otelkit.audit.missing"].AsStringSlice())
	_, has := a["client_ip"]
	assert.False(t, has)
	assert.NotEmpty(t, a["otelkit.audit.record_id"].AsString())

	errs := sink.all()
	require.Len(t, errs, 1)
	var mpe *auditx.MissingParamsError
	require.ErrorAs(t, errs[0], &mpe)
	assert.Equal(t, "auth.login_failed", mpe.Type)
	assert.Equal(t, []string{"client_ip"}, mpe.Params)
	assert.Equal(t, `auditx: "auth.login_failed" emitted without client_ip`, mpe.Error())

	t.Run("all missing", func(t *testing.T) {
		reg, exp, sink := newRegistry(t)
		reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate).Emit(context.Background())
		r := exp.only(t)
		assert.Equal(t, "User '<missing user>' failed to log in from <missing client_ip>", r.Body().AsString())
		assert.Equal(t, []string{"user", "client_ip"}, attrs(t, r)["otelkit.audit.missing"].AsStringSlice())
		require.Len(t, sink.all(), 1)
	})
}

// Without WithErrorHandler the problem goes to otel.Handle.
func TestMissingParamGlobalHandler(t *testing.T) {
	var got []error
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { got = append(got, err) }))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })

	lp, exp := newProvider(t)
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(lp))
	reg.Define("x.y", auditx.LevelInfo, "{a}").Emit(context.Background())

	exp.only(t)
	require.Len(t, got, 1)
	var mpe *auditx.MissingParamsError
	assert.ErrorAs(t, got[0], &mpe)
}

func TestUnregistered(t *testing.T) {
	reg, exp, sink := newRegistry(t)

	reg.Emit(context.Background(), "billing.refund",
		attribute.String("order", "o-1\n2"), attribute.Int("cents", 1250), attribute.String("api_key", "k"))

	r := exp.only(t)
	assert.Equal(t, "billing.refund", r.EventName())
	assert.Equal(t, log.SeverityWarn, r.Severity())
	assert.Equal(t, "WARN", r.SeverityText())
	assert.Equal(t, `billing.refund order="o-1\n2" cents=1250 api_key="**************"`, r.Body().AsString())
	a := attrs(t, r)
	assert.True(t, a["otelkit.audit.unregistered"].AsBool())
	assert.Equal(t, "o-1\n2", a["order"].AsString())
	assert.Equal(t, int64(1250), a["cents"].AsInt64())
	assert.Equal(t, mask.Mask, a["api_key"].AsString())
	assert.NotEmpty(t, a["otelkit.audit.record_id"].AsString())
	_, has := a["otelkit.audit.template"]
	assert.False(t, has)

	errs := sink.all()
	require.Len(t, errs, 1)
	var ue *auditx.UnregisteredError
	require.ErrorAs(t, errs[0], &ue)
	assert.Equal(t, "billing.refund", ue.Type)

	t.Run("name with a newline", func(t *testing.T) {
		reg, exp, _ := newRegistry(t)
		reg.Emit(context.Background(), "bad\ntype")
		r := exp.only(t)
		assert.Equal(t, `bad\ntype`, r.Body().AsString())
	})
}

func TestEmitByName(t *testing.T) {
	reg, exp, sink := newRegistry(t)
	reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate)

	reg.Emit(context.Background(), "auth.login_failed", attribute.String("user", "bob"), attribute.String("client_ip", "::1"))

	r := exp.only(t)
	assert.Equal(t, "User 'bob' failed to log in from ::1", r.Body().AsString())
	_, has := attrs(t, r)["otelkit.audit.unregistered"]
	assert.False(t, has)
	assert.Empty(t, sink.all())
}

func TestMasking(t *testing.T) {
	t.Run("default policy", func(t *testing.T) {
		reg, exp, _ := newRegistry(t)
		ev := reg.Define("auth.token-issued", auditx.LevelInfo, "Issued {api_token} to {user} (Password: {Password})")
		ev.Emit(context.Background(),
			attribute.String("api_token", "tok-123"), attribute.String("user", "alice"),
			attribute.String("Password", "hunter2"), attribute.String("session_cookie", "c=1"), attribute.String("note", "n"))
		r := exp.only(t)
		assert.Equal(t, "Issued ************** to alice (Password: **************)", r.Body().AsString())
		a := attrs(t, r)
		assert.Equal(t, mask.Mask, a["api_token"].AsString())
		assert.Equal(t, mask.Mask, a["Password"].AsString())
		assert.Equal(t, mask.Mask, a["session_cookie"].AsString())
		assert.Equal(t, "alice", a["user"].AsString())
		assert.Equal(t, "n", a["note"].AsString())
		assert.NotContains(t, r.Body().AsString(), "tok-123")
	})
	t.Run("WithMask", func(t *testing.T) {
		reg, exp, _ := newRegistry(t, auditx.WithMask(mask.New("ip")))
		reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate).Emit(context.Background(),
			attribute.String("user", "alice"), attribute.String("client_ip", "10.0.0.7"), attribute.String("password", "p"))
		r := exp.only(t)
		assert.Equal(t, "User 'alice' failed to log in from **************", r.Body().AsString())
		a := attrs(t, r)
		assert.Equal(t, mask.Mask, a["client_ip"].AsString())
		assert.Equal(t, "p", a["password"].AsString(), "the given policy replaces the default")
	})
	t.Run("extras", func(t *testing.T) {
		reg, exp, _ := newRegistry(t)
		ctx := reqctx.WithExtras(context.Background(), attribute.String("tenant", "acme"), attribute.String("auth_token", "t"))
		reg.Define("x.y", auditx.LevelInfo, "tenant {tenant}, token {auth_token}").Emit(ctx)
		r := exp.only(t)
		assert.Equal(t, "tenant acme, token **************", r.Body().AsString())
		a := attrs(t, r)
		assert.Equal(t, "acme", a["tenant"].AsString())
		assert.Equal(t, mask.Mask, a["auth_token"].AsString())
	})
	t.Run("default policy read at emit", func(t *testing.T) {
		reg, exp, _ := newRegistry(t)
		ev := reg.Define("x.y", auditx.LevelInfo, "{email}")
		mask.SetDefault(mask.New("email"))
		t.Cleanup(func() { mask.SetDefault(nil) })
		ev.Emit(context.Background(), attribute.String("email", "a@b.c"))
		r := exp.only(t)
		assert.Equal(t, mask.Mask, r.Body().AsString())
	})
}

func TestRequestInfo(t *testing.T) {
	info := reqctx.Info{Route: "/login", Method: "POST", ClientAddress: "192.0.2.1", UserID: "u-42"}

	t.Run("attributes and user", func(t *testing.T) {
		reg, exp, sink := newRegistry(t)
		ctx := reqctx.WithExtras(inRequest(info), attribute.String("tenant", "acme"))
		reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate).Emit(ctx, attribute.String("client_ip", "192.0.2.1"))
		r := exp.only(t)
		assert.Equal(t, "User 'u-42' failed to log in from 192.0.2.1", r.Body().AsString())
		a := attrs(t, r)
		assert.Equal(t, "/login", a["http.route"].AsString())
		assert.Equal(t, "POST", a["http.request.method"].AsString())
		assert.Equal(t, "192.0.2.1", a["client.address"].AsString())
		assert.Equal(t, "u-42", a["user.id"].AsString())
		assert.Equal(t, "u-42", a["user"].AsString(), "{user} is filled from the user id")
		assert.Equal(t, "acme", a["tenant"].AsString())
		assert.Empty(t, sink.all())
	})
	t.Run("explicit user wins", func(t *testing.T) {
		reg, exp, _ := newRegistry(t)
		reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate).Emit(inRequest(info),
			attribute.String("user", "mallory"), attribute.String("client_ip", "192.0.2.1"))
		r := exp.only(t)
		assert.Equal(t, "User 'mallory' failed to log in from 192.0.2.1", r.Body().AsString())
		assert.Equal(t, "u-42", attrs(t, r)["user.id"].AsString())
	})
	t.Run("placeholders from request attributes", func(t *testing.T) {
		reg, exp, sink := newRegistry(t)
		reg.Define("http.seen", auditx.LevelInfo, "{http.request.method} {http.route} by {user.id} from {client.address}").Emit(inRequest(info))
		r := exp.only(t)
		assert.Equal(t, "POST /login by u-42 from 192.0.2.1", r.Body().AsString())
		assert.Equal(t, []string{"otelkit.audit.template", "otelkit.audit.record_id", "http.route", "http.request.method", "client.address", "user.id"}, keys(r))
		assert.Empty(t, sink.all())
	})
	t.Run("caller attribute overrides request attribute", func(t *testing.T) {
		reg, exp, _ := newRegistry(t)
		reg.Define("x.y", auditx.LevelInfo, "x").Emit(inRequest(info), attribute.String("http.route", "/custom"))
		assert.Equal(t, "/custom", attrs(t, exp.only(t))["http.route"].AsString())
	})
	t.Run("outside a request", func(t *testing.T) {
		reg, exp, sink := newRegistry(t)
		reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate).Emit(context.Background(), attribute.String("client_ip", "::1"))
		r := exp.only(t)
		assert.Equal(t, "User '<missing user>' failed to log in from ::1", r.Body().AsString())
		_, has := attrs(t, r)["http.route"]
		assert.False(t, has)
		require.Len(t, sink.all(), 1)
	})
	t.Run("empty fields are left out", func(t *testing.T) {
		reg, exp, _ := newRegistry(t)
		reg.Define("x.y", auditx.LevelInfo, "x").Emit(inRequest(reqctx.Info{Method: "GET"}))
		assert.Equal(t, []string{"otelkit.audit.template", "otelkit.audit.record_id", "http.request.method"}, keys(exp.only(t)))
	})
}

func TestReservedKeysIgnored(t *testing.T) {
	reg, exp, _ := newRegistry(t)
	reg.Define("x.y", auditx.LevelInfo, "x").Emit(context.Background(),
		attribute.String("otelkit.audit.record_id", "forged"), attribute.String("otelkit.audit.template", "forged"),
		attribute.Bool("otelkit.audit.unregistered", true), attribute.String("audit.reason", "kept"))
	a := attrs(t, exp.only(t))
	assert.NotEqual(t, "forged", a["otelkit.audit.record_id"].AsString())
	assert.Equal(t, "x", a["otelkit.audit.template"].AsString())
	assert.Equal(t, "kept", a["audit.reason"].AsString())
	_, has := a["otelkit.audit.unregistered"]
	assert.False(t, has)
}

// Records with more parameters and attributes than the stack buffers hold
// are complete too.
func TestLargeRecord(t *testing.T) {
	reg, exp, sink := newRegistry(t)
	var tmpl strings.Builder
	var kvs []attribute.KeyValue
	var want strings.Builder
	for i := range 20 {
		fmt.Fprintf(&tmpl, "{p%d} ", i)
		kvs = append(kvs, attribute.Int(fmt.Sprintf("p%d", i), i))
		fmt.Fprintf(&want, "%d ", i)
	}
	long := strings.Repeat("x", 1000)
	tmpl.WriteString("{long}")
	want.WriteString(long)
	kvs = append(kvs, attribute.String("long", long))
	reg.Define("big.one", auditx.LevelInfo, tmpl.String()).Emit(context.Background(), kvs...)
	r := exp.only(t)
	assert.Equal(t, want.String(), r.Body().AsString())
	assert.Len(t, attrs(t, r), 23)
	assert.Empty(t, sink.all())
}

func TestRecordIDUnique(t *testing.T) {
	reg, exp, _ := newRegistry(t)
	ev := reg.Define("x.y", auditx.LevelInfo, "x")
	const goroutines, each = 8, 200
	done := make(chan struct{})
	for range goroutines {
		go func() {
			defer func() { done <- struct{}{} }()
			for range each {
				ev.Emit(context.Background())
			}
		}()
	}
	for range goroutines {
		<-done
	}
	seen := map[string]bool{}
	for _, r := range exp.records() {
		id := attrs(t, r)["otelkit.audit.record_id"].AsString()
		require.NotEmpty(t, id)
		require.False(t, seen[id], "duplicate id %q", id)
		seen[id] = true
	}
	assert.Len(t, seen, goroutines*each)
}

// Without an SDK the record goes nowhere, but a caller's mistake is still
// reported: it is the caller's to fix whatever the logger does.
func TestDisabled(t *testing.T) {
	sink := &errSink{}
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(noop.NewLoggerProvider()), auditx.WithErrorHandler(sink))
	reg.Define("x.y", auditx.LevelInfo, "{a}").Emit(context.Background(), attribute.String("a", "1"))
	assert.Empty(t, sink.all())
	reg.Define("x.z", auditx.LevelInfo, "{a}").Emit(context.Background())
	assert.Len(t, sink.all(), 1)
}

func TestNilContext(t *testing.T) {
	reg, exp, _ := newRegistry(t)
	ev := reg.Define("x.y", auditx.LevelInfo, "x")
	//lint:ignore SA1012 a nil context must not crash an audit
	ev.Emit(nil) //nolint:staticcheck // nil context on purpose
	exp.only(t)
}

func TestErrorText(t *testing.T) {
	assert.Equal(t, `auditx: emitted unregistered event type "a.b"`, (&auditx.UnregisteredError{Type: "a.b"}).Error())
	assert.Equal(t, `auditx: "a.b" emitted without x, y`, (&auditx.MissingParamsError{Type: "a.b", Params: []string{"x", "y"}}).Error())
}

func TestDuplicateAndConflictingKeys(t *testing.T) {
	t.Run("last value of a parameter wins", func(t *testing.T) {
		reg, exp, _ := newRegistry(t)
		reg.Define("x.y", auditx.LevelInfo, "{a}").Emit(context.Background(), attribute.String("a", "first"), attribute.String("a", "last"))
		r := exp.only(t)
		assert.Equal(t, "last", r.Body().AsString())
		assert.Equal(t, "last", attrs(t, r)["a"].AsString())
	})
	t.Run("request attributes win over extras", func(t *testing.T) {
		reg, exp, _ := newRegistry(t)
		ctx := reqctx.WithExtras(inRequest(reqctx.Info{Route: "/real"}), attribute.String("http.route", "/extra"), attribute.String("otelkit.audit.record_id", "forged"))
		reg.Define("x.y", auditx.LevelInfo, "{http.route}").Emit(ctx)
		r := exp.only(t)
		assert.Equal(t, "/real", r.Body().AsString())
		a := attrs(t, r)
		assert.Equal(t, "/real", a["http.route"].AsString())
		assert.NotEqual(t, "forged", a["otelkit.audit.record_id"].AsString())
	})
	t.Run("an extra fills a placeholder", func(t *testing.T) {
		reg, exp, sink := newRegistry(t)
		ctx := reqctx.WithExtras(context.Background(), attribute.Int("order", 17))
		reg.Define("x.y", auditx.LevelInfo, "order {order}").Emit(ctx)
		r := exp.only(t)
		assert.Equal(t, "order 17", r.Body().AsString())
		assert.Equal(t, int64(17), attrs(t, r)["order"].AsInt64())
		assert.Empty(t, sink.all())
	})
	t.Run("user id fills {user} masked when the policy says so", func(t *testing.T) {
		reg, exp, _ := newRegistry(t, auditx.WithMask(mask.New("user")))
		reg.Define("x.y", auditx.LevelInfo, "by {user}").Emit(inRequest(reqctx.Info{UserID: "u-1"}))
		r := exp.only(t)
		assert.Equal(t, "by **************", r.Body().AsString())
		assert.Equal(t, mask.Mask, attrs(t, r)["user"].AsString())
		assert.Equal(t, mask.Mask, attrs(t, r)["user.id"].AsString(), "request attributes follow the policy too")
	})
}

// TestSemconvParameterPrecedence pins the one precedence for a template
// parameter named by a semantic-conventions key that otelkit also adds from
// the context ({client.address}, {user.id}, {http.route},
// {http.request.method}): the attribute given to Emit, else the request's
// value, else an extra of that name (otelbridge.WithExtras), else missing.
// The record carries the key once, with the value the body shows.
func TestSemconvParameterPrecedence(t *testing.T) {
	const tmpl = "{user.id} {user.name} from {client.address} on {http.route}"
	req := reqctx.Info{Route: "/login", Method: "POST", ClientAddress: "192.0.2.1", UserID: "u-42"}
	extras := []attribute.KeyValue{attribute.String("client.address", "198.51.100.9"), attribute.String("user.name", "from-extra")}
	tests := []struct {
		name     string
		inReq    bool
		extras   bool
		attrs    []attribute.KeyValue
		wantBody string
		want     map[string]string // key -> value on the record ("" = absent)
	}{
		{"request values", true, false, []attribute.KeyValue{attribute.String("user.name", "alice")},
			"u-42 alice from 192.0.2.1 on /login",
			map[string]string{"user.id": "u-42", "user.name": "alice", "client.address": "192.0.2.1", "http.route": "/login"}},
		{"Emit attribute over request", true, false, []attribute.KeyValue{attribute.String("user.name", "alice"), attribute.String("client.address", "203.0.113.5"), attribute.String("user.id", "u-7")},
			"u-7 alice from 203.0.113.5 on /login",
			map[string]string{"user.id": "u-7", "client.address": "203.0.113.5"}},
		{"request over extra", true, true, nil,
			"u-42 from-extra from 192.0.2.1 on /login",
			map[string]string{"client.address": "192.0.2.1", "user.name": "from-extra"}},
		{"extra outside a request", false, true, []attribute.KeyValue{attribute.String("user.id", "u-1")},
			"u-1 from-extra from 198.51.100.9 on <missing http.route>",
			map[string]string{"client.address": "198.51.100.9", "user.id": "u-1", "http.route": ""}},
		{"Emit attribute over extra", false, true, []attribute.KeyValue{attribute.String("user.id", "u-1"), attribute.String("user.name", "bob")},
			"u-1 bob from 198.51.100.9 on <missing http.route>",
			map[string]string{"user.name": "bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, exp, _ := newRegistry(t)
			ctx := context.Background()
			if tt.inReq {
				ctx = inRequest(req)
			}
			if tt.extras {
				ctx = reqctx.WithExtras(ctx, extras...)
			}
			reg.Define("auth.login_failed", auditx.LevelWarn, tmpl).Emit(ctx, tt.attrs...)
			r := exp.only(t)
			assert.Equal(t, tt.wantBody, r.Body().AsString())
			a := attrs(t, r)
			for k, v := range tt.want {
				if v == "" {
					assert.NotContains(t, a, k)
					continue
				}
				assert.Equal(t, v, a[k].AsString(), k)
			}
			seen := map[string]int{}
			for _, k := range keys(r) {
				seen[k]++
			}
			for k, n := range seen {
				assert.Equal(t, 1, n, "%s once on the record", k)
			}
		})
	}
}
