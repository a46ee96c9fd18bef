package errtrack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/errtrack"
)

// exception builds a record as otelbridge.Capture emits it.
func exception(id string, status int, msg string, at time.Time, extras ...attribute.KeyValue) log.Record {
	var r log.Record
	r.SetEventName("exception")
	r.SetSeverity(log.SeverityError)
	r.SetTimestamp(at)
	r.SetBody(attribute.StringValue(msg))
	r.AddAttributes(
		attribute.String("exception.type", "*errorsx.Error"),
		attribute.String("exception.message", msg),
		attribute.String("otelkit.error.id", id),
		attribute.String("otelkit.error.fingerprint", id),
		attribute.Int("http.response.status_code", status),
	)
	r.AddAttributes(extras...)
	return r
}

func Example() {
	tracker := errtrack.New(errtrack.WithMaxFingerprints(100))
	provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(tracker))
	defer provider.Shutdown(context.Background())
	l := provider.Logger("github.com/otelkit/otelkit/otelbridge")

	at := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	ctx := context.Background()
	l.Emit(ctx, exception("order.failed", 500, "charging the card failed", at,
		attribute.String("order_id", "o-17"), attribute.String("card_token", "tok_live_x")))
	l.Emit(ctx, exception("order.failed", 500, "charging the card failed", at.Add(time.Second)))
	l.Emit(ctx, exception("user.not_found", 404, "user not found", at.Add(2*time.Second)))

	for _, g := range tracker.Groups() {
		fmt.Println(g.ID, g.Status, g.Count, g.Message)
	}
	g, _ := tracker.Group("order.failed")
	fmt.Println(g.Occurrences[1].Attributes[len(g.Occurrences[1].Attributes)-1].Value.AsString())
	// Output:
	// user.not_found 404 1 user not found
	// order.failed 500 2 charging the card failed
	// **************
}

func ExampleTracker_Handler() {
	tracker := errtrack.New()
	provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(tracker))
	defer provider.Shutdown(context.Background())
	provider.Logger("app").Emit(context.Background(),
		exception("order.failed", 500, "charging the card failed", time.Now()))

	mux := http.NewServeMux()
	// A developer's machine: loopback clients, for a loopback Host, not
	// forwarded. Behind a proxy or on a shared host use errtrack.WithToken.
	mux.Handle("/dev/errors/", tracker.Handler(errtrack.AllowLoopback()))

	for _, remote := range []string{"127.0.0.1:50000", "10.0.0.1:50000"} {
		req := httptest.NewRequest(http.MethodGet, "http://localhost:8080/dev/errors/", nil)
		req.RemoteAddr = remote
		req.Header.Set("Accept", "application/json")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var page struct {
			Groups []struct {
				ID    string `json:"id"`
				Count int    `json:"count"`
			} `json:"groups"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &page)
		fmt.Println(remote, rec.Code, page.Groups)
	}
	// Output:
	// 127.0.0.1:50000 200 [{order.failed 1}]
	// 10.0.0.1:50000 403 []
}

func ExampleWithNotifyRate() {
	notifier := errtrack.NotifierFunc(func(_ context.Context, n errtrack.Notification) error {
		fmt.Println(n.Subject("[shop]"))
		return nil
	})
	// Tell on the first occurrence and when an error happens 3 times within
	// a minute; at most once a minute per error. Minutes are counted when the
	// tracker receives the records, whatever their timestamps say.
	tracker := errtrack.New(errtrack.WithNotifier(notifier), errtrack.WithNotifyRate(3, time.Minute))
	provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(tracker))
	defer provider.Shutdown(context.Background())
	l := provider.Logger("app")

	// A burst: the first record is told, the others fall within the minute
	// that notification opened. Three more a minute later would be told as
	// "3 occurrences".
	for range 7 {
		l.Emit(context.Background(), exception("db.timeout", 503, "database timeout", time.Now()))
	}
	_ = tracker.ForceFlush(context.Background())
	g, _ := tracker.Group("db.timeout")
	fmt.Println(g.Count, "occurrences,", tracker.Stats().Sent, "notification")
	// Output:
	// [shop] [db.timeout] database timeout
	// 7 occurrences, 1 notification
}

func ExampleNewSMTPNotifier() {
	n, err := errtrack.NewSMTPNotifier("smtp.example.com:587", "Errors <errors@example.com>",
		[]string{"oncall@example.com"},
		errtrack.WithSubjectPrefix("[shop]"),
		errtrack.WithSMTPTLS(errtrack.TLSStartTLS),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	tracker := errtrack.New(errtrack.WithNotifier(n), errtrack.WithPageURL("https://shop.example.com/dev/errors"))
	defer tracker.Shutdown(context.Background())
	fmt.Println(tracker.Stats().Queued)
	// Output: 0
}

func ExampleNewWebhookNotifier() {
	n, err := errtrack.NewWebhookNotifier("https://hooks.example.com/errors",
		errtrack.WithWebhookHeader("Authorization", "Bearer <token>"),
		errtrack.WithWebhookTimeout(5*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(errtrack.Notification{Reason: errtrack.ReasonFirst, Fingerprint: "order.failed",
		ErrorID: "order.failed", Status: 500, Message: "charging the card failed", Count: 1})
	fmt.Println(n != nil, string(b))
	// Output: true {"reason":"first","fingerprint":"order.failed","error_id":"order.failed","status":500,"message":"charging the card failed","count":1,"first_seen":"0001-01-01T00:00:00Z","last_seen":"0001-01-01T00:00:00Z"}
}
