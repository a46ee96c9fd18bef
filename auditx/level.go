package auditx

import (
	"strconv"

	"go.opentelemetry.io/otel/log"
)

// Level is the importance of an audit event. Its value is the OpenTelemetry
// severity number the event's records carry.
type Level int

// The levels an event can be defined with.
const (
	LevelDebug    Level = Level(log.SeverityDebug) // severity 5, "DEBUG"
	LevelInfo     Level = Level(log.SeverityInfo)  // severity 9, "INFO"
	LevelWarn     Level = Level(log.SeverityWarn)  // severity 13, "WARN"
	LevelError    Level = Level(log.SeverityError) // severity 17, "ERROR"
	LevelCritical Level = Level(log.SeverityFatal) // severity 21, "CRITICAL"
)

// Severity returns the OpenTelemetry severity number of l.
func (l Level) Severity() log.Severity { return log.Severity(l) }

// String returns the severity text of l: "DEBUG", "INFO", "WARN", "ERROR"
// or "CRITICAL", and "Level(n)" for a value that is not one of the levels.
func (l Level) String() string {
	switch l {
	case LevelDebug:
		return "DEBUG"
	case LevelInfo:
		return "INFO"
	case LevelWarn:
		return "WARN"
	case LevelError:
		return "ERROR"
	case LevelCritical:
		return "CRITICAL"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

func (l Level) valid() bool {
	switch l {
	case LevelDebug, LevelInfo, LevelWarn, LevelError, LevelCritical:
		return true
	}
	return false
}
