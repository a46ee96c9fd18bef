package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/internal/durable"
)

var _ sdklog.Processor = (*Processor)(nil)

// entry is one accepted record and its sequence number.
type entry struct {
	seq     uint64
	rec     sdklog.Record
	frame   []byte    // frame header space + payload, encoded by OnEmit; nil without a spool
	box     *[]byte   // the pooled buffer frame lives in (putFrame), or nil
	kind    chainKind // unchained, or a record or checkpoint of the chain (WithChain)
	chain   chainPos  // the record's place in the chain, given by the writer (chainer.link)
	spooled bool
	size    int             // encoded size (frame payload), or an estimate without a spool
	waiter  *durable.Waiter // a required emit waiting for the fsync, or nil
}

// seqRange is a run of records that are only in the spool.
type seqRange struct {
	lo, hi uint64
	count  int
}

// Processor is an sdklog.Processor that delivers every record it accepts at
// least once: it writes each batch to a write-ahead spool (one fsync per
// batch) before exporting it, keeps up to a memory limit of records in memory
// and retries the exporter with backoff until it succeeds. See the package
// documentation for the guarantee and its limits.
type Processor struct {
	cfg config
	exp sdklog.Exporter
	sp  atomic.Pointer[spool] // nil while running without a spool
	ch  *chainer              // nil without WithChain
	dec *decoder
	met *metrics
	lim *limiter

	noSpoolReason string // set when running without a spool; writer goroutine only after start
	noSpoolErr    error
	nextReopen    time.Time // writer goroutine only

	mu        sync.Mutex
	nextSeq   uint64
	seqShift  uint64 // added to every sequence number when a late spool was opened
	intake    []entry
	spare     []entry
	writing   []entry
	mem       []entry
	ranges    []seqRange
	dropped   int
	delivered int
	stopping  bool
	space     chan struct{} // closed when intake frees up
	progress  chan struct{} // closed when anything moves

	writeCh    chan struct{}
	workCh     chan struct{}
	kickCh     chan struct{}
	stopWriter chan struct{}
	writerDone chan struct{}
	delivDone  chan struct{}
	loopsLeft  int  // loops not yet stopped, under mu
	detached   bool // Shutdown returned before the loops stopped; the last one settles
	delivCtx   context.Context
	stopDeliv  context.CancelFunc
	exportBuf  []sdklog.Record
	splitTo    int // deliverer only: batch limit after a "too large" answer (0: none)

	shutdownOnce sync.Once
	shutdownErr  error
}

