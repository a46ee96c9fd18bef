package mask

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Value returns v with the values of sensitive keys replaced by [Mask] at
// any depth, and reports whether the result differs from v. It walks v's
// structure itself, so that nothing is ever printed unmasked:
//
//   - maps (with keys of any type, map[any]any included), slices, arrays,
//     pointers and structs (by their JSON field names) are masked by key;
//   - an error, anywhere (in a slice, a map, a field, or v itself), is
//     replaced by its text masked with [Policy.Text], never encoded field
//     by field (a *url.Error would show its URL); see [Policy.ValueFunc];
//   - what encoding/json cannot encode (functions, channels, complex
//     numbers, NaN and infinities) is replaced by a description of its
//     type or by its text ("+Inf"), and values with a MarshalJSON method
//     are masked in the JSON they produce;
//   - a value that panics when asked for its text is replaced by a marker.
//
// Strings are data: they are not scanned ([Policy.Text] does that for free
// text). Scalars and values with nothing to change are returned as they
// are; a value that must change is returned as map[string]any, []any and
// scalars, ready for encoding/json.
func (p *Policy) Value(v any) (masked any, changed bool) {
	return p.ValueFunc(v, nil)
}

// ValueFunc is [Policy.Value] with the errors found in v replaced by
// errValue(err) rather than by their masked text: httpx writes the error
// id in client bodies, where an error's text does not belong.
func (p *Policy) ValueFunc(v any, errValue func(error) any) (masked any, changed bool) {
	if p == nil || v == nil {
		return v, false
	}
	switch f := v.(type) {
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return v, false
	case float64:
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return floatText(f), true
		}
		return v, false
	}
	w := walker{p: p, errValue: errValue}
	out, changed := w.conv(reflect.ValueOf(v), 0)
	if !changed {
		return v, false
	}
	return out, true
}

// JSON encodes v with encoding/json after masking it with [Policy.Value].
func (p *Policy) JSON(v any) ([]byte, error) {
	m, _ := p.Value(v)
	return json.Marshal(m)
}

type walker struct {
	p        *Policy
	errValue func(error) any
}

var (
	errorType         = reflect.TypeFor[error]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// unencodable describes a value that has no JSON form.
func unencodable(t reflect.Type) string { return "[unencodable " + t.String() + "]" }

// panicked describes a value whose method panicked.
func panicked(t reflect.Type) string { return "[" + t.String() + " panicked]" }

func floatText(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "+Inf"
	}
	return "-Inf"
}

// conv returns the generic form of rv and whether it differs from what
// encoding/json would write for rv.
func (w *walker) conv(rv reflect.Value, depth int) (any, bool) {
	if !rv.IsValid() {
		return nil, false
	}
	if depth > maxDepth {
		return Mask, true
	}
	t := rv.Type()
	if (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface) && rv.IsNil() {
		return nil, false
	}
	methods := rv.CanInterface() && rv.Kind() != reflect.Interface
	if methods && t.Implements(errorType) {
		return w.replaceError(rv), true
	}
	if methods && t.Implements(jsonMarshalerType) {
		return w.marshaled(rv, depth)
	}
	if methods && t.Implements(textMarshalerType) {
		b, ok := callText(rv)
		if !ok {
			return panicked(t), true
		}
		return string(b), false
	}
	switch rv.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr, reflect.String:
		return scalar(rv), false
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return floatText(f), true
		}
		return scalar(rv), false
	case reflect.Complex64, reflect.Complex128:
		return strconv.FormatComplex(rv.Complex(), 'g', -1, 128), true
	case reflect.Pointer, reflect.Interface:
		return w.conv(rv.Elem(), depth+1)
	case reflect.Map:
		return w.convMap(rv, depth)
	case reflect.Slice:
		if rv.IsNil() {
			return nil, false
		}
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(jsonMarshalerType) && !t.Elem().Implements(textMarshalerType) {
			return base64.StdEncoding.EncodeToString(rv.Bytes()), false
		}
		return w.convList(rv, depth)
	case reflect.Array:
		return w.convList(rv, depth)
	case reflect.Struct:
		return w.convStruct(rv, depth)
	}
	// Functions, channels, unsafe pointers: encoding/json refuses them.
	return unencodable(t), true
}

// scalar returns the value of a bool, number or string as it is when it
// can, or as its basic type when reached through an unexported field.
func scalar(rv reflect.Value) any {
	if rv.CanInterface() {
		return rv.Interface()
	}
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool()
	case reflect.String:
		return rv.String()
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	}
	if rv.CanInt() {
		return rv.Int()
	}
	return rv.Uint()
}

func reflectOf(v any) reflect.Value { return reflect.ValueOf(v) }

