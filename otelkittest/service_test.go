package otelkittest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// A small service under test: its errors and audits are package-level
// definitions in the default registries, as in a real service.
var (
	ErrNoteNotFound = errorsx.Define(http.StatusNotFound, "kittest.note-not-found", "Note not found")
	ErrRateLimited  = errorsx.Define(http.StatusTooManyRequests, "kittest.rate-limited", "Too many attempts")
	ErrStorage      = errorsx.Define(http.StatusServiceUnavailable, "kittest.storage", "The storage is unavailable")

	NoteDeleted = auditx.Define("kittest.note_deleted", auditx.LevelInfo, "Note {note} deleted by {user}")
	LoginFailed = auditx.Define("kittest.login_failed", auditx.LevelWarn, "User '{user}' failed to log in")
)

// errDial is the internal cause of the storage error: no client sees it.
var errDial = errors.New("dial tcp 10.0.0.7:5432: connect: connection refused")

func routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /notes/{id}", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		switch r.PathValue("id") {
		case "1":
			w.Header().Set("Content-Type", "application/json")
			_, err := w.Write([]byte(`{"id":1}`))
			return err
		case "db":
			return ErrStorage.Wrap(fmt.Errorf("load note: %w", errDial))
		}
		return ErrNoteNotFound
	}))
	mux.Handle("DELETE /notes/{id}", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		NoteDeleted.Emit(r.Context(), attribute.String("note", r.PathValue("id")), attribute.String("user", r.Header.Get("X-User")))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	mux.Handle("POST /login", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		var c struct{ User, Password string }
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			return err
		}
		LoginFailed.Emit(r.Context(), attribute.String("user", c.User), attribute.String("password", c.Password))
		return ErrRateLimited.With("retry_after", 30)
	}))
	mux.Handle("GET /panic", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		var m map[string]int
		//lint:ignore SA5000 the route panics on purpose
		m["boom"]++
		return nil
	}))
	return httpx.Handler(mux)
}
