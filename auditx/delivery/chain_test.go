package delivery

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/auditx/chain"
)

// memExporter keeps what it is given.
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

func (m *memExporter) records() []sdklog.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sdklog.Record(nil), m.recs...)
}

// chainRecord is the chain's view of an exported record.
func chainRecord(r *sdklog.Record) chain.Record {
	cr := chain.Record{
		EventName:    r.EventName(),
		TimeUnixNano: int64(unixNano(r.Timestamp())),
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

func verify(recs []sdklog.Record, keys ...ed25519.PublicKey) *chain.Report {
	v := chain.NewVerifier(keys...)
	for i := range recs {
		v.Add(chainRecord(&recs[i]), "", true)
	}
	return v.Report(false)
}

func testSigner(t testing.TB) *chain.Signer {
	_, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	s, err := chain.NewSigner(priv)
	require.NoError(t, err)
	return s
}

// A chain continues across a restart on the same spool directory, through
// the spool (the second process replays what the first left) and a start
// checkpoint naming the first stream's final checkpoint.
func TestChainAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	signer := testSigner(t)
	exp := &memExporter{}
	ctx := context.Background()

	p1, err := NewProcessor(exp, WithSpoolDir(dir), WithChain(WithSigner(signer), WithCheckpointEvery(3)))
	require.NoError(t, err)
	l1, _ := auditLogger(p1)
	for _, id := range ids("a", 7) {
		emitAudit(l1, id)
	}
	require.NoError(t, p1.Shutdown(ctx))

	p2, err := NewProcessor(exp, WithSpoolDir(dir), WithChain(WithSigner(signer), WithCheckpointEvery(3)))
	require.NoError(t, err)
	l2, _ := auditLogger(p2)
	for _, id := range ids("b", 2) {
		emitAudit(l2, id)
	}
	require.NoError(t, p2.Shutdown(ctx))

	recs := exp.records()
	// 7 records + 2 periodic + 1 final; then start + 2 records + final.
	require.Len(t, recs, 14)
	rep := verify(recs, signer.Public())
	require.True(t, rep.OK, "%+v", rep)
	require.Len(t, rep.Streams, 2)
	assert.True(t, rep.Signed)
	s1, s2 := rep.Streams[0], rep.Streams[1]
	assert.Equal(t, uint64(10), s1.LastSeq)
	assert.True(t, s1.Final)
	assert.Equal(t, s2.StreamID, s1.ContinuedBy)
	assert.Equal(t, s1.StreamID, s2.PrevStreamID)
	assert.Equal(t, 3, s1.Checkpoints)

	// Without the key the signatures are unknown; with another key they
	// are unknown too.
	rep = verify(recs)
	assert.False(t, rep.OK)
	assert.NotEmpty(t, rep.Streams[0].UnknownKeys)
}

// Without a signer the chain still links and the verifier says unsigned.
func TestChainUnsigned(t *testing.T) {
	exp := &memExporter{}
	p, err := NewProcessor(exp, WithChain())
	require.NoError(t, err)
	l, _ := auditLogger(p)
	for _, id := range ids("u", 4) {
		emitAudit(l, id)
	}
	require.NoError(t, p.Shutdown(context.Background()))
	rep := verify(exp.records())
	require.True(t, rep.OK, "%+v", rep)
	assert.False(t, rep.Signed)
	assert.Equal(t, 1, rep.Streams[0].Unsigned)
}

// Invalid UTF-8 is replaced before the record is hashed, so the exported
// record verifies.
func TestChainSanitizesBeforeHashing(t *testing.T) {
	exp := &memExporter{}
	p, err := NewProcessor(exp, WithChain(), WithErrorHandler(func(error) {}))
	require.NoError(t, err)
	l, _ := auditLogger(p)
	emitAudit(l, "ok\xff")
	require.NoError(t, p.Shutdown(context.Background()))
	recs := exp.records()
	require.Len(t, recs, 2)
	rep := verify(recs)
	require.True(t, rep.OK, "%+v", rep)
	assert.Contains(t, recs[0].Body().AsString(), "ok\uFFFD")
}

const chainCrashEnv = "OTELKIT_DELIVERY_CHAIN_CRASH_SPOOL"

// TestChainCrashChild is killed by TestChainAcrossCrash: it emits chained
// audits (more than a checkpoint's worth) with the receiver down, waits
// until they are in the spool and kills itself with SIGKILL: no Shutdown,
// no final checkpoint.
func TestChainCrashChild(t *testing.T) {
	dir := os.Getenv(chainCrashEnv)
	if dir == "" {
		t.Skip("re-executed by TestChainAcrossCrash only")
	}
	rcv := newDownReceiver(t)
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithErrorHandler(func(error) {}),
		WithChain(WithCheckpointEvery(4)))
	require.NoError(t, err)
	l, _ := auditLogger(p)
	for _, id := range ids("c", 10) {
		emitAudit(l, id)
	}
	// 10 audits and 2 periodic checkpoints.
	require.True(t, waitFor(10*time.Second, func() bool { return len(spooledBodies(t, dir)) == 12 }))
	// The worst moment: the last batch is fsynced, chain.json not yet
	// updated (here: gone), so the next process must read the spool.
	_ = os.Remove(filepath.Join(dir, chainStateName))
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
}

