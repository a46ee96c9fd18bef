package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/errtrack"
	"github.com/otelkit/otelkit/examples/quickstart/api"
	"github.com/otelkit/otelkit/grpcx"
)

// call is one request of the demo, and the same operation over gRPC when
// the service has one (rpc).
type call struct {
	method, path, body string
	header             map[string]string
	note               string
	rpc                *rpcCall
}

// rpcCall is a call of one of the service's gRPC methods (api.RegisterGRPC).
type rpcCall struct {
	method string
	req    proto.Message
	md     map[string]string // request metadata
}

func getUser(id string, md map[string]string) *rpcCall {
	return &rpcCall{method: "GetUser", req: wrapperspb.String(id), md: md}
}

var calls = []call{
	{method: "GET", path: "/users/42", header: map[string]string{"X-User": "ada"}, note: "success, with an audit event"},
	{method: "GET", path: "/users/0", header: map[string]string{"X-User": "ada"}, note: "sql.ErrNoRows, mapped with errorsx.Map",
		rpc: getUser("0", map[string]string{"x-user": "ada"})},
	{method: "GET", path: "/users/0", header: map[string]string{"Accept-Language": "de-CH, en;q=0.5"}, note: "the same, in German",
		rpc: getUser("0", map[string]string{"accept-language": "de-CH, en;q=0.5"})},
	{method: "GET", path: "/users/abc", note: "an occurrence with a public detail", rpc: getUser("abc", nil)},
	{method: "POST", path: "/login", body: `{"user":"mallory","password":"hunter2"}`, note: "public info; the audit masks the password"},
	{method: "POST", path: "/users", body: `{"name":"","email":"nope"}`, header: map[string]string{"X-User": "ada"}, note: "a joined validation error",
		rpc: &rpcCall{method: "CreateUser", req: mustStruct(map[string]any{"name": "", "email": "nope"}), md: map[string]string{"x-user": "ada"}}},
	{method: "POST", path: "/users", body: `{"name": nope}`, note: "*json.SyntaxError, mapped with errorsx.MapType"},
	{method: "POST", path: "/users", body: `{"name":"Grace","email":"grace@example.com"}`, header: map[string]string{"X-User": "ada"}, note: "success, with an audit event"},
	{method: "GET", path: "/orders/7", note: "a 5xx: the cause stays in telemetry",
		rpc: &rpcCall{method: "GetOrder", req: wrapperspb.String("7")}},
	{method: "GET", path: "/panic", note: "a recovered panic", rpc: &rpcCall{method: "Panic", req: &emptypb.Empty{}}},
	{method: "GET", path: "/admin/users/9", note: "the admin group's own registry maps sql.ErrNoRows"},
	{method: "GET", path: "/abort", note: "httpx.ErrorByID(id)", rpc: &rpcCall{method: "Abort", req: &emptypb.Empty{}}},
	{method: "GET", path: "/nope", note: "no such route"},
	{method: "DELETE", path: "/users/42", note: "wrong method"},
}

func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s
}

func runDemo(ctx context.Context, base, grpcAddr string, seen *observer, out io.Writer) error {
	client := &http.Client{Timeout: 10 * time.Second}
	// The gRPC client turns a status back into its registered error
	// (grpcx.FromError), so errorsx.Resolve and errors.Is work on it.
	cc, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(grpcx.UnaryClientInterceptor()))
	if err != nil {
		return err
	}
	defer cc.Close()
	for _, c := range calls {
		traceID := newTraceID()
		req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, strings.NewReader(c.body))
		if err != nil {
			return err
		}
		req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", c.method, c.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()

		span := seen.waitSpan(traceID, 3*time.Second)
		fmt.Fprintf(out, "▶ %s %s   (%s)\n", c.method, c.path, c.note)
		fmt.Fprintf(out, "  client   %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		if lang := resp.Header.Get("Content-Language"); lang != "" {
			fmt.Fprintf(out, "  Content-Language: %s", lang)
		}
		if allow := resp.Header.Get("Allow"); allow != "" {
			fmt.Fprintf(out, "  Allow: %s", allow)
		}
		fmt.Fprintf(out, "\n           %s\n", compact(body))
		if span == nil {
			fmt.Fprintf(out, "  span     (not recorded)\n")
		} else {
			printSpan(out, span)
		}
		for _, r := range seen.logs(traceID) {
			printLog(out, r)
		}
		if c.rpc != nil {
			if err := callRPC(ctx, cc, c.rpc, seen, out); err != nil {
				return err
			}
		}
		fmt.Fprintln(out)
	}
	return printTracked(ctx, client, base, out)
}

