// Package api is the quickstart service: its registered errors, its audit
// events and its routes. Keeping them in a package of their own (not main)
// lets `otelkit catalog ./examples/quickstart/...` list them.
package api

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/errorsx"
)

// Errors the service returns. Each is defined once; the body, the span and
// the metrics all follow from the definition.
var (
	ErrRateLimited = errorsx.Define(http.StatusTooManyRequests, "auth.rate-limited",
		"Rate limited due to too many false auth attempts from this ip",
		errorsx.Describe("Too many failed logins from one address. Retry after info.retry_after seconds."),
		errorsx.Translate("de", "Zu viele fehlgeschlagene Anmeldeversuche von dieser IP"),
		errorsx.Translate("fr", "Trop de tentatives de connexion échouées depuis cette adresse IP"))
	ErrUserNotFound = errorsx.Define(http.StatusNotFound, "users.not-found", "User not found",
		errorsx.Translate("de", "Benutzer nicht gefunden"),
		errorsx.Translate("fr", "Utilisateur introuvable"))
	ErrBadUserID = errorsx.Define(http.StatusBadRequest, "users.bad-id", "The user id must be a number",
		errorsx.Translate("de", "Die Benutzer-ID muss eine Zahl sein"))
	ErrBadJSON     = errorsx.Define(http.StatusBadRequest, "request.bad-json", "The request body is not valid JSON")
	ErrInvalidUser = errorsx.Define(http.StatusUnprocessableEntity, "users.invalid", "The user is not valid",
		errorsx.Describe("Validation failed; each entry of errors names one problem."))
	ErrNameRequired  = errorsx.Define(http.StatusUnprocessableEntity, "users.name-required", "A name is required")
	ErrEmailInvalid  = errorsx.Define(http.StatusUnprocessableEntity, "users.email-invalid", "The email address is not valid")
	ErrStorage       = errorsx.Define(http.StatusServiceUnavailable, "storage.unavailable", "The storage is unavailable, try again later")
	ErrAdminNotFound = errorsx.Define(http.StatusNotFound, "admin.user-missing", "No such account in the admin directory")
)

// The errors the service does not own, mapped at start-up like the
// definitions (in init, so that the catalog command sees them too).
func init() {
	errorsx.Map(sql.ErrNoRows, ErrUserNotFound)
	errorsx.MapType[*json.SyntaxError](ErrBadJSON)
	errorsx.MapType[*json.UnmarshalTypeError](ErrBadJSON)
	errorsx.Map(io.ErrUnexpectedEOF, ErrBadJSON) // a truncated body
	adminRegistry.Map(sql.ErrNoRows, ErrAdminNotFound)
}

// adminRegistry is the admin group's registry: consulted before the
// default one, it maps sql.ErrNoRows to an error of its own.
var adminRegistry = errorsx.NewRegistry(errorsx.WithParent(errorsx.Default()))

// Audit events. Event types are dot-namespaced snake_case, as the
// semantic conventions' naming rules ask; parameters that have a
// conventional attribute are named by it ({user.name}, {user.id},
// {client.address}), so the parameter is the conventional attribute, and
// {user.id} and {client.address} come from the request when not given.
var (
	LoginFailed = auditx.Define("auth.login_failed", auditx.LevelWarn,
		"User '{user.name}' failed to log in from {client.address} with password {password}")
	ProfileViewed = auditx.Define("users.profile_viewed", auditx.LevelInfo,
		"User '{user.id}' viewed the profile of user {profile_id}")
	UserCreated = auditx.Define("users.created", auditx.LevelInfo,
		"User '{user.id}' created user {new_user.name} <{new_user.email}>")
)
