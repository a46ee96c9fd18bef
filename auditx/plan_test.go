package auditx_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/mask"
)

// TestPlanMatchesGeneralPath emits the same records twice: through the
// event, which follows its plan for the keys given, and by name through a
// child registry whose policy masks the same keys but is another policy,
// which takes the general path. The records must be the same but for the
// record id.
func TestPlanMatchesGeneralPath(t *testing.T) {
	tmpl := "{user} from {client_ip}: {detail} {n}"
	cases := []struct {
		name  string
		attrs []attribute.KeyValue
	}{
		{"plain", []attribute.KeyValue{attribute.String("user", "alice"), attribute.String("client_ip", "10.0.0.7"),
			attribute.String("detail", "ok"), attribute.Int("n", 3)}},
		{"others, sensitive and not", []attribute.KeyValue{attribute.String("password", "hunter2"), attribute.String("user", "alice"),
			attribute.String("note", "n"), attribute.String("client_ip", "10.0.0.7"), attribute.String("detail", "d"),
			attribute.Int("n", 1), attribute.String("api_token", "t")}},
		{"values to scan and escape", []attribute.KeyValue{attribute.String("user", "bob\nx"), attribute.String("client_ip", "203.0.113.7"),
			attribute.String("detail", "password=hunter2 and more text"), attribute.StringSlice("n", []string{"a", "token=x"}),
			attribute.String("note", "Bearer abcdefghijklmnop")}},
		{"duplicates and reserved keys", []attribute.KeyValue{attribute.String("user", "first"), attribute.String("user", "last"),
			attribute.String("client_ip", "1.2.3.4"), attribute.String("otelkit.audit.record_id", "forged"), attribute.String("detail", "d"),
			attribute.Bool("n", true), attribute.String("note", "a"), attribute.String("note", "b")}},
	}
	for _, policy := range []func() *mask.Policy{func() *mask.Policy { return mask.New(mask.DefaultKeys()...) }, func() *mask.Policy { return mask.New("client_ip", "detail") }} {
		lp, exp := newProvider(t)
		parent := auditx.NewRegistry(auditx.WithLoggerProvider(lp), auditx.WithMask(policy()))
		child := auditx.NewRegistry(auditx.WithLoggerProvider(lp), auditx.WithMask(policy()), auditx.WithParent(parent))
		ev := parent.Define("x.plan", auditx.LevelInfo, tmpl)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				for range 2 { // the first emit makes the plan, the second finds it
					before := len(exp.records())
					require.NoError(t, ev.Emit(context.Background(), tc.attrs...))
					require.NoError(t, child.Emit(context.Background(), "x.plan", tc.attrs...))
					recs := exp.records()[before:]
					require.Len(t, recs, 2)
					planned, general := recs[0], recs[1]
					assert.Equal(t, general.Body().AsString(), planned.Body().AsString())
					assert.Equal(t, keys(general), keys(planned))
					pa, ga := attrs(t, planned), attrs(t, general)
					delete(pa, auditx.KeyRecordID)
					delete(ga, auditx.KeyRecordID)
					assert.Equal(t, ga, pa)
				}
			})
		}
	}
}

// TestPlanValuesCheckedEveryTime emits with the same keys and values that
// differ: a plan is about keys, every value is still scanned.
func TestPlanValuesCheckedEveryTime(t *testing.T) {
	reg, exp, _ := newRegistry(t)
	ev := reg.Define("x.values", auditx.LevelInfo, "{v}")
	for _, v := range []string{"plain", "password=hunter2", "ok", "a\tb"} {
		ev.Emit(context.Background(), attribute.String("v", v), attribute.String("note", v))
	}
	recs := exp.records()
	require.Len(t, recs, 4)
	assert.Equal(t, "plain", recs[0].Body().AsString())
	assert.Equal(t, mask.Default().Text("password=hunter2"), recs[1].Body().AsString())
	assert.NotContains(t, recs[1].Body().AsString(), "hunter2")
	assert.NotContains(t, attrs(t, recs[1])["note"].AsString(), "hunter2")
	assert.Equal(t, "ok", recs[2].Body().AsString())
	assert.Equal(t, `a\tb`, recs[3].Body().AsString())
}

