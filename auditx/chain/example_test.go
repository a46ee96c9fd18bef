package chain_test

import (
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/auditx/chain"
)

// The hash of a record is SHA-256 over its canonical encoding; the next
// record of the stream names it in prev_hash. A verifier recomputes both.
func ExampleRecord_Hash() {
	first := chain.Record{
		StreamID:     "0123456789abcdef0123456789abcdef",
		Seq:          1,
		EventName:    "auth.login_failed",
		TimeUnixNano: 1795913607966125791,
		Severity:     13,
		SeverityText: "WARN",
		Body:         attribute.StringValue("User 'alice' failed to log in"),
		Attributes:   []attribute.KeyValue{attribute.String("user.name", "alice"), attribute.Int("attempt", 3)},
	}
	h1 := first.Hash()
	second := first
	second.Seq, second.PrevHash = 2, h1
	second.Attributes = []attribute.KeyValue{attribute.String("user.name", "alice"), attribute.Int("attempt", 4)}
	h2 := second.Hash()

	v := chain.NewVerifier()
	for _, r := range []struct {
		rec  chain.Record
		hash string
	}{{first, h1}, {second, h2}} {
		rec := r.rec
		rec.Attributes = append(rec.Attributes,
			attribute.String(chain.KeyStreamID, rec.StreamID),
			attribute.Int64(chain.KeySeq, int64(rec.Seq)),
			attribute.String(chain.KeyPrevHash, rec.PrevHash),
			attribute.String(chain.KeyHash, r.hash))
		v.Add(rec, fmt.Sprint("line ", rec.Seq), true)
	}
	rep := v.Report(true) // no checkpoint yet: an open stream
	fmt.Println(h1)
	fmt.Println(rep.OK, rep.Streams[0].Records, rep.Streams[0].LastSeq)
	// Output:
	// 9c2e82fdadad7c0b722dc049ca5b4fff75b216262ac2805e1aff33c12892c6b9
	// true 2 2
}
