package delivery

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// Spool layout (see doc.go): a directory of segment files named after the
// sequence number of their first record (%020d.wal), an "ack" file and a
// "LOCK" file. A segment is an 8-byte magic followed by frames:
//
//	uint32 LE  payload length n
//	uint32 LE  CRC-32C (Castagnoli) of the payload
//	n bytes    payload: uint64 LE sequence number + OTLP ResourceLogs protobuf
const (
	segMagic   = "OTKAUD1\n"
	segExt     = ".wal"
	repairExt  = ".repair"
	corruptExt = ".corrupt"
	ackName    = "ack"
	frameHdr   = 8
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorruptSpool is wrapped by the errors reported when a spool segment has a
// torn or corrupt region. The valid records are still delivered; the bad
// bytes are kept in a "*.corrupt" file next to the segment.
var ErrCorruptSpool = errors.New("delivery: corrupt spool")

// errSpoolFull is returned by append when the batch would exceed the size cap.
var errSpoolFull = errors.New("spool size cap reached")

// ErrSpoolGone is wrapped by the errors reported when spool segments this
// Processor wrote were deleted, replaced or shortened behind its back (the
// directory removed, a tmp cleaner, another writer): their records are not
// safe in the spool any more and are counted as dropped.
var ErrSpoolGone = errors.New("delivery: spool segment deleted or replaced behind the Processor's back")

type segment struct {
	name  string
	first uint64
	last  uint64
	count int
	size  int64       // bytes known to be durable
	fi    os.FileInfo // the file this process wrote or validated (os.SameFile)
}

// readFile is a segment opened for reading.
type readFile interface {
	io.ReaderAt
	io.Closer
}

type spool struct {
	dir      string
	segBytes int64
	maxBytes int64
	maxRec   int
	lock     *os.File
	dec      *decoder
	openRead func(path string) (readFile, error)
	syncFile func(f *os.File) error

	mu     sync.Mutex // guards segs, total, active and every segment's fields
	segs   []*segment
	total  int64
	active *segment

	// writer goroutine only
	f   *os.File
	buf []byte
	idx []int

	// deliverer goroutine only
	rf      readFile
	rseg    *segment
	roff    int64
	rnext   uint64 // every frame before roff in rseg has a sequence number < rnext
	rcount  int    // frames of rseg before roff
	payload []byte
	lastAck uint64
}

// recovery is what openSpool found on disk.
type recovery struct {
	ack     uint64 // records below it were delivered before
	maxSeq  uint64 // highest sequence number on disk (or ack-1)
	lo      uint64 // first undelivered sequence number on disk
	pending int    // undelivered records on disk
	corrupt int    // segments quarantined
}

// openSpool creates or opens dir, locks it, quarantines corrupt regions and
// reports what is left to deliver. Corruption is reported through report and
// never makes it fail; only an unusable directory does.
func openSpool(cfg *config, dec *decoder, report func(error)) (*spool, recovery, error) {
	var rec recovery
	if err := os.MkdirAll(cfg.dir, 0o700); err != nil {
		return nil, rec, err
	}
	lock, err := lockDir(cfg.dir)
	if err != nil {
		return nil, rec, err
	}
	s := &spool{
		dir:      cfg.dir,
		segBytes: cfg.segmentBytes,
		maxBytes: cfg.maxSpoolBytes,
		maxRec:   defaultMaxRecordBytes,
		lock:     lock,
		dec:      dec,
		openRead: cfg.openRead,
		syncFile: cfg.syncFile,
	}
	if s.openRead == nil {
		s.openRead = func(path string) (readFile, error) { return os.Open(path) }
	}
	if s.syncFile == nil {
		s.syncFile = (*os.File).Sync
	}
	// The spool must be writable now; a read-only directory is found here
	// rather than at the first batch.
	probe := filepath.Join(cfg.dir, ackName+".probe")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		s.closeLock()
		return nil, rec, err
	}
	_ = os.Remove(probe)

	s.finishRepairs()
	rec.ack = s.readAck()
	s.lastAck = rec.ack

	names, err := s.segmentNames()
	if err != nil {
		s.closeLock()
		return nil, rec, err
	}
	var loaded []*segment
	var highest uint64
	for _, name := range names {
		seg, bad := s.load(name, report)
		if bad {
			rec.corrupt++
		}
		if seg == nil {
			continue
		}
		loaded = append(loaded, seg)
		highest = max(highest, seg.last)
	}
	// The ack mark says every record below it was delivered. One beyond
	// every record in the spool (a forged or foreign file: a genuine mark
	// is at most the highest record written + 1) would silently delete the
	// records pending; it is ignored and reported, and everything in the
	// spool is delivered (again).
	if len(loaded) > 0 && rec.ack > highest+1 {
		report(fmt.Errorf("%w: ack mark %d is beyond the highest record in the spool (%d): ignored, all %d segments are delivered (possibly again)",
			ErrCorruptSpool, rec.ack, highest, len(loaded)))
		rec.ack = 0
		s.lastAck = 0
	}
	for _, seg := range loaded {
		if seg.last < rec.ack {
			_ = os.Remove(filepath.Join(s.dir, seg.name))
			continue
		}
		s.segs = append(s.segs, seg)
		s.total += seg.size
		rec.maxSeq = max(rec.maxSeq, seg.last)
	}
	if rec.ack > 0 {
		rec.maxSeq = max(rec.maxSeq, rec.ack-1)
	}
	// Count what is undelivered: records at or above ack.
	for _, seg := range s.segs {
		if seg.first >= rec.ack {
			rec.pending += seg.count
			if rec.lo == 0 {
				rec.lo = seg.first
			}
			continue
		}
		n, lo := s.countFrom(seg, rec.ack)
		rec.pending += n
		if rec.lo == 0 && n > 0 {
			rec.lo = lo
		}
	}
	return s, rec, nil
}

