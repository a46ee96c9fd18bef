package errtrack

import (
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
			if m := p.Text(s); m != s {
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
