package api

import (
	otellog "go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/auditx"
)

// Audits are the service's audit events, in a registry of their own that
// emits through the service's logger provider rather than the global one
// (auditx.Default() follows the global provider).
type Audits struct {
	// NoteDeleted is emitted when a note is deleted.
	NoteDeleted *auditx.Event
}

// NewAudits defines the audit events in a new registry emitting through lp.
func NewAudits(lp otellog.LoggerProvider) *Audits {
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(lp))
	return &Audits{
		NoteDeleted: reg.Define("note.deleted", auditx.LevelInfo, "Note {note.id} deleted by {user.id}"),
	}
}
