package auditread

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/auditx/chain"
)

// A VictoriaLogs LogsQL result line is a flat JSON object of strings
// (VictoriaLogs' OpenTelemetry ingestion, as of v1.52): the body in _msg,
// the timestamp in _time (RFC 3339), severity_number, severity_text,
// trace_id, span_id, event_name, scope.name and scope.version, the
// resource attributes (also named in _stream) and the record's attributes
// under their keys, every value as text, empty values left out.
//
// Types are therefore lost. The chain's hash covers typed values, so for
// each record the reader tries the types a text can stand for (string,
// int, double, bool, JSON array) and keeps the combination whose hash is
// the record's otelkit.audit.hash; when none matches it keeps them all as
// strings and the verifier reports the record as modified. An attribute
// whose value was the empty string cannot be brought back: such records
// show as modified when read from VictoriaLogs (the JSONL archive keeps
// them).

// reserved fields of a LogsQL line that are not record attributes.
var logsqlFields = map[string]bool{
	"_msg": true, "_time": true, "_stream": true, "_stream_id": true,
	"event_name": true, "severity_number": true, "severity_text": true,
	"trace_id": true, "span_id": true, "trace_flags": true, "flags": true,
	"scope.name": true, "scope.version": true, "observed_time": true,
	"dropped_attributes_count": true,
}

// maxCombinations bounds the type combinations tried for one record.
const maxCombinations = 1 << 12

func readLogsQLLine(b []byte, where string, fn Func) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	f := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			s = string(v) // a number or other JSON: keep its text
		}
		f[k] = s
	}
	if sc, ok := f["scope.name"]; ok && sc != AuditScope {
		return nil
	}
	resource := streamKeys(f["_stream"])
	var r chain.Record
	r.EventName = f["event_name"]
	r.Body = attribute.StringValue(f["_msg"])
	if t := f["_time"]; t != "" {
		tm, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return fmt.Errorf("_time: %w", err)
		}
		r.TimeUnixNano = tm.UnixNano()
	}
	if s := f["severity_number"]; s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("severity_number: %w", err)
		}
		r.Severity = n
	}
	r.SeverityText = f["severity_text"]
	if err := decodeHex(r.TraceID[:], f["trace_id"]); err != nil {
		return fmt.Errorf("trace_id: %w", err)
	}
	if err := decodeHex(r.SpanID[:], f["span_id"]); err != nil {
		return fmt.Errorf("span_id: %w", err)
	}
	var keys []string
	for k := range f {
		if logsqlFields[k] || resource[k] && k != "event_name" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	cands := make([][]attribute.Value, len(keys))
	total := 1
	for i, k := range keys {
		if chain.IsChainKey(k) {
			cands[i] = []attribute.Value{attribute.StringValue(f[k])}
			if k == chain.KeySeq {
				if n, err := strconv.ParseInt(f[k], 10, 64); err == nil {
					cands[i] = []attribute.Value{attribute.Int64Value(n)}
				}
			}
			continue
		}
		cands[i] = candidates(f[k])
		if total <= maxCombinations {
			total *= len(cands[i])
		}
	}
	attrs := make([]attribute.KeyValue, len(keys))
	for i, k := range keys {
		attrs[i] = attribute.KeyValue{Key: attribute.Key(k), Value: cands[i][0]}
	}
	r.Attributes = attrs
	if want := f[chain.KeyHash]; want != "" && total > 1 && total <= maxCombinations {
		probe := r
		probe.StreamID = f[chain.KeyStreamID]
		probe.PrevHash = f[chain.KeyPrevHash]
		if n, err := strconv.ParseUint(f[chain.KeySeq], 10, 64); err == nil {
			probe.Seq = n
		}
		idx := make([]int, len(keys))
		work := make([]attribute.KeyValue, len(keys))
		var buf []byte
		for range total {
			for i, k := range keys {
				work[i] = attribute.KeyValue{Key: attribute.Key(k), Value: cands[i][idx[i]]}
			}
			probe.Attributes = work // sorted by key already
			buf = probe.AppendCanonical(buf[:0])
			sum := sha256.Sum256(buf)
			if hex.EncodeToString(sum[:]) == want {
				copy(attrs, work)
				break
			}
			for i := range idx { // next combination
				if idx[i]++; idx[i] < len(cands[i]) {
					break
				}
				idx[i] = 0
			}
		}
	}
	fn(r, where)
	return nil
}

// candidates returns the values a LogsQL text may have been exported from,
// the string first.
func candidates(s string) []attribute.Value {
	out := []attribute.Value{attribute.StringValue(s)}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		out = append(out, attribute.Int64Value(n))
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
		out = append(out, attribute.Float64Value(f))
	}
	switch s {
	case "true":
		out = append(out, attribute.BoolValue(true))
	case "false":
		out = append(out, attribute.BoolValue(false))
	}
	if strings.HasPrefix(s, "[") {
		if v, ok := jsonArray(s); ok {
			out = append(out, v)
		}
	}
	return out
}

// jsonArray reads a JSON array of scalars as the array value it was
// exported from (strings, integers as int, other numbers as double, bools).
func jsonArray(s string) (attribute.Value, bool) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var elems []any
	if err := dec.Decode(&elems); err != nil {
		return attribute.Value{}, false
	}
	vs := make([]attribute.Value, 0, len(elems))
	for _, e := range elems {
		switch x := e.(type) {
		case string:
			vs = append(vs, attribute.StringValue(x))
		case bool:
			vs = append(vs, attribute.BoolValue(x))
		case json.Number:
			if n, err := x.Int64(); err == nil {
				vs = append(vs, attribute.Int64Value(n))
			} else if f, err := x.Float64(); err == nil {
				vs = append(vs, attribute.Float64Value(f))
			}
		default:
			return attribute.Value{}, false
		}
	}
	return attribute.SliceValue(vs...), true
}

// streamKeys returns the field names of a LogsQL stream, `{a="x",b="y"}`.
func streamKeys(s string) map[string]bool {
	keys := map[string]bool{}
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' {
		return keys
	}
	s = s[1 : len(s)-1]
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		keys[strings.TrimSpace(s[:eq])] = true
		s = s[eq+1:]
		if len(s) == 0 || s[0] != '"' {
			break
		}
		// Skip the quoted value.
		i := 1
		for i < len(s) && s[i] != '"' {
			if s[i] == '\\' {
				i++
			}
			i++
		}
		s = strings.TrimPrefix(s[min(i+1, len(s)):], ",")
	}
	return keys
}
