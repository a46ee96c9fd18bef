package chain_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/auditx/chain"
	"github.com/otelkit/otelkit/auditx/delivery"
)

type memExporter struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (m *memExporter) Export(_ context.Context, recs []sdklog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		m.recs = append(m.recs, r.Clone())
	}
	return nil
}
func (m *memExporter) Shutdown(context.Context) error   { return nil }
func (m *memExporter) ForceFlush(context.Context) error { return nil }

// view is the chain's view of an exported record.
func view(r *sdklog.Record) chain.Record {
	cr := chain.Record{
		EventName:    r.EventName(),
		TimeUnixNano: r.Timestamp().UnixNano(),
		Severity:     int64(r.Severity()),
		SeverityText: r.SeverityText(),
		Body:         r.Body(),
		TraceID:      r.TraceID(),
		SpanID:       r.SpanID(),
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		cr.Attributes = append(cr.Attributes, kv)
		return true
	})
	return cr
}

// trail emits n audits through auditx and a chaining delivery.Processor
// (one stream per run, runs sharing a spool directory) and returns the
// records as exported.
func trail(t *testing.T, signer *chain.Signer, runs ...int) []chain.Record {
	t.Helper()
	dir := t.TempDir()
	exp := &memExporter{}
	for run, n := range runs {
		p, err := delivery.NewProcessor(exp, delivery.WithSpoolDir(dir),
			delivery.WithChain(delivery.WithSigner(signer), delivery.WithCheckpointEvery(4)))
		require.NoError(t, err)
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(p))
		reg := auditx.NewRegistry(auditx.WithLoggerProvider(lp))
		ev := reg.Define("user.login", auditx.LevelInfo, "user {user} logged in")
		for i := range n {
			require.NoError(t, ev.Emit(context.Background(), attribute.String("user", fmt.Sprintf("u%d-%d", run, i)), attribute.Int("attempt", i)))
		}
		require.NoError(t, lp.Shutdown(context.Background()))
	}
	out := make([]chain.Record, len(exp.recs))
	for i := range exp.recs {
		out[i] = view(&exp.recs[i])
	}
	return out
}

func report(recs []chain.Record, keys ...ed25519.PublicKey) *chain.Report {
	v := chain.NewVerifier(keys...)
	for i, r := range recs {
		r.Attributes = append([]attribute.KeyValue(nil), r.Attributes...)
		v.Add(r, fmt.Sprintf("line %d", i+1), true)
	}
	return v.Report(false)
}

func set(r *chain.Record, key string, v attribute.Value) {
	attrs := append([]attribute.KeyValue(nil), r.Attributes...)
	for i := range attrs {
		if string(attrs[i].Key) == key {
			attrs[i].Value = v
		}
	}
	r.Attributes = attrs
}

