package otelbridge_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"

	"github.com/otelkit/otelkit/otelbridge"
)

type hostileError struct{}

func (hostileError) Error() string { panic("Error() exploded") }

// Issue 18 item 16: Track survives a panic value whose Error() panics: it
// returns a *PanicError whose text is safe, and records the panic.
func TestTrackHostilePanicItem16(t *testing.T) {
	rec, _ := installProviders(t)
	var err error
	require.NotPanics(t, func() {
		err = otelbridge.Track(context.Background(), "job.hostile", func(context.Context) error { panic(hostileError{}) })
	})
	var perr *otelbridge.PanicError
	require.True(t, errors.As(err, &perr))
	assert.Equal(t, "panic: otelbridge_test.hostileError (its text panicked)", err.Error())
	spans := rec.Ended()
	require.Len(t, spans, 1)
	assert.Equal(t, codes.Error, spans[0].Status().Code)
	found := false
	for _, ev := range spans[0].Events() {
		if m := spanAttrs(ev.Attributes)["exception.message"]; m.AsString() != "" {
			found = true
			assert.Equal(t, "panic: otelbridge_test.hostileError (its text panicked)", m.AsString())
		}
	}
	assert.True(t, found, "the panic is recorded on the job's span")
}
