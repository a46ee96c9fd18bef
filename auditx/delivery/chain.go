package delivery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/auditx/chain"
)

// Defaults of the hash chain's checkpoints.
const (
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = time.Minute
)

// chainStateName is the file in the spool directory that names the last
// record of the stream that reached the spool, for the next process's start
// checkpoint.
const chainStateName = "chain.json"

type chainConfig struct {
	every    int
	interval time.Duration
	signer   *chain.Signer
}

// ChainOption configures the hash chain of [WithChain].
type ChainOption interface{ applyChain(*chainConfig) }

type chainOptionFunc func(*chainConfig)

func (f chainOptionFunc) applyChain(c *chainConfig) { f(c) }

// WithChain makes the Processor place every record it accepts in a
// tamper-evident hash chain and emit checkpoints, as package
// [github.com/otelkit/otelkit/auditx/chain] specifies: each record is
// hashed in OnEmit, in the order the records enter the spool, and the
// chain attributes are on the Processor's copy of it (the one spooled and
// exported; the record the SDK passed to OnEmit, which log processors
// after this one see, is left without them), and a checkpoint record follows every [WithCheckpointEvery]
// records, every [WithCheckpointInterval] when records arrived since the
// last one, and at Shutdown (a "final" checkpoint). Each process starts a
// new stream; with a spool directory, the stream's first record is a
// "start" checkpoint naming the previous process's last record that
// reached the spool (its final checkpoint after a clean shutdown), kept in
// the file chain.json of the spool directory (after a crash, the spool's
// last segment, when it holds a later record): a crash, too, hands over
// without an unsealed tail. A directory that only became usable after
// NewProcessor starts a stream that names no previous one.
//
// Chaining serialises OnEmit: the record is hashed and taken into the
// intake under one lock (see BenchmarkEventEmitChain for the cost).
// A record the Processor drops in OnEmit does not take a place in the
// chain; one it accepted and gave up later (see the guarantee in the
// package documentation) leaves a gap, which a verifier reports.
func WithChain(opts ...ChainOption) Option {
	return optionFunc(func(c *config) {
		cc := &chainConfig{every: DefaultCheckpointEvery, interval: DefaultCheckpointInterval}
		for _, o := range opts {
			if o != nil {
				o.applyChain(cc)
			}
		}
		c.chain = cc
	})
}

// WithoutChain turns chaining off (undoing an earlier [WithChain]).
func WithoutChain() Option {
	return optionFunc(func(c *config) { c.chain = nil })
}

// WithCheckpointEvery sets after how many records a checkpoint is emitted
// (default [DefaultCheckpointEvery]); 0 or less means only on the timer
// and at Shutdown.
func WithCheckpointEvery(records int) ChainOption {
	return chainOptionFunc(func(c *chainConfig) { c.every = records })
}

// WithCheckpointInterval sets how often a checkpoint is emitted when
// records arrived since the last one (default
// [DefaultCheckpointInterval]); 0 or less means only by count and at
// Shutdown.
func WithCheckpointInterval(d time.Duration) ChainOption {
	return chainOptionFunc(func(c *chainConfig) { c.interval = d })
}

// WithSigner signs the checkpoints with s. Without it, or with a nil s,
// checkpoints carry no signature and a verifier reports the trail as
// unsigned. [chain.SignerFromEnv] and [chain.LoadSigner] load a key.
func WithSigner(s *chain.Signer) ChainOption {
	return chainOptionFunc(func(c *chainConfig) { c.signer = s })
}

// chainState is the content of chain.json.
type chainState struct {
	StreamID string `json:"stream_id"`
	Seq      uint64 `json:"seq"`
	Hash     string `json:"hash"`
}

// chainer computes the chain in OnEmit. Its lock is held while a record
// is hashed and handed to Processor.accept, so that the chain order is the
// intake order, which is the spool's and the export's order.
type chainer struct {
	cfg *chainConfig
	p   *Processor

	mu        sync.Mutex
	stream    string
	seq       uint64 // of the last record accepted
	prev      string // its hash
	since     int    // records since the last checkpoint
	tmpl      *sdklog.Record
	start     *chain.Checkpoint // emitted before the first record, once
	closed    bool
	attrs     []attribute.KeyValue
	buf       []byte
	collect   func(attribute.KeyValue) bool
	statePath string

	stop chan struct{}
	done chan struct{}
}

