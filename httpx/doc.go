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
// On the request's span (the otelhttp server span): error.type = id; status
// Error with the id for 5xx (Unset for 4xx, per the server-span
// conventions); an "exception" event with exception.type (the innermost
// cause's Go type), exception.message, otelkit.error.id and, for 5xx,
// exception.stacktrace; http.route from the matched ServeMux pattern.
// Routers that route on a copy of the request (chi) show their pattern to
// httpx only in the request handed to [WriteError] (as [HandlerFunc] does),
// so with chi http.route is set for rendered errors but not for successful
// requests.
//
// otelhttp (v0.72) sets the span status itself after the handler returns:
// codes.Error with an empty description for every 5xx, which replaces the
// id httpx put there. The code stays Error and error.type keeps the id;
// otelbridge.Setup wraps its span processors with
// otelbridge.ErrorStatusProcessor, which puts the id back as the
// description of the exported span (wrap your own tracer provider's
// processors likewise).
// otelhttp's http.server.request.duration gets error.type through its
// labeler. 5xx errors and panics are also emitted as "exception" log
// records, which otelbridge and errtrack consume.
//
// # Nesting
//
// Handlers nest: a group of routes gets its own Handler with
// [WithRegistry] (a child registry), its errors are handled there, once,
// and the outer Handler never renders them again.
package httpx