func (s *spool) closeLock() {
	if s.lock != nil {
		_ = s.lock.Close()
		s.lock = nil
	}
}

func (s *spool) segmentNames() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), segExt) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// finishRepairs completes or discards repairs interrupted by a crash: a
// "X.wal.repair" whose X.wal still exists was not yet applied (discard it and
// repair again); one without X.wal had its original moved aside already.
func (s *spool) finishRepairs() {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, segExt+repairExt) {
			continue
		}
		orig := strings.TrimSuffix(name, repairExt)
		if _, err := os.Stat(filepath.Join(s.dir, orig)); err == nil {
			_ = os.Remove(filepath.Join(s.dir, name))
		} else {
			_ = os.Rename(filepath.Join(s.dir, name), filepath.Join(s.dir, orig))
		}
	}
}

// frameAt reports whether a valid frame whose sequence number is above after
// starts at off, and its total length.
func frameAt(data []byte, off int, after uint64, maxRec int) (seq uint64, n int, ok bool) {
	if off+frameHdr+seqBytes > len(data) {
		return 0, 0, false
	}
	plen := int(binary.LittleEndian.Uint32(data[off:]))
	if plen < seqBytes || plen > maxRec || off+frameHdr+plen > len(data) {
		return 0, 0, false
	}
	payload := data[off+frameHdr : off+frameHdr+plen]
	seq = binary.LittleEndian.Uint64(payload)
	if seq <= after || (after > 0 && seq-after > 1<<40) {
		return 0, 0, false
	}
	if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(data[off+4:]) {
		return 0, 0, false
	}
	return seq, frameHdr + plen, true
}

type region struct{ start, end int }

// scan walks the frames of a segment image. It calls good for every valid
// frame and returns the corrupt regions, resynchronising after each one on
// the next offset that holds a valid frame.
func scan(data []byte, maxRec int, good func(off, n int, seq uint64)) []region {
	var bad []region
	var last uint64
	off := len(segMagic)
	for off < len(data) {
		if seq, n, ok := frameAt(data, off, last, maxRec); ok {
			good(off, n, seq)
			last = seq
			off += n
			continue
		}
		start := off
		next := -1
		for o := off + 1; o+frameHdr+seqBytes <= len(data); o++ {
			if _, _, ok := frameAt(data, o, last, maxRec); ok {
				next = o
				break
			}
		}
		if next < 0 {
			bad = append(bad, region{start, len(data)})
			break
		}
		bad = append(bad, region{start, next})
		off = next
	}
	return bad
}