// After a crash the next process replays the spool and its start
// checkpoint names the dead stream's last spooled record: the trail
// verifies, with no unsealed tail.
func TestChainAcrossCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChainCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), chainCrashEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	require.False(t, ee.Exited(), "killed by a signal:\n%s", out)

	exp := &memExporter{}
	p, err := NewProcessor(exp, WithSpoolDir(dir), WithChain(WithCheckpointEvery(4)))
	require.NoError(t, err)
	l, _ := auditLogger(p)
	emitAudit(l, "after")
	require.NoError(t, p.Shutdown(context.Background()))
	recs := exp.records()
	// 12 replayed; then start checkpoint, 1 audit, final checkpoint.
	require.Len(t, recs, 15)
	rep := verify(recs)
	require.True(t, rep.OK, "%+v", rep)
	require.Len(t, rep.Streams, 2)
	assert.Equal(t, rep.Streams[1].StreamID, rep.Streams[0].ContinuedBy)
	assert.Zero(t, rep.Streams[0].Tail)
	assert.False(t, rep.Streams[0].Final, "the dead stream has no final checkpoint; its successor seals it")
}

// The chain order is the intake order with many emitting goroutines,
// small batches and checkpoints by count and by time in between: the
// exported trail (the export order is the intake order) numbers every
// record one after the other and verifies.
func TestChainConcurrentEmitters(t *testing.T) {
	exp := &memExporter{}
	signer := testSigner(t)
	p, err := NewProcessor(exp, WithSpoolDir(t.TempDir()), WithBatchSize(8), WithEmitTimeout(time.Minute),
		WithChain(WithSigner(signer), WithCheckpointEvery(5), WithCheckpointInterval(time.Millisecond)))
	require.NoError(t, err)
	l, _ := auditLogger(p)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range ids(string(rune('a'+g)), 50) {
				emitAudit(l, id)
			}
		}()
	}
	wg.Wait()
	require.NoError(t, p.Shutdown(context.Background()))
	recs := exp.records()
	audits := 0
	for i := range recs {
		st, ok := chainStateOf(&recs[i])
		require.True(t, ok, "record %d unchained", i)
		require.Equal(t, uint64(i+1), st.Seq, "export order = chain order")
		if recs[i].EventName() != chain.CheckpointEvent {
			audits++
		}
	}
	assert.Equal(t, 200, audits)
	rep := verify(recs, signer.Public())
	require.True(t, rep.OK, "%+v", rep)
	require.Len(t, rep.Streams, 1)
	assert.True(t, rep.Streams[0].Final)
	assert.GreaterOrEqual(t, rep.Streams[0].Checkpoints, 200/5+1)
}

