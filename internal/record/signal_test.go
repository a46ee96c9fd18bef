package record_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelkit/otelkit/internal/record"
)

func TestParseSignal(t *testing.T) {
	for v, want := range map[string]record.Signal{
		"":                  record.SignalSpanEvents,
		"logs":              record.SignalLogs,
		"logs/dup":          record.SignalLogsAndSpanEvents,
		" logs ":            record.SignalLogs,
		"http,logs":         record.SignalLogs,
		"logs,logs/dup":     record.SignalLogsAndSpanEvents,
		"spans":             record.SignalSpanEvents,
		"LOGS":              record.SignalSpanEvents, // the values are lower case
		"database,logs/dup": record.SignalLogsAndSpanEvents,
	} {
		assert.Equal(t, want, record.ParseSignal(v), "%q", v)
	}
}

func TestDefaultSignal(t *testing.T) {
	t.Setenv(record.EnvExceptionSignal, "logs")
	assert.Equal(t, record.SignalLogs, record.DefaultSignal())
	assert.Equal(t, record.SignalLogs, record.SignalDefault.Resolve())
	assert.Equal(t, record.SignalSpanEvents, record.SignalSpanEvents.Resolve(), "an explicit signal wins")

	record.SetDefaultSignal(record.SignalLogsAndSpanEvents)
	t.Cleanup(func() { record.SetDefaultSignal(record.SignalDefault) })
	assert.Equal(t, record.SignalLogsAndSpanEvents, record.DefaultSignal(), "the process default wins over the variable")

	record.SetDefaultSignal(record.SignalDefault)
	assert.Equal(t, record.SignalLogs, record.DefaultSignal(), "back to the variable")
}

// TestDefaultSignalAllocs: every failure asks for the process default;
// reading the variable allocates nothing.
func TestDefaultSignalAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	for _, v := range []string{"", "http,logs/dup"} {
		t.Setenv(record.EnvExceptionSignal, v)
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = record.DefaultSignal() }), "%q", v)
	}
}
