package errorsx_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelkit/otelkit/errorsx"
)

// TestWithCopies: every With is a copy; the occurrence it came from keeps
// its info, whether the info is kept inline (one field) or not.
func TestWithCopies(t *testing.T) {
	d := errorsx.NewRegistry().Define(http.StatusBadRequest, "x.bad", "Bad")
	one := d.With("a", 1)
	replaced := one.With("a", 2)
	two := one.With("b", 3)
	three := two.With("c", 4)
	again := three.With("a", 5)
	assert.Equal(t, []errorsx.Field{{Key: "a", Value: 1}}, one.Info())
	assert.Equal(t, []errorsx.Field{{Key: "a", Value: 2}}, replaced.Info())
	assert.Equal(t, []errorsx.Field{{Key: "a", Value: 1}, {Key: "b", Value: 3}}, two.Info())
	assert.Equal(t, []errorsx.Field{{Key: "a", Value: 1}, {Key: "b", Value: 3}, {Key: "c", Value: 4}}, three.Info())
	assert.Equal(t, []errorsx.Field{{Key: "a", Value: 5}, {Key: "b", Value: 3}, {Key: "c", Value: 4}}, again.Info())
	detailed := one.Detailf("d")
	assert.Equal(t, one.Info(), detailed.Info())
	// An empty key is a key like any other (kept outside the inline field).
	empty := d.With("", 1)
	assert.Equal(t, []errorsx.Field{{Key: "", Value: 1}}, empty.Info())
	assert.Equal(t, []errorsx.Field{{Key: "", Value: 2}}, empty.With("", 2).Info())
	assert.Equal(t, []errorsx.Field{{Key: "", Value: 1}, {Key: "a", Value: 3}}, empty.With("a", 3).Info())
	assert.Equal(t, []errorsx.Field{{Key: "a", Value: 1}, {Key: "", Value: 4}}, one.With("", 4).Info())
	assert.Empty(t, d.With("a", nil).Detail())
	assert.Equal(t, []errorsx.Field{{Key: "a", Value: nil}}, d.With("a", nil).Info())
	if testing.CoverMode() == "" {
		assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = d.With("a", 1) }), "allocations of Def.With")
	}
}

// TestRareCopies: the rarely used parts of an occurrence (detail, joined
// entries, call stack) are shared by copies and never changed in place:
// every method that sets one gives its copy its own, and the occurrence it
// came from keeps what it had.
func TestRareCopies(t *testing.T) {
	r := errorsx.NewRegistry()
	bad := r.Define(http.StatusBadRequest, "x.bad", "Bad")
	down := r.Define(http.StatusServiceUnavailable, "x.down", "Down")
	cause, other := errors.New("cause"), errors.New("other")

	d1 := bad.Detailf("first %d", 1)
	d2 := d1.Detailf("second")
	withInfo := d1.With("a", 1)
	wrapped := d1.Wrap(cause)
	assert.Equal(t, "first 1", d1.Detail())
	assert.Equal(t, "second", d2.Detail())
	assert.Equal(t, "first 1", withInfo.Detail(), "With keeps the detail")
	assert.Equal(t, "first 1", wrapped.Detail(), "Wrap keeps the detail")
	assert.Empty(t, withInfo.Info()[1:], "one field")
	assert.Nil(t, d1.Info(), "the detailed occurrence has no info")
	assert.Nil(t, d1.Cause())

	joined := bad.Join(cause, nil, other)
	jd := joined.Detailf("d")
	assert.Equal(t, []error{cause, other}, joined.Entries())
	assert.Equal(t, []error{cause, other}, jd.Entries(), "Detailf keeps the entries")
	assert.Empty(t, joined.Detail())
	assert.Equal(t, "d", jd.Detail())

	plain := down.With("k", "v")
	stacked := plain.Wrap(cause)
	again := stacked.Wrap(other)
	detailed := stacked.Detailf("x")
	assert.Nil(t, plain.Stack(), "the occurrence Wrap came from has no stack")
	assert.NotEmpty(t, stacked.Stack())
	assert.Equal(t, stacked.Stack(), again.Stack(), "a second Wrap keeps the first stack")
	assert.Equal(t, stacked.Stack(), detailed.Stack(), "Detailf keeps the stack")
	assert.Empty(t, stacked.Detail())
	assert.Same(t, cause, stacked.Cause())
	assert.Same(t, other, again.Cause())
	assert.Equal(t, []errorsx.Field{{Key: "k", Value: "v"}}, detailed.Info())

	two := d1.With("a", 1).With("b", 2)
	twoWrapped := two.Wrap(cause)
	twoDetailed := two.Detailf("other")
	assert.Equal(t, []errorsx.Field{{Key: "a", Value: 1}, {Key: "b", Value: 2}}, twoWrapped.Info())
	assert.Equal(t, []errorsx.Field{{Key: "a", Value: 1}, {Key: "b", Value: 2}}, twoDetailed.Info())
	assert.Equal(t, "first 1", two.Detail(), "With keeps the detail while moving the info out")
	assert.Equal(t, "other", twoDetailed.Detail())
	assert.Equal(t, "first 1", d1.Detail())

	if testing.CoverMode() == "" {
		bare := down.Wrap(cause)
		for _, c := range []struct {
			name   string
			allocs float64
			f      func()
		}{
			{"Def.Wrap 4xx", 1, func() { _ = bad.Wrap(cause) }},
			{"Def.Wrap 5xx (occurrence and its stack)", 2, func() { _ = down.Wrap(cause) }},
			{"Error.Wrap 5xx", 2, func() { _ = plain.Wrap(cause) }},
			{"Error.With on a 5xx with a stack", 1, func() { _ = bare.With("a", 1) }},
			{"Def.Detailf (occurrence and its text)", 2, func() { _ = bad.Detailf("x %s", "y") }},
			{"a second info field (occurrence and the fields)", 2, func() { _ = withInfo.With("b", 2) }},
			{"Error.With on a 4xx wrap (the cause moves to rare)", 2, func() { _ = bad.Wrap(cause).With("a", 1) }},
			{"Error.Wrap on a 4xx with a field (the cause goes to rare)", 1, func() { _ = withInfo.Wrap(cause) }},
		} {
			assert.Equal(t, c.allocs, testing.AllocsPerRun(100, c.f), "allocations of %s", c.name)
		}
	}
}

