// Package mask holds the masking policy that every part of otelkit applies
// before it writes a value anywhere: error info in response bodies and
// telemetry, audit attributes and rendered audit messages, the extras and
// attributes of captured errors, /dev/errors and notifications, and the slog
// records of the bridge otelbridge.Setup installs ([NewHandler]).
//
// # Keys
//
// A [Policy] decides by key: a key is sensitive when it contains one of the
// policy's words, compared without regard to ASCII case and with '-' and
// '_' alike. [DefaultKeys] covers Sentry's default scrub list (password,
// passwd, secret, token, api_key, apikey, auth, credentials, session,
// cookie, csrf, …), so "user_password", "Authorization", "session_id" and
// "X-Api-Key" are masked while "user" and "client.address" are not. Values
// of sensitive keys are replaced by [Mask]; the key itself is kept so that
// readers see that a value existed.
//
// # Free text and value patterns
//
// [Policy.Text] masks the value that follows a sensitive key in free text,
// in the shapes errors and logs take (key=value, key: value, JSON, escaped
// JSON, form bodies, HTTP header lines, Go maps), and the value patterns of
// the policy wherever they appear: card numbers, auth-scheme credentials,
// JWTs, URL and DSN passwords, and well-known cloud credentials ([Pattern]).
//
// # Structured values
//
// [Policy.Value] masks any Go value by walking it (maps, slices, structs,
// pointers), replacing errors and what JSON cannot encode, so that nothing
// is printed unmasked; [Policy.Attr] does the same for OpenTelemetry
// attributes (attribute.Map, attribute.Slice, string slices).
//
// One policy object is shared: [Default] returns the process-wide policy that
// errorsx, httpx, auditx, errtrack and otelbridge use unless they are given
// another one with their WithMask options; [Policy.With] derives a changed
// copy.
package mask