// NewProcessor returns a Processor exporting through exp. It opens (or
// creates) the spool directory given by [WithSpoolDir] and schedules the
// records a previous process left there for delivery before new ones. A
// corrupt spool never makes it fail: the bad bytes are quarantined and
// reported through the error handler. An unusable spool directory is reported
// the same way and the Processor runs with memory only. It fails only for
// invalid options or when the metrics cannot be created.
//
// The Processor owns exp: its Shutdown shuts exp down. exp should not retry on
// its own (see the package documentation).
func NewProcessor(exp sdklog.Exporter, opts ...Option) (*Processor, error) {
	if exp == nil {
		return nil, errors.New("delivery: nil exporter")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	met, err := newMetrics(cfg.meterProvider)
	if err != nil {
		return nil, err
	}
	p := &Processor{
		cfg:        cfg,
		exp:        exp,
		dec:        newDecoder(),
		met:        met,
		lim:        newLimiter(cfg.errorHandler, limiterInterval),
		nextSeq:    1,
		space:      make(chan struct{}),
		progress:   make(chan struct{}),
		writeCh:    make(chan struct{}, 1),
		workCh:     make(chan struct{}, 1),
		kickCh:     make(chan struct{}, 1),
		stopWriter: make(chan struct{}),
		writerDone: make(chan struct{}),
		delivDone:  make(chan struct{}),
		loopsLeft:  2,
	}
	p.intake = make([]entry, 0, cfg.batchSize)
	p.spare = make([]entry, 0, cfg.batchSize)

	if cfg.dir == "" {
		p.noSpoolReason = ReasonNoSpool
		p.noSpoolErr = errors.New("no spool directory configured")
	} else {
		sp, rec, err := openSpool(&p.cfg, p.dec, cfg.errorHandler)
		if err != nil {
			p.noSpoolReason = dropReason(err)
			if p.noSpoolReason == ReasonSpoolError {
				p.noSpoolReason = ReasonSpoolUnwritable
			}
			p.noSpoolErr = fmt.Errorf("spool %s unusable: %w", cfg.dir, err)
			p.nextReopen = time.Now().Add(cfg.reopenAfter)
			cfg.errorHandler(fmt.Errorf("delivery: %w; audit records are kept in memory only (limit %d) and lost on a crash until the directory can be used (retried every %v)",
				p.noSpoolErr, cfg.memoryLimit, cfg.reopenAfter))
		} else {
			p.sp.Store(sp)
			p.nextSeq = rec.maxSeq + 1
			if rec.pending > 0 {
				p.ranges = append(p.ranges, seqRange{lo: rec.lo, hi: rec.maxSeq, count: rec.pending})
			}
		}
	}

	if cfg.chain != nil {
		p.ch = newChainer(p, cfg.chain)
	}

	p.delivCtx, p.stopDeliv = context.WithCancel(context.Background())
	// Decided before the loops start: afterwards p.ranges is theirs.
	replay := len(p.ranges) > 0
	go p.writeLoop()
	go p.deliverLoop()
	if replay {
		signal(p.workCh)
	}
	return p, nil
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// broadcast wakes everyone waiting on p.progress. Call with p.mu held.
func (p *Processor) broadcast() {
	close(p.progress)
	p.progress = make(chan struct{})
}

// Enabled reports true, also during and after Shutdown: the Processor takes
// every record it is given (routing audits to it is the caller's job), and
// one given after Shutdown is counted as dropped with reason "shutdown"
// rather than skipped by a caller that asks Enabled first.
func (p *Processor) Enabled(context.Context, sdklog.EnabledParameters) bool {
	return true
}

// OnEmit accepts a copy of r for delivery. It returns at once unless the
// spool writer is a full batch behind, in which case it waits up to the emit
// timeout and then drops r (counted with reason "emit_timeout"). During and
// after Shutdown it drops r (counted with reason "shutdown"). Every drop is
// reported through the error handler. It ignores ctx cancellation and never
// returns an error.
func (p *Processor) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if r == nil {
		return nil
	}
	p.accept(ctx, r)
	return nil
}

// accept takes a copy of r into the intake and reports whether it did (it
// did not when r was dropped). The waiter of a required emit in ctx is
// told the outcome (see durable.go). With a chain, the copy takes the next
// place in the intake, which is its place in the chain; the spool writer
// hashes it there (chainer.link).
func (p *Processor) accept(ctx context.Context, r *sdklog.Record) bool {
	w := p.claim(ctx)
	p.met.emitted.Add(context.Background(), 1)
	p.mu.Lock()
	if p.stopping {
		p.dropLocked(1)
		p.mu.Unlock()
		p.dropShutdown()
		failWaiter(w, errShutdown)
		return false
	}
	p.mu.Unlock()
	rec := r.Clone()
	// Encode here, outside the lock and on the caller's core, so the spool
	// writer only copies, writes and fsyncs. The sequence number is filled in
	// once it is assigned. A record accepted while there is no spool has no
	// frame; the writer encodes it if a spool opens later.
	// Invalid UTF-8 is replaced (OTLP cannot carry it), here, before the
	// writer hashes a chained record: what is hashed is what is exported.
	// The encoder finds it at no extra cost; without a spool, sanitize
	// looks for it. A chained record's frame is written without the chain
	// attributes; the writer puts them in.
	var frame []byte
	var box *[]byte
	if p.sp.Load() != nil {
		box = getFrame()
		frame = encodeFrameTo(box, &rec, nil)
		if frame == nil && sanitize(&rec) {
			p.reportSanitized()
			frame = encodeFrameTo(box, &rec, nil)
		}
		if frame == nil {
			putFrame(box, nil)
			box = nil
		}
	} else if sanitize(&rec) {
		p.reportSanitized()
	}
	p.mu.Lock()
	if p.stopping {
		p.dropLocked(1)
		p.mu.Unlock()
		p.dropShutdown()
		failWaiter(w, errShutdown)
		return false
	}
	var timer *time.Timer
wait:
	for len(p.intake) >= p.cfg.batchSize {
		if p.cfg.emitTimeout == 0 {
			p.dropLocked(1)
			p.mu.Unlock()
			p.dropEmit()
			failWaiter(w, errEmitTimeout)
			return false
		}
		if timer == nil {
			timer = time.NewTimer(p.cfg.emitTimeout)
			defer timer.Stop()
		}
		ch := p.space
		p.mu.Unlock()
		select {
		case <-ch:
			p.mu.Lock()
		case <-timer.C:
			p.mu.Lock()
			if len(p.intake) < p.cfg.batchSize && !p.stopping {
				break wait // room appeared just as the timer fired
			}
			p.dropLocked(1)
			p.mu.Unlock()
			p.dropEmit()
			failWaiter(w, errEmitTimeout)
			return false
		}
		if p.stopping {
			p.dropLocked(1)
			p.mu.Unlock()
			p.dropShutdown()
			failWaiter(w, errShutdown)
			return false
		}
	}
	size := len(frame) - frameHdr
	if frame == nil {
		size = approxSize(&rec)
	}
	e := entry{rec: rec, frame: frame, box: box, waiter: w, size: size}
	if p.ch != nil {
		p.ch.takeLocked(e)
	} else {
		e.seq = p.nextSeq
		if frame != nil {
			setFrameSeq(frame, e.seq)
		}
		p.intake = append(p.intake, e)
		p.nextSeq++
	}
	p.mu.Unlock()
	signal(p.writeCh)
	return true
}

func (p *Processor) dropLocked(n int) { p.dropped += n }

func (p *Processor) reportSanitized() {
	p.lim.report("utf8", errors.New("delivery: audit record holds invalid UTF-8 (not exportable over OTLP); invalid bytes replaced with U+FFFD"))
}

func (p *Processor) dropEmit() {
	p.met.drop(1, ReasonEmitTimeout)
	p.lim.drop(ReasonEmitTimeout, 1, fmt.Errorf("spool writer %d records behind for %v (emit timeout)", p.cfg.batchSize, p.cfg.emitTimeout))
}

func (p *Processor) dropShutdown() {
	p.met.drop(1, ReasonShutdown)
	p.lim.drop(ReasonShutdown, 1, errors.New("OnEmit called during or after Shutdown"))
}

// writeLoop moves intake batches to the spool (one fsync each) and then to
// memory or to a disk-only range. Between batches, and on a timer while it is
// idle, it passes on the error reports the rate limiter held back and retries
// a spool directory that could not be used.
func (p *Processor) writeLoop() {
	defer p.loopExit(p.writerDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		stop := false
		select {
		case <-p.writeCh:
		case <-p.lim.wake:
		case <-timer.C:
		case <-p.stopWriter:
			stop = true
		}
		for {
			p.mu.Lock()
			if len(p.intake) == 0 {
				p.mu.Unlock()
				break
			}
			batch := p.intake
			p.intake = p.spare[:0]
			p.spare = nil
			p.writing = batch
			close(p.space)
			p.space = make(chan struct{})
			p.mu.Unlock()

			p.store(batch)

			clear(batch)
			p.mu.Lock()
			p.spare = batch[:0]
			p.mu.Unlock()
			if !stop {
				p.housekeep() // also under sustained load
			}
		}
		if stop {
			return
		}
		if wait := p.housekeep(); wait > 0 {
			timer.Reset(wait)
		} else {
			timer.Stop()
		}
	}
}

// housekeep passes on held-back reports whose interval has passed and
// retries opening the spool when it is due. It returns how long until it has
// more to do, or 0 when nothing is pending. Writer goroutine only.
func (p *Processor) housekeep() time.Duration {
	next := p.lim.flush(false)
	if p.sp.Load() == nil && p.cfg.dir != "" {
		wait := time.Until(p.nextReopen)
		if wait <= 0 {
			p.reopenSpool()
			wait = p.cfg.reopenAfter
		}
		if p.sp.Load() == nil && (next == 0 || wait < next) {
			next = max(wait, time.Millisecond)
		}
	}
	return next
}

// reopenSpool tries again to open the spool directory that was unusable at
// start. On success the records accepted from then on are spooled, and any
// records a previous process left there are scheduled for delivery before the
// ones in memory. Writer goroutine only, between batches.
func (p *Processor) reopenSpool() {
	p.nextReopen = time.Now().Add(p.cfg.reopenAfter)
	sp, rec, err := openSpool(&p.cfg, p.dec, p.cfg.errorHandler)
	if err != nil {
		p.noSpoolErr = fmt.Errorf("spool %s unusable: %w", p.cfg.dir, err)
		return
	}
	p.mu.Lock()
	// Records accepted so far were numbered without knowing the spool's
	// numbers; move them past the highest one on disk so that the order and
	// the ack mark stay right. Waiters compare against seqShift.
	if low := p.lowWater(); rec.maxSeq >= low {
		delta := rec.maxSeq + 1 - low
		for i := range p.intake {
			p.intake[i].seq += delta
			if p.intake[i].frame != nil {
				setFrameSeq(p.intake[i].frame, p.intake[i].seq)
			}
		}
		for i := range p.mem {
			p.mem[i].seq += delta
		}
		p.nextSeq += delta
		p.seqShift += delta
	}
	if rec.pending > 0 {
		// p.ranges is empty: only a spool makes ranges.
		p.ranges = append(p.ranges, seqRange{lo: rec.lo, hi: rec.maxSeq, count: rec.pending})
	}
	p.sp.Store(sp)
	p.broadcast()
	p.mu.Unlock()
	p.cfg.errorHandler(fmt.Errorf("delivery: spool %s usable again: audit records accepted from now on are spooled (%d left there before are delivered first; %d accepted before stay in memory only)",
		p.cfg.dir, rec.pending, p.memOnly()))
	if rec.pending > 0 {
		signal(p.workCh)
	}
}

// memOnly counts records held in memory and not in the spool.
func (p *Processor) memOnly() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.intake)
	for _, e := range p.mem {
		if !e.spooled {
			n++
		}
	}
	return n
}

