// Package rpcstatus is what the RPC transports (grpcx, connectx) share:
// the registered error a server answers becomes a message and google.rpc
// details (ErrorInfo, BadRequest, RetryInfo, LocalizedMessage), and on the
// client side those details turn back into the registered error. It knows
// neither grpc nor connect: a transport brings its code and its wire types.
package rpcstatus

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/publicinfo"
	"github.com/otelkit/otelkit/mask"
)

// Event names of exception records in RPCs (semconv rpc/rpc-exceptions.md:
// "The event name MUST be rpc.server.call.exception", severity ERROR; the
// client's is rpc.client.call.exception).
const (
	EventServerException = "rpc.server.call.exception"
	EventClientException = "rpc.client.call.exception"
)

// DefaultDomain is the ErrorInfo domain when a transport is given none.
const DefaultDomain = "otelkit"

// MetadataDetail is the ErrorInfo metadata key of an occurrence's public
// detail (errorsx.Def.Detailf), unless its info already uses the key.
const MetadataDetail = "detail"

// InfoRetryAfter is the info key whose value (seconds, a number, or a
// time.Duration) becomes a google.rpc.RetryInfo detail.
const InfoRetryAfter = "retry_after"

// MaxAcceptLanguage bounds the accept-language value a server reads
// (errorsx.Def.Localized's bound).
const MaxAcceptLanguage = errorsx.MaxAcceptLanguage

// AcceptLanguage returns v cut to what errorsx.Def.Localized reads of it:
// the entries within [MaxAcceptLanguage] bytes, plus one byte that tells
// whether the last of them is whole (Localized drops it if not).
func AcceptLanguage(v string) string {
	if len(v) > MaxAcceptLanguage+1 {
		return v[:MaxAcceptLanguage+1]
	}
	return v
}

// Builder makes the message and details a server answers for a resolved
// error.
type Builder struct {
	Registry *errorsx.Registry // resolves joined entries and errors in info
	Mask     *mask.Policy      // masks public info
	Domain   string            // the ErrorInfo domain
}

// Build returns the registered message of m's definition, localized for
// acceptLanguage, and the details: ErrorInfo{reason: id, domain, metadata:
// masked public info and the detail}, RetryInfo from [InfoRetryAfter],
// BadRequest for joined entries, LocalizedMessage when translated. A 5xx
// carries ErrorInfo without metadata and nothing else but the
// LocalizedMessage.
func (b *Builder) Build(m errorsx.Match, acceptLanguage string) (string, []proto.Message) {
	def := m.Def
	msg, tag := def.Localized(acceptLanguage)
	info := &errdetails.ErrorInfo{Reason: def.ID(), Domain: b.Domain}
	details := make([]proto.Message, 0, 4)
	details = append(details, info)
	occ := m.Occurrence
	if occ != nil && def.Status() < 500 {
		fields := b.publicInfo(occ.Info())
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
				em := b.Registry.Match(err)
				ed := em.Def
				et, _ := ed.Localized(acceptLanguage)
				v := &errdetails.BadRequest_FieldViolation{Description: et, Reason: ed.ID()}
				if em.Occurrence != nil && ed.Status() < 500 {
					for _, f := range b.publicInfo(em.Occurrence.Info()) {
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
	return msg, details
}

// publicInfo masks info as httpx does: sensitive keys masked, errors
// replaced by their ids.
func (b *Builder) publicInfo(info []errorsx.Field) []errorsx.Field {
	return publicinfo.Mask(b.Mask, info, func(err error) any { return b.Registry.Resolve(err).ID() })
}

// metadataValue is a string as it is, anything else JSON-encoded (ints
// and bools without encoding/json: the same text, fewer allocations).
func metadataValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
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
	MaxDetails    = 16
	MaxMetadata   = 64
	MaxViolations = 64
)

// Detail is one detail as a status carries it: its type (a type URL such
// as type.googleapis.com/google.rpc.ErrorInfo, or the bare message name)
// and its serialized bytes.
type Detail struct {
	Type  string
	Value []byte
}

var (
	nameErrorInfo  = string((*errdetails.ErrorInfo)(nil).ProtoReflect().Descriptor().FullName())
	nameBadRequest = string((*errdetails.BadRequest)(nil).ProtoReflect().Descriptor().FullName())
)

// is reports whether a detail's type names the message full (as
// anypb.Any.MessageIs matches a type URL: the name after the last '/').
func is(typ, full string) bool {
	if typ == full {
		return true
	}
	return len(typ) > len(full) && typ[len(typ)-len(full)-1] == '/' && strings.HasSuffix(typ, full)
}

// Def returns the definition [Parse] returns for the same details, without
// reading more than their ErrorInfo or making the occurrence: what a
// client span's error.type needs.
func Def(reg *errorsx.Registry, n int, detail func(i int) Detail) *errorsx.Def {
	for i := range min(n, MaxDetails) {
		d := detail(i)
		if !is(d.Type, nameErrorInfo) {
			continue
		}
		v := new(errdetails.ErrorInfo)
		if proto.Unmarshal(d.Value, v) != nil {
			continue // as Parse: the first ErrorInfo that unmarshals
		}
		def, ok := reg.Lookup(v.GetReason())
		if !ok {
			return nil
		}
		return def
	}
	return nil
}

// Parse returns the registered error that details (at most [MaxDetails]
// of them are read, from detail(0) to detail(n-1)) stand for: the
// definition whose id is the reason of their google.rpc.ErrorInfo, and an
// occurrence of it when they carried more than the reason (the ErrorInfo
// metadata as public info, values as strings, the detail under
// [MetadataDetail], and the BadRequest field violations whose reasons are
// registered as joined entries), else nil. def is nil when there is no
// ErrorInfo, it is malformed or its reason is not registered in reg. It
// never panics and reads a bounded number of metadata entries and
// violations.
func Parse(reg *errorsx.Registry, n int, detail func(i int) Detail) (def *errorsx.Def, occ *errorsx.Error) {
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	for i := range min(n, MaxDetails) {
		d := detail(i)
		switch {
		case info == nil && is(d.Type, nameErrorInfo):
			v := new(errdetails.ErrorInfo)
			if proto.Unmarshal(d.Value, v) == nil {
				info = v
			}
		case br == nil && is(d.Type, nameBadRequest):
			v := new(errdetails.BadRequest)
			if proto.Unmarshal(d.Value, v) == nil {
				br = v
			}
		}
	}
	if info == nil {
		return nil, nil
	}
	def, ok := reg.Lookup(info.GetReason())
	if !ok {
		return nil, nil
	}
	var entries []error
	if br != nil {
		for i, v := range br.GetFieldViolations() {
			if i >= MaxViolations {
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
	if len(entries) > 0 {
		occ = def.Join(entries...)
	}
	md := info.GetMetadata()
	if len(md) > 0 {
		keys := make([]string, 0, min(len(md), MaxMetadata))
		for k := range md {
			if len(keys) >= MaxMetadata {
				break
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		// The first key starts the occurrence when no entries did, so
		// that the common status, one metadata entry, costs one
		// allocation (def.With keeps the field inline) instead of an
		// empty occurrence and its copy.
		for _, k := range keys {
			switch {
			case k == MetadataDetail && occ == nil:
				occ = def.Detailf("%s", md[k])
			case k == MetadataDetail:
				occ = occ.Detailf("%s", md[k])
			case occ == nil:
				occ = def.With(k, md[k])
			default:
				occ = occ.With(k, md[k])
			}
		}
	}
	return def, occ
}
