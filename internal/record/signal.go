package record

import (
	"os"
	"strings"
	"sync/atomic"
)

// Signal says where exception records go.
//
// The semantic conventions (docs/exceptions/README.md, v1.43.0 and later)
// deprecate exceptions as span events in favour of log records, and ask
// instrumentations that record them as span events to honour
// OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN: "logs" emits exceptions as logs
// only, "logs/dup" emits both span events and logs "allowing for a phased
// rollout", and any other value (or none) keeps span events only.
type Signal uint8

const (
	// SignalDefault follows the process default: the signal set by
	// [SetDefaultSignal] (otelbridge.Setup's WithExceptionSignal), else
	// OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN.
	SignalDefault Signal = iota
	// SignalSpanEvents records exceptions as span events only (the
	// variable unset). Where no span is recording (no span in the context,
	// or one the sampler dropped) the log record is written instead, so a
	// failure is never left without a record.
	SignalSpanEvents
	// SignalLogs records exceptions as log records only ("logs").
	SignalLogs
	// SignalLogsAndSpanEvents records both ("logs/dup").
	SignalLogsAndSpanEvents
)

// EnvExceptionSignal is the variable of the semantic conventions that
// chooses the exception signal.
const EnvExceptionSignal = "OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN"

// ParseSignal maps a value of OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN to a
// Signal: "logs", "logs/dup", anything else span events. The variable is a
// comma-separated list in the style of OTEL_SEMCONV_STABILITY_OPT_IN;
// "logs/dup" wins over "logs" when both appear.
func ParseSignal(v string) Signal {
	s := SignalSpanEvents
	if v == "" {
		return s // the variable unset: every 5xx asks
	}
	for part := range strings.SplitSeq(v, ",") {
		switch strings.TrimSpace(part) {
		case "logs/dup":
			return SignalLogsAndSpanEvents
		case "logs":
			s = SignalLogs
		}
	}
	return s
}

// String returns the variable's value for s ("" for span events only).
func (s Signal) String() string {
	switch s {
	case SignalLogs:
		return "logs"
	case SignalLogsAndSpanEvents:
		return "logs/dup"
	case SignalSpanEvents:
		return ""
	}
	return "default"
}

var defaultSignal atomic.Uint32

// SetDefaultSignal sets the process default; SignalDefault goes back to
// the environment variable.
func SetDefaultSignal(s Signal) { defaultSignal.Store(uint32(s)) }

// DefaultSignal returns the process default: the one set by
// SetDefaultSignal, else the environment variable's, read on every call
// (os.Getenv is a map lookup) so that a change made by tests is seen.
func DefaultSignal() Signal {
	if s := Signal(defaultSignal.Load()); s != SignalDefault {
		return s
	}
	return ParseSignal(os.Getenv(EnvExceptionSignal))
}

// Resolve returns s, or the process default when s is SignalDefault.
func (s Signal) Resolve() Signal {
	if s == SignalDefault {
		return DefaultSignal()
	}
	return s
}

// spans reports whether s writes span events.
func (s Signal) spans() bool { return s == SignalSpanEvents || s == SignalLogsAndSpanEvents }

// logs reports whether s writes log records.
func (s Signal) logs() bool { return s == SignalLogs || s == SignalLogsAndSpanEvents }