func (w *walker) replaceError(rv reflect.Value) (out any) {
	err := rv.Interface().(error)
	defer func() {
		if recover() != nil {
			out = panicked(rv.Type())
		}
	}()
	if w.errValue != nil {
		return w.errValue(err)
	}
	return w.p.Text(err.Error())
}

func (w *walker) marshaled(rv reflect.Value, depth int) (out any, changed bool) {
	var b []byte
	var err error
	func() {
		defer func() {
			if recover() != nil {
				err = fmt.Errorf("panicked")
			}
		}()
		b, err = rv.Interface().(json.Marshaler).MarshalJSON()
	}()
	if err != nil {
		return unencodable(rv.Type()), true
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var generic any
	if d.Decode(&generic) != nil {
		return unencodable(rv.Type()), true
	}
	out, changed = w.conv(reflect.ValueOf(generic), depth+1)
	return out, changed
}

func callText(rv reflect.Value) (b []byte, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	b, err := rv.Interface().(encoding.TextMarshaler).MarshalText()
	return b, err == nil
}

func (w *walker) convMap(rv reflect.Value, depth int) (any, bool) {
	if rv.IsNil() {
		return nil, false
	}
	kt := rv.Type().Key()
	// encoding/json encodes maps whose keys are strings, integers or
	// TextMarshalers; any other key type (map[any]any) has no JSON form, so
	// the result always differs.
	changed := !(kt.Kind() == reflect.String || isIntKind(kt.Kind()) || kt.Implements(textMarshalerType))
	out := make(map[string]any, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		key, kc := w.mapKey(it.Key())
		changed = changed || kc
		if w.p.Sensitive(key) {
			out[key] = Mask
			changed = true
			continue
		}
		v, c := w.conv(it.Value(), depth+1)
		changed = changed || c
		out[key] = v
	}
	return out, changed
}

func isIntKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// mapKey returns the text of a map key, as encoding/json writes it when it
// can, and whether it had to be made up.
func (w *walker) mapKey(k reflect.Value) (string, bool) {
	for k.Kind() == reflect.Interface && !k.IsNil() {
		k = k.Elem()
	}
	switch {
	case k.Kind() == reflect.String:
		return k.String(), false
	case isIntKind(k.Kind()):
		if k.CanInt() {
			return strconv.FormatInt(k.Int(), 10), false
		}
		return strconv.FormatUint(k.Uint(), 10), false
	case k.IsValid() && k.Type().Implements(textMarshalerType):
		if b, ok := callText(k); ok {
			return string(b), false
		}
		return panicked(k.Type()), true
	case k.Kind() == reflect.Bool:
		return strconv.FormatBool(k.Bool()), true
	case k.Kind() == reflect.Float32 || k.Kind() == reflect.Float64:
		return strconv.FormatFloat(k.Float(), 'g', -1, 64), true
	case !k.IsValid():
		return "<nil>", true
	}
	return unencodable(k.Type()), true
}

func (w *walker) convList(rv reflect.Value, depth int) (any, bool) {
	n := rv.Len()
	out := make([]any, n)
	changed := false
	for i := 0; i < n; i++ {
		v, c := w.conv(rv.Index(i), depth+1)
		out[i] = v
		changed = changed || c
	}
	return out, changed
}

func (w *walker) convStruct(rv reflect.Value, depth int) (any, bool) {
	out := make(map[string]any)
	changed := w.fields(rv, depth, out)
	return out, changed
}

// fields adds the JSON fields of the struct rv to out.
func (w *walker) fields(rv reflect.Value, depth int, out map[string]any) bool {
	changed := false
	for _, f := range structFields(rv.Type()) {
		fv := rv.Field(f.index)
		if f.inline {
			for fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					break
				}
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct {
				changed = w.fields(fv, depth+1, out) || changed
			}
			continue
		}
		if f.omitEmpty && fv.IsZero() {
			continue
		}
		if w.p.Sensitive(f.name) {
			out[f.name] = Mask
			changed = true
			continue
		}
		v, c := w.conv(fv, depth+1)
		out[f.name] = v
		changed = changed || c
	}
	return changed
}

type field struct {
	name      string
	index     int
	omitEmpty bool
	inline    bool // an embedded struct without a JSON name: its fields are promoted
}

var fieldCache sync.Map // reflect.Type -> []field

// structFields returns the fields encoding/json writes for t (a
// simplification: conflicts between promoted fields are not resolved).
func structFields(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			fs = append(fs, field{index: i, inline: true})
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fs = append(fs, field{name: name, index: i, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
	}
	fieldCache.Store(t, fs)
	return fs
}
