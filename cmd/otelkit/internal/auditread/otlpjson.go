// Package auditread reads audit records for "otelkit audit verify": from
// the collector's JSONL archive (the file exporter's OTLP JSON lines,
// rotated, optionally gzip-compressed) and from a VictoriaLogs LogsQL
// export (JSON lines from /select/logsql/query).
package auditread

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/auditx/chain"
)

// AuditScope is the instrumentation scope of audit records.
const AuditScope = "github.com/otelkit/otelkit/auditx"

// Func receives each record read, with where it was found.
type Func func(r chain.Record, where string)

// maxLine bounds one JSON line (one export request of the file exporter).
const maxLine = 256 << 20

// Open opens path for reading, decompressing gzip (found by its magic
// bytes, whatever the name).
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return readCloser{zr, f}, nil
	}
	return readCloser{br, f}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Format is the format of a source.
type Format int

// Formats.
const (
	FormatUnknown Format = iota
	FormatOTLP           // OTLP JSON, one ExportLogsServiceRequest per line
	FormatLogsQL         // VictoriaLogs LogsQL JSON lines
)

// Detect tells the format from a source's first non-empty line.
func Detect(line []byte) Format {
	var probe map[string]json.RawMessage
	if json.Unmarshal(line, &probe) != nil {
		return FormatUnknown
	}
	for _, k := range []string{"resourceLogs", "resourceSpans", "resourceMetrics"} {
		if _, ok := probe[k]; ok {
			return FormatOTLP // spans and metrics hold no audit records
		}
	}
	if _, ok := probe["_time"]; ok {
		return FormatLogsQL
	}
	if _, ok := probe["_msg"]; ok {
		return FormatLogsQL
	}
	return FormatUnknown
}

// Read reads the JSON lines of r, named name in reports, detecting the
// format from the first line, and gives each audit record to fn. It
// returns the format found.
func Read(r io.Reader, name string, fn Func) (Format, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	format := FormatUnknown
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if format == FormatUnknown {
			if format = Detect(b); format == FormatUnknown {
				return format, fmt.Errorf("%s:%d: neither OTLP JSON nor a LogsQL JSON line", name, line)
			}
		}
		where := name + ":" + strconv.Itoa(line)
		var err error
		if format == FormatOTLP {
			err = readOTLPLine(b, where, fn)
		} else {
			err = readLogsQLLine(b, where, fn)
		}
		if err != nil {
			return format, fmt.Errorf("%s: %w", where, err)
		}
	}
	if err := sc.Err(); err != nil {
		return format, fmt.Errorf("%s: %w", name, err)
	}
	return format, nil
}

// OTLP JSON (the protobuf JSON mapping the collector's file exporter
// writes).
type otlpRequest struct {
	ResourceLogs []struct {
		ScopeLogs []struct {
			Scope struct {
				Name string `json:"name"`
			} `json:"scope"`
			LogRecords []otlpRecord `json:"logRecords"`
		} `json:"scopeLogs"`
	} `json:"resourceLogs"`
}

type otlpRecord struct {
	TimeUnixNano   json.Number `json:"timeUnixNano"`
	SeverityNumber json.Number `json:"severityNumber"`
	SeverityText   string      `json:"severityText"`
	Body           *anyValue   `json:"body"`
	Attributes     []keyValue  `json:"attributes"`
	TraceID        string      `json:"traceId"`
	SpanID         string      `json:"spanId"`
	EventName      string      `json:"eventName"`
}

type keyValue struct {
	Key   string    `json:"key"`
	Value *anyValue `json:"value"`
}

type anyValue struct {
	StringValue *string          `json:"stringValue"`
	BoolValue   *bool            `json:"boolValue"`
	IntValue    *json.Number     `json:"intValue"`
	DoubleValue *json.RawMessage `json:"doubleValue"`
	BytesValue  *string          `json:"bytesValue"`
	ArrayValue  *struct {
		Values []*anyValue `json:"values"`
	} `json:"arrayValue"`
	KvlistValue *struct {
		Values []keyValue `json:"values"`
	} `json:"kvlistValue"`
}

