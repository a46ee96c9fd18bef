package errtrack

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/mask"
)

// maskAttr returns kv with sensitive values replaced by [mask.Mask], looking
// into map values as well: a record may carry a nested map whose inner keys
// are sensitive even when the outer key is not.
func maskAttr(p *mask.Policy, kv attribute.KeyValue) attribute.KeyValue {
	if p.Sensitive(string(kv.Key)) {
		return attribute.String(string(kv.Key), mask.Mask)
	}
	if kv.Value.Type() == attribute.MAP {
		return attribute.KeyValue{Key: kv.Key, Value: maskMap(p, kv.Value)}
	}
	if kv.Value.Type() == attribute.STRING {
		if s := kv.Value.AsString(); s != "" {
			if m := maskText(p, s); m != s {
				return attribute.String(string(kv.Key), m)
			}
		}
	}
	return kv
}

func maskMap(p *mask.Policy, v attribute.Value) attribute.Value {
	in := v.AsMap()
	out := make([]attribute.KeyValue, len(in))
	for i, kv := range in {
		out[i] = maskAttr(p, kv)
	}
	return attribute.MapValue(out...)
}

// maskText masks the values that follow sensitive keys in free text, such as
// "password=hunter2", "token: abc" or `"api_key":"abc"`. Captured messages
// are masked by their writer already; this is a second, defensive pass so
// that the page and notifications never show a secret a writer let through.
func maskText(p *mask.Policy, s string) string {
	if p == nil || s == "" {
		return s
	}
	var b strings.Builder
	last := 0
	i := 0
	for i < len(s) {
		if !isKeyByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isKeyByte(s[j]) {
			j++
		}
		key := s[i:j]
		k := j
		if k < len(s) && (s[k] == '"' || s[k] == '\'') {
			k++
		}
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if k >= len(s) || (s[k] != '=' && s[k] != ':') || !p.Sensitive(key) {
			i = j
			continue
		}
		k++
		for k < len(s) && s[k] == ' ' {
			k++
		}
		start, end := valueSpan(s, k)
		if end > start && s[start:end] != mask.Mask {
			b.WriteString(s[last:start])
			b.WriteString(mask.Mask)
			last = end
		}
		if end <= j {
			end = j
		}
		i = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// valueSpan returns the bounds of the value that starts at k: a quoted
// string, or a run up to a separator; an HTTP auth scheme ("Bearer x")
// includes its credentials.
func valueSpan(s string, k int) (start, end int) {
	if k < len(s) && (s[k] == '"' || s[k] == '\'') {
		q := s[k]
		start = k + 1
		end = start
		for end < len(s) && s[end] != q {
			if s[end] == '\\' && end+1 < len(s) {
				end++
			}
			end++
		}
		return start, end
	}
	start = k
	end = scanValue(s, k)
	word := s[start:end]
	if (strings.EqualFold(word, "bearer") || strings.EqualFold(word, "basic")) && end < len(s) && s[end] == ' ' {
		end = scanValue(s, end+1)
	}
	return start, end
}

func scanValue(s string, k int) int {
	for k < len(s) {
		switch s[k] {
		case ' ', '\t', '\r', '\n', ',', ';', '&', '}', ')', ']', '"', '\'':
			return k
		}
		k++
	}
	return k
}

func isKeyByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}
