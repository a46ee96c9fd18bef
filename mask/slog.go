package mask

import (
	"context"
	"log/slog"
)

// NewHandler returns a [slog.Handler] that masks each record before next
// handles it: the message with [Policy.Text]; attributes by key (a
// sensitive key's value, a group included, becomes [Mask]); string values
// and errors (by their text, a fmt-wrapped *errorsx.Error included) with
// [Policy.Text]; other values with [Policy.Value], at any depth. Values that
// implement [slog.LogValuer] are resolved first. A nil p means [Default],
// read at each record. otelbridge.Setup installs it in front of the
// OpenTelemetry bridge it makes slog's default.
func NewHandler(next slog.Handler, p *Policy) slog.Handler {
	return &handler{next: next, p: p}
}

type handler struct {
	next slog.Handler
	p    *Policy
}

var _ slog.Handler = (*handler)(nil)

func (h *handler) policy() *Policy {
	if h.p != nil {
		return h.p
	}
	return Default()
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	p := h.policy()
	out := slog.NewRecord(r.Time, r.Level, p.Text(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(p.slogAttr(a, 0))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	p := h.policy()
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = p.slogAttr(a, 0)
	}
	return &handler{next: h.next.WithAttrs(masked), p: h.p}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), p: h.p}
}

// slogAttr returns a masked.
func (p *Policy) slogAttr(a slog.Attr, depth int) slog.Attr {
	if p.Sensitive(a.Key) {
		return slog.String(a.Key, Mask)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); p.Text(s) != s {
			return slog.String(a.Key, p.Text(s))
		}
	case slog.KindGroup:
		if depth >= maxDepth {
			return slog.String(a.Key, Mask)
		}
		group := v.Group()
		masked := make([]slog.Attr, len(group))
		for i, g := range group {
			masked[i] = p.slogAttr(g, depth+1)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(masked...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, (&walker{p: p}).replaceError(reflectOf(x)).(string))
		case []string:
			var out []string
			for i, s := range x {
				if m := p.Text(s); m != s {
					if out == nil {
						out = append([]string(nil), x...)
					}
					out[i] = m
				}
			}
			if out != nil {
				return slog.Any(a.Key, out)
			}
		default:
			if m, changed := p.Value(x); changed {
				return slog.Any(a.Key, m)
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
