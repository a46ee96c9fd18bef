package errorsx_test

import (
	"net/http"
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
	if testing.CoverMode() == "" {
		assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = d.With("a", 1) }), "allocations of Def.With")
	}
}
