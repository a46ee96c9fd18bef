package parity

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// Registry holds the definitions of the table; every server and client of
// the parity tests resolves through it.
var Registry = errorsx.NewRegistry()

// The definitions the table answers with.
var (
	ErrUserNotFound = Registry.Define(http.StatusNotFound, "parity.user-not-found", "No such user")
	ErrDenied       = Registry.Define(http.StatusForbidden, "parity.denied", "Access denied")
	ErrStore        = Registry.Define(http.StatusServiceUnavailable, "parity.store-unavailable", "The store is unavailable")
	ErrInvalid      = Registry.Define(http.StatusBadRequest, "parity.invalid", "The request is invalid")
	ErrFieldMissing = Registry.Define(http.StatusBadRequest, "parity.field-missing", "A required field is missing")
)

// Secret appears in causes and in a secret-named info value: no answer of
// any transport may contain it.
const Secret = "s3cret-7f9a"

// Case is one row of the table: what the handler does and what every
// transport must answer.
type Case struct {
	// Name is the case's name; servers take it from the path or request.
	Name string
	// Do is the handler's body: it returns the error to answer (nil for
	// success) or panics.
	Do func() error
	// Def is the definition every transport answers with (nil: success).
	Def *errorsx.Def
	// Info is the public info the answer carries, as text (JSON for
	// non-strings, as both the HTTP body and the gRPC ErrorInfo metadata
	// write numbers).
	Info map[string]string
	// Masked lists the info keys whose value must be masked.
	Masked []string
	// Entries are the definitions of a joined error's entries, in order.
	Entries []*errorsx.Def
	// Failure says the server span gets status Error, error.type = id and
	// an exception record; otherwise status Unset and otelkit.error.id.
	Failure bool
}

// Cases is the table.
var Cases = []Case{
	{Name: "ok", Do: func() error { return nil }},
	{Name: "4xx-info", Do: func() error { return ErrUserNotFound.With("user_id", 42) },
		Def: ErrUserNotFound, Info: map[string]string{"user_id": "42"}},
	{Name: "4xx-secret-key", Do: func() error { return ErrDenied.With("api_token", Secret).With("scope", "admin") },
		Def: ErrDenied, Info: map[string]string{"scope": "admin"}, Masked: []string{"api_token"}},
	{Name: "5xx-cause", Do: func() error {
		return ErrStore.Wrap(fmt.Errorf("dial postgres://app:%s@db:5432: connection refused", Secret))
	}, Def: ErrStore, Failure: true},
	{Name: "joined", Do: func() error {
		return ErrInvalid.Join(ErrFieldMissing.With("field", "email"), ErrFieldMissing.With("field", "name"))
	}, Def: ErrInvalid, Entries: []*errorsx.Def{ErrFieldMissing, ErrFieldMissing}},
	{Name: "panic", Do: func() error { panic("boom: " + Secret) }, Def: errorsx.Internal, Failure: true},
	{Name: "unregistered", Do: func() error { return errors.New("internal text " + Secret) },
		Def: errorsx.Internal, Failure: true},
	{Name: "error-by-id", Do: func() error { return httpx.ErrorByID(ErrUserNotFound.ID()) }, Def: ErrUserNotFound},
}

// Run runs the case named name: its error, nil, or a panic. An unknown
// name is an unregistered error.
func Run(name string) error {
	for _, c := range Cases {
		if c.Name == name {
			return c.Do()
		}
	}
	return fmt.Errorf("parity: no case %q", name)
}
