// Package publicinfo prepares an occurrence's public info for a client of
// any transport (an HTTP body, a gRPC ErrorInfo): the one place that decides
// what of it a client may see.
package publicinfo

import (
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/keycache"
	"github.com/otelkit/otelkit/mask"
)

// Mask returns info with sensitive values masked with p, at any depth, and
// the errors it holds (at any depth) replaced by id(err): an error's text is
// internal, only its id is public. info itself is left alone (an occurrence
// may be shared) and returned as is when nothing changes.
func Mask(p *mask.Policy, info []errorsx.Field, id func(error) any) []errorsx.Field {
	var out []errorsx.Field
	for i, f := range info {
		var v any
		changed := true
		if keycache.Sensitive(p, f.Key) {
			v = mask.Mask
		} else if err, ok := f.Value.(error); ok {
			v = id(err)
		} else {
			v, changed = p.ValueFunc(f.Value, id)
		}
		if !changed {
			continue
		}
		if out == nil {
			out = append([]errorsx.Field(nil), info...)
		}
		out[i].Value = v
	}
	if out == nil {
		return info
	}
	return out
}
