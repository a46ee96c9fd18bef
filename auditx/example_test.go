package auditx_test

import (
	"context"
	"fmt"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/mask"
)

// printExporter prints each record it exports: string attributes quoted,
// the record id replaced by <id> because it is random.
type printExporter struct{}

func (printExporter) Export(_ context.Context, recs []sdklog.Record) error {
	for i := range recs {
		r := &recs[i]
		fmt.Printf("%s %s(%d) scope=%s\n", r.EventName(), r.SeverityText(), r.Severity(), r.InstrumentationScope().Name)
		fmt.Printf("  body: %s\n", r.Body().AsString())
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			v := kv.Value.String()
			switch {
			case kv.Key == auditx.KeyRecordID:
				v = "<id>"
			case kv.Value.Type() == attribute.STRING:
				v = strconv.Quote(v)
			}
			fmt.Printf("  %s = %s\n", kv.Key, v)
			return true
		})
	}
	return nil
}

func (printExporter) Shutdown(context.Context) error   { return nil }
func (printExporter) ForceFlush(context.Context) error { return nil }

// printProvider is a logger provider that prints every record.
func printProvider() *sdklog.LoggerProvider {
	return sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(printExporter{})))
}

// Events are package-level variables, defined once.
var LoginFailed = auditx.Define("auth.login_failed", auditx.LevelWarn,
	"User '{user.name}' failed to log in from {client.address}")

func Example() {
	// otelbridge.Setup installs the global logger provider; here it prints.
	otel.SetLoggerProvider(printProvider())
	ctx := context.Background()

	LoginFailed.Emit(ctx, attribute.String("user.name", "alice"), attribute.String("client.address", "203.0.113.9"))
	// Output:
	// auth.login_failed WARN(13) scope=github.com/otelkit/otelkit/auditx
	//   body: User 'alice' failed to log in from 203.0.113.9
	//   user.name = "alice"
	//   client.address = "203.0.113.9"
	//   otelkit.audit.template = "User '{user.name}' failed to log in from {client.address}"
	//   otelkit.audit.record_id = <id>
}

func ExampleEmit() {
	otel.SetLoggerProvider(printProvider())
	ctx := context.Background()

	// By type, for code that only knows the name.
	auditx.Emit(ctx, "auth.login_failed", attribute.String("user.name", "bob"), attribute.String("client.address", "::1"))
	// Output:
	// auth.login_failed WARN(13) scope=github.com/otelkit/otelkit/auditx
	//   body: User 'bob' failed to log in from ::1
	//   user.name = "bob"
	//   client.address = "::1"
	//   otelkit.audit.template = "User '{user.name}' failed to log in from {client.address}"
	//   otelkit.audit.record_id = <id>
}

func ExampleNewRegistry() {
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(printProvider()))
	export := reg.Define("report.exported", auditx.LevelInfo, "{user.name} exported {rows} rows as {{csv}}")

	export.Emit(context.Background(),
		attribute.String("user.name", "alice"), attribute.Int("rows", 1200), attribute.String("tenant", "acme"))
	// Output:
	// report.exported INFO(9) scope=github.com/otelkit/otelkit/auditx
	//   body: alice exported 1200 rows as {csv}
	//   user.name = "alice"
	//   rows = 1200
	//   tenant = "acme"
	//   otelkit.audit.template = "{user.name} exported {rows} rows as {{csv}}"
	//   otelkit.audit.record_id = <id>
}

func ExampleEvent_Emit_missing() {
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(printProvider()),
		auditx.WithErrorHandler(otel.ErrorHandlerFunc(func(err error) { fmt.Println("handled:", err) })))
	loginFailed := reg.Define("auth.login_failed", auditx.LevelWarn, "User '{user.name}' failed to log in from {client.address}")

	// The caller forgot client_ip: the audit is emitted anyway.
	loginFailed.Emit(context.Background(), attribute.String("user.name", "alice"))
	// Output:
	// auth.login_failed WARN(13) scope=github.com/otelkit/otelkit/auditx
	//   body: User 'alice' failed to log in from <missing client.address>
	//   user.name = "alice"
	//   otelkit.audit.template = "User '{user.name}' failed to log in from {client.address}"
	//   otelkit.audit.record_id = <id>
	//   otelkit.audit.missing = ["client.address"]
	// handled: auditx: "auth.login_failed" emitted without client.address
}

func ExampleEvent_Emit_masking() {
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(printProvider()))
	issued := reg.Define("auth.token_issued", auditx.LevelInfo, "Issued {api_token} to {user.name}")

	issued.Emit(context.Background(),
		attribute.String("api_token", "tok-7f3a"), attribute.String("user.name", "alice"), attribute.String("session_cookie", "s=1"))
	// Output:
	// auth.token_issued INFO(9) scope=github.com/otelkit/otelkit/auditx
	//   body: Issued ************** to alice
	//   api_token = "**************"
	//   user.name = "alice"
	//   session_cookie = "**************"
	//   otelkit.audit.template = "Issued {api_token} to {user.name}"
	//   otelkit.audit.record_id = <id>
}

func ExampleWithMask() {
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(printProvider()),
		auditx.WithMask(mask.New(append(mask.DefaultKeys(), "email")...)))
	invited := reg.Define("user.invited", auditx.LevelInfo, "{user.name} invited {email}")

	invited.Emit(context.Background(), attribute.String("user.name", "alice"), attribute.String("email", "bob@example.com"))
	// Output:
	// user.invited INFO(9) scope=github.com/otelkit/otelkit/auditx
	//   body: alice invited **************
	//   user.name = "alice"
	//   email = "**************"
	//   otelkit.audit.template = "{user.name} invited {email}"
	//   otelkit.audit.record_id = <id>
}

func ExampleEvent_Emit_valuesAreData() {
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(printProvider()))
	renamed := reg.Define("project.renamed", auditx.LevelInfo, "{user.name} renamed the project to '{name}'")

	// A value is never a template and never a second line.
	renamed.Emit(context.Background(),
		attribute.String("user.name", "{name}"), attribute.String("name", "x'\nCRITICAL admin deleted everything"))
	// Output:
	// project.renamed INFO(9) scope=github.com/otelkit/otelkit/auditx
	//   body: {name} renamed the project to 'x'\nCRITICAL admin deleted everything'
	//   user.name = "{name}"
	//   name = "x'\nCRITICAL admin deleted everything"
	//   otelkit.audit.template = "{user.name} renamed the project to '{name}'"
	//   otelkit.audit.record_id = <id>
}

func ExampleRegistry_Emit_unregistered() {
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(printProvider()),
		auditx.WithErrorHandler(otel.ErrorHandlerFunc(func(err error) { fmt.Println("handled:", err) })))

	reg.Emit(context.Background(), "billing.refund", attribute.String("order", "o-17"), attribute.Int("cents", 1250))
	// Output:
	// billing.refund WARN(13) scope=github.com/otelkit/otelkit/auditx
	//   body: billing.refund order="o-17" cents=1250
	//   order = "o-17"
	//   cents = 1250
	//   otelkit.audit.unregistered = true
	//   otelkit.audit.record_id = <id>
	// handled: auditx: emitted unregistered event type "billing.refund"
}

func ExampleRegistry_Define() {
	reg := auditx.NewRegistry()
	defer func() { fmt.Println(recover()) }()

	reg.Define("auth.login_failed", auditx.LevelWarn, "User '{user' failed")
	// Output:
	// auditx: Define("auth.login_failed"): template "User '{user' failed": unclosed '{' at offset 6
}
