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
	"strings"
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
// [github.com/otelkit/otelkit/auditx/chain] specifies. A record's place in
// the chain is its place in the intake, which is also its place in the
// spool and in the export; a checkpoint record follows every
// [WithCheckpointEvery] records, every [WithCheckpointInterval] when
// records arrived since the last one, and at Shutdown (a "final"
// checkpoint). The chain attributes are on the Processor's copy of the
// record (the one spooled and exported; the record the SDK passed to
// OnEmit, which log processors after this one see, is left without them).
// Each process starts a new stream; with a spool directory, the stream's
// first record is a "start" checkpoint naming the previous process's last
// record that reached the spool (its final checkpoint after a clean
// shutdown), kept in the file chain.json of the spool directory (after a
// crash, the spool's last segment, when it holds a later record): a
// crash, too, hands over without an unsealed tail. A directory that only
// became usable after NewProcessor starts a stream that names no previous
// one.
//
// The chain is computed by the spool writer goroutine, in the intake
// order, before the records are spooled (and before a required emit
// learns that its record is durable) or exported: the canonical encoding,
// the SHA-256 hash, the chain attributes in the spool frame and on the
// record, the checkpoints and their signatures. OnEmit only takes the
// record into the intake, as without a chain, so chaining adds next to
// nothing to the emitting goroutine (see BenchmarkEventEmitChain); the
// CPU the chain costs per record does not go away: the writer spends it,
// and it bounds how many records per second the Processor can take in
// (the writer hashes one record after another).
//
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

// chainer places the Processor's records in the chain. The places are
// decided in OnEmit, in the intake order: each record, and each checkpoint
// (a placeholder entry, whose record the writer builds), takes the next
// entry of the intake under the Processor's lock, which is also the
// spool's and the export's order. The spool writer, which takes the intake
// in that order, then numbers, hashes and signs them (link), so the
// emitting goroutine does none of it.
type chainer struct {
	cfg *chainConfig
	p   *Processor

	// Intake side, under p.mu.
	since        int  // records taken in since the last checkpoint
	any          bool // a record was taken in: Shutdown adds a final checkpoint
	startPending bool // the start checkpoint goes before the first record

	// Spool writer goroutine only (start is read-only once set).
	stream  string
	seq     uint64 // of the last record linked
	prev    string // its hash
	tmpl    *sdklog.Record
	start   *chain.Checkpoint // the previous stream the start checkpoint names, or nil
	attrs   []attribute.KeyValue
	dup     bool // hash met a chain attribute among the record's own
	buf     []byte
	frame   []byte // spare frame buffer, swapped with the frames link rewrites
	kvBuf   []byte
	collect func(attribute.KeyValue) bool

	statePath string
	stop      chan struct{}
	done      chan struct{}
}

// chainKind is what an entry is to the chain.
type chainKind uint8

const (
	unchained chainKind = iota
	chainedRecord
	// Checkpoint placeholders: the writer builds their records.
	chainStart
	chainPeriodic
	chainFinal
)

