// Package echox renders otelkit's registered errors in an echo
// application: the errors handlers return, recovered panics, and echo's
// answers for unknown routes (404) and methods (405), with the same bodies
// and telemetry as [httpx.Handler], which does the work.
//
// Register [Middleware] after the instrumentation that makes the request's
// span (otelecho's, or otelhttp around the echo server):
//
//	e := echo.New()
//	e.Use(otelecho.Middleware("api"))
//	e.Use(echox.Middleware(httpx.WithRegistry(reg)))
//	e.HTTPErrorHandler = echox.ErrorHandler(httpx.WithRegistry(reg))
//	e.GET("/users/:id", func(c echo.Context) error {
//		return api.ErrUserNotFound // rendered as its problem body
//	})
//
// The middleware answers every error it sees and returns nil, so the
// instrumentation outside it never copies an error's text (which may hold
// secrets) into the span. [ErrorHandler] renders the errors that do not
// pass through the middleware (those of middleware registered before it,
// or of e.Pre). The route is echo's, c.Path() ("/users/:id").
//
// An *echo.HTTPError that the registry does not resolve is answered by
// its status: 404 and 405 (Allow kept) as the built-in not-found and
// method-not-allowed, 413 and 415 as body-too-large and
// unsupported-media-type, another 4xx as [errorsx.ForStatus]; its message
// reaches telemetry only. A 5xx one is an unregistered error (the
// internal error).
//
// otelecho's last release (v0.60.0, deprecated upstream) still works with
// OpenTelemetry v1.47 but records no metrics and uses older attribute
// names; otelhttp around the echo server gives the duration metric, with
// echo's route and otelkit.error.id or error.type as for net/http.
package echox
