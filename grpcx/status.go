package grpcx

import (
	"context"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/rpcstatus"
)

// acceptLanguage returns the caller's accept-language metadata (the first
// value, truncated): gRPC metadata keys are lower case.
// ValueFromIncomingContext copies that key's values only, where
// FromIncomingContext would copy all of the caller's metadata.
func acceptLanguage(ctx context.Context) string {
	v := metadata.ValueFromIncomingContext(ctx, "accept-language")
	if len(v) == 0 {
		return ""
	}
	return rpcstatus.AcceptLanguage(v[0])
}

// Status returns the status m answers: code by the table (or [WithCode]),
// the registered message localized for acceptLanguage, and the details
// (internal/rpcstatus, shared with connectx). A 5xx carries ErrorInfo
// without metadata and nothing else.
func (c *config) status(m errorsx.Match, acceptLanguage string) *status.Status {
	msg, details := c.builder.Build(m, acceptLanguage)
	st := status.New(c.code(m.Def), msg)
	v1 := make([]protoadapt.MessageV1, len(details))
	for i, d := range details {
		v1[i] = protoadapt.MessageV1Of(d)
	}
	if withDetails, err := st.WithDetails(v1...); err == nil {
		st = withDetails
	}
	return st
}

// MetadataDetail is the ErrorInfo metadata key of an occurrence's public
// detail (errorsx.Def.Detailf), unless its info already uses the key.
const MetadataDetail = rpcstatus.MetadataDetail

// InfoRetryAfter is the info key whose value (seconds, a number, or a
// time.Duration) becomes a google.rpc.RetryInfo detail.
const InfoRetryAfter = rpcstatus.InfoRetryAfter

// FromError turns err, as returned by a gRPC call, into the registered
// error it stands for: when its status carries a google.rpc.ErrorInfo whose
// reason is registered in reg (errorsx.Default() when nil), an error that
// is still the status for grpc-go (status.FromError gives it back as
// sent) and that unwraps to the definition, or to an *errorsx.Error of it
// when the status carried more than the reason: the ErrorInfo
// metadata as public info (values as strings), the detail under
// [MetadataDetail], and the BadRequest field violations whose reasons are
// registered as joined entries. Otherwise (no status, no ErrorInfo, an
// unknown reason, malformed details) it returns err unchanged. It never
// panics and reads a bounded number of details and metadata entries.
func FromError(err error, reg *errorsx.Registry) error {
	if err == nil {
		return nil
	}
	if reg == nil {
		reg = errorsx.Default()
	}
	st := statusOf(err)
	if st == nil {
		return err
	}
	details := st.Proto().GetDetails()
	def, occ := rpcstatus.Parse(reg, len(details), func(i int) rpcstatus.Detail {
		return rpcstatus.Detail{Type: details[i].GetTypeUrl(), Value: details[i].GetValue()}
	})
	if def == nil {
		return err
	}
	return &remoteError{st: st, def: def, occ: occ}
}

// statusOf returns the status err carries itself (not through a wrap),
// nil if none.
func statusOf(err error) *status.Status {
	gs, ok := err.(interface{ GRPCStatus() *status.Status })
	if !ok {
		return nil
	}
	return gs.GRPCStatus()
}

// remoteDef returns the definition [FromError] would unwrap err to, nil
// if none, without making the error.
func remoteDef(err error, reg *errorsx.Registry) *errorsx.Def {
	st := statusOf(err)
	if st == nil {
		return nil
	}
	if reg == nil {
		reg = errorsx.Default()
	}
	details := st.Proto().GetDetails()
	return rpcstatus.Def(reg, len(details), func(i int) rpcstatus.Detail {
		return rpcstatus.Detail{Type: details[i].GetTypeUrl(), Value: details[i].GetValue()}
	})
}

// remoteError is a status answered by a server for a registered
// definition. It is the status for grpc-go (GRPCStatus, Error) and the
// definition (or its occurrence, with the public info) for errors.Is, As
// and the registry.
type remoteError struct {
	st  *status.Status
	def *errorsx.Def
	occ *errorsx.Error
}

func (e *remoteError) Error() string { return e.st.Err().Error() }

// GRPCStatus returns the status as the server sent it.
func (e *remoteError) GRPCStatus() *status.Status { return e.st }

// Unwrap returns the occurrence, or the definition when the status carried
// nothing more than the reason.
func (e *remoteError) Unwrap() error {
	if e.occ != nil {
		return e.occ
	}
	return e.def
}