// load validates one segment. A torn or corrupt segment is rewritten with its
// valid frames only and the original is kept as name+".corrupt".
func (s *spool) load(name string, report func(error)) (seg *segment, corrupt bool) {
	path := filepath.Join(s.dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		report(fmt.Errorf("delivery: read spool segment %s: %w", path, err))
		return nil, false
	}
	if len(data) <= len(segMagic) && string(data) == segMagic[:len(data)] {
		// Created but never given a frame (crash between create and write).
		_ = os.Remove(path)
		return nil, false
	}
	seg = &segment{name: name}
	var goods []region
	var bad []region
	if len(data) < len(segMagic) || string(data[:len(segMagic)]) != segMagic {
		// A damaged header does not hide the frames behind it.
		bad = append(bad, region{0, min(len(data), len(segMagic))})
	}
	bad = append(bad, scan(data, s.maxRec, func(off, n int, seq uint64) {
		goods = append(goods, region{off, off + n})
		if seg.count == 0 {
			seg.first = seq
		}
		seg.last = seq
		seg.count++
	})...)
	if len(bad) == 0 {
		seg.size = int64(len(data))
		seg.fi, _ = os.Stat(path)
		return seg, false
	}

	badBytes := 0
	for _, r := range bad {
		badBytes += r.end - r.start
	}
	quarantine := uniquePath(path + corruptExt)
	if seg.count == 0 {
		if err := os.Rename(path, quarantine); err != nil {
			report(fmt.Errorf("%w: segment %s: no valid record; quarantine failed: %w", ErrCorruptSpool, path, err))
			return nil, true
		}
		report(fmt.Errorf("%w: segment %s: no valid record, %d bytes quarantined to %s", ErrCorruptSpool, path, badBytes, quarantine))
		return nil, true
	}
	// Rewrite: magic + valid frames into X.wal.repair, then move X aside and
	// the repair into place (finishRepairs completes this after a crash).
	out := make([]byte, 0, len(data)-badBytes)
	out = append(out, segMagic...)
	for _, g := range goods {
		out = append(out, data[g.start:g.end]...)
	}
	tmp := path + repairExt
	if err := writeFileSync(tmp, out); err != nil {
		report(fmt.Errorf("%w: segment %s: %d corrupt bytes; repair failed (%w), delivering valid records in place", ErrCorruptSpool, path, badBytes, err))
		_ = os.Remove(tmp)
		// Deliver what is valid without rewriting: the reader skips bad frames.
		seg.size = int64(len(data))
		seg.fi, _ = os.Stat(path)
		return seg, true
	}
	if err := os.Rename(path, quarantine); err != nil {
		_ = os.Remove(tmp)
		report(fmt.Errorf("%w: segment %s: quarantine failed: %w", ErrCorruptSpool, path, err))
		seg.size = int64(len(data))
		seg.fi, _ = os.Stat(path)
		return seg, true
	}
	if err := os.Rename(tmp, path); err != nil {
		report(fmt.Errorf("%w: segment %s: repair rename failed: %w", ErrCorruptSpool, path, err))
		return nil, true
	}
	syncDir(s.dir)
	seg.size = int64(len(out))
	seg.fi, _ = os.Stat(path)
	report(fmt.Errorf("%w: segment %s: %d corrupt bytes in %d region(s) quarantined to %s; %d valid records kept",
		ErrCorruptSpool, path, badBytes, len(bad), quarantine, seg.count))
	return seg, true
}

func uniquePath(p string) string {
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return p
	}
	return p + "." + strconv.FormatInt(time.Now().UnixNano(), 10)
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// countFrom counts the records of seg with a sequence number >= from.
func (s *spool) countFrom(seg *segment, from uint64) (n int, lo uint64) {
	data, err := os.ReadFile(filepath.Join(s.dir, seg.name))
	if err != nil {
		return seg.count, seg.first
	}
	scan(data[:min(int64(len(data)), seg.size)], s.maxRec, func(_, _ int, seq uint64) {
		if seq >= from {
			if n == 0 {
				lo = seq
			}
			n++
		}
	})
	return n, lo
}

// readAck returns the persisted delivery mark, or 0 when missing or invalid.
func (s *spool) readAck() uint64 {
	b, err := os.ReadFile(filepath.Join(s.dir, ackName))
	if err != nil || len(b) != 12 {
		return 0
	}
	if crc32.Checksum(b[:8], crcTable) != binary.LittleEndian.Uint32(b[8:]) {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// writeAck persists that every record below seq was delivered. It is not
// fsynced: after a power loss an older mark only causes re-delivery.
func (s *spool) writeAck(seq uint64) error {
	if seq <= s.lastAck {
		return nil
	}
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:], seq)
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b[:8], crcTable))
	tmp := filepath.Join(s.dir, ackName+".tmp")
	if err := os.WriteFile(tmp, b[:], 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, ackName)); err != nil {
		return err
	}
	s.lastAck = seq
	return nil
}

