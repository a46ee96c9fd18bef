package auditx

import (
	"strconv"
	"strings"
)

var (
	_ error = (*MissingParamsError)(nil)
	_ error = (*UnregisteredError)(nil)
)

// MissingParamsError reports that a record was emitted without values for
// some of its template's parameters. The record was emitted anyway, with
// the names in otelkit.audit.missing; the error goes to the registry's error
// handler ([otel.Handle] by default).
type MissingParamsError struct {
	Type   string   // the event type
	Params []string // the parameters without a value, in template order
}

// Error implements error.
func (e *MissingParamsError) Error() string {
	return "auditx: " + strconv.Quote(e.Type) + " emitted without " + strings.Join(e.Params, ", ")
}

// UnregisteredError reports that a record was emitted by name for a type
// that is not defined. The record was emitted anyway, marked
// otelkit.audit.unregistered=true.
type UnregisteredError struct {
	Type string // the type given to Emit
}

// Error implements error.
func (e *UnregisteredError) Error() string {
	return "auditx: emitted unregistered event type " + strconv.Quote(e.Type)
}
