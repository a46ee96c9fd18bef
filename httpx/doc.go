// Package httpx renders otelkit's error registry for HTTP clients and
// records every rendered error on the request's telemetry.
//
// # Handlers that return errors
//
// A [HandlerFunc] returns an error instead of writing one; [Handler] wraps a
// mux (or any http.Handler) and holds the settings:
//
//	mux := http.NewServeMux()
//	mux.Handle("GET /users/{id}", httpx.HandlerFunc(getUser))
//	handler := httpx.Handler(mux)
//	http.ListenAndServe(addr, otelhttp.NewHandler(handler, "api"))
//
// Plain http.HandlerFuncs call [WriteError]. [Abort] returns the registered
// error for an id, in the style of Flask's abort.
//
// # What the client sees
//
// By default an RFC 9457 application/problem+json body ([ProblemJSON]):
// type, title (the registered message), status, id, instance, and, when
// present, detail, info, trace_id and errors (the entries of a joined
// error). [ErrorList] renders {"errors":[{"code","message","info"}]}
// instead; any [Renderer] plugs in with [WithRenderer]. A 5xx or
// unregistered error never shows its cause, a stack or a Go type: only the
// registered message, id and trace id. Once a handler has started its
// response, nothing more is written; the error still reaches telemetry.
//
// Requests that match no route, or a route with another method, are
// answered with the registered not-found (404) and method-not-allowed (405,
// keeping Allow) bodies instead of the router's plain text. This works for
// http.ServeMux and for routers that, like chi, answer through the wrapped
// writer with a plain-text or untyped 404/405 when no route matched; a
// matched handler's own 404 (ServeMux) or any JSON 404 is left alone. Panics are
// recovered and answered with the internal error (http.ErrAbortHandler is
// re-panicked).
//
// # What telemetry records
//
// httpx follows the OpenTelemetry semantic conventions v1.43.0. On the
// request's span (the otelhttp server span), for a failure (5xx, an
// unregistered error, a panic): status Error with the id as description,
// error.type = id, and an exception record named
// http.server.request.exception with exception.type (the innermost cause's
// Go type), exception.message, exception.stacktrace, otelkit.error.id and
// otelkit.error.fingerprint. For a 4xx: status Unset, no error.type and no
// exception record (a client's mistake is not an exception of the server);
// the id is otelkit.error.id. http.route comes from the matched ServeMux
// pattern. errors.Join of a 4xx and a 5xx is a failure.
//
// The exception record is a span event, a log record or both, as
// OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN says (unset: span events; "logs";
// "logs/dup"), or [WithExceptionSignal]; log records go through
// [WithLoggerProvider]'s provider at severity ERROR. [WithClientErrorLogs]
// adds a WARN log record for 4xx. [WithStackFrames] bounds or drops
// exception.stacktrace (default: every frame captured).
// A chi router wrapped by the Handler routes the Handler's own request
// (the Handler gives it chi's routing context), so http.route is chi's
// full pattern, through mounted sub-routers, for every request, as it is
// with ServeMux. A router that routes a copy of the request outside the
// Handler's reach shows its pattern only in the request handed to
// [WriteError] (as [HandlerFunc] does).
//
// otelhttp (v0.72) sets the span status itself after the handler returns:
// codes.Error with an empty description for every 5xx, which replaces the
// id httpx put there. The code stays Error and error.type keeps the id;
// otelbridge.Setup wraps its span processors with
// otelbridge.ErrorStatusProcessor, which puts the id back as the
// description of the exported span (wrap your own tracer provider's
// processors likewise).
// otelhttp's request metrics get error.type (failures) or otelkit.error.id
// (4xx) through its labeler: a bounded label, since ids come from the
// registry and every unregistered error is "internal".
//
// # Nesting
//
// Handlers nest: a group of routes gets its own Handler with
// [WithRegistry] (a child registry), its errors are handled there, once,
// and the outer Handler never renders them again.
package httpx
