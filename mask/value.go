package mask

import (
	"encoding/json"
	"reflect"
)

// Value returns v with the values of sensitive keys replaced by [Mask] at
// any depth: in maps with string keys, in slices and arrays, and in structs
// (by their JSON field names), and reports whether it replaced any. Scalars
// and values with nothing sensitive are returned as they are. Composite
// values that must be rewritten are returned as their JSON form decoded
// into map[string]any and []any, ready for encoding/json.
func (p *Policy) Value(v any) (masked any, changed bool) {
	if p == nil || v == nil {
		return v, false
	}
	switch v.(type) {
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, json.Number:
		return v, false
	}
	k := reflect.TypeOf(v).Kind()
	for k == reflect.Pointer {
		rv := reflect.ValueOf(v)
		if rv.IsNil() {
			return v, false
		}
		k = rv.Elem().Kind()
	}
	switch k {
	case reflect.Map, reflect.Struct, reflect.Slice, reflect.Array, reflect.Interface:
	default:
		return v, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v, false
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return v, false
	}
	if masked, changed = p.walk(generic); !changed {
		return v, false
	}
	return masked, true
}

// JSON encodes v with encoding/json after masking it with [Policy.Value].
func (p *Policy) JSON(v any) ([]byte, error) {
	m, _ := p.Value(v)
	return json.Marshal(m)
}

func (p *Policy) walk(v any) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		changed := false
		for k, inner := range t {
			if p.Sensitive(k) {
				t[k] = Mask
				changed = true
				continue
			}
			if m, c := p.walk(inner); c {
				t[k] = m
				changed = true
			}
		}
		return t, changed
	case []any:
		changed := false
		for i, inner := range t {
			if m, c := p.walk(inner); c {
				t[i] = m
				changed = true
			}
		}
		return t, changed
	}
	return v, false
}
