// Package ginx renders otelkit's registered errors in a gin application:
// the errors handlers attach with c.Error, recovered panics, and gin's own
// answers for unknown routes (404) and methods (405), with the same bodies
// and telemetry as [httpx.Handler], which does the work.
//
// Register [Middleware] after otelgin's, which makes the request's span:
//
//	r := gin.New()
//	r.Use(otelgin.Middleware("api", otelgin.WithGinMetricAttributeFn(ginx.MetricAttributes)))
//	r.Use(ginx.Middleware(httpx.WithRegistry(reg)))
//	r.GET("/users/:id", func(c *gin.Context) {
//		_ = c.Error(api.ErrUserNotFound) // rendered as its problem body
//	})
//
// The route is gin's, c.FullPath() ("/users/:id"), as otelgin names the
// span with it. ginx clears c.Errors once it has rendered them, so that
// otelgin neither marks a 4xx span as failed nor copies an error's text
// (which may hold secrets) into the span status; [MetricAttributes] gives
// otelgin's duration metric otelkit.error.id (4xx) or error.type (5xx).
//
// Only the last error of c.Errors is rendered (gin's c.Errors.Last()). A
// handler that has already written its response keeps it; the error
// still reaches telemetry. c.AbortWithError sends its status at once, so
// the client gets no body: call c.Error(err) and c.Abort() instead.
//
// Unknown methods answer 405 only when gin.Engine.HandleMethodNotAllowed
// is set (gin then sets Allow); otherwise gin answers them 404.
package ginx
