package httpx

// Describer is implemented by a [Renderer] that describes the bodies it
// writes, so that the error catalog (package catalog's WithRenderer, the
// otelkit catalog command's -renderer flag) documents the bodies the
// service really answers with. It is optional: a Renderer without it works
// as before, and the catalog then learns the content type and an example
// body of each error by rendering it, without a schema.
//
// [ProblemJSON] and [ErrorList] implement it.
type Describer interface {
	// ContentTypes returns the media types of the bodies, the one written
	// when the request does not ask for another first.
	ContentTypes() []string
	// JSONSchema returns the JSON Schema (draft 2020-12, the dialect of
	// OpenAPI 3.1) of a body, as a JSON object. Schemas it refers to are
	// under "$defs" and referred to as "#/$defs/<name>", so they can be
	// moved into an OpenAPI document's components.
	JSONSchema() []byte
}

var (
	_ Describer = ProblemJSON{}
	_ Describer = ErrorList{}
)

// ContentTypes returns application/problem+json, then application/json
// (written when the client asks only for that).
func (ProblemJSON) ContentTypes() []string {
	return []string{"application/problem+json", "application/json"}
}

// JSONSchema returns the schema of an RFC 9457 problem body with otelkit's
// id, info, trace id and entries; an entry's schema is "$defs/ProblemEntry".
func (ProblemJSON) JSONSchema() []byte { return []byte(problemJSONSchema) }

// ContentTypes returns application/json.
func (ErrorList) ContentTypes() []string { return []string{"application/json"} }

// JSONSchema returns the schema of {"errors":[…]}; an entry's schema is
// "$defs/ErrorListEntry".
func (ErrorList) JSONSchema() []byte { return []byte(errorListSchema) }

// idSchema and infoSchema are shared by both schemas.
const (
	idSchema   = `{"type":"string","pattern":"^[a-z0-9._-]+$","description":"The stable identifier of the error; clients branch on it."}`
	infoSchema = `{"type":"object","additionalProperties":true,"description":"Public information about this occurrence (never given for 5xx)."}`
)

const problemJSONSchema = `{
  "type": "object",
  "description": "An error response: RFC 9457 problem details with otelkit's id, info and entries.",
  "required": ["type", "title", "status", "id"],
  "properties": {
    "type": {"type": "string", "format": "uri-reference", "description": "The error's URI: the service's docs base URL followed by the id, or urn:otelkit:error: followed by the id."},
    "title": {"type": "string", "description": "The registered message of the error, in the language chosen from Accept-Language when a translation exists."},
    "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status code."},
    "id": ` + idSchema + `,
    "instance": {"type": "string", "format": "uri-reference", "description": "The request that failed."},
    "detail": {"type": "string", "description": "A public explanation of this occurrence (never given for 5xx)."},
    "info": ` + infoSchema + `,
    "trace_id": {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "The W3C trace id of the request, for support."},
    "errors": {"type": "array", "description": "The errors reported together in this response, each with its own id.", "items": {"$ref": "#/$defs/ProblemEntry"}}
  },
  "$defs": {
    "ProblemEntry": {
      "type": "object",
      "description": "One of several errors reported in one response.",
      "required": ["id", "title", "status"],
      "properties": {
        "id": ` + idSchema + `,
        "title": {"type": "string", "description": "The registered message of the entry's error."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "info": ` + infoSchema + `
      }
    }
  }
}`

const errorListSchema = `{
  "type": "object",
  "description": "An error response: the errors of the request, one entry for a single error.",
  "required": ["errors"],
  "properties": {
    "errors": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/ErrorListEntry"}}
  },
  "$defs": {
    "ErrorListEntry": {
      "type": "object",
      "description": "One error of the response.",
      "required": ["code", "message"],
      "properties": {
        "code": ` + idSchema + `,
        "message": {"type": "string", "description": "The registered message of the error, in the language chosen from Accept-Language when a translation exists."},
        "detail": {"type": "string", "description": "A public explanation of this occurrence (never given for 5xx)."},
        "info": ` + infoSchema + `
      }
    }
  }
}`
