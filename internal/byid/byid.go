// Package byid is the error that names its definition by id
// (httpx.ErrorByID, httpx.Abort) and the one resolution every transport
// applies to it, so that such an error answers the same over httpx, grpcx
// and the other adapters.
package byid

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/otel"

	"github.com/otelkit/otelkit/errorsx"
)

// Error names a definition by id; Status, when not 0, is the status the
// definition must have (the deprecated httpx.Abort).
type Error struct {
	Status int
	ID     string
}

// Error says which id was asked for, and how.
func (a *Error) Error() string {
	if a.Status == 0 {
		return fmt.Sprintf("httpx.ErrorByID(%q)", a.ID)
	}
	return fmt.Sprintf("httpx.Abort(%d, %q)", a.Status, a.ID)
}

// Is lets errors.Is(err, def) hold when the id names def.
func (a *Error) Is(target error) bool {
	d, ok := target.(*errorsx.Def)
	return ok && d.ID() == a.ID && (a.Status == 0 || d.Status() == a.Status)
}

// ErrorType returns the id asked for.
func (a *Error) ErrorType() string { return a.ID }

// Match resolves err through reg as every transport does: reg.Match, and
// when that finds nothing registered, an *Error in the chain by its id. An
// id that is not registered (or whose status differs) gives the internal
// error and why, which is also reported to otel.Handle; the caller records
// why in place of err so that telemetry says it.
func Match(reg *errorsx.Registry, err error) (m errorsx.Match, why error) {
	m = reg.Match(err)
	if m.Registered() {
		return m, nil
	}
	return matchByID(reg, err, m)
}

// matchByID is Match for an error the registry does not know. It is apart
// so that the target errors.As takes escapes only on this path: a
// registered error costs no allocation.
func matchByID(reg *errorsx.Registry, err error, m errorsx.Match) (errorsx.Match, error) {
	var a *Error
	if !errors.As(err, &a) {
		return m, nil
	}
	var why error
	d, ok := reg.Lookup(a.ID)
	switch {
	case !ok:
		why = fmt.Errorf("%s: no error is registered with id %q", a.Error(), a.ID)
	case a.Status != 0 && d.Status() != a.Status:
		why = fmt.Errorf("%s: %q is registered with status %d", a.Error(), a.ID, d.Status())
	default:
		return errorsx.Match{Def: d, Matched: d}, nil
	}
	otel.Handle(why)
	return errorsx.Match{Def: errorsx.Internal}, why
}