func (p *Processor) store(batch []entry) {
	var (
		n      int
		err    error
		reason = p.noSpoolReason
		sp     = p.sp.Load()
	)
	// The chain is computed here, off the emitting goroutines, in the
	// intake order: nothing reads, spools or exports a record before it
	// passed this point.
	if p.ch != nil {
		p.ch.link(batch)
	}
	if sp != nil {
		for i := range batch {
			if batch[i].frame == nil {
				// Accepted before the spool was opened.
				fr := encodeFrame(&batch[i].rec, nil)
				if fr == nil && sanitize(&batch[i].rec) {
					fr = encodeFrame(&batch[i].rec, nil)
				}
				if fr != nil {
					setFrameSeq(fr, batch[i].seq)
					batch[i].frame = fr
				}
			}
		}
		n, err = sp.append(batch)
		if err != nil {
			reason = dropReason(err)
		} else {
			reason = ReasonTooLarge // only a record beyond the frame limit is left unspooled
		}
	} else {
		err = p.noSpoolErr
	}
	notifyDurable(batch, err)
	if p.ch != nil {
		p.ch.spooled(batch)
	}

	drops := 0
	p.mu.Lock()
	p.writing = nil
	for i := range batch {
		e := batch[i]
		putFrame(e.box, e.frame) // copied to the spool, or never to be
		e.frame, e.box = nil, nil
		switch {
		case len(p.mem) < p.cfg.memoryLimit:
			p.mem = append(p.mem, e)
		case e.spooled:
			if k := len(p.ranges) - 1; k >= 0 && p.ranges[k].hi+1 == e.seq {
				p.ranges[k].hi = e.seq
				p.ranges[k].count++
			} else {
				p.ranges = append(p.ranges, seqRange{lo: e.seq, hi: e.seq, count: 1})
			}
		default:
			drops++
		}
	}
	p.dropped += drops
	p.broadcast()
	p.mu.Unlock()

	if n > 0 {
		p.met.spooled.Add(context.Background(), int64(n))
	}
	switch {
	case drops > 0:
		p.met.drop(drops, reason)
		var cause error
		switch {
		case sp == nil:
			cause = fmt.Errorf("memory limit %d reached and no spool: %w", p.cfg.memoryLimit, err)
		case err != nil:
			cause = fmt.Errorf("memory limit %d reached and spooling a batch of %d failed: %w", p.cfg.memoryLimit, len(batch), err)
		default:
			cause = fmt.Errorf("memory limit %d reached and the records exceed the %d-byte spool frame limit", p.cfg.memoryLimit, defaultMaxRecordBytes)
		}
		p.lim.drop(reason, drops, cause)
	case err != nil && sp != nil:
		p.lim.report("spool", fmt.Errorf("delivery: spooling %d audit records failed (%d kept in memory only): %w", len(batch), len(batch)-n, err))
	}
	signal(p.workCh)
}

