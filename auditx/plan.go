package auditx

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/internal/plain"
	"github.com/otelkit/otelkit/mask"
)

// A plan is what the keys of the attributes given to Emit decide about a
// record of an event: which attribute is each parameter's value, which
// others the record carries and which of them the policy masks whole. A
// call site passes the same keys every time, so an event works its plan
// out once for each list of keys (at most maxPlans of them) and follows it
// while the keys are the same; the values are still checked, and masked,
// on every record.
type plan struct {
	policy *mask.Policy
	keys   []attribute.Key // the keys given to Emit, in order

	// general: a parameter is not among the keys (it comes from the
	// context or is missing); such records take the general path.
	general bool
	steps   []planStep // the record's first attributes, in order
}

// planStep is one attribute of the record, the caller's.
type planStep struct {
	at        int  // its index in the attributes given to Emit
	param     int  // the parameter it is the value of, or -1
	sensitive bool // its key is sensitive: its value is masked whole
}

// maxPlans bounds the plans an event keeps: an event emitted with ever new
// keys takes the general path, without allocating, once it has as many.
const maxPlans = 4

// planFor returns e's plan for attrs under policy, or nil: the record
// takes the general path.
func (e *Event) planFor(policy *mask.Policy, attrs []attribute.KeyValue) *plan {
	if ps := e.plans.Load(); ps != nil {
		for _, p := range *ps {
			if p.policy == policy && p.matches(attrs) {
				if p.general {
					return nil
				}
				return p
			}
		}
	}
	return e.newPlan(policy, attrs)
}

// matches reports whether attrs have the keys p was made for.
func (p *plan) matches(attrs []attribute.KeyValue) bool {
	if len(attrs) != len(p.keys) {
		return false
	}
	for j, k := range p.keys {
		if attrs[j].Key != k {
			return false
		}
	}
	return true
}

// newPlan makes a plan for the keys of attrs and keeps it, unless policy is
// not the one of e's registry (an event emitted by name through a child
// registry with a policy of its own) or e keeps maxPlans plans already.
func (e *Event) newPlan(policy *mask.Policy, attrs []attribute.KeyValue) *plan {
	if policy != e.reg.maskPolicy() {
		return nil
	}
	var cur []*plan
	if ps := e.plans.Load(); ps != nil {
		cur = *ps
	}
	n := 0
	for _, p := range cur {
		if p.policy == policy {
			n++
		}
	}
	if n >= maxPlans {
		return nil
	}
	p := &plan{policy: policy, keys: make([]attribute.Key, len(attrs))}
	for j, kv := range attrs {
		p.keys[j] = kv.Key
	}
	params := e.tmpl.params
	for i, name := range params {
		j := lastIndex(attrs, name)
		if j < 0 {
			p.general, p.steps = true, nil
			break
		}
		p.steps = append(p.steps, planStep{at: j, param: i, sensitive: policy.Sensitive(name)})
	}
	if !p.general {
		for j, kv := range attrs {
			if reserved(kv.Key) || isParam(params, kv.Key) {
				continue
			}
			p.steps = append(p.steps, planStep{at: j, param: -1, sensitive: policy.Sensitive(string(kv.Key))})
		}
	}
	next := make([]*plan, 0, n+1)
	for _, q := range cur {
		if q.policy == policy { // those of a policy no longer in force go
			next = append(next, q)
		}
	}
	next = append(next, p)
	e.plans.Store(&next)
	if p.general {
		return nil
	}
	return p
}

// follow appends the caller's attributes to out as pl says, masked, and
// notes where each parameter's value is. A short plain string (plain.Short)
// is one that masking leaves as it is under every policy and that needs no
// escaping: it is neither scanned nor escaped; any other value that is not
// masked whole is masked by maskValue (a value that is not sensitive by its
// key may still hold secrets: a map's inner keys, a password=… in a
// string).
func (m *emission) follow(pl *plan, policy *mask.Policy, out []attribute.KeyValue) []attribute.KeyValue {
	for _, s := range pl.steps {
		kv := m.attrs[s.at]
		p := param{src: srcPlain, at: int32(len(out))}
		if s.sensitive {
			p.src = srcSensitive
			kv.Value = attribute.StringValue(mask.Mask)
		} else if str := kv.Value.AsString(); kv.Value.Type() == attribute.STRING && plain.Short(str) {
			p.plain = str
		} else {
			p.src = srcValue
			maskValue(policy, &kv)
		}
		out = append(out, kv)
		if s.param >= 0 {
			m.ps[s.param] = p
		}
	}
	return out
}

// maskValue masks what policy finds in kv's value.
func maskValue(policy *mask.Policy, kv *attribute.KeyValue) {
	if v, changed := policy.AttrValue(kv.Value); changed {
		kv.Value = v
	}
}
