// Package api holds the notes service's errors and its error body, as an
// adopting team writes them: a registry of its own (a child of
// errorsx.Default(), so that otelkit catalog finds it), a route group's
// registry below it, and the company's body shape.
package api

import (
	"errors"
	"net/http"

	"github.com/otelkit/otelkit/errorsx"
)

// Registry is the service's registry. Its parent is errorsx.Default(), so
// the built-in definitions resolve through it and `otelkit catalog`
// catalogs it with the default registry's children.
var Registry = errorsx.NewRegistry(errorsx.WithParent(errorsx.Default()))

// AdminRegistry is the /admin/ route group's registry: the service's
// definitions plus its own, and its own mappings.
var AdminRegistry = errorsx.NewRegistry(errorsx.WithParent(Registry))

// The service's errors.
var (
	ErrNoteNotFound = Registry.Define(http.StatusNotFound, "note.not-found", "The note was not found",
		errorsx.Describe("No note has the id given in the path."))
	ErrTitleMissing = Registry.Define(http.StatusUnprocessableEntity, "note.title-missing", "A note needs a title")
	ErrStoreClosed  = Registry.Define(http.StatusServiceUnavailable, "store.closed", "The notes store is closed, try again later")

	ErrAdminForbidden = AdminRegistry.Define(http.StatusForbidden, "admin.forbidden", "Only administrators may do that")
)

// ErrClosed is what the store returns once closed; like database/sql's
// "database is closed" it is a plain value, mapped to ErrStoreClosed.
var ErrClosed = errors.New("store: closed")

func init() {
	Registry.Map(ErrClosed, ErrStoreClosed)
}