// spoolChunk is how many bytes of frames append copies into its buffer
// before it writes them out: the buffer stays small (and in the cache),
// however large the batch.
const spoolChunk = 1 << 20

// append writes the records of batch that fit in a frame, with one fsync, and
// marks them spooled. It returns how many were spooled.
func (s *spool) append(batch []entry) (int, error) {
	idx := s.idx[:0]
	size := 0
	for i := range batch {
		fr := batch[i].frame
		plen := len(fr) - frameHdr
		if fr == nil || plen > s.maxRec {
			continue
		}
		binary.LittleEndian.PutUint32(fr, uint32(plen))
		binary.LittleEndian.PutUint32(fr[4:], crc32.Checksum(fr[frameHdr:], crcTable))
		idx = append(idx, i)
		size += len(fr)
	}
	s.idx = idx
	if len(idx) == 0 {
		if len(batch) > 0 {
			return 0, fmt.Errorf("no record of the batch could be encoded within %d bytes", s.maxRec)
		}
		return 0, nil
	}

	s.mu.Lock()
	rotate := s.f == nil || s.active == nil || s.active.size >= s.segBytes
	need := int64(size)
	if rotate {
		need += int64(len(segMagic))
	}
	if s.maxBytes > 0 && s.total+need > s.maxBytes {
		total := s.total
		s.mu.Unlock()
		return 0, fmt.Errorf("%w: %d + %d bytes > %d", errSpoolFull, total, need, s.maxBytes)
	}
	s.mu.Unlock()

	if rotate {
		if err := s.rotate(batch[idx[0]].seq); err != nil {
			return 0, err
		}
	}
	s.mu.Lock()
	seg := s.active
	off := seg.size
	s.mu.Unlock()

	// The frames go out through a buffer of at most spoolChunk bytes (a
	// larger frame on its own): one write per chunk, one fsync at the end.
	if want := min(size, spoolChunk); cap(s.buf) < want {
		s.buf = make([]byte, 0, want)
	}
	buf := s.buf[:0]
	at := off
	var err error
	write := func(b []byte) {
		if err == nil && len(b) > 0 {
			_, err = s.f.WriteAt(b, at)
			at += int64(len(b))
		}
	}
	for _, i := range idx {
		fr := batch[i].frame
		if len(buf)+len(fr) > cap(buf) {
			write(buf)
			buf = buf[:0]
			if len(fr) > cap(buf) {
				write(fr)
				continue
			}
		}
		buf = append(buf, fr...)
	}
	write(buf)
	s.buf = buf[:0]
	if err == nil {
		err = s.syncFile(s.f)
	}
	if err == nil && !s.stillThere(seg) {
		// The bytes went into a file that is no longer the segment (deleted,
		// or the directory removed): not durable. Start a new segment next
		// time; the records stay in memory only.
		_ = s.f.Close()
		s.f = nil
		return 0, fmt.Errorf("%w: %s", ErrSpoolGone, filepath.Join(s.dir, seg.name))
	}
	if err != nil {
		// Take the partial write back so the segment stays well-formed; if
		// even that fails, stop appending to this segment (the torn tail is
		// quarantined on the next start).
		if terr := s.f.Truncate(off); terr != nil {
			_ = s.f.Close()
			s.f = nil
		}
		return 0, err
	}

	s.mu.Lock()
	if seg.count == 0 {
		seg.first = batch[idx[0]].seq
	}
	seg.last = batch[idx[len(idx)-1]].seq
	seg.count += len(idx)
	seg.size += int64(size)
	s.total += int64(size)
	s.mu.Unlock()
	for _, i := range idx {
		batch[i].spooled = true
	}
	return len(idx), nil
}

