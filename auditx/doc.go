// Package auditx defines audit events once and emits each occurrence as an
// OpenTelemetry log record that an operator can find, filter and read in a
// collector backend.
//
// # Defining events
//
// An event has a type, a [Level] and a message template. Definitions are
// package-level variables, so a malformed one stops the program at start-up
// with a panic that names it:
//
//	var LoginFailed = auditx.Define("auth.login_failed", auditx.LevelWarn,
//		"User '{user.name}' failed to log in from {client.address}")
//
// Types use [a-z0-9._-]; name them in dot-namespaced snake_case
// (auth.login_failed), as the semantic conventions' naming rules ask ('-'
// is still accepted). A placeholder is {name}, the name starting with an
// ASCII letter or '_' and continuing with letters, digits, '_', '.' or '-';
// a parameter that has a conventional attribute should be named by its key
// ({user.name}, {user.id}, {client.address}), so that the parameter is the
// conventional attribute;
// "{{" and "}}" stand for literal braces. The template is parsed once, by
// Define.
//
// # Emitting
//
// [Event.Emit] takes the values as OpenTelemetry attributes, the type the
// log API itself takes; [Emit] finds the event by its type:
//
//	LoginFailed.Emit(ctx, attribute.String("client.address", ip))
//	auditx.Emit(ctx, "auth.login_failed", attribute.String("client.address", ip))
//
// Emitting does no reflection and no formatting through fmt; the body is
// rendered into a stack buffer and the record is built by value, so a
// record costs one allocation of its own (the body and its id share it),
// and one more when it has more than the five attributes a log.Record
// holds inline, besides what the logger provider spends.
//
// # The record
//
// Every record has the instrumentation scope [ScopeName], and
//
//   - EventName: the event type;
//   - Severity and SeverityText: from the level (DEBUG 5, INFO 9, WARN 13,
//     ERROR 17, CRITICAL 21);
//   - Timestamp: the time of Emit;
//   - Body: the template rendered with the values, as a string;
//   - one attribute per template parameter, under the parameter's name;
//   - the other attributes given to Emit, as they are;
//   - otelkit.audit.template: the raw template; otelkit.audit.record_id: an id unique to the
//     record (a random per-process prefix and a counter);
//   - trace and span ids of the span in the context;
//   - inside an httpx request (package internal/reqctx): http.route,
//     http.request.method, client.address, user.id; inside an RPC served
//     under grpcx (or connectx): rpc.system.name, rpc.method,
//     client.address, user.id; and the extras set with
//     otelbridge.WithExtras.
//
// A parameter takes its value, in this order of precedence, from
//
//  1. the attribute of its name given to Emit (the last one);
//  2. the request's value when it names one that otelkit adds from the
//     context: http.route, http.request.method, client.address, user.id,
//     rpc.system.name, rpc.method;
//  3. an extra of its name (otelbridge.WithExtras);
//
// and is missing otherwise. The record carries each key once, with the
// value the body shows. A legacy {user} placeholder without a "user"
// attribute is filled from the request's user id; prefer {user.id}. The
// otelkit.audit.* keys are set by auditx only.
//
// # Values are data
//
// A value is never read as a template: "{x}" in a value is rendered as it
// is. Values are rendered on one line so that they cannot forge another
// record in a text view: a backslash becomes \\, newline, carriage return
// and tab become \n, \r and \t, other control characters and invalid UTF-8
// become \xNN, and the Unicode line separators and bidirectional controls
// become \uNNNN. Quotes are kept. Attributes carry the values unchanged.
//
// # Masking
//
// Values under keys that the registry's [mask.Policy] finds sensitive
// (by default keys containing password, secret, token, authorization,
// cookie or api_key) are replaced by [mask.Mask] in the attributes and in
// the body, whether they were given to Emit or came from the request or its
// extras. The policy is [mask.Default] unless [WithMask] gives another.
//
// # Mistakes
//
// An audit is never dropped for a caller's mistake. A parameter without a
// value is rendered as <missing name>, listed in the string slice attribute
// otelkit.audit.missing, and reported as a [*MissingParamsError] to [otel.Handle]
// (or the handler given by [WithErrorHandler]). A type that is not defined,
// given to [Emit], is emitted at LevelWarn with otelkit.audit.unregistered=true and
// the body `type key="value" ...`, and reported as an [*UnregisteredError].
//
// # Required events
//
// Most audits must never fail or slow the request they record. Some actions
// must not happen unless their audit is stored: declare those events
// [Required] (or a whole registry with [WithRequired]). Their Emit waits
// until the record is written and fsynced to the audit delivery spool
// (package auditx/delivery, which claims the wait through the context it
// is given) and returns an error resolving to [ErrUnavailable], a 503
// "audit.unavailable", when that did not happen within the registry's
// required timeout ([WithRequiredTimeout]) or the pipeline reported that it
// cannot (no spool, unwritable directory, full disk, size cap, shutdown),
// or when no processor of the logger provider can store durably at all.
// Emit the required audit before committing the action and return its
// error:
//
//	var AccountDeleted = auditx.Define("account.deleted", auditx.LevelWarn,
//		"Account {account} deleted", auditx.Required())
//
//	if err := AccountDeleted.Emit(ctx, attribute.String("account", id)); err != nil {
//		return err // 503 problem body, recorded as a failure
//	}
//	deleteAccount(id)
//
// An error means the record may not be stored (it may still arrive later);
// nil means it is in the spool. Other events' Emit always returns nil.
//
// # Registries and providers
//
// The package-level functions use [Default], which emits through the global
// logger provider installed last by [otel.SetLoggerProvider]. [NewRegistry]
// makes another registry: [WithLoggerProvider] gives its provider (the
// global one as it is at construction otherwise), [WithParent] a registry
// consulted after it, [WithMask] its masking policy.
package auditx