func (k chainKind) checkpoint() string {
	switch k {
	case chainStart:
		return chain.KindStart
	case chainPeriodic:
		return chain.KindPeriodic
	case chainFinal:
		return chain.KindFinal
	}
	return ""
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
		if chain.IsChainKey(string(kv.Key)) {
			c.dup = true
		}
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
			c.startPending = true
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

// takeLocked appends e, a record, to the intake with the next sequence
// number, the start checkpoint before it when it is the stream's first,
// and a periodic checkpoint after it when it completes
// WithCheckpointEvery records. Under p.mu, with room in the intake for e
// (checkpoints may exceed the batch size by two).
func (c *chainer) takeLocked(e entry) {
	p := c.p
	if c.startPending {
		c.startPending = false
		c.placeholderLocked(chainStart)
	}
	e.kind = chainedRecord
	e.seq = p.nextSeq
	if e.frame != nil {
		setFrameSeq(e.frame, e.seq)
	}
	p.intake = append(p.intake, e)
	p.nextSeq++
	c.any = true
	c.since++
	if c.cfg.every > 0 && c.since >= c.cfg.every {
		c.placeholderLocked(chainPeriodic)
	}
}

// placeholderLocked appends a checkpoint of kind to the intake. Under p.mu.
func (c *chainer) placeholderLocked(kind chainKind) {
	p := c.p
	p.met.emitted.Add(context.Background(), 1) // as a record given to OnEmit
	p.intake = append(p.intake, entry{seq: p.nextSeq, kind: kind})
	p.nextSeq++
	c.since = 0
}

// sealLocked appends the final checkpoint when the stream has records.
// Shutdown calls it as it stops the intake: nothing follows it. Under p.mu.
func (c *chainer) sealLocked() {
	if c.any {
		c.placeholderLocked(chainFinal)
	}
}

// link gives the chained entries of batch, in order, the next places in
// the chain: it builds the checkpoints' records (signed, when there is a
// signer), hashes every record, puts the chain attributes into its spool
// frame and adds them to the record. Spool writer goroutine only, before
// anything reads, spools or exports the records of batch.
func (c *chainer) link(batch []entry) {
	// The hashes' hex strings share one allocation per batch: each is a
	// slice of hashes, which only grows within the capacity it gets here.
	n := 0
	for i := range batch {
		if batch[i].kind != unchained {
			n++
		}
	}
	if n == 0 {
		return
	}
	var hashes strings.Builder
	hashes.Grow(n * hashHexLen)
	for i := range batch {
		e := &batch[i]
		if e.kind == unchained {
			continue
		}
		if c.tmpl == nil {
			c.setTemplate(batch[i:])
		}
		if e.kind != chainedRecord {
			c.checkpoint(e)
		}
		pos := chainPos{stream: c.stream, seq: c.seq + 1, prev: c.prev}
		dup := c.hash(&e.rec, &pos, &hashes)
		c.seq, c.prev = pos.seq, pos.hash
		e.chain = pos
		var kvs [chainAttrs]attribute.KeyValue
		attrs := pos.attrs(&kvs)
		if e.frame != nil {
			c.frameChain(e, attrs, dup)
		}
		e.rec.AddAttributes(attrs...)
	}
}

// frameChain puts the chain attributes of e.chain into e's spool frame,
// encoded without them by OnEmit: the frame becomes what encodeFrame(&e.rec,
// &e.chain) writes. dup: the record has an attribute with a chain key of its
// own, which the chain's value replaces in place; the frame is encoded
// again then.
func (c *chainer) frameChain(e *entry, attrs []attribute.KeyValue, dup bool) {
	if !dup {
		if fr, ok := spliceAttrs(c.frame[:0], e.frame, attrs, &c.kvBuf); ok {
			// The frame's old buffer becomes the spare one; the box (if
			// any) takes the new one back to the pool (putFrame).
			c.frame, e.frame = e.frame[:0], fr
			e.size = len(fr) - frameHdr
			return
		}
	}
	fr := encodeFrame(&e.rec, &e.chain)
	if fr == nil {
		// Cannot happen: OnEmit encoded it, and the chain attributes are
		// ASCII. Then it stays unspooled rather than spooled unchained.
		putFrame(e.box, e.frame)
		e.box, e.frame = nil, nil
		return
	}
	setFrameSeq(fr, e.seq)
	putFrame(e.box, e.frame)
	e.box, e.frame = nil, fr
	e.size = len(fr) - frameHdr
}

// setTemplate makes the template of the checkpoint records (their resource
// and scope) from the first record in entries.
func (c *chainer) setTemplate(entries []entry) {
	var t sdklog.Record
	for i := range entries {
		if entries[i].kind == chainedRecord {
			t = entries[i].rec.Clone()
			break
		}
	}
	// A checkpoint always follows or (start) comes with a record; without
	// one the template is empty.
	t.SetAttributes()
	t.SetBody(attribute.Value{})
	t.SetTraceID([16]byte{})
	t.SetSpanID([8]byte{})
	t.SetTraceFlags(0)
	c.tmpl = &t
}

// checkpoint builds the record of e, a checkpoint placeholder, covering the
// records linked so far.
func (c *chainer) checkpoint(e *entry) {
	kind := e.kind.checkpoint()
	cp := chain.Checkpoint{StreamID: c.stream, Kind: kind, Seq: c.seq, Hash: c.prev}
	if kind == chain.KindStart && c.start != nil {
		cp.PrevStreamID, cp.PrevSeq, cp.PrevHash = c.start.PrevStreamID, c.start.PrevSeq, c.start.PrevHash
	}
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
	e.rec = r
	e.size = approxSize(&r)
}

// hashHexLen is the length of a record's hash in hex.
const hashHexLen = 2 * sha256.Size

// hash sets pos.hash to the hash of r at pos, and reports whether r has an
// attribute with a chain key (which the canonical encoding leaves out). r's
// strings must be valid UTF-8 (what is hashed is what is exported): OnEmit
// sanitised r. The hex string is appended to hashes, which has room for it
// (link), and pos.hash is that part of hashes' string. Spool writer
// goroutine only.
func (c *chainer) hash(r *sdklog.Record, pos *chainPos, hashes *strings.Builder) (dup bool) {
	c.attrs = c.attrs[:0]
	c.dup = false
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
	var h [hashHexLen]byte
	hex.Encode(h[:], sum[:])
	hashes.Write(h[:])
	all := hashes.String()
	pos.hash = all[len(all)-hashHexLen:]
	clear(c.attrs)
	return c.dup
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

// loop puts the timed checkpoints in the intake.
func (c *chainer) loop() {
	defer close(c.done)
	if c.cfg.interval <= 0 {
		<-c.stop
		return
	}
	t := time.NewTicker(c.cfg.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p := c.p
			p.mu.Lock()
			put := !p.stopping && c.since > 0
			if put {
				c.placeholderLocked(chainPeriodic)
			}
			p.mu.Unlock()
			if put {
				signal(p.writeCh)
			}
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

// close stops the timer. Called by Shutdown before it stops the intake
// (and puts the final checkpoint in it: sealLocked).
func (c *chainer) close(ctx context.Context) {
	close(c.stop)
	select {
	case <-c.done:
	case <-ctx.Done():
	}
}
