package auditx

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/embedded"

	"github.com/otelkit/otelkit/mask"
)

func TestParseTemplate(t *testing.T) {
	lit := func(s string) segment { return segment{lit: s, param: -1} }
	par := func(i int) segment { return segment{param: i} }
	tests := []struct {
		tmpl   string
		segs   []segment
		params []string
	}{
		{"", nil, nil},
		{"plain", []segment{lit("plain")}, nil},
		{"{a}", []segment{par(0)}, []string{"a"}},
		{"User '{user}' from {client_ip}", []segment{lit("User '"), par(0), lit("' from "), par(1)}, []string{"user", "client_ip"}},
		{"{a}{b}{a}", []segment{par(0), par(1), par(0)}, []string{"a", "b"}},
		{"{{a}}", []segment{lit("{a}")}, nil},
		{"{{{a}}}", []segment{lit("{"), par(0), lit("}")}, []string{"a"}},
		{"x}}y{{z", []segment{lit("x}y{z")}, nil},
		{"{_a.b-c9}", []segment{par(0)}, []string{"_a.b-c9"}},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			got, err := parseTemplate(tt.tmpl)
			require.NoError(t, err)
			assert.Equal(t, tt.tmpl, got.raw)
			assert.Equal(t, tt.segs, got.segs)
			assert.Equal(t, tt.params, got.params)
		})
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct {
		tmpl   string
		offset int
		reason string
	}{
		{"{", 0, "unclosed '{'"},
		{"ab{cd", 2, "unclosed '{'"},
		{"}", 0, "unmatched '}'"},
		{"a}b", 1, "unmatched '}'"},
		{"{}", 0, "empty placeholder"},
		{"{a{b}}", 2, "'{' inside a placeholder"},
		{"{-a}", 0, `invalid placeholder name "-a"`},
		{"{a\n}", 0, `invalid placeholder name "a\n"`},
		{"{é}", 0, `invalid placeholder name "é"`},
		{"x {otelkit.audit.record_id}", 2, `reserved placeholder name "otelkit.audit.record_id"`},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			_, err := parseTemplate(tt.tmpl)
			var te *templateError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.tmpl, te.Template)
			assert.Equal(t, tt.offset, te.Offset)
			assert.Equal(t, tt.reason, te.Reason)
		})
	}
}

func TestValidType(t *testing.T) {
	for _, typ := range []string{"a", "auth.login_failed", "x_y.9"} {
		assert.True(t, validType(typ), typ)
	}
	for _, typ := range []string{"", "A", "a b", "a/b", "é", "a\n"} {
		assert.False(t, validType(typ), typ)
	}
}

func TestAppendEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain {x} 'q' \"dq\"", "plain {x} 'q' \"dq\""},
		{"a\nb", `a\nb`},
		{"a\r\n", `a\r\n`},
		{"\t", `\t`},
		{`\`, `\\`},
		{"\x00\x1f\x7f", `\x00\x1f\x7f`},
		{"\xff\xfe", `\xff\xfe`},
		{"\u0085\u2028\u2029\u202e\u2066\u200f\ufeff", `\u0085\u2028\u2029\u202e\u2066\u200f\ufeff`},
		{"Grüße, 世界 🙂", "Grüße, 世界 🙂"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.in), func(t *testing.T) {
			got := string(appendEscaped(nil, tt.in))
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.in, unescape(t, got))
		})
	}
}

// unescape reverses appendEscaped.
func unescape(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		require.Less(t, i+1, len(s), "dangling backslash in %q", s)
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'x':
			require.LessOrEqual(t, i+3, len(s))
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			require.NoError(t, err)
			b.WriteByte(byte(v))
			i += 2
		case 'u':
			require.LessOrEqual(t, i+5, len(s))
			v, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			require.NoError(t, err)
			b.WriteRune(rune(v))
			i += 4
		default:
			t.Fatalf("unknown escape \\%c in %q", s[i], s)
		}
	}
	return b.String()
}

// unparse writes t back as a template.
func unparse(t *template) string {
	var b strings.Builder
	for _, s := range t.segs {
		if s.param >= 0 {
			b.WriteString("{" + t.params[s.param] + "}")
			continue
		}
		b.WriteString(strings.NewReplacer("{", "{{", "}", "}}").Replace(s.lit))
	}
	return b.String()
}

// lastLogger keeps the last record emitted to it. Used where the fuzzer
// runs thousands of emits per second and the SDK's pipeline adds nothing to
// what is checked.
type lastLogger struct {
	embedded.Logger
	rec log.Record
	n   int
}

func (l *lastLogger) Emit(_ context.Context, r log.Record) { l.rec, l.n = r.Clone(), l.n+1 }

func (*lastLogger) Enabled(context.Context, log.EnabledParameters) bool { return true }

type lastProvider struct {
	embedded.LoggerProvider
	l *lastLogger
}

func (p lastProvider) Logger(string, ...log.LoggerOption) log.Logger { return p.l }

// FuzzTemplate checks the parser and the renderer: parsing never panics and
// reports errors inside the template; a parsed template round-trips; a
// rendered body is the literal text with each placeholder replaced by the
// escaped value, so a value never expands a placeholder nor adds a line;
// escaping is reversible. The seed corpus runs with every `go test`.
func FuzzTemplate(f *testing.F) {
	seeds := []struct{ tmpl, value string }{
		{"User '{user}' failed to log in from {client_ip}", "10.0.0.7"},
		{"{a}", "{a}"},
		{"{{a}} {a}", "}}{{"},
		{"line {a}", "x\nINFO forged"},
		{"{a}{b}{a}", "\r\n\t\\"},
		{"{", ""},
		{"}", ""},
		{"{}", ""},
		{"{a{b}}", ""},
		{"{{{a}}}", "\xff\u2028"},
		{"multi\nline {a}", "q'\""},
		{"", ""},
	}
	for _, s := range seeds {
		f.Add(s.tmpl, s.value)
	}
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		tp, err := parseTemplate(tmpl)
		if err != nil {
			var te *templateError
			require.True(t, errors.As(err, &te))
			require.GreaterOrEqual(t, te.Offset, 0)
			require.Less(t, te.Offset, len(tmpl))
			return
		}
		again, err := parseTemplate(unparse(tp))
		require.NoError(t, err)
		require.Equal(t, tp.segs, again.segs)
		require.Equal(t, tp.params, again.params)

		esc := string(appendEscaped(nil, value))
		require.Equal(t, value, unescape(t, esc))
		require.True(t, utf8.ValidString(esc))
		for _, r := range esc {
			require.True(t, r >= 0x20 && r != 0x7f && !escapeRune(r), "%q left in %q", r, esc)
		}

		var want strings.Builder
		lines := 0
		for _, s := range tp.segs {
			if s.param < 0 {
				want.WriteString(s.lit)
				lines += strings.Count(s.lit, "\n")
			} else {
				want.WriteString(esc)
			}
		}
		if strings.TrimSpace(tmpl) == "" {
			return // Define rejects empty templates
		}
		kvs := make([]attribute.KeyValue, len(tp.params))
		for i, p := range tp.params {
			kvs[i] = attribute.String(p, value)
		}
		l := &lastLogger{}
		reg := NewRegistry(WithLoggerProvider(lastProvider{l: l}), WithMask(mask.New()), WithErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			t.Errorf("unexpected error: %v", err)
		})))
		reg.Define("fuzz", LevelInfo, tmpl).Emit(context.Background(), kvs...)
		require.Equal(t, 1, l.n)
		body := l.rec.Body().AsString()
		require.Equal(t, want.String(), body)
		require.Equal(t, lines, strings.Count(body, "\n"))
	})
}

func TestAppendRecordID(t *testing.T) {
	prefix := recordPrefix
	require.Len(t, prefix, 17)
	require.Equal(t, byte('-'), prefix[16])
	a, b := string(appendRecordID(nil)), string(appendRecordID(nil))
	require.NotEqual(t, a, b)
	for _, id := range []string{a, b} {
		require.True(t, strings.HasPrefix(id, prefix))
		n, err := strconv.ParseUint(id[17:], 16, 64)
		require.NoError(t, err)
		require.NotZero(t, n)
		require.Equal(t, strconv.FormatUint(n, 16), id[17:], "no leading zeros")
	}
}

func TestAppendHex(t *testing.T) {
	ns := []uint64{0, 1, 9, 10, 15, 16, 17, 255, 256, 4095, 4096, 1<<32 - 1, 1 << 32, 1<<63 - 1, 1 << 63, 1<<64 - 1}
	for n := uint64(1); n < 1<<62; n *= 3 {
		ns = append(ns, n, n-1, n+1)
	}
	for _, n := range ns {
		require.Equal(t, strconv.FormatUint(n, 16), string(appendHex(nil, n)), "%d", n)
		require.Equal(t, "ab-"+strconv.FormatUint(n, 16), string(appendHex([]byte("ab-"), n)), "%d", n)
	}
}