func readOTLPLine(b []byte, where string, fn Func) error {
	var req otlpRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return err
	}
	n := 0
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			if sl.Scope.Name != AuditScope {
				continue
			}
			for i := range sl.LogRecords {
				n++
				r, err := sl.LogRecords[i].record()
				if err != nil {
					return fmt.Errorf("record %d: %w", n, err)
				}
				w := where
				if len(sl.LogRecords) > 1 || n > 1 {
					w = where + "#" + strconv.Itoa(n)
				}
				fn(r, w)
			}
		}
	}
	return nil
}

func (o *otlpRecord) record() (chain.Record, error) {
	var r chain.Record
	var err error
	if o.TimeUnixNano != "" {
		t, err := strconv.ParseUint(string(o.TimeUnixNano), 10, 64)
		if err != nil {
			return r, fmt.Errorf("timeUnixNano: %w", err)
		}
		if t <= math.MaxInt64 {
			r.TimeUnixNano = int64(t)
		}
	}
	if o.SeverityNumber != "" {
		if r.Severity, err = strconv.ParseInt(string(o.SeverityNumber), 10, 64); err != nil {
			return r, fmt.Errorf("severityNumber %q: %w", o.SeverityNumber, err)
		}
	}
	r.SeverityText = o.SeverityText
	r.EventName = o.EventName
	if r.Body, err = o.Body.value(); err != nil {
		return r, fmt.Errorf("body: %w", err)
	}
	for _, kv := range o.Attributes {
		v, err := kv.Value.value()
		if err != nil {
			return r, fmt.Errorf("attribute %q: %w", kv.Key, err)
		}
		r.Attributes = append(r.Attributes, attribute.KeyValue{Key: attribute.Key(kv.Key), Value: v})
	}
	if err := decodeHex(r.TraceID[:], o.TraceID); err != nil {
		return r, fmt.Errorf("traceId: %w", err)
	}
	if err := decodeHex(r.SpanID[:], o.SpanID); err != nil {
		return r, fmt.Errorf("spanId: %w", err)
	}
	return r, nil
}

func decodeHex(dst []byte, s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 2*len(dst) {
		return fmt.Errorf("%q: want %d hex digits", s, 2*len(dst))
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}

func (a *anyValue) value() (attribute.Value, error) {
	switch {
	case a == nil:
		return attribute.Value{}, nil
	case a.StringValue != nil:
		return attribute.StringValue(*a.StringValue), nil
	case a.BoolValue != nil:
		return attribute.BoolValue(*a.BoolValue), nil
	case a.IntValue != nil:
		n, err := strconv.ParseInt(string(*a.IntValue), 10, 64)
		return attribute.Int64Value(n), err
	case a.DoubleValue != nil:
		f, err := parseDouble(*a.DoubleValue)
		return attribute.Float64Value(f), err
	case a.BytesValue != nil:
		b, err := base64.StdEncoding.DecodeString(*a.BytesValue)
		return attribute.ByteSliceValue(b), err
	case a.ArrayValue != nil:
		vs := make([]attribute.Value, 0, len(a.ArrayValue.Values))
		for _, e := range a.ArrayValue.Values {
			v, err := e.value()
			if err != nil {
				return v, err
			}
			vs = append(vs, v)
		}
		return attribute.SliceValue(vs...), nil
	case a.KvlistValue != nil:
		kvs := make([]attribute.KeyValue, 0, len(a.KvlistValue.Values))
		for _, kv := range a.KvlistValue.Values {
			v, err := kv.Value.value()
			if err != nil {
				return v, err
			}
			kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(kv.Key), Value: v})
		}
		return attribute.MapValue(kvs...), nil
	}
	return attribute.Value{}, nil
}

// parseDouble reads a protobuf JSON double: a number, or "NaN",
// "Infinity", "-Infinity" or a number in a string.
func parseDouble(raw json.RawMessage) (float64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return strconv.ParseFloat(s, 64)
	}
	return strconv.ParseFloat(string(raw), 64)
}