func newChainer(p *Processor, cfg *chainConfig) *chainer {
	var id [16]byte
	_, _ = rand.Read(id[:]) // never fails on supported platforms
	c := &chainer{
		cfg:    cfg,
		p:      p,
		stream: hex.EncodeToString(id[:]),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	c.collect = func(kv attribute.KeyValue) bool {
		c.attrs = append(c.attrs, kv)
		return true
	}
	if sp := p.sp.Load(); sp != nil {
		c.statePath = filepath.Join(p.cfg.dir, chainStateName)
		var st chainState
		if b, err := os.ReadFile(c.statePath); err == nil {
			if json.Unmarshal(b, &st) != nil || st.StreamID == "" {
				st = chainState{}
				p.cfg.errorHandler(fmt.Errorf("delivery: %s unreadable, the new audit stream %s names the last record of the spool, if any", c.statePath, c.stream))
			}
		}
		// A crash between a batch's fsync and the chain.json update leaves
		// the file one batch behind: the spool's last segment has the truth.
		if last, ok := lastSpooled(sp, p.dec); ok && (st.StreamID == "" || last.StreamID == st.StreamID && last.Seq > st.Seq) {
			st = last
		}
		if st.StreamID != "" {
			c.start = &chain.Checkpoint{PrevStreamID: st.StreamID, PrevSeq: st.Seq, PrevHash: st.Hash}
		}
	}
	go c.loop()
	return c
}

// lastSpooled returns the chain position of the highest chained record in
// the spool's last segment. Called before the Processor's loops start.
func lastSpooled(sp *spool, dec *decoder) (chainState, bool) {
	sp.mu.Lock()
	var name string
	for i := len(sp.segs) - 1; i >= 0; i-- {
		if sp.segs[i].count > 0 {
			name = sp.segs[i].name
			break
		}
	}
	sp.mu.Unlock()
	if name == "" {
		return chainState{}, false
	}
	data, err := os.ReadFile(filepath.Join(sp.dir, name))
	if err != nil || len(data) < len(segMagic) {
		return chainState{}, false
	}
	var best chainState
	scan(data, sp.maxRec, func(off, n int, _ uint64) {
		_, rec, err := dec.decode(data[off+frameHdr : off+n])
		if err != nil {
			return
		}
		if st, ok := chainStateOf(&rec); ok && st.Seq > best.Seq {
			best = st
		}
	})
	return best, best.StreamID != ""
}

// chainStateOf reads a record's place in its chain.
func chainStateOf(r *sdklog.Record) (chainState, bool) {
	var st chainState
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		switch string(kv.Key) {
		case chain.KeyStreamID:
			st.StreamID = kv.Value.AsString()
		case chain.KeySeq:
			st.Seq = uint64(kv.Value.AsInt64())
		case chain.KeyHash:
			st.Hash = kv.Value.AsString()
		}
		return true
	})
	return st, st.StreamID != "" && st.Hash != ""
}

// onEmit chains r and hands it to the Processor.
func (c *chainer) onEmit(ctx context.Context, r *sdklog.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		// Shutdown has begun: the final checkpoint is out, nothing may
		// follow it.
		c.p.met.emitted.Add(context.Background(), 1)
		c.p.mu.Lock()
		c.p.dropLocked(1)
		c.p.mu.Unlock()
		c.p.dropShutdown()
		failWaiter(c.p.claim(ctx), errShutdown)
		return
	}
	if c.tmpl == nil {
		t := r.Clone()
		t.SetAttributes()
		t.SetBody(attribute.Value{})
		t.SetTraceID([16]byte{})
		t.SetSpanID([8]byte{})
		t.SetTraceFlags(0)
		c.tmpl = &t
	}
	if c.start != nil {
		c.checkpointLocked(chain.KindStart)
	}
	c.chainLocked(ctx, r)
	if c.cfg.every > 0 && c.since >= c.cfg.every {
		c.checkpointLocked(chain.KindPeriodic)
	}
}

// chainLocked gives r the next place in the chain and hands it to the
// Processor; the chain advances when the Processor accepted it. The
// Processor's copy of r is hashed (accept calls hash) and carries the
// chain attributes: in its spool frame at once, on the record itself
// from the spool writer on (store), before anything reads or exports it.
// The record the SDK passed to OnEmit is left as it is.
func (c *chainer) chainLocked(ctx context.Context, r *sdklog.Record) bool {
	pos := chainPos{stream: c.stream, seq: c.seq + 1, prev: c.prev}
	if !c.p.accept(ctx, r, c, &pos) {
		return false
	}
	c.seq, c.prev = pos.seq, pos.hash
	c.since++
	return true
}

// hash sets pos.hash to the hash of r at pos. r's strings must be valid
// UTF-8 (what is hashed is what is exported): accept sanitises r and calls
// hash again when the spool frame cannot be encoded, and sanitises first
// when there is no spool. Under c.mu (accept is called under it).
func (c *chainer) hash(r *sdklog.Record, pos *chainPos) {
	c.attrs = c.attrs[:0]
	r.WalkAttributes(c.collect)
	cr := chain.Record{
		StreamID:     pos.stream,
		Seq:          pos.seq,
		PrevHash:     pos.prev,
		EventName:    r.EventName(),
		TimeUnixNano: int64(unixNano(r.Timestamp())),
		Severity:     int64(r.Severity()),
		SeverityText: r.SeverityText(),
		Body:         r.Body(),
		TraceID:      r.TraceID(),
		SpanID:       r.SpanID(),
		Attributes:   c.attrs,
	}
	c.buf = cr.AppendCanonical(c.buf[:0])
	sum := sha256.Sum256(c.buf)
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	pos.hash = string(h[:]) // one allocation, where hex.EncodeToString makes two
	clear(c.attrs)
}