// loopExit marks one of the two loops stopped and closes done. When
// Shutdown already returned without waiting for it and it is the last, it
// settles the Processor first.
func (p *Processor) loopExit(done chan struct{}) {
	p.mu.Lock()
	p.loopsLeft--
	last := p.loopsLeft == 0 && p.detached
	p.mu.Unlock()
	if last {
		if err := p.settle(); err != nil {
			p.cfg.errorHandler(err)
		}
	}
	close(done)
}

// lowWater is the smallest sequence number not yet delivered or dropped.
// Call with p.mu held.
func (p *Processor) lowWater() uint64 {
	low := p.nextSeq
	if len(p.intake) > 0 {
		low = min(low, p.intake[0].seq)
	}
	if len(p.writing) > 0 {
		low = min(low, p.writing[0].seq)
	}
	if len(p.mem) > 0 {
		low = min(low, p.mem[0].seq)
	}
	if len(p.ranges) > 0 {
		low = min(low, p.ranges[0].lo)
	}
	return low
}

// pendingLocked counts records accepted and not yet delivered or dropped.
func (p *Processor) pendingLocked() int {
	n := len(p.intake) + len(p.writing) + len(p.mem)
	for _, r := range p.ranges {
		n += r.count
	}
	return n
}

// deliverLoop exports records in sequence order: from memory, or from the
// spool for ranges that did not fit in memory, retrying with backoff.
func (p *Processor) deliverLoop() {
	defer p.loopExit(p.delivDone)
	backoff := p.cfg.backoffInitial
	for {
		p.mu.Lock()
		sp := p.sp.Load() // non-nil whenever p.ranges is not empty
		fromDisk := len(p.ranges) > 0 && (len(p.mem) == 0 || p.ranges[0].lo < p.mem[0].seq)
		var rng seqRange
		recs := p.exportBuf[:0]
		limit := p.cfg.batchSize
		if p.splitTo > 0 {
			limit = p.splitTo
		}
		switch {
		case fromDisk:
			rng = p.ranges[0]
		case len(p.mem) > 0:
			bytes := 0
			for i := 0; i < len(p.mem) && i < limit; i++ {
				if len(p.ranges) > 0 && p.mem[i].seq >= p.ranges[0].lo {
					break
				}
				if i > 0 && bytes+p.mem[i].size > p.cfg.maxExportBytes {
					break
				}
				bytes += p.mem[i].size
				recs = append(recs, p.mem[i].rec)
			}
		}
		p.mu.Unlock()

		var next uint64
		var skipped int
		if fromDisk {
			var err error
			recs, next, skipped, err = sp.read(rng.lo, rng.hi, limit, p.cfg.maxExportBytes)
			if err != nil {
				// Nothing is given up: the reader keeps its position.
				p.lim.report("read", fmt.Errorf("delivery: reading spool (retrying in %v): %w", backoff, err))
				if !p.sleep(&backoff) {
					return
				}
				continue
			}
		} else if len(recs) == 0 {
			select {
			case <-p.workCh:
				continue
			case <-p.delivCtx.Done():
				return
			}
		}

		var dropReason string
		var rejectErr error
		if len(recs) > 0 {
			ctx, cancel := context.WithTimeout(p.delivCtx, p.cfg.exportTimeout)
			err := p.exp.Export(ctx, recs)
			cancel()
			if err != nil {
				if p.delivCtx.Err() != nil {
					return
				}
				if large, sure := tooLarge(err); large && len(recs) > 1 {
					// Split: retry at once with half the records.
					p.splitTo = (len(recs) + 1) / 2
					p.lim.report("split", fmt.Errorf("delivery: export of %d audit records refused as too large, retrying in batches of %d: %w", len(recs), p.splitTo, err))
					continue
				} else if large && sure {
					dropReason = ReasonTooLarge
					rejectErr = fmt.Errorf("the receiver refuses the record as too large on its own: %w", err)
				} else if p.cfg.permanent == nil || !p.cfg.permanent(err) {
					p.cfg.errorHandler(fmt.Errorf("delivery: export of %d audit records failed, retrying in %v: %w", len(recs), backoff, err))
					if !p.sleep(&backoff) {
						return
					}
					continue
				} else {
					dropReason = ReasonRejected
					rejectErr = fmt.Errorf("exporter rejected them permanently: %w", err)
				}
			}
		}
		backoff = p.cfg.backoffInitial
		if p.splitTo > 0 && dropReason == "" {
			if p.splitTo *= 2; p.splitTo >= p.cfg.batchSize {
				p.splitTo = 0
			}
		}

		p.mu.Lock()
		n := len(recs)
		if fromDisk {
			r := &p.ranges[0]
			r.lo = next
			r.count = max(0, r.count-n-skipped)
			if r.lo > r.hi {
				p.ranges = p.ranges[1:]
			}
		} else {
			clear(p.mem[:n])
			p.mem = p.mem[n:]
			if len(p.mem) == 0 {
				p.mem = p.mem[:0:0]
			}
		}
		if dropReason == "" {
			p.delivered += n
		} else {
			p.dropped += n
		}
		p.dropped += skipped
		low := p.lowWater()
		sp = p.sp.Load() // with low, from one view: a spool opened late renumbers
		p.broadcast()
		p.mu.Unlock()
		clear(recs)
		p.exportBuf = recs[:0]

		if dropReason == "" {
			p.met.delivered.Add(context.Background(), int64(n))
		} else {
			p.met.drop(n, dropReason)
			p.lim.drop(dropReason, n, rejectErr)
		}
		if skipped > 0 {
			p.met.drop(skipped, ReasonCorrupt)
			p.lim.drop(ReasonCorrupt, skipped, fmt.Errorf("%w: spooled records missing (segment deleted or shortened), failing their checksum or not decodable were skipped", ErrCorruptSpool))
		}
		if sp != nil {
			if err := sp.release(low); err != nil {
				p.lim.report("release", fmt.Errorf("delivery: releasing delivered spool segments: %w", err))
			}
		}
	}
}

