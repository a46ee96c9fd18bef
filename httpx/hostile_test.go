package httpx_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
)

type hostileError struct{}

func (hostileError) Error() string { panic("Error() exploded") }

type hostileStringer struct{}

func (hostileStringer) String() string { panic(hostileError{}) } // its panic value is hostile too

// Issue 18 item 16: a panic value whose Error() or String() itself panics
// still gives a 500 problem body and telemetry, not a reset connection.
func TestHostilePanicValuesItem16(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value any
		typ   string
	}{
		{"Error panics", hostileError{}, "httpx_test.hostileError"},
		{"String panics with a hostile value", hostileStringer{}, "httpx_test.hostileStringer"},
		{"pointer to hostile error", &hostileError{}, "*httpx_test.hostileError"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tel := newTelemetry(t)
			h := tel.serve(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(tt.value) }))
			rec := do(h, "GET", "/")
			require.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.Equal(t, "internal", body(t, rec)["id"])
			span := tel.onlySpan(t)
			assert.Equal(t, codes.Error, span.Status().Code)
			events := exceptionEvents(span)
			require.Len(t, events, 1)
			ev := attrMap(events[0].Attributes)
			assert.Equal(t, tt.typ, ev["exception.type"].AsString())
			assert.Equal(t, "panic: "+tt.typ+" (its text panicked)", ev["exception.message"].AsString())
		})
	}
}
