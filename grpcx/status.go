package grpcx

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"golang.org/x/text/language"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/publicinfo"
)

// maxAcceptLanguage bounds the accept-language value read from metadata.
const maxAcceptLanguage = 256

// acceptLanguage returns the caller's accept-language metadata (the first
// value, truncated): gRPC metadata keys are lower case.
func acceptLanguage(ctx context.Context) string {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ""
	}
	v := md["accept-language"]
	if len(v) == 0 {
		return ""
	}
	s := v[0]
	if len(s) > maxAcceptLanguage {
		s = s[:maxAcceptLanguage]
	}
	return s
}

// Status returns the status m answers: code by the table (or [WithCode]),
// the registered message localized for acceptLanguage, and the details.
// A 5xx carries ErrorInfo without metadata and nothing else.
func (c *config) status(m errorsx.Match, acceptLanguage string) *status.Status {
	def := m.Def
	msg, tag := def.Localized(acceptLanguage)
	st := status.New(c.code(def), msg)
	info := &errdetails.ErrorInfo{Reason: def.ID(), Domain: c.domain}
	details := make([]protoadapt.MessageV1, 0, 4)
	details = append(details, info)
	occ := m.Occurrence
	if occ != nil && def.Status() < 500 {
		fields := c.publicInfo(occ.Info())
		if len(fields) > 0 || occ.Detail() != "" {
			info.Metadata = make(map[string]string, len(fields)+1)
		}
		for _, f := range fields {
			info.Metadata[f.Key] = metadataValue(f.Value)
		}
		if d := occ.Detail(); d != "" {
			if _, taken := info.Metadata[MetadataDetail]; !taken {
				info.Metadata[MetadataDetail] = d
			}
		}
		if ri := retryInfo(fields); ri != nil {
			details = append(details, ri)
		}
		if entries := occ.Entries(); len(entries) > 0 {
			br := &errdetails.BadRequest{}
			for _, err := range entries {
				em := c.registry.Match(err)
				ed := em.Def
				et, _ := ed.Localized(acceptLanguage)
				v := &errdetails.BadRequest_FieldViolation{Description: et, Reason: ed.ID()}
				if em.Occurrence != nil && ed.Status() < 500 {
					for _, f := range c.publicInfo(em.Occurrence.Info()) {
						if f.Key == "field" {
							v.Field = metadataValue(f.Value)
						}
					}
				}
				br.FieldViolations = append(br.FieldViolations, v)
			}
			details = append(details, br)
		}
	}
	if tag != language.Und && tag != def.Language() {
		details = append(details, &errdetails.LocalizedMessage{Locale: tag.String(), Message: msg})
	}
	if withDetails, err := st.WithDetails(details...); err == nil {
		st = withDetails
	}
	return st
}

// MetadataDetail is the ErrorInfo metadata key of an occurrence's public
// detail (errorsx.Def.Detailf), unless its info already uses the key.
const MetadataDetail = "detail"

// publicInfo masks info as httpx does: sensitive keys masked, errors
// replaced by their ids.
func (c *config) publicInfo(info []errorsx.Field) []errorsx.Field {
	return publicinfo.Mask(c.mask, info, func(err error) any { return c.registry.Resolve(err).ID() })
}

// metadataValue is a string as it is, anything else JSON-encoded.
func metadataValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if s, ok := v.(fmt.Stringer); ok {
		if _, isErr := v.(error); !isErr {
			return s.String()
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// InfoRetryAfter is the info key whose value (seconds, a number, or a
// time.Duration) becomes a google.rpc.RetryInfo detail.
const InfoRetryAfter = "retry_after"

func retryInfo(fields []errorsx.Field) *errdetails.RetryInfo {
	for _, f := range fields {
		if f.Key != InfoRetryAfter {
			continue
		}
		var d time.Duration
		switch v := f.Value.(type) {
		case time.Duration:
			d = v
		case int:
			d = time.Duration(v) * time.Second
		case int64:
			d = time.Duration(v) * time.Second
		case float64:
			if math.IsNaN(v) || v > math.MaxInt64/float64(time.Second) {
				return nil
			}
			d = time.Duration(v * float64(time.Second))
		default:
			return nil
		}
		if d < 0 {
			return nil
		}
		return &errdetails.RetryInfo{RetryDelay: durationpb.New(d)}
	}
	return nil
}

// Bounds on what a client reads from a status, whatever the server sent.
const (
	maxDetails    = 16
	maxMetadata   = 64
	maxViolations = 64
)

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
	type grpcStatus interface{ GRPCStatus() *status.Status }
	gs, ok := err.(grpcStatus)
	if !ok {
		return err
	}
	st := gs.GRPCStatus()
	if st == nil {
		return err
	}
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	for i, any := range st.Proto().GetDetails() {
		if i >= maxDetails {
			break
		}
		switch {
		case info == nil && any.MessageIs((*errdetails.ErrorInfo)(nil)):
			v := new(errdetails.ErrorInfo)
			if any.UnmarshalTo(v) == nil {
				info = v
			}
		case br == nil && any.MessageIs((*errdetails.BadRequest)(nil)):
			v := new(errdetails.BadRequest)
			if any.UnmarshalTo(v) == nil {
				br = v
			}
		}
	}
	if info == nil {
		return err
	}
	def, ok := reg.Lookup(info.GetReason())
	if !ok {
		return err
	}
	var entries []error
	if br != nil {
		for i, v := range br.GetFieldViolations() {
			if i >= maxViolations {
				break
			}
			ed, ok := reg.Lookup(v.GetReason())
			if !ok {
				continue
			}
			var e error = ed
			if f := v.GetField(); f != "" {
				e = ed.With("field", f)
			}
			entries = append(entries, e)
		}
	}
	var occ *errorsx.Error
	if len(entries) > 0 {
		occ = def.Join(entries...)
	}
	md := info.GetMetadata()
	if len(md) > 0 {
		keys := make([]string, 0, min(len(md), maxMetadata))
		for k := range md {
			if len(keys) >= maxMetadata {
				break
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if occ == nil {
				occ = def.Join()
			}
			if k == MetadataDetail {
				occ = occ.Detailf("%s", md[k])
				continue
			}
			occ = occ.With(k, md[k])
		}
	}
	re := &remoteError{st: st, def: def}
	if occ != nil {
		re.occ = occ
	}
	return re
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