// sleep waits for the backoff (or a kick from ForceFlush/Shutdown) and
// doubles it. It returns false when the deliverer must stop.
func (p *Processor) sleep(backoff *time.Duration) bool {
	t := time.NewTimer(*backoff)
	defer t.Stop()
	*backoff = min(2**backoff, p.cfg.backoffMax)
	select {
	case <-t.C:
	case <-p.kickCh:
	case <-p.delivCtx.Done():
		return false
	}
	return true
}

// ForceFlush waits until every record accepted before the call is delivered
// (or dropped), retrying the exporter immediately once. It honours ctx and
// then returns an error saying how many records are still pending.
func (p *Processor) ForceFlush(ctx context.Context) error {
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		return nil
	}
	target := p.nextSeq - p.seqShift
	p.mu.Unlock()
	signal(p.writeCh)
	signal(p.kickCh)
	if err := p.waitDelivered(ctx, target); err != nil {
		return fmt.Errorf("delivery: force flush: %w", err)
	}
	return p.exp.ForceFlush(ctx)
}

// waitDelivered waits until every record numbered below target+p.seqShift
// is delivered or dropped (target is p.nextSeq-p.seqShift at the call: a
// spool opened late renumbers records).
func (p *Processor) waitDelivered(ctx context.Context, target uint64) error {
	for {
		p.mu.Lock()
		done := p.lowWater() >= target+p.seqShift
		pending := p.pendingLocked()
		ch := p.progress
		p.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-p.delivDone:
			return fmt.Errorf("processor shut down with %d audit records not delivered", pending)
		case <-ctx.Done():
			return fmt.Errorf("%d audit records not yet delivered: %w", pending, ctx.Err())
		}
	}
}

