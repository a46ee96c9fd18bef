package connectx

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	connectv2 "connectrpc.com/connect/v2"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/byid"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/internal/rpcstatus"
	"github.com/otelkit/otelkit/internal/telctx"
)

// Event names of exception records in RPCs, the same as grpcx's (semconv
// rpc/rpc-exceptions.md: "The event name MUST be
// rpc.server.call.exception", severity ERROR).
const (
	EventServerException = rpcstatus.EventServerException
	EventClientException = rpcstatus.EventClientException
)

// MetadataDetail is the ErrorInfo metadata key of an occurrence's public
// detail (errorsx.Def.Detailf), unless its info already uses the key.
const MetadataDetail = rpcstatus.MetadataDetail

// InfoRetryAfter is the info key whose value (seconds, a number, or a
// time.Duration) becomes a google.rpc.RetryInfo detail.
const InfoRetryAfter = rpcstatus.InfoRetryAfter

// serverError records err and returns the *connect.Error it is answered
// with. An error that already is a *connect.Error (errors.As, as connect
// finds codes) and resolves to nothing passes through unchanged and only
// gets error.type = its code name. header is the request's (its
// Accept-Language localizes the message).
func (c *config) serverError(ctx context.Context, header http.Header, err error) error {
	m, why := byid.Match(c.registry, err) // httpx.ErrorByID resolves as in httpx and grpcx
	if why != nil {
		err = why // telemetry says why the internal error was answered
	} else if !m.Registered() {
		var ce *connect.Error
		if errors.As(err, &ce) && ce != nil {
			// A "not modified" answer (connect.NewNotModifiedError) is no
			// error: otelconnect gives it no error.type either.
			if !connect.IsNotModifiedError(err) {
				errorType(ctx, semconv.ErrorTypeKey.String(CodeName(ce.Code())))
			}
			return err
		}
	}
	f := record.Failure{Err: err, Match: m, Kind: record.KindError, Skip: 2}
	return c.fail(ctx, header, &f)
}

func (c *config) panicked(ctx context.Context, header http.Header, v any, stack string) error {
	f := record.Failure{
		Err:   &record.PanicError{Value: v},
		Match: errorsx.Match{Def: errorsx.Internal},
		Kind:  record.KindPanic,
		Stack: stack,
	}
	return c.fail(ctx, header, &f)
}

func (c *config) fail(ctx context.Context, header http.Header, f *record.Failure) error {
	f.Mask = c.mask
	f.Signal = c.signal
	f.Frames = c.frames
	f.EventName = EventServerException
	code := c.code(f.Match.Def)
	var extra []attribute.KeyValue
	if f.Failed() { // only failures get an exception record
		extra = rpcAttrs(code)
	}
	record.Record(ctx, telctx.Logger(ctx, record.ScopeName, c.logger), c.mask, f, extra)
	// otelconnect's metric: the same key the span got (record labels
	// otelhttp's metrics only).
	key := record.KeyErrorID
	if f.Failed() {
		key = semconv.ErrorTypeKey
	}
	if l, ok := otelconnect.LabelerFromContext(ctx); ok {
		l.Add(key.String(f.Match.Def.ID()))
	}
	return c.connectError(f.Match, code, rpcstatus.AcceptLanguage(header.Get("Accept-Language")))
}

// connectError is the *connect.Error m answers: the registered message and
// the details of internal/rpcstatus (grpcx's).
func (c *config) connectError(m errorsx.Match, code connect.Code, acceptLanguage string) *connect.Error {
	msg, details := c.builder.Build(m, acceptLanguage)
	ce := connect.NewError(code, errors.New(msg))
	for _, d := range details {
		if ed, err := connect.NewErrorDetail(d); err == nil {
			ce.AddDetail(ed)
		}
	}
	return ce
}

// errorType sets error.type on the span in ctx and otelconnect's metric
// (where [AttributeFilter] removed otelconnect's own).
func errorType(ctx context.Context, kv attribute.KeyValue) {
	if s := trace.SpanFromContext(ctx); s.IsRecording() {
		s.SetAttributes(kv)
	}
	if l, ok := otelconnect.LabelerFromContext(ctx); ok {
		l.Add(kv)
	}
}

// rpcContext returns the handler's context: ctx carrying the RPC's facts
// (rpc.system.name as otelconnect names the protocol, rpc.method,
// client.address, user.id) for the audits and exception records written
// inside it, as grpcx and httpx do. procedure is the Spec's, peer the
// caller.
func (c *config) rpcContext(ctx context.Context, procedure string, peer connect.Peer) context.Context {
	system := systemConnect
	if peer.Protocol == connect.ProtocolGRPC || peer.Protocol == connect.ProtocolGRPCWeb {
		system = systemGRPC
	}
	return &reqctx.RPC{
		Context: ctx,
		System:  system,
		Method:  strings.TrimPrefix(procedure, "/"),
		Peer:    peer.Addr,
		User:    c.user,
		Reg:     c.registry,
	}
}

// rpc.system.name values (semconv v1.43.0).
var (
	systemConnect = semconv.RPCSystemNameConnectrpc.Value.AsString()
	systemGRPC    = semconv.RPCSystemNameGRPC.Value.AsString()
)

// rpcAttrs are what the exception log record carries beyond the RPC's
// facts from the context: rpc.response.status_code, by this interceptor's
// code table.
func rpcAttrs(code connect.Code) []attribute.KeyValue {
	return []attribute.KeyValue{semconv.RPCResponseStatusCode(CodeName(code))}
}

// AttributeFilter is an otelconnect attribute filter
// (otelconnect.WithAttributeFilter(connectx.AttributeFilter)) that leaves
// error.type to otelkit: otelconnect sets it to the code name of every
// error, a 4xx answer included, while otelkit sets it to the id of a
// failure only (and, on the metric, through otelconnect's Labeler). It
// keeps every other attribute.
//
// It takes connect-go v2's Spec, the one otelconnect works with inside:
// otelconnect calls it as it is, for its connect-go v1 interceptor too,
// where a filter taking v1's Spec is wrapped in a conversion of the Spec
// for each attribute of each RPC.
func AttributeFilter(_ connectv2.Spec, kv attribute.KeyValue) bool {
	return kv.Key != semconv.ErrorTypeKey
}
