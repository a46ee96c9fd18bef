package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys of the chain.
const (
	KeyStreamID = "otelkit.audit.stream_id" // the stream, 32 hex digits
	KeySeq      = "otelkit.audit.seq"       // int, from 1
	KeyPrevHash = "otelkit.audit.prev_hash" // hash of record seq-1
	KeyHash     = "otelkit.audit.hash"      // SHA-256 of the canonical encoding, hex
)

// Checkpoint event name and attribute keys.
const (
	CheckpointEvent = "otelkit.audit.checkpoint"

	KeyCheckpointKind       = "otelkit.audit.checkpoint.kind"      // start, periodic or final
	KeyCheckpointSeq        = "otelkit.audit.checkpoint.seq"       // last record covered
	KeyCheckpointHash       = "otelkit.audit.checkpoint.hash"      // its hash
	KeyCheckpointKeyID      = "otelkit.audit.checkpoint.key_id"    // signing key id
	KeyCheckpointSignature  = "otelkit.audit.checkpoint.signature" // Ed25519, base64
	KeyCheckpointPrevStream = "otelkit.audit.checkpoint.prev_stream_id"
	KeyCheckpointPrevSeq    = "otelkit.audit.checkpoint.prev_seq"
	KeyCheckpointPrevHash   = "otelkit.audit.checkpoint.prev_hash"
)

// Checkpoint kinds.
const (
	KindStart    = "start"
	KindPeriodic = "periodic"
	KindFinal    = "final"
)

// IsChainKey reports whether key is one of the four chain attributes, which
// the canonical encoding leaves out.
func IsChainKey(key string) bool {
	if !strings.HasPrefix(key, "otelkit.audit.") {
		return false
	}
	switch key {
	case KeyStreamID, KeySeq, KeyPrevHash, KeyHash:
		return true
	}
	return false
}

// Record is the part of a log record the chain covers.
type Record struct {
	StreamID     string
	Seq          uint64
	PrevHash     string
	EventName    string
	TimeUnixNano int64
	Severity     int64
	SeverityText string
	Body         attribute.Value
	TraceID      trace.TraceID // encoded as "" when invalid (all zero)
	SpanID       trace.SpanID  // encoded as "" when invalid (all zero)
	// Attributes may hold the chain attributes; they are skipped. The
	// canonical encoding sorts them: AppendCanonical sorts this slice in
	// place.
	Attributes []attribute.KeyValue
}

const magic = "otelkit.audit.chain/v1\n"

// AppendCanonical appends the canonical encoding of r (see the package
// documentation) to dst. It sorts r.Attributes by key.
func (r *Record) AppendCanonical(dst []byte) []byte {
	dst = append(dst, magic...)
	dst = appendStr(dst, r.StreamID)
	dst = binary.BigEndian.AppendUint64(dst, r.Seq)
	dst = appendStr(dst, r.PrevHash)
	dst = appendStr(dst, r.EventName)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.TimeUnixNano))
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Severity))
	dst = appendStr(dst, r.SeverityText)
	dst = AppendValue(dst, r.Body)
	if r.TraceID.IsValid() {
		dst = binary.AppendUvarint(dst, uint64(2*len(r.TraceID)))
		dst = hex.AppendEncode(dst, r.TraceID[:])
	} else {
		dst = append(dst, 0)
	}
	if r.SpanID.IsValid() {
		dst = binary.AppendUvarint(dst, uint64(2*len(r.SpanID)))
		dst = hex.AppendEncode(dst, r.SpanID[:])
	} else {
		dst = append(dst, 0)
	}
	sortAttrs(r.Attributes)
	n := 0
	for _, kv := range r.Attributes {
		if !IsChainKey(string(kv.Key)) {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, kv := range r.Attributes {
		if IsChainKey(string(kv.Key)) {
			continue
		}
		dst = appendStr(dst, string(kv.Key))
		dst = AppendValue(dst, kv.Value)
	}
	return dst
}

// sortAttrs sorts by key; insertion sort, as records have few attributes
// and it must not allocate.
func sortAttrs(a []attribute.KeyValue) {
	if len(a) > 32 {
		slices.SortStableFunc(a, func(x, y attribute.KeyValue) int { return strings.Compare(string(x.Key), string(y.Key)) })
		return
	}
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].Key < a[j-1].Key; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// Hash returns the hash of r: SHA-256 of its canonical encoding, in hex.
// It sorts r.Attributes by key.
func (r *Record) Hash() string {
	var buf [512]byte
	sum := sha256.Sum256(r.AppendCanonical(buf[:0]))
	return hex.EncodeToString(sum[:])
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendValue appends the canonical encoding of v (see the package
// documentation) to dst.
func AppendValue(dst []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		return appendBool(dst, v.AsBool())
	case attribute.INT64:
		return binary.BigEndian.AppendUint64(append(dst, 'i'), uint64(v.AsInt64()))
	case attribute.FLOAT64:
		return binary.BigEndian.AppendUint64(append(dst, 'd'), math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		return appendStr(append(dst, 's'), v.AsString())
	case attribute.BYTESLICE:
		return appendStr(append(dst, 'y'), string(v.AsByteSlice()))
	case attribute.BOOLSLICE:
		s := v.AsBoolSlice()
		dst = binary.AppendUvarint(append(dst, 'a'), uint64(len(s)))
		for _, b := range s {
			dst = appendBool(dst, b)
		}
		return dst
	case attribute.INT64SLICE:
		s := v.AsInt64Slice()
		dst = binary.AppendUvarint(append(dst, 'a'), uint64(len(s)))
		for _, n := range s {
			dst = binary.BigEndian.AppendUint64(append(dst, 'i'), uint64(n))
		}
		return dst
	case attribute.FLOAT64SLICE:
		s := v.AsFloat64Slice()
		dst = binary.AppendUvarint(append(dst, 'a'), uint64(len(s)))
		for _, f := range s {
			dst = binary.BigEndian.AppendUint64(append(dst, 'd'), math.Float64bits(f))
		}
		return dst
	case attribute.STRINGSLICE:
		s := v.AsStringSlice()
		dst = binary.AppendUvarint(append(dst, 'a'), uint64(len(s)))
		for _, x := range s {
			dst = appendStr(append(dst, 's'), x)
		}
		return dst
	case attribute.SLICE:
		s := v.AsSlice()
		dst = binary.AppendUvarint(append(dst, 'a'), uint64(len(s)))
		for _, x := range s {
			dst = AppendValue(dst, x)
		}
		return dst
	case attribute.MAP:
		m := v.AsMap()
		dst = binary.AppendUvarint(append(dst, 'm'), uint64(len(m)))
		for _, kv := range m {
			dst = appendStr(dst, string(kv.Key))
			dst = AppendValue(dst, kv.Value)
		}
		return dst
	}
	return append(dst, 0)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 'b', 1)
	}
	return append(dst, 'b', 0)
}
