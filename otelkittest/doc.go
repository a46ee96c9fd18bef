// Package otelkittest gives a test its own OpenTelemetry providers and
// assertions in otelkit's terms, so that a service's tests can say "this
// route answers users.not-found and leaks nothing", "deleting a note emits
// notes.deleted with the user" or "the 5xx got status Error" in a line
// each.
//
//	func TestGetUser(t *testing.T) {
//		t.Parallel()
//		kit := otelkittest.New(t)
//		res := kit.Do(api.Routes(), httptest.NewRequest("GET", "/users/7", nil))
//		kit.AssertError(res, api.ErrUserNotFound)
//		kit.AssertRequestSpan(res, api.ErrUserNotFound)
//	}
//
// # Providers
//
// [New] makes SDK tracer, meter and logger providers that keep everything
// in memory (a tracetest.SpanRecorder, a ManualReader and a recording log
// processor) and shuts them down with t.Cleanup. It replaces no global:
// [Kit.Handler] and [Kit.Do] serve requests through otelhttp with the kit's
// providers and give each request a context carrying them, and otelkit's
// own records made under such a context (httpx's exception records,
// auditx's audits, even those of package-level events in the default
// registry, otelbridge's captures and Track's spans) go to the kit. Tests
// with a kit each may therefore run with t.Parallel. Code outside a
// request takes its context from [Kit.Context]; instrumentation that takes
// providers as options gets them from [Kit.TracerProvider],
// [Kit.MeterProvider] and [Kit.LoggerProvider].
//
// # Assertions
//
// Each assertion reports every difference it finds with t.Errorf, in one
// message that shows what was expected and what was recorded, and returns
// whether it passed. [Kit.AssertError] checks a response against an error
// definition (status, content type, id, [Info]) and that it leaks nothing
// of a cause ([NoLeak]); [Kit.AssertAudit] and [Kit.AssertAudits] check
// audits by type and attributes; [Kit.AssertRequestSpan] and
// [Kit.AssertRequestMetric] check the request's span and duration metric
// against otelkit's conventions; [Kit.AssertNoSecret] searches every sink
// for a secret. The accessors ([Kit.Spans], [Kit.Logs], [Kit.Audits],
// [Kit.Exceptions], [Kit.Metrics], [Kit.SpanOf]) return the raw SDK data for
// everything else.
package otelkittest