// chainAttrs is the number of chain attributes a record carries.
const chainAttrs = 4

// chainPos is a record's place in the chain; hash is empty for a record
// that is not chained.
type chainPos struct {
	stream, prev, hash string
	seq                uint64
}

// attrs returns the chain attributes of p, in dst.
func (p *chainPos) attrs(dst *[chainAttrs]attribute.KeyValue) []attribute.KeyValue {
	dst[0] = attribute.String(chain.KeyStreamID, p.stream)
	dst[1] = attribute.Int64(chain.KeySeq, int64(p.seq))
	dst[2] = attribute.String(chain.KeyPrevHash, p.prev)
	dst[3] = attribute.String(chain.KeyHash, p.hash)
	return dst[:]
}

// checkpointLocked emits a checkpoint of kind covering the records so far.
func (c *chainer) checkpointLocked(kind string) {
	if c.tmpl == nil {
		return // no record yet: nothing to cover, and no scope to emit in
	}
	cp := chain.Checkpoint{StreamID: c.stream, Kind: kind, Seq: c.seq, Hash: c.prev}
	if kind == chain.KindStart && c.start != nil {
		cp.PrevStreamID, cp.PrevSeq, cp.PrevHash = c.start.PrevStreamID, c.start.PrevSeq, c.start.PrevHash
	}
	c.start = nil
	now := time.Now()
	r := c.tmpl.Clone()
	r.SetEventName(chain.CheckpointEvent)
	r.SetTimestamp(now)
	r.SetObservedTimestamp(now)
	r.SetSeverity(log.SeverityInfo)
	r.SetSeverityText("INFO")
	r.SetBody(attribute.StringValue(fmt.Sprintf("audit checkpoint (%s): stream %s up to seq %d", kind, c.stream, c.seq)))
	attrs := []attribute.KeyValue{
		attribute.String(chain.KeyCheckpointKind, kind),
		attribute.Int64(chain.KeyCheckpointSeq, int64(cp.Seq)),
	}
	if cp.Hash != "" { // empty at the start: backends drop empty values
		attrs = append(attrs, attribute.String(chain.KeyCheckpointHash, cp.Hash))
	}
	if cp.PrevStreamID != "" {
		attrs = append(attrs,
			attribute.String(chain.KeyCheckpointPrevStream, cp.PrevStreamID),
			attribute.Int64(chain.KeyCheckpointPrevSeq, int64(cp.PrevSeq)),
			attribute.String(chain.KeyCheckpointPrevHash, cp.PrevHash))
	}
	if s := c.cfg.signer; s != nil {
		attrs = append(attrs,
			attribute.String(chain.KeyCheckpointKeyID, s.KeyID()),
			attribute.String(chain.KeyCheckpointSignature, s.Sign(&cp)))
	}
	r.SetAttributes(attrs...)
	if c.chainLocked(context.Background(), &r) {
		c.since = 0
	}
}

// loop emits the timed checkpoints and writes chain.json off the emit
// path.
func (c *chainer) loop() {
	defer close(c.done)
	var tick <-chan time.Time
	if c.cfg.interval > 0 {
		t := time.NewTicker(c.cfg.interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-tick:
			c.mu.Lock()
			if !c.closed && c.since > 0 {
				c.checkpointLocked(chain.KindPeriodic)
			}
			c.mu.Unlock()
		case <-c.stop:
			return
		}
	}
}

// spooled records in chain.json the last chained record of batch that
// reached the spool, so that the next process's start checkpoint names
// exactly the last durable record of this stream, after a clean shutdown
// (the final checkpoint) as after a crash. Spool writer goroutine only,
// after the batch's fsync. The file is replaced (write, rename) but not
// fsynced: a process crash keeps it; after a power loss an older state
// names an earlier record; newChainer then also reads the last record of
// the spool's last segment.
func (c *chainer) spooled(batch []entry) {
	if c.statePath == "" {
		return
	}
	for i := len(batch) - 1; i >= 0; i-- {
		pos := &batch[i].chain
		if !batch[i].spooled || pos.hash == "" || pos.stream != c.stream {
			continue
		}
		st := chainState{StreamID: pos.stream, Seq: pos.seq, Hash: pos.hash}
		b, _ := json.Marshal(st)
		tmp := c.statePath + ".tmp"
		err := os.WriteFile(tmp, b, 0o600)
		if err == nil {
			err = os.Rename(tmp, c.statePath)
		}
		if err != nil {
			c.p.lim.report("chain", fmt.Errorf("delivery: saving the audit chain state: %w", err))
		}
		return
	}
}

// close emits the final checkpoint, stops the timer and saves the state.
// Called by Shutdown before the Processor stops accepting records.
func (c *chainer) close(ctx context.Context) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.since > 0 || c.start != nil || c.seq > 0 {
		if c.start != nil && c.tmpl != nil {
			c.checkpointLocked(chain.KindStart)
		}
		c.checkpointLocked(chain.KindFinal)
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	select {
	case <-c.done:
	case <-ctx.Done():
	}
}
