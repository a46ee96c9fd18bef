package auditx_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/mask"
)

func TestDefinePanics(t *testing.T) {
	tests := []struct {
		name  string
		typ   string
		level auditx.Level
		tmpl  string
		want  string // substring of the panic message
	}{
		{"empty type", "", auditx.LevelInfo, "x", `auditx: Define(""): type must be non-empty`},
		{"upper case type", "Auth.login", auditx.LevelInfo, "x", `Define("Auth.login"): type must be non-empty and use only [a-z0-9._-]`},
		{"space in type", "auth login", auditx.LevelInfo, "x", `Define("auth login")`},
		{"slash in type", "auth/login", auditx.LevelInfo, "x", `Define("auth/login")`},
		{"empty template", "a.b", auditx.LevelInfo, " ", `auditx: Define("a.b"): empty template`},
		{"reserved placeholder", "a.b", auditx.LevelInfo, "{otelkit.audit.template}", `reserved placeholder name "otelkit.audit.template"`},
		{"invalid level", "a.b", auditx.Level(3), "x", `Define("a.b"): invalid level Level(3)`},
		{"unclosed brace", "a.b", auditx.LevelInfo, "User {user", `Define("a.b"): template "User {user": unclosed '{' at offset 5`},
		{"lone open brace", "a.b", auditx.LevelInfo, "a { b", `unclosed '{' at offset 2`},
		{"unmatched close", "a.b", auditx.LevelInfo, "User user}", `Define("a.b"): template "User user}": unmatched '}' at offset 9`},
		{"empty placeholder", "a.b", auditx.LevelInfo, "x {} y", `empty placeholder at offset 2`},
		{"nested", "a.b", auditx.LevelInfo, "{a{b}}", `'{' inside a placeholder at offset 2`},
		{"space in name", "a.b", auditx.LevelInfo, "{a b}", `invalid placeholder name "a b" at offset 0`},
		{"digit first", "a.b", auditx.LevelInfo, "{1x}", `invalid placeholder name "1x"`},
		{"format spec", "a.b", auditx.LevelInfo, "{x:5}", `invalid placeholder name "x:5"`},
		{"odd closing after escape", "a.b", auditx.LevelInfo, "}}}", `unmatched '}' at offset 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, _, _ := newRegistry(t)
			defer func() {
				r := recover()
				require.NotNil(t, r, "Define must panic")
				assert.Contains(t, fmt.Sprint(r), tt.want)
			}()
			reg.Define(tt.typ, tt.level, tt.tmpl)
		})
	}
}

func TestDefineDuplicate(t *testing.T) {
	parent, _, _ := newRegistry(t)
	parent.Define("auth.login", auditx.LevelInfo, "x")
	child := auditx.NewRegistry(auditx.WithParent(parent))

	assert.PanicsWithValue(t, `auditx: Define("auth.login"): type already defined`, func() {
		parent.Define("auth.login", auditx.LevelWarn, "y")
	})
	assert.PanicsWithValue(t, `auditx: Define("auth.login"): type already defined`, func() {
		child.Define("auth.login", auditx.LevelWarn, "y")
	})
}

func TestEventAccessors(t *testing.T) {
	reg, _, _ := newRegistry(t)
	ev := reg.Define("auth.login_failed", auditx.LevelWarn, "{user} {client_ip} {user}")
	assert.Equal(t, "auth.login_failed", ev.Type())
	assert.Equal(t, auditx.LevelWarn, ev.Level())
	assert.Equal(t, "{user} {client_ip} {user}", ev.Template())
	assert.Equal(t, []string{"user", "client_ip"}, ev.Params())
	assert.Same(t, reg, ev.Registry())

	ev.Params()[0] = "changed"
	assert.Equal(t, []string{"user", "client_ip"}, ev.Params(), "Params returns a copy")
}

func TestRegistryLookupAndParent(t *testing.T) {
	parent, parentExp, _ := newRegistry(t)
	login := parent.Define("auth.login", auditx.LevelInfo, "login {user}")
	child, childExp, _ := newRegistry(t, auditx.WithParent(parent))
	logout := child.Define("auth.logout", auditx.LevelInfo, "logout {user}")

	assert.Same(t, parent, child.Parent())
	assert.Nil(t, parent.Parent())

	got, ok := child.Lookup("auth.login")
	require.True(t, ok)
	assert.Same(t, login, got)
	got, ok = child.Lookup("auth.logout")
	require.True(t, ok)
	assert.Same(t, logout, got)
	_, ok = parent.Lookup("auth.logout")
	assert.False(t, ok, "a parent does not see its children")

	assert.Equal(t, []*auditx.Event{logout}, child.Events())
	assert.Equal(t, []*auditx.Event{login}, parent.Events())
	assert.Nil(t, auditx.NewRegistry().Events())

	// By name through the child: the child's logger, the parent's definition.
	child.Emit(context.Background(), "auth.login", attribute.String("user", "a"))
	r := childExp.only(t)
	assert.Equal(t, "login a", r.Body().AsString())
	assert.Empty(t, parentExp.records())

	// Through the event: the registry it was defined in.
	login.Emit(context.Background(), attribute.String("user", "b"))
	r = parentExp.only(t)
	assert.Equal(t, "login b", r.Body().AsString())
}

func TestEventsOrder(t *testing.T) {
	reg, _, _ := newRegistry(t)
	var want []*auditx.Event
	for i := range 5 {
		want = append(want, reg.Define(fmt.Sprintf("e.%d", i), auditx.LevelInfo, "x"))
	}
	assert.Equal(t, want, reg.Events())
}

// The default registry follows the global logger provider, also when it is
// replaced after events were defined.
// defaultRegistryEvent is defined in the process-wide registry once, so
// that TestDefaultRegistry runs again under -count=N (issue 18 item 18).
var defaultRegistryEvent = sync.OnceValue(func() *auditx.Event {
	return auditx.Define("default.registry-test", auditx.LevelInfo, "hello {who}")
})

func TestDefaultRegistry(t *testing.T) {
	prev := otel.GetLoggerProvider()
	t.Cleanup(func() { otel.SetLoggerProvider(prev) })

	ev := defaultRegistryEvent()
	got, ok := auditx.Lookup("default.registry-test")
	require.True(t, ok)
	assert.Same(t, ev, got)
	assert.Same(t, auditx.Default(), ev.Registry())
	assert.Contains(t, auditx.Default().Events(), ev)

	lp1, exp1 := newProvider(t)
	otel.SetLoggerProvider(lp1)
	auditx.Emit(context.Background(), "default.registry-test", attribute.String("who", "one"))
	r := exp1.only(t)
	assert.Equal(t, "hello one", r.Body().AsString())

	lp2, exp2 := newProvider(t)
	otel.SetLoggerProvider(lp2)
	ev.Emit(context.Background(), attribute.String("who", "two"))
	r = exp2.only(t)
	assert.Equal(t, "hello two", r.Body().AsString())
	assert.Len(t, exp1.records(), 1)
}

// NewRegistry without WithLoggerProvider takes the global provider as it is
// at construction.
func TestNewRegistryGlobalProvider(t *testing.T) {
	prev := otel.GetLoggerProvider()
	t.Cleanup(func() { otel.SetLoggerProvider(prev) })

	lp1, exp1 := newProvider(t)
	otel.SetLoggerProvider(lp1)
	reg := auditx.NewRegistry(auditx.WithErrorHandler(&errSink{}))
	lp2, exp2 := newProvider(t)
	otel.SetLoggerProvider(lp2)

	reg.Define("x.y", auditx.LevelInfo, "x").Emit(context.Background())
	exp1.only(t)
	assert.Empty(t, exp2.records())
}

// Definitions, lookups and emits from many goroutines at once; run with
// -race.
func TestConcurrentDefineEmit(t *testing.T) {
	reg, exp, sink := newRegistry(t)
	shared := reg.Define("shared.event", auditx.LevelInfo, "{n} by {user}")
	const goroutines, each = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				typ := fmt.Sprintf("g%d.e%d", g, i)
				ev := reg.Define(typ, auditx.LevelInfo, "{n}")
				ev.Emit(context.Background(), attribute.Int("n", i))
				reg.Emit(context.Background(), typ, attribute.Int("n", i))
				shared.Emit(context.Background(), attribute.Int("n", i), attribute.String("user", "u"))
				_, ok := reg.Lookup(typ)
				assert.True(t, ok)
				_ = reg.Events()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, exp.records(), goroutines*each*3)
	assert.Len(t, reg.Events(), goroutines*each+1)
	assert.Empty(t, sink.all())
}

// An event emitted by name through a child registry with its own policy is
// masked by the child's policy, and the parent's stays in force for the
// parent.
func TestChildPolicy(t *testing.T) {
	parent, parentExp, _ := newRegistry(t)
	ev := parent.Define("user.invited", auditx.LevelInfo, "{user} invited {email}")
	child, childExp, _ := newRegistry(t, auditx.WithParent(parent), auditx.WithMask(mask.New("email")))
	kvs := []attribute.KeyValue{attribute.String("user", "alice"), attribute.String("email", "bob@example.com")}

	for range 3 {
		child.Emit(context.Background(), "user.invited", kvs...)
		ev.Emit(context.Background(), kvs...)
	}
	for _, r := range childExp.records() {
		assert.Equal(t, "alice invited "+mask.Mask, r.Body().AsString())
	}
	for _, r := range parentExp.records() {
		assert.Equal(t, "alice invited bob@example.com", r.Body().AsString())
	}
	assert.Len(t, childExp.records(), 3)
	assert.Len(t, parentExp.records(), 3)
}

// The same for attributes that are not parameters, whose keys' sensitivity
// an event caches: the parent's answer is not reused under the child's
// policy, whichever emits first, nor after the default policy changes.
func TestChildPolicyOtherAttrs(t *testing.T) {
	parent, parentExp, _ := newRegistry(t)
	ev := parent.Define("user.invited", auditx.LevelInfo, "{user} invited someone")
	child, childExp, _ := newRegistry(t, auditx.WithParent(parent), auditx.WithMask(mask.New("email")))
	kvs := []attribute.KeyValue{attribute.String("user", "alice"), attribute.String("email", "bob@example.com")}

	for range 3 {
		ev.Emit(context.Background(), kvs...)
		child.Emit(context.Background(), "user.invited", kvs...)
	}
	for _, r := range childExp.records() {
		assert.Equal(t, mask.Mask, attrs(t, r)["email"].AsString())
	}
	for _, r := range parentExp.records() {
		assert.Equal(t, "bob@example.com", attrs(t, r)["email"].AsString())
	}
	assert.Len(t, childExp.records(), 3)
	assert.Len(t, parentExp.records(), 3)

	mask.SetDefault(mask.New("email"))
	t.Cleanup(func() { mask.SetDefault(nil) })
	ev.Emit(context.Background(), kvs...)
	recs := parentExp.records()
	assert.Equal(t, mask.Mask, attrs(t, recs[len(recs)-1])["email"].AsString())
}
