package api

import (
	"encoding/json"
	"net/http"

	"github.com/otelkit/otelkit/httpx"
)

// ContentType is the media type of the company's error bodies.
const ContentType = "application/vnd.notes.error+json"

// Body renders errors in the company's shape,
// {"error":{"code":…,"message":…,"details":{…}}}, instead of problem+json.
// It describes itself (httpx.Describer), so the error catalog documents
// this body.
type Body struct{}

var (
	_ httpx.Renderer  = Body{}
	_ httpx.Describer = Body{}
)

type body struct {
	Error bodyError `json:"error"`
}

type bodyError struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// Render writes p in the company's shape.
func (Body) Render(w http.ResponseWriter, r *http.Request, p *httpx.Problem) error {
	b := body{Error: bodyError{Code: p.ID, Message: p.Title}}
	if len(p.Info) > 0 {
		b.Error.Details = make(map[string]any, len(p.Info))
		for _, f := range p.Info {
			b.Error.Details[f.Key] = f.Value
		}
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(p.Status)
	return json.NewEncoder(w).Encode(b)
}

// ContentTypes returns [ContentType].
func (Body) ContentTypes() []string { return []string{ContentType} }

// JSONSchema returns the schema of the company's body.
func (Body) JSONSchema() []byte {
	return []byte(`{
  "type": "object",
  "description": "The company's error body: a code clients branch on and a message for people.",
  "required": ["error"],
  "additionalProperties": false,
  "properties": {"error": {"$ref": "#/$defs/NotesError"}},
  "$defs": {
    "NotesError": {
      "type": "object",
      "required": ["code", "message"],
      "additionalProperties": false,
      "properties": {
        "code": {"type": "string", "pattern": "^[a-z0-9._-]+$", "description": "The error's id."},
        "message": {"type": "string", "description": "The registered message."},
        "details": {"type": "object", "additionalProperties": true, "description": "Public information about this occurrence (never for 5xx)."}
      }
    }
  }
}`)
}
