package connectx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/record"
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

// call is what the server side knows of an RPC.
type call struct {
	procedure string
	peer      connect.Peer
	header    http.Header
}

// serverError records err and returns the *connect.Error it is answered
// with. An error that already is a *connect.Error (errors.As, as connect
// finds codes) and resolves to nothing passes through unchanged and only
// gets error.type = its code name.
func (c *config) serverError(ctx context.Context, rc call, err error) error {
	m := c.registry.Match(err)
	if !m.Registered() {
		var ce *connect.Error
		if errors.As(err, &ce) && ce != nil {
			errorType(ctx, semconv.ErrorTypeKey.String(CodeName(ce.Code())))
			return err
		}
	}
	f := record.Failure{Err: err, Match: m, Kind: record.KindError, Skip: 2}
	return c.fail(ctx, rc, &f)
}

func (c *config) panicked(ctx context.Context, rc call, v any, stack string) error {
	f := record.Failure{
		Err:   &record.PanicError{Value: v},
		Match: errorsx.Match{Def: errorsx.Internal},
		Kind:  record.KindPanic,
		Stack: stack,
	}
	return c.fail(ctx, rc, &f)
}

func (c *config) fail(ctx context.Context, rc call, f *record.Failure) error {
	f.Mask = c.mask
	f.Signal = c.signal
	f.EventName = EventServerException
	code := c.code(f.Match.Def)
	extra := c.rpcAttrs(ctx, rc, code)
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
	return c.connectError(f.Match, code, rpcstatus.AcceptLanguage(rc.header.Get("Accept-Language")))
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

// rpcAttrs are the RPC's facts on the exception log record:
// rpc.system.name (as otelconnect names the protocol), rpc.method,
// rpc.response.status_code, client.address and user.id.
func (c *config) rpcAttrs(ctx context.Context, rc call, code connect.Code) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 5)
	system := semconv.RPCSystemNameConnectrpc
	if rc.peer.Protocol == connect.ProtocolGRPC || rc.peer.Protocol == connect.ProtocolGRPCWeb {
		system = semconv.RPCSystemNameGRPC
	}
	kv = append(kv, system, semconv.RPCMethod(strings.TrimPrefix(rc.procedure, "/")),
		semconv.RPCResponseStatusCode(CodeName(code)))
	if addr := rc.peer.Addr; addr != "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
		}
		kv = append(kv, semconv.ClientAddress(addr))
	}
	if c.user != nil {
		if u := c.user(ctx); u != "" {
			kv = append(kv, semconv.UserID(u))
		}
	}
	return kv
}

// AttributeFilter is an otelconnect attribute filter
// (otelconnect.WithAttributeFilter(connectx.AttributeFilter)) that leaves
// error.type to otelkit: otelconnect sets it to the code name of every
// error, a 4xx answer included, while otelkit sets it to the id of a
// failure only (and, on the metric, through otelconnect's Labeler). It
// keeps every other attribute.
func AttributeFilter(_ connect.Spec, kv attribute.KeyValue) bool {
	return kv.Key != semconv.ErrorTypeKey
}