// Records emitted while Shutdown runs are either in the chain before the
// final checkpoint or dropped: nothing follows the final checkpoint.
func TestChainShutdownWhileEmitting(t *testing.T) {
	exp := &memExporter{}
	p, err := NewProcessor(exp, WithSpoolDir(t.TempDir()), WithBatchSize(8), WithEmitTimeout(time.Minute),
		WithChain(WithCheckpointEvery(7)), WithErrorHandler(func(error) {}))
	require.NoError(t, err)
	l, _ := auditLogger(p)
	var wg sync.WaitGroup
	started := make(chan struct{}, 2)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if i == 10 {
					started <- struct{}{}
				}
				emitAudit(l, fmt.Sprint(g, "-", i))
			}
		}()
	}
	<-started
	<-started
	err = p.Shutdown(context.Background())
	wg.Wait()
	var ue *UndeliveredError
	if err != nil {
		require.ErrorAs(t, err, &ue)
		assert.Zero(t, ue.Undelivered, "%v", err)
	}
	recs := exp.records()
	require.NotEmpty(t, recs)
	rep := verify(recs)
	require.True(t, rep.OK, "%+v", rep)
	require.Len(t, rep.Streams, 1)
	assert.True(t, rep.Streams[0].Final)
	last := recs[len(recs)-1]
	assert.Equal(t, chain.CheckpointEvent, last.EventName(), "the final checkpoint is the last record")
}

// A checkpoint follows on the timer when records arrived since the last
// one, and only then.
func TestChainTimedCheckpoint(t *testing.T) {
	exp := &memExporter{}
	p, err := NewProcessor(exp, WithChain(WithCheckpointEvery(0), WithCheckpointInterval(5*time.Millisecond)))
	require.NoError(t, err)
	l, _ := auditLogger(p)
	emitAudit(l, "t")
	require.True(t, waitFor(10*time.Second, func() bool { return len(exp.records()) == 2 }), "record and a timed checkpoint")
	time.Sleep(30 * time.Millisecond) // several ticks with nothing new: no checkpoint
	require.NoError(t, p.Shutdown(context.Background()))
	recs := exp.records()
	require.Len(t, recs, 3, "record, periodic, final")
	kinds := []string{}
	for _, r := range recs[1:] {
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			if string(kv.Key) == chain.KeyCheckpointKind {
				kinds = append(kinds, kv.Value.AsString())
			}
			return true
		})
	}
	assert.Equal(t, []string{chain.KindPeriodic, chain.KindFinal}, kinds)
	rep := verify(recs)
	require.True(t, rep.OK, "%+v", rep)
}

// A spool directory that becomes usable after NewProcessor: the records
// taken in before (memory only, framed by the writer if at all) and after
// are one chain.
func TestChainSpoolReopened(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "file", "spool")
	require.NoError(t, os.WriteFile(filepath.Dir(dir), nil, 0o600))
	exp := &memExporter{}
	p, err := NewProcessor(exp, WithSpoolDir(dir), WithErrorHandler(func(error) {}), WithChain(WithCheckpointEvery(4)),
		optionFunc(func(c *config) { c.reopenAfter = 5 * time.Millisecond }))
	require.NoError(t, err)
	l, _ := auditLogger(p)
	for _, id := range ids("early", 5) {
		emitAudit(l, id)
	}
	require.NoError(t, os.Remove(filepath.Dir(dir)))
	require.True(t, waitFor(10*time.Second, func() bool { return p.sp.Load() != nil }), "spool reopened")
	for _, id := range ids("late", 5) {
		emitAudit(l, id)
	}
	require.NoError(t, p.ForceFlush(context.Background()))
	require.NoError(t, p.Shutdown(context.Background()))
	rep := verify(exp.records())
	require.True(t, rep.OK, "%+v", rep)
	require.Len(t, rep.Streams, 1)
	assert.Equal(t, uint64(13), rep.Streams[0].LastSeq, "10 records, 2 periodic checkpoints, final")
}