// TestPlanKeysChange emits an event with more lists of keys than it keeps
// plans for, and with keys that leave a parameter to the context or
// missing: every record is right, and once the plans are made an emit
// costs the allocations it always did.
func TestPlanKeysChange(t *testing.T) {
	reg, exp, sink := newRegistry(t)
	ev := reg.Define("x.keys", auditx.LevelInfo, "{a} {b}")
	ctx := reqctx.WithExtras(context.Background(), attribute.String("b", "from-context"))
	for i := range 8 {
		extra := attribute.String("k"+strconv.Itoa(i), "v")
		ev.Emit(ctx, attribute.String("a", "x"), attribute.String("b", "y"), extra)
		ev.Emit(ctx, attribute.String("a", "x"), extra)
		ev.Emit(context.Background(), extra)
	}
	recs := exp.records()
	require.Len(t, recs, 24)
	for i := range 8 {
		k := "k" + strconv.Itoa(i)
		assert.Equal(t, "x y", recs[3*i].Body().AsString())
		assert.Equal(t, "x from-context", recs[3*i+1].Body().AsString())
		assert.Equal(t, "<missing a> <missing b>", recs[3*i+2].Body().AsString())
		for j := range 3 {
			assert.Equal(t, "v", attrs(t, recs[3*i+j])[k].AsString())
		}
	}
	assert.Len(t, sink.all(), 8, "one MissingParamsError per record with missing parameters")

	// The same keys in another order, and other keys of the same number.
	before := len(exp.records())
	ev.Emit(context.Background(), attribute.String("a", "1"), attribute.String("b", "2"), attribute.String("c", "3"))
	ev.Emit(context.Background(), attribute.String("c", "3"), attribute.String("a", "1"), attribute.String("b", "2"))
	ev.Emit(context.Background(), attribute.String("b", "2"), attribute.String("c", "3"), attribute.String("a", "1"))
	ev.Emit(context.Background(), attribute.String("b", "2"), attribute.String("a", "1"), attribute.String("password", "3"))
	for i, r := range exp.records()[before:] {
		assert.Equal(t, "1 2", r.Body().AsString(), "record %d", i)
		assert.Equal(t, "1", attrs(t, r)["a"].AsString(), "record %d", i)
	}
	assert.Equal(t, []string{"a", "b", "password", auditx.KeyTemplate, auditx.KeyRecordID}, keys(exp.records()[before+3]))
	assert.Equal(t, mask.Mask, attrs(t, exp.records()[before+3])["password"].AsString())
	if raceEnabled || testing.Short() {
		return
	}
	reg = auditx.NewRegistry(auditx.WithLoggerProvider(discardProvider{}))
	ev = reg.Define("x.keys", auditx.LevelInfo, "{a}")
	for i := range 6 { // more lists of keys than an event keeps plans for
		ev.Emit(context.Background(), attribute.String("a", "x"), attribute.String("k"+strconv.Itoa(i), "v"))
	}
	a, k := attribute.String("a", "x"), attribute.String("k5", "v")
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { ev.Emit(context.Background(), a, k) }),
		"a list of keys without a plan: the general path, the one allocation of the body")
}

// TestPlanConcurrent emits one event from several goroutines with more
// lists of keys than it keeps plans for (run it with -race).
func TestPlanConcurrent(t *testing.T) {
	reg, exp, _ := newRegistry(t)
	ev := reg.Define("x.concurrent", auditx.LevelInfo, "{a}")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				k := "k" + strconv.Itoa((g+i)%6)
				ev.Emit(context.Background(), attribute.String(k, "v"), attribute.String("a", k))
			}
		}()
	}
	wg.Wait()
	recs := exp.records()
	require.Len(t, recs, 400)
	for _, r := range recs {
		k := r.Body().AsString()
		assert.Equal(t, "v", attrs(t, r)[k].AsString(), "the attribute named by the body")
	}
}