// Shutdown stops accepting records, writes the ones still in memory to the
// spool, and waits until every record accepted before it is delivered or ctx
// is done. It then stops its goroutines, closes the spool and shuts the
// exporter down. Records then left in memory only (not spooled) are given up:
// counted as dropped with reason "shutdown" and reported through the error
// handler. When anything was not delivered it returns an *[UndeliveredError]
// saying how many records are safe in the spool (the next Processor on the
// same directory delivers them) and how many are lost.
//
// Shutdown honours ctx also when the spool's disk does not answer: if a
// write or fsync has not returned 200 ms after ctx is done, it returns an
// *[UndeliveredError] wrapping [ErrSpoolStuck] that counts the records being
// written as not delivered and not spooled. The stuck goroutine finishes its
// write when the disk answers (the records then are in the spool), and closes
// the spool; nothing else runs after Shutdown returns.
//
// Calls after the first return nil.
func (p *Processor) Shutdown(ctx context.Context) error {
	first := false
	p.shutdownOnce.Do(func() {
		first = true
		if p.ch != nil {
			p.ch.close(ctx)
		}
		p.shutdownErr = p.shutdown(ctx)
	})
	if !first {
		return nil
	}
	return p.shutdownErr
}

// ErrSpoolStuck is wrapped by the error Shutdown returns when its context
// ended while the spool's goroutines were still waiting for the disk.
var ErrSpoolStuck = errors.New("delivery: spool I/O did not return before the shutdown deadline")