// rotate closes the active segment and starts one named after first.
func (s *spool) rotate(first uint64) error {
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
	s.mu.Lock()
	s.active = nil
	s.mu.Unlock()
	name := fmt.Sprintf("%020d%s", first, segExt)
	path := filepath.Join(s.dir, name)
	// O_EXCL: never truncate a segment this Processor did not create (one
	// left by another writer under the same name).
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write([]byte(segMagic)); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	if err := s.syncFile(f); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	syncDir(s.dir)
	seg := &segment{name: name, size: int64(len(segMagic))}
	seg.fi, _ = f.Stat()
	s.mu.Lock()
	s.segs = append(s.segs, seg)
	s.total += seg.size
	s.active = seg
	s.mu.Unlock()
	s.f = f
	return nil
}

// read returns up to limit records with sequence numbers in [lo, hi] and at
// most maxBytes of payload (at least one record), in order, the sequence number to continue from, and how many records of the
// range it skipped: frames that fail their CRC or cannot be decoded, and the
// records of a segment that was deleted, or shortened below the bytes this
// process fsynced (found by a short read or an impossible frame length), behind
// the Processor's back. Those records are gone for good; the caller counts
// them as dropped with reason "corrupt".
//
// Any other read error (an I/O error the next attempt may not meet) gives up
// nothing: the records read before it are returned with next just after them,
// and a call that reads nothing returns the error; the reader keeps its
// position, so the caller retries from the same frame.
func (s *spool) read(lo, hi uint64, limit, maxBytes int) (recs []sdklog.Record, next uint64, skipped int, err error) {
	bytes := 0
	next = hi + 1
	s.mu.Lock()
	segs := slices.Clone(s.segs)
	s.mu.Unlock()

	// consumed is the sequence number after the last record of the range this
	// call returned or skipped (0: none yet).
	var consumed uint64
	failed := func(rerr error) ([]sdklog.Record, uint64, int, error) {
		if consumed > 0 {
			return recs, consumed, skipped, nil
		}
		return nil, lo, 0, rerr
	}

	i := -1
	if s.rseg != nil && s.rnext <= lo {
		i = slices.Index(segs, s.rseg)
	}
	if i < 0 {
		s.resetReader()
		i = 0
		for j, seg := range segs {
			if seg.count > 0 && seg.first <= lo {
				i = j
			}
		}
	}
	for ; i < len(segs); i++ {
		seg := segs[i]
		s.mu.Lock()
		size, first, last, count := seg.size, seg.first, seg.last, seg.count
		s.mu.Unlock()
		if count == 0 || last < lo {
			continue
		}
		if first > hi {
			return recs, next, skipped, nil
		}
		if s.rseg != seg {
			s.resetReader()
			f, oerr := s.openRead(filepath.Join(s.dir, seg.name))
			if errors.Is(oerr, fs.ErrNotExist) {
				// Removed behind our back: its records are gone; count
				// them as skipped rather than retrying forever.
				s.mu.Lock()
				s.segs = slices.DeleteFunc(s.segs, func(x *segment) bool { return x == seg })
				s.total -= size
				if s.active == seg {
					s.active = nil
				}
				s.mu.Unlock()
				skipped += min(count, int(min(last, hi)-max(first, lo)+1))
				consumed = min(last, hi) + 1
				continue
			}
			if oerr != nil {
				return failed(oerr)
			}
			s.rf, s.rseg, s.roff, s.rnext, s.rcount = f, seg, int64(len(segMagic)), 0, 0
		}
		br := bufio.NewReaderSize(io.NewSectionReader(s.rf, s.roff, size-s.roff), 64<<10)
		var hdr [frameHdr]byte
		for s.roff < size {
			if _, rerr := io.ReadFull(br, hdr[:]); rerr != nil {
				if !isShort(rerr) {
					return failed(rerr)
				}
				skipped += s.skipRest(lo, hi, size)
				consumed = max(consumed, min(last, hi)+1)
				break
			}
			plen := int64(binary.LittleEndian.Uint32(hdr[:]))
			if plen < seqBytes || s.roff+frameHdr+plen > size {
				// Not what this process wrote and validated: the segment
				// changed behind its back, and nothing after this frame
				// can be found again.
				skipped += s.skipRest(lo, hi, size)
				consumed = max(consumed, min(last, hi)+1)
				break
			}
			if int64(cap(s.payload)) < plen {
				s.payload = make([]byte, plen)
			}
			p := s.payload[:plen]
			if _, rerr := io.ReadFull(br, p); rerr != nil {
				if !isShort(rerr) {
					return failed(rerr)
				}
				skipped += s.skipRest(lo, hi, size)
				consumed = max(consumed, min(last, hi)+1)
				break
			}
			seq := binary.LittleEndian.Uint64(p)
			if seq > hi {
				return recs, next, skipped, nil
			}
			if len(recs) > 0 && seq >= lo && bytes+int(plen) > maxBytes {
				// The batch is full by size; this frame starts the next one.
				return recs, seq, skipped, nil
			}
			s.roff += frameHdr + plen
			s.rnext = seq + 1
			s.rcount++
			if seq < lo {
				continue
			}
			consumed = seq + 1
			if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(hdr[4:]) {
				skipped++
				continue
			}
			_, r, derr := s.dec.decode(p)
			if derr != nil {
				skipped++
				continue
			}
			recs = append(recs, r)
			bytes += int(plen)
			if len(recs) >= limit {
				return recs, seq + 1, skipped, nil
			}
		}
	}
	return recs, next, skipped, nil
}

