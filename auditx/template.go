package auditx

import (
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
)

// segment is one piece of a parsed template: literal text, or a reference
// to a parameter by its index in the template's parameter list.
type segment struct {
	lit   string // unescaped literal text; used when param < 0
	param int    // index into template.params, or -1
}

// template is a message template parsed once at definition time.
type template struct {
	raw    string
	segs   []segment
	params []string // distinct parameter names in order of first use
	steps  []step   // segs for rendering: each literal with the parameter after it
}

// step is a literal followed by a parameter (param >= 0) or by nothing
// (param < 0, the template's last literal).
type step struct {
	lit   string
	param int
}

// makeSteps returns segs as steps.
func makeSteps(segs []segment) []step {
	var steps []step
	var lit string
	for _, s := range segs {
		if s.param < 0 {
			lit += s.lit
			continue
		}
		steps = append(steps, step{lit: lit, param: s.param})
		lit = ""
	}
	if lit != "" {
		steps = append(steps, step{lit: lit, param: -1})
	}
	return steps
}

// templateError describes why a template does not parse; Define panics
// with its text.
type templateError struct {
	Template string // the template as given
	Offset   int    // byte offset of the problem in Template
	Reason   string // what is wrong, e.g. "unclosed '{'"
}

// Error implements error.
func (e *templateError) Error() string {
	return "template " + strconv.Quote(e.Template) + ": " + e.Reason + " at offset " + strconv.Itoa(e.Offset)
}

// parseTemplate splits s into literal and parameter segments.
//
// A parameter is written {name}; a name starts with an ASCII letter or '_'
// and continues with ASCII letters, digits, '_', '.' or '-', and is not one
// of the audit.* keys auditx sets itself. "{{" and "}}"
// stand for a literal '{' and '}'. Anything else involving braces is an
// error.
func parseTemplate(s string) (*template, error) {
	t := &template{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.segs = append(t.segs, segment{lit: lit.String(), param: -1})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '{':
			if i+1 < len(s) && s[i+1] == '{' {
				lit.WriteByte('{')
				i += 2
				continue
			}
			j := i + 1
			for j < len(s) && s[j] != '}' && s[j] != '{' {
				j++
			}
			if j == len(s) {
				return nil, &templateError{Template: s, Offset: i, Reason: "unclosed '{'"}
			}
			if s[j] == '{' {
				return nil, &templateError{Template: s, Offset: j, Reason: "'{' inside a placeholder"}
			}
			name := s[i+1 : j]
			if name == "" {
				return nil, &templateError{Template: s, Offset: i, Reason: "empty placeholder"}
			}
			if !validParamName(name) {
				return nil, &templateError{Template: s, Offset: i, Reason: "invalid placeholder name " + strconv.Quote(name)}
			}
			if reserved(attribute.Key(name)) {
				return nil, &templateError{Template: s, Offset: i, Reason: "reserved placeholder name " + strconv.Quote(name)}
			}
			flush()
			t.segs = append(t.segs, segment{param: t.paramIndex(name)})
			i = j + 1
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				lit.WriteByte('}')
				i += 2
				continue
			}
			return nil, &templateError{Template: s, Offset: i, Reason: "unmatched '}'"}
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	t.steps = makeSteps(t.segs)
	return t, nil
}

// paramIndex returns the index of name in t.params, adding it if needed.
func (t *template) paramIndex(name string) int {
	for i, p := range t.params {
		if p == name {
			return i
		}
	}
	t.params = append(t.params, name)
	return len(t.params) - 1
}

// validParamName reports whether name is a valid placeholder name:
// [A-Za-z_][A-Za-z0-9_.-]*.
func validParamName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case i > 0 && ('0' <= c && c <= '9' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return name != ""
}

// validType reports whether typ is a valid event type: non-empty and made of
// [a-z0-9._-].
func validType(typ string) bool {
	if typ == "" {
		return false
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