func (p *Processor) shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.stopping = true
	if p.ch != nil {
		p.ch.sealLocked() // the final checkpoint: the last entry of the intake
	}
	target := p.nextSeq - p.seqShift
	close(p.space)
	p.space = make(chan struct{})
	p.mu.Unlock()

	close(p.stopWriter)
	signal(p.kickCh)
	waitErr := p.waitDelivered(ctx, target)

	p.stopDeliv()
	stuck := !waitClosed(ctx, p.delivDone, p.writerDone)

	// The spool is the promise behind "safe in spool": check that the
	// segments holding undelivered records are still the files this
	// Processor wrote.
	var gone []seqRange
	if sp := p.sp.Load(); sp != nil {
		gone = sp.gone()
	}

	p.mu.Lock()
	if stuck {
		if p.loopsLeft == 0 {
			stuck = false // both stopped just now
		} else {
			p.detached = true // the last loop to stop settles
		}
	}
	goneMem, goneDisk := p.loseGoneLocked(gone)
	ue := &UndeliveredError{Dropped: p.dropped}
	if p.sp.Load() != nil {
		ue.Dir = p.cfg.dir
	}
	inFlight := len(p.intake) + len(p.writing)
	ue.Undelivered = inFlight
	for _, e := range p.mem {
		ue.Undelivered++
		if e.spooled {
			ue.Spooled++
		}
	}
	for _, r := range p.ranges {
		ue.Undelivered += r.count
		ue.Spooled += r.count
	}
	p.mu.Unlock()

	if goneMem+goneDisk > 0 {
		err := fmt.Errorf("%w: %d undelivered records were in segments of %s that are gone (%d of them still in memory, lost at shutdown)",
			ErrSpoolGone, goneMem+goneDisk, p.cfg.dir, goneMem)
		if goneDisk > 0 {
			p.met.drop(goneDisk, ReasonCorrupt)
			p.lim.drop(ReasonCorrupt, goneDisk, err)
		} else {
			p.lim.report("spool", fmt.Errorf("delivery: %w", err))
		}
	}

	var errs []error
	if !stuck {
		if err := p.settle(); err != nil {
			errs = append(errs, err)
		}
	}
	// Nothing is held back from now on: what the rate limiter kept is
	// reported, and later reports (a stuck loop settling, OnEmit after
	// Shutdown) go to the error handler at once.
	p.lim.close()
	if stuck {
		cause := waitErr
		if cause == nil {
			cause = ctx.Err()
		}
		ue.Err = fmt.Errorf("%w: %d records being written stay in memory and reach the spool only if the disk answers: %w", ErrSpoolStuck, inFlight, cause)
	} else {
		ue.Err = waitErr
	}
	if ue.Undelivered > 0 || ue.Dropped > 0 || stuck {
		errs = append([]error{ue}, errs...)
	}
	if err := p.exp.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("delivery: exporter shutdown: %w", err))
	}
	return errors.Join(errs...)
}