// callRPC makes the same call over gRPC and prints the status and its
// details beside the HTTP body, then the RPC's span and records.
func callRPC(ctx context.Context, cc *grpc.ClientConn, c *rpcCall, seen *observer, out io.Writer) error {
	traceID := newTraceID()
	md := metadata.Pairs("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	for k, v := range c.md {
		md.Append(k, v)
	}
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(ctx, md), 10*time.Second)
	defer cancel()
	err := cc.Invoke(ctx, api.GRPCMethod(c.method), c.req, new(emptypb.Empty))
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("gRPC %s: %w", c.method, err)
	}
	fmt.Fprintf(out, "  grpc     %s  %s %q\n", api.GRPCMethod(c.method), grpcx.CodeName(st.Code()), st.Message())
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			fmt.Fprintf(out, "           ErrorInfo reason=%s domain=%s", d.GetReason(), d.GetDomain())
			keys := make([]string, 0, len(d.GetMetadata()))
			for k := range d.GetMetadata() {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(out, " metadata.%s=%q", k, d.GetMetadata()[k])
			}
			fmt.Fprintln(out)
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Fprintf(out, "           BadRequest field=%s reason=%s %q\n", v.GetField(), v.GetReason(), v.GetDescription())
			}
		case *errdetails.RetryInfo:
			fmt.Fprintf(out, "           RetryInfo retry_delay=%s\n", d.GetRetryDelay().AsDuration())
		case *errdetails.LocalizedMessage:
			fmt.Fprintf(out, "           LocalizedMessage locale=%s %q\n", d.GetLocale(), d.GetMessage())
		default:
			fmt.Fprintf(out, "           %T\n", d)
		}
	}
	if err != nil {
		fmt.Fprintf(out, "           the client resolves it to %s (grpcx.FromError; errors.Is holds)\n", errorsx.Resolve(err).ID())
	}
	if span := seen.waitSpan(traceID, 3*time.Second); span == nil {
		fmt.Fprintf(out, "  span     (not recorded)\n")
	} else {
		printSpan(out, span)
	}
	for _, r := range seen.logs(traceID) {
		printLog(out, r)
	}
	return nil
}

// printTracked shows what /dev/errors grouped, through its JSON view.
func printTracked(ctx context.Context, client *http.Client, base string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/dev/errors", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var page struct {
		Groups []struct {
			Fingerprint string `json:"fingerprint"`
			ID          string `json:"id"`
			Status      int    `json:"status"`
			Count       int    `json:"count"`
			Message     string `json:"message"`
		} `json:"groups"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return fmt.Errorf("/dev/errors: %w", err)
	}
	fmt.Fprintf(out, "▶ GET /dev/errors   (captured errors grouped by fingerprint; open it in a browser while the service runs)\n")
	for _, g := range page.Groups {
		fmt.Fprintf(out, "  %3d× %d %-22s %-32s %q\n", g.Count, g.Status, g.ID, g.Fingerprint, g.Message)
	}
	return nil
}

func printSpan(out io.Writer, s sdktrace.ReadOnlySpan) {
	attrs := attrMap(s.Attributes())
	status := s.Status().Code.String()
	if s.Status().Description != "" {
		status += " (" + s.Status().Description + ")"
	}
	where := "http.route=" + orDash(attrs["http.route"])
	if m := attrs["rpc.method"]; m != "" {
		where = "rpc.method=" + m
	}
	fmt.Fprintf(out, "  span     %q  status=%s  %s  error.type=%s  otelkit.error.id=%s  trace_id=%s\n",
		s.Name(), status, where, orDash(attrs["error.type"]), orDash(attrs["otelkit.error.id"]), s.SpanContext().TraceID())
	for _, e := range s.Events() {
		if !errtrack.IsException(e.Name) {
			continue
		}
		ea := attrMap(e.Attributes)
		stack := ""
		if st := ea["exception.stacktrace"]; st != "" {
			stack = fmt.Sprintf("  exception.stacktrace=<%d frames>", strings.Count(st, "\n\t"))
		}
		fmt.Fprintf(out, "  event    %s  otelkit.error.id=%s  exception.type=%s%s\n           exception.message=%q\n",
			e.Name, ea["otelkit.error.id"], ea["exception.type"], stack, ea["exception.message"])
	}
}

func printLog(out io.Writer, r sdklog.Record) {
	kind := "log"
	switch {
	case r.InstrumentationScope().Name == "github.com/otelkit/otelkit/auditx":
		kind = "audit"
	case errtrack.IsException(r.EventName()):
		kind = "capture"
	}
	fmt.Fprintf(out, "  %-8s %s %s  trace_id=%s  body=%q\n", kind, r.EventName(), r.SeverityText(), r.TraceID(), r.Body().AsString())
	var parts []string
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if kv.Key == "exception.stacktrace" || kv.Key == "otelkit.audit.template" {
			return true
		}
		parts = append(parts, fmt.Sprintf("%s=%s", kv.Key, kv.Value.String()))
		return true
	})
	sort.Strings(parts)
	fmt.Fprintf(out, "           %s\n", strings.Join(parts, "  "))
}

func attrMap(kvs []attribute.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return strings.TrimSpace(string(b))
	}
	return buf.String()
}

func newTraceID() string {
	var id trace.TraceID
	_, _ = rand.Read(id[:])
	return id.String()
}

// observer keeps the demo's spans and log records so it can print them next
// to each response. It is an sdklog.Processor.
type observer struct {
	spans *tracetest.SpanRecorder
	mu    sync.Mutex
	recs  []sdklog.Record
}

func newObserver() *observer { return &observer{spans: tracetest.NewSpanRecorder()} }

func (o *observer) waitSpan(traceID string, d time.Duration) sdktrace.ReadOnlySpan {
	deadline := time.Now().Add(d)
	for {
		for _, s := range o.spans.Ended() {
			if s.SpanContext().TraceID().String() == traceID && s.SpanKind() == trace.SpanKindServer {
				return s
			}
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (o *observer) logs(traceID string) []sdklog.Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []sdklog.Record
	for _, r := range o.recs {
		if r.TraceID().String() == traceID {
			out = append(out, r)
		}
	}
	return out
}

func (o *observer) OnEmit(_ context.Context, r *sdklog.Record) error {
	o.mu.Lock()
	o.recs = append(o.recs, r.Clone())
	o.mu.Unlock()
	return nil
}

func (o *observer) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (o *observer) Shutdown(context.Context) error                         { return nil }
func (o *observer) ForceFlush(context.Context) error                       { return nil }