func get(r *chain.Record, key string) attribute.Value {
	for _, kv := range r.Attributes {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

func newSigner(t *testing.T) *chain.Signer {
	_, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	s, err := chain.NewSigner(priv)
	require.NoError(t, err)
	return s
}

func problems(rep *chain.Report) string {
	var b strings.Builder
	for _, s := range rep.Streams {
		for _, p := range s.Problems {
			b.WriteString(p + "\n")
		}
	}
	return b.String()
}

func TestVerifyTampering(t *testing.T) {
	signer, other := newSigner(t), newSigner(t)
	orig := trail(t, signer, 10, 6)
	// 10 records + 2 periodic + final = 13; start + 6 + 1 periodic + final = 9.
	require.Len(t, orig, 22)
	rep := report(orig, signer.Public())
	require.True(t, rep.OK, problems(rep))
	require.True(t, rep.Signed)

	find := func(recs []chain.Record, seq int64, stream int) int {
		sid := get(&recs[0], chain.KeyStreamID).AsString()
		for i := range recs {
			if get(&recs[i], chain.KeySeq).AsInt64() == seq && (get(&recs[i], chain.KeyStreamID).AsString() == sid) == (stream == 0) {
				return i
			}
		}
		t.Fatalf("no seq %d", seq)
		return -1
	}

	tests := []struct {
		name   string
		tamper func(recs []chain.Record) []chain.Record
		want   string // in the problems
		field  func(s chain.StreamReport) int
	}{
		{"edit one attribute", func(recs []chain.Record) []chain.Record {
			set(&recs[3], "user", attribute.StringValue("mallory"))
			return recs
		}, "seq 4: content does not match its hash (modified)", func(s chain.StreamReport) int { return len(s.Modified) }},
		{"edit the body", func(recs []chain.Record) []chain.Record {
			recs[2].Body = attribute.StringValue("user nobody logged in")
			return recs
		}, "seq 3: content does not match its hash (modified)", func(s chain.StreamReport) int { return len(s.Modified) }},
		{"delete one record", func(recs []chain.Record) []chain.Record {
			return append(recs[:5:5], recs[6:]...)
		}, "records 6-6 missing (deleted)", func(s chain.StreamReport) int { return len(s.Gaps) }},
		{"swap two", func(recs []chain.Record) []chain.Record {
			recs[2], recs[3] = recs[3], recs[2]
			return recs
		}, "seq 3: seq 3 stored after seq 4 (reordered or inserted)", func(s chain.StreamReport) int { return len(s.Reordered) }},
		{"insert a forged one", func(recs []chain.Record) []chain.Record {
			forged := recs[5]
			forged.Attributes = append([]attribute.KeyValue(nil), forged.Attributes...)
			set(&forged, "user", attribute.StringValue("mallory"))
			// A careful forger recomputes the hash, linked to seq 4.
			set(&forged, chain.KeyHash, attribute.StringValue(rehash(forged)))
			return append(recs[:6:6], append([]chain.Record{forged}, recs[6:]...)...)
		}, "seq 6: a second record at this seq (inserted or forged)", func(s chain.StreamReport) int { return len(s.Inserted) }},
		{"cut the tail", func(recs []chain.Record) []chain.Record {
			return append(recs[:11:11], recs[13:]...) // stream 1 loses seq 12-13 (a record and its final checkpoint)
		}, "continues it from seq 13", func(s chain.StreamReport) int { return b2i(s.Truncated) }},
		{"cut the tail of the last stream", func(recs []chain.Record) []chain.Record {
			return recs[:len(recs)-2]
		}, "no final checkpoint", func(s chain.StreamReport) int { return b2i(s.Truncated) }},
		{"replace a checkpoint signature", func(recs []chain.Record) []chain.Record {
			i := find(recs, 5, 0) // the first periodic checkpoint
			j := find(recs, 10, 0)
			set(&recs[i], chain.KeyCheckpointSignature, get(&recs[j], chain.KeyCheckpointSignature))
			set(&recs[i], chain.KeyHash, attribute.StringValue(rehash(recs[i])))
			return recs
		}, "seq 5: signature does not verify", func(s chain.StreamReport) int { return len(s.BadSignatures) }},
		{"sign with an unknown key", func(recs []chain.Record) []chain.Record {
			i := find(recs, 5, 0)
			c := checkpoint(recs[i])
			set(&recs[i], chain.KeyCheckpointKeyID, attribute.StringValue(other.KeyID()))
			set(&recs[i], chain.KeyCheckpointSignature, attribute.StringValue(other.Sign(&c)))
			set(&recs[i], chain.KeyHash, attribute.StringValue(rehash(recs[i])))
			return recs
		}, "signed with unknown key", func(s chain.StreamReport) int { return len(s.UnknownKeys) }},
		{"mix two streams", func(recs []chain.Record) []chain.Record {
			// A record of stream 2 relabelled into stream 1 at seq 3.
			i := find(recs, 3, 1)
			m := recs[i]
			set(&m, chain.KeyStreamID, get(&recs[0], chain.KeyStreamID))
			recs[2] = m
			return recs
		}, "relabelled as seq 3", func(s chain.StreamReport) int { return len(s.Mixed) }},
		{"move a record to another stream", func(recs []chain.Record) []chain.Record {
			i := find(recs, 3, 1)
			set(&recs[i], chain.KeyStreamID, get(&recs[0], chain.KeyStreamID))
			return recs
		}, "relabelled as seq 3", func(s chain.StreamReport) int { return len(s.Mixed) }},
		{"replace a checkpoint signature, hash left as it was", func(recs []chain.Record) []chain.Record {
			i := find(recs, 5, 0)
			j := find(recs, 10, 0)
			set(&recs[i], chain.KeyCheckpointSignature, get(&recs[j], chain.KeyCheckpointSignature))
			return recs
		}, "seq 5: signature does not verify", func(s chain.StreamReport) int { return len(s.BadSignatures) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := tc.tamper(append([]chain.Record(nil), orig...))
			rep := report(recs, signer.Public())
			assert.False(t, rep.OK)
			assert.Contains(t, problems(rep), tc.want)
			n := 0
			for _, s := range rep.Streams {
				n += tc.field(s)
			}
			assert.Positive(t, n, "the finding is in its own field")
		})
	}

	t.Run("duplicates are not tampering", func(t *testing.T) {
		recs := append(append([]chain.Record(nil), orig...), orig[3], orig[4], orig[15])
		rep := report(recs, signer.Public())
		assert.True(t, rep.OK, problems(rep))
		assert.Equal(t, 3, rep.Streams[0].Duplicates+rep.Streams[1].Duplicates)
	})
	t.Run("unsigned", func(t *testing.T) {
		recs := trail(t, nil, 3)
		rep := report(recs)
		assert.True(t, rep.OK, problems(rep))
		assert.False(t, rep.Signed)
		rep = report(recs, signer.Public())
		assert.False(t, rep.OK, "keys given, checkpoints unsigned")
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func rehash(r chain.Record) string {
	r.Attributes = append([]attribute.KeyValue(nil), r.Attributes...)
	r.StreamID = get(&r, chain.KeyStreamID).AsString()
	r.Seq = uint64(get(&r, chain.KeySeq).AsInt64())
	r.PrevHash = get(&r, chain.KeyPrevHash).AsString()
	return r.Hash()
}

func checkpoint(r chain.Record) chain.Checkpoint {
	return chain.Checkpoint{
		StreamID: get(&r, chain.KeyStreamID).AsString(),
		Kind:     get(&r, chain.KeyCheckpointKind).AsString(),
		Seq:      uint64(get(&r, chain.KeyCheckpointSeq).AsInt64()),
		Hash:     get(&r, chain.KeyCheckpointHash).AsString(),
	}
}