// TestCauseAndInfo: a cause and info in any order and number give the same
// occurrence, whichever place each takes (the cause shares the inline
// field's place while it is unused), and the occurrences they came from
// keep what they had.
func TestCauseAndInfo(t *testing.T) {
	r := errorsx.NewRegistry()
	bad := r.Define(http.StatusBadRequest, "x.bad", "Bad")
	down := r.Define(http.StatusServiceUnavailable, "x.down", "Down")
	cause, other := errors.New("cause"), errors.New("other")
	a := []errorsx.Field{{Key: "a", Value: 1}}
	ab := []errorsx.Field{{Key: "a", Value: 1}, {Key: "b", Value: 2}}
	for _, d := range []*errorsx.Def{bad, down} {
		wrapped := d.Wrap(cause)
		withA := d.With("a", 1)
		for _, c := range []struct {
			name  string
			e     *errorsx.Error
			cause error
			info  []errorsx.Field
		}{
			{"Wrap", wrapped, cause, nil},
			{"Wrap With", wrapped.With("a", 1), cause, a},
			{"With Wrap", withA.Wrap(cause), cause, a},
			{"Wrap With With", wrapped.With("a", 1).With("b", 2), cause, ab},
			{"With Wrap With", withA.Wrap(cause).With("b", 2), cause, ab},
			{"With With Wrap", withA.With("b", 2).Wrap(cause), cause, ab},
			{"With Wrap Wrap(nil)", withA.Wrap(cause).Wrap(nil), nil, a},
			{"Wrap Wrap(nil) With", wrapped.Wrap(nil).With("a", 1), nil, a},
			{"With Wrap With(a again)", withA.Wrap(cause).With("a", 1), cause, a},
			{"With Wrap Wrap", withA.Wrap(cause).Wrap(other), other, a},
			{"Wrap With Detailf", wrapped.With("a", 1).Detailf("d"), cause, a},
			{"Wrap With(empty key)", wrapped.With("", 0), cause, []errorsx.Field{{Key: "", Value: 0}}},
		} {
			t.Run(d.ID()+" "+c.name, func(t *testing.T) {
				assert.Equal(t, c.cause, c.e.Cause())
				assert.Equal(t, c.info, c.e.Info())
				assert.Same(t, d, c.e.Def())
				if c.cause != nil {
					assert.ErrorIs(t, c.e, c.cause)
					assert.True(t, strings.HasSuffix(c.e.Error(), ": "+c.cause.Error()), c.e.Error())
				} else {
					assert.Equal(t, d.Message(), c.e.Error())
				}
			})
		}
		assert.Equal(t, cause, wrapped.Cause(), "the occurrences built from wrapped leave it alone")
		assert.Nil(t, wrapped.Info())
		assert.Nil(t, withA.Cause(), "the occurrences built from withA leave it alone")
		assert.Equal(t, a, withA.Info())
	}
}