// loseGoneLocked takes back the "spooled" state of the undelivered records
// in the gone sequence ranges: those in memory become memory-only (lost at
// shutdown, counted then), those only on disk are dropped here. It returns
// both counts; the caller counts and reports the disk ones. Call with p.mu
// held.
func (p *Processor) loseGoneLocked(gone []seqRange) (mem, disk int) {
	for _, g := range gone {
		for i := range p.mem {
			if e := &p.mem[i]; e.spooled && e.seq >= g.lo && e.seq <= g.hi {
				e.spooled = false
				mem++
			}
		}
		for k := range p.ranges {
			r := &p.ranges[k]
			lo, hi := max(r.lo, g.lo), min(r.hi, g.hi)
			if lo > hi || r.count == 0 {
				continue
			}
			n := min(r.count, g.count, int(hi-lo+1))
			r.count -= n
			disk += n
		}
	}
	p.ranges = slices.DeleteFunc(p.ranges, func(r seqRange) bool { return r.count == 0 })
	p.dropped += disk
	return mem, disk
}

// stopGrace is how long past its context Shutdown waits for its goroutines
// to stop. Once delivery is cancelled they stop within moments unless the
// disk does not answer; the grace keeps a read or fsync that is merely in
// progress when the deadline passes from being taken for a stuck one.
const stopGrace = 200 * time.Millisecond

// waitClosed waits until every channel is closed, or until stopGrace after
// ctx is done, and reports whether they all were closed.
func waitClosed(ctx context.Context, chs ...chan struct{}) bool {
	var grace <-chan time.Time
	for _, ch := range chs {
		select {
		case <-ch:
			continue
		case <-ctx.Done():
		}
		if grace == nil {
			t := time.NewTimer(stopGrace)
			defer t.Stop()
			grace = t.C
		}
		select {
		case <-ch:
		case <-grace:
			return false
		}
	}
	return true
}

// settle runs once both loops have stopped: records left in memory only are
// given up (counted and reported with reason "shutdown"), the spool is
// closed and the decoder released.
func (p *Processor) settle() error {
	p.mu.Lock()
	lost := len(p.intake) + len(p.writing) // none: the writer drains them before it stops
	for _, e := range p.mem {
		if !e.spooled {
			lost++
		}
	}
	low := p.lowWater()
	sp := p.sp.Load()
	p.mu.Unlock()

	var err error
	if sp != nil {
		sp.closeWriter()
		if rerr := sp.release(low); rerr != nil {
			err = fmt.Errorf("delivery: releasing spool: %w", rerr)
		}
		sp.close()
	}
	p.dec.shutdown(context.Background())
	if lost > 0 {
		p.met.drop(lost, ReasonShutdown)
		p.lim.drop(ReasonShutdown, lost, errors.New("held in memory only (not spooled) and not delivered when the Processor shut down"))
	}
	return err
}

// UndeliveredError is returned by [Processor.Shutdown] when some records were
// not delivered.
type UndeliveredError struct {
	// Undelivered counts records accepted before Shutdown and not delivered
	// when it returned.
	Undelivered int
	// Spooled counts those of them that are safe in the spool directory Dir;
	// the next Processor opened on Dir delivers them.
	Spooled int
	// Dropped counts records given up before Shutdown's final count (see
	// the otelkit.audit.dropped counter for reasons). The Lost records are
	// not in it; the counter adds them with reason "shutdown".
	Dropped int
	// Dir is the spool directory, empty when running without a spool.
	Dir string
	// Err is why delivery stopped, typically the context's error.
	Err error
}

// Lost is the number of undelivered records that are not in the spool.
func (e *UndeliveredError) Lost() int { return e.Undelivered - e.Spooled }

// Error says how many records were not delivered, how many of them are safe
// in the spool and how many are lost.
func (e *UndeliveredError) Error() string {
	msg := fmt.Sprintf("delivery: %d audit records not delivered (%d safe in spool %q, %d lost), %d dropped earlier",
		e.Undelivered, e.Spooled, e.Dir, e.Lost(), e.Dropped)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns Err.
func (e *UndeliveredError) Unwrap() error { return e.Err }