// isShort reports whether a read error means the file ended early.
func isShort(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// skipRest gives up the frames of the current segment from the reader's
// position on and returns how many of them belong to [lo, hi]: at most the
// segment's frames not read yet, and at most the sequence numbers from the
// reader's position to hi (the ranges the Processor reads are runs of
// consecutive sequence numbers, except the one recovered at start).
func (s *spool) skipRest(lo, hi uint64, size int64) int {
	s.mu.Lock()
	count, first, last := s.rseg.count, s.rseg.first, s.rseg.last
	s.mu.Unlock()
	from := max(lo, first, s.rnext)
	to := min(hi, last)
	n := 0
	if from <= to {
		n = min(count-s.rcount, int(to-from+1))
	}
	s.roff, s.rnext, s.rcount = size, last+1, count
	return max(n, 0)
}

func (s *spool) resetReader() {
	if s.rf != nil {
		_ = s.rf.Close()
	}
	s.rf, s.rseg, s.roff, s.rnext, s.rcount = nil, nil, 0, 0, 0
}

// release deletes the segments whose records are all below low (delivered),
// except the one being appended to, and persists low as the ack mark.
func (s *spool) release(low uint64) error {
	s.mu.Lock()
	var drop []*segment
	keep := s.segs[:0]
	for _, seg := range s.segs {
		if seg != s.active && (seg.count == 0 || seg.last < low) {
			drop = append(drop, seg)
			s.total -= seg.size
			continue
		}
		keep = append(keep, seg)
	}
	clear(s.segs[len(keep):])
	s.segs = keep
	s.mu.Unlock()
	var errs []error
	for _, seg := range drop {
		if seg == s.rseg {
			s.resetReader()
		}
		if err := os.Remove(filepath.Join(s.dir, seg.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := s.writeAck(low); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// stillThere reports whether seg's path still names the file this process
// wrote, at least as long as what it made durable.
func (s *spool) stillThere(seg *segment) bool {
	fi, err := os.Stat(filepath.Join(s.dir, seg.name))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR)
	}
	s.mu.Lock()
	want, size := seg.fi, seg.size
	s.mu.Unlock()
	return (want == nil || os.SameFile(fi, want)) && fi.Size() >= size
}

// gone returns the sequence ranges of the segments (with records) that are
// no longer what this process wrote: deleted, replaced or shortened.
func (s *spool) gone() []seqRange {
	s.mu.Lock()
	segs := slices.Clone(s.segs)
	s.mu.Unlock()
	var out []seqRange
	for _, seg := range segs {
		s.mu.Lock()
		r := seqRange{lo: seg.first, hi: seg.last, count: seg.count}
		s.mu.Unlock()
		if r.count > 0 && !s.stillThere(seg) {
			out = append(out, r)
		}
	}
	return out
}

// closeWriter stops appending; the active segment becomes deletable.
func (s *spool) closeWriter() {
	if s.f != nil {
		_ = s.f.Sync()
		_ = s.f.Close()
		s.f = nil
	}
	s.mu.Lock()
	s.active = nil
	s.mu.Unlock()
}

func (s *spool) close() {
	s.resetReader()
	s.closeLock()
}

// dropReason classifies a spool write error for the dropped counter.
func dropReason(err error) string {
	switch {
	case errors.Is(err, errSpoolFull):
		return "spool_full"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "disk_full"
	case errors.Is(err, syscall.EROFS), errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ENOTDIR):
		return "spool_unwritable"
	default:
		return "spool_error"
	}
}
