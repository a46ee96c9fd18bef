// Package api holds the errors of a test service.
package api

import (
	"database/sql"
	"encoding/json"
	"net/http"

	"github.com/otelkit/otelkit/errorsx"
)

var (
	// ErrUserNotFound is returned when no user has the id.
	ErrUserNotFound = errorsx.Define(http.StatusNotFound, "user.not-found", "The user was not found",
		errorsx.Describe("No user has the id given in the path."),
		errorsx.Translate("de", "Der Benutzer wurde nicht gefunden"),
		errorsx.Translate("fr", "L'utilisateur est introuvable"))
	// ErrBadJSON is returned for a body that is not JSON.
	ErrBadJSON = errorsx.Define(http.StatusBadRequest, "request.bad-json", "The request body is not valid JSON",
		errorsx.Translate("de", "Der Anfragetext ist kein gültiges JSON"))
	// ErrRateLimited is returned after too many attempts.
	ErrRateLimited = errorsx.Define(http.StatusTooManyRequests, "auth.rate-limited",
		"Rate limited due to too many false auth attempts from this ip")
)

func init() {
	errorsx.Map(sql.ErrNoRows, ErrUserNotFound)
	errorsx.MapType[*json.SyntaxError](ErrBadJSON)
}
