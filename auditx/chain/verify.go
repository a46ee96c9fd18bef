package chain

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
)

// KeyRecordID is auditx's per-record id: two copies of a record with the
// same id and hash are a repeat of at-least-once delivery, not tampering.
const KeyRecordID = "otelkit.audit.record_id"

// Verifier checks audit records against their chains and checkpoints. Add
// the records in the order they were stored, then call Report. A Verifier
// is not safe for concurrent use.
type Verifier struct {
	keys    map[string]ed25519.PublicKey
	streams map[string]*stream
	order   []string
	byHash  map[string]string // hash -> stream of every record whose hash verifies
	n       int
}

type stream struct {
	id     string
	recs   map[uint64][]*entry // by seq; more than one when conflicting
	maxSeq uint64              // highest seq added so far, in order
	rep    StreamReport
}

type entry struct {
	rec      Record
	where    string
	hash     string // stored otelkit.audit.hash
	recordID string
	valid    bool // stored hash equals the recomputed one
}

// NewVerifier returns a Verifier that accepts checkpoints signed by any of
// keys. Without keys, signed checkpoints are reported with unknown keys.
func NewVerifier(keys ...ed25519.PublicKey) *Verifier {
	v := &Verifier{keys: map[string]ed25519.PublicKey{}, streams: map[string]*stream{}, byHash: map[string]string{}}
	for _, k := range keys {
		v.keys[KeyID(k)] = k
	}
	return v
}

// Add adds one record. where names its place in the source (say
// "audit.jsonl:12") for the report. ordered says whether the source's order
// is the order the records were stored in (a JSONL archive) or not (a query
// result sorted by time); only ordered records are checked for
// reordering. Records without the chain attributes are counted and
// otherwise ignored.
func (v *Verifier) Add(r Record, where string, ordered bool) {
	v.n++
	e := &entry{where: where}
	var sid string
	var seq int64
	var haveSeq bool
	for _, kv := range r.Attributes {
		switch string(kv.Key) {
		case KeyStreamID:
			sid = kv.Value.String()
		case KeySeq:
			seq, haveSeq = intValue(kv.Value)
		case KeyPrevHash:
			r.PrevHash = kv.Value.String()
		case KeyHash:
			e.hash = kv.Value.String()
		case KeyRecordID:
			e.recordID = kv.Value.String()
		}
	}
	if sid == "" || !haveSeq || seq < 1 || e.hash == "" {
		s := v.stream("")
		s.rep.Records++
		return
	}
	r.StreamID, r.Seq = sid, uint64(seq)
	e.valid = r.Hash() == e.hash
	e.rec = r
	s := v.stream(sid)
	if prev := s.recs[r.Seq]; len(prev) > 0 {
		for _, p := range prev {
			if p.hash == e.hash && p.valid && e.valid && p.recordID == e.recordID {
				s.rep.Duplicates++
				return
			}
		}
	}
	s.recs[r.Seq] = append(s.recs[r.Seq], e)
	if e.valid {
		v.byHash[e.hash] = sid
	}
	if ordered && r.Seq < s.maxSeq {
		s.rep.Reordered = append(s.rep.Reordered, Finding{Seq: r.Seq, Where: where,
			What: fmt.Sprintf("seq %d stored after seq %d (reordered or inserted)", r.Seq, s.maxSeq)})
	}
	s.maxSeq = max(s.maxSeq, r.Seq)
}

// intValue reads an int attribute, also from its text (backends that keep
// only text).
func intValue(v attribute.Value) (int64, bool) {
	switch v.Type() {
	case attribute.INT64:
		return v.AsInt64(), true
	case attribute.STRING:
		n, err := strconv.ParseInt(v.AsString(), 10, 64)
		return n, err == nil
	case attribute.FLOAT64:
		return int64(v.AsFloat64()), true
	}
	return 0, false
}

func (v *Verifier) stream(id string) *stream {
	s, ok := v.streams[id]
	if !ok {
		s = &stream{id: id, recs: map[uint64][]*entry{}, rep: StreamReport{StreamID: id}}
		v.streams[id] = s
		v.order = append(v.order, id)
	}
	return s
}

// Finding is one problem found in a stream.
type Finding struct {
	Seq   uint64 `json:"seq"`
	Where string `json:"where,omitempty"`
	What  string `json:"what"`
}

// Range is a run of missing sequence numbers.
type Range struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// StreamReport is what the verifier found in one stream.
type StreamReport struct {
	StreamID   string `json:"stream_id"`
	Records    int    `json:"records"` // distinct records (repeats not counted)
	FirstSeq   uint64 `json:"first_seq"`
	LastSeq    uint64 `json:"last_seq"`
	Duplicates int    `json:"duplicates"` // repeats of at-least-once delivery
	// Tampering.
	Gaps          []Range   `json:"gaps,omitempty"`           // deleted records
	Modified      []Finding `json:"modified,omitempty"`       // hash does not match the content
	Inserted      []Finding `json:"inserted,omitempty"`       // a second record at a seq, or a broken link
	Reordered     []Finding `json:"reordered,omitempty"`      // stored out of sequence order
	Mixed         []Finding `json:"mixed,omitempty"`          // a record of another stream
	BadSignatures []Finding `json:"bad_signatures,omitempty"` // signature or checkpoint content wrong
	UnknownKeys   []Finding `json:"unknown_keys,omitempty"`   // signed with a key not given
	// Sealing.
	Checkpoints    int    `json:"checkpoints"`
	Unsigned       int    `json:"unsigned_checkpoints"`
	LastCheckpoint uint64 `json:"last_checkpoint_seq"`
	Final          bool   `json:"final"`                  // ends with a final checkpoint
	ContinuedBy    string `json:"continued_by,omitempty"` // the stream whose start names this one
	PrevStreamID   string `json:"prev_stream_id,omitempty"`
	// Tail counts records after the last point the stream is sealed at
	// (its last checkpoint, or where a later stream continued from): they
	// may have been cut off after it.
	Tail      int      `json:"tail"`
	Truncated bool     `json:"possibly_truncated"`
	Problems  []string `json:"problems,omitempty"`
}

// Report is the verifier's result.
type Report struct {
	Records   int            `json:"records"`   // records read
	Unchained int            `json:"unchained"` // records without chain attributes
	Streams   []StreamReport `json:"streams"`
	Signed    bool           `json:"signed"` // every checkpoint is signed
	OK        bool           `json:"ok"`     // a whole, valid trail
}

// Report checks every stream. allowOpen accepts streams that end after
// their last checkpoint without a final one (a process still running).
func (v *Verifier) Report(allowOpen bool) *Report {
	rep := &Report{Records: v.n, Signed: true, OK: true}
	// Links between streams first: a start checkpoint names its predecessor.
	starts := map[string]*Checkpoint{} // predecessor id -> start checkpoint
	starter := map[string]string{}
	for _, id := range v.order {
		s := v.streams[id]
		if id == "" {
			continue
		}
		if es := s.recs[1]; len(es) > 0 {
			if cp, ok := checkpointOf(&es[0].rec); ok && cp.Kind == KindStart && cp.PrevStreamID != "" {
				starts[cp.PrevStreamID] = cp
				starter[cp.PrevStreamID] = id
				s.rep.PrevStreamID = cp.PrevStreamID
			}
		}
	}
	for _, id := range v.order {
		s := v.streams[id]
		if id == "" {
			rep.Unchained = s.rep.Records
			continue
		}
		v.check(s, starts[id], starter[id], allowOpen, rep)
		if len(s.rep.Problems) > 0 {
			rep.OK = false
		}
		rep.Streams = append(rep.Streams, s.rep)
	}
	for prev, cp := range starts {
		if _, ok := v.streams[prev]; !ok {
			id := starter[prev]
			for i := range rep.Streams {
				if rep.Streams[i].StreamID == id {
					rep.Streams[i].Problems = append(rep.Streams[i].Problems,
						fmt.Sprintf("the previous stream %s it continues (up to seq %d) is missing", prev, cp.PrevSeq))
					rep.OK = false
				}
			}
		}
	}
	if rep.Unchained > 0 {
		rep.OK = false
	}
	return rep
}

func (v *Verifier) check(s *stream, next *Checkpoint, nextID string, allowOpen bool, rep *Report) {
	r := &s.rep
	seqs := make([]uint64, 0, len(s.recs))
	for q := range s.recs {
		seqs = append(seqs, q)
	}
	slices.Sort(seqs)
	r.FirstSeq, r.LastSeq = seqs[0], seqs[len(seqs)-1]
	if r.FirstSeq > 1 {
		r.Gaps = append(r.Gaps, Range{From: 1, To: r.FirstSeq - 1})
	}
	// good[seq] is the record taken as genuine at seq.
	good := map[uint64]*entry{}
	for i, q := range seqs {
		es := s.recs[q]
		r.Records += len(es)
		if i > 0 && q != seqs[i-1]+1 {
			r.Gaps = append(r.Gaps, Range{From: seqs[i-1] + 1, To: q - 1})
		}
		for _, e := range es {
			if e.valid {
				continue
			}
			if other := v.origin(e, s.id); other != "" {
				r.Mixed = append(r.Mixed, Finding{Seq: q, Where: e.where, What: fmt.Sprintf("record of stream %s relabelled as seq %d of this stream", other, q)})
				continue
			}
			r.Modified = append(r.Modified, Finding{Seq: q, Where: e.where, What: "content does not match its hash (modified)"})
			// A checkpoint whose signature was replaced is named as such too.
			if cp, ok := checkpointOf(&e.rec); ok {
				cp.StreamID = s.id
				if f, bad := v.checkSignature(&e.rec, cp); bad {
					f.Seq, f.Where = q, e.where
					r.BadSignatures = append(r.BadSignatures, f.Finding)
				}
			}
		}
	}
	// Links: the genuine record at seq links to the genuine one before. When
	// several do (a forged record with a well-made link), the one the next
	// record links to is genuine.
	for _, q := range seqs {
		var cands []*entry
		for _, e := range s.recs[q] {
			if !e.valid {
				continue
			}
			p := good[q-1]
			// Without a genuine record before it (deleted, or reported as
			// modified or inserted) the link cannot be checked.
			links := q == 1 && e.rec.PrevHash == "" ||
				q > 1 && (p == nil || e.rec.PrevHash == p.hash)
			if links {
				cands = append(cands, e)
				continue
			}
			r.Inserted = append(r.Inserted, Finding{Seq: q, Where: e.where, What: "does not link to the record before it (inserted or forged)"})
		}
		if len(cands) == 0 {
			continue
		}
		pick := cands[0]
		if len(cands) > 1 {
			for _, c := range cands {
				for _, n := range s.recs[q+1] {
					if n.valid && n.rec.PrevHash == c.hash {
						pick = c
					}
				}
			}
		}
		good[q] = pick
		for _, c := range cands {
			if c != pick {
				r.Inserted = append(r.Inserted, Finding{Seq: q, Where: c.where, What: "a second record at this seq (inserted or forged)"})
			}
		}
	}
	// Checkpoints.
	sealed := uint64(0)
	for _, q := range seqs {
		e := good[q]
		if e == nil {
			continue
		}
		cp, ok := checkpointOf(&e.rec)
		if !ok {
			continue
		}
		cp.StreamID = s.id
		r.Checkpoints++
		covered := good[cp.Seq]
		switch {
		case cp.Seq != q-1 || (cp.Seq > 0 && (covered == nil || covered.hash != cp.Hash)):
			r.BadSignatures = append(r.BadSignatures, Finding{Seq: q, Where: e.where, What: fmt.Sprintf("checkpoint states seq %d hash %.12s which the stream does not have", cp.Seq, cp.Hash)})
			continue
		}
		if attrString(&e.rec, KeyCheckpointSignature) == "" {
			r.Unsigned++
			rep.Signed = false
		}
		if f, bad := v.checkSignature(&e.rec, cp); bad {
			f.Seq, f.Where = q, e.where
			if f.unknown {
				r.UnknownKeys = append(r.UnknownKeys, f.Finding)
			} else {
				r.BadSignatures = append(r.BadSignatures, f.Finding)
			}
			continue
		}
		sealed = q
		r.LastCheckpoint = q
		if cp.Kind == KindFinal {
			if q == r.LastSeq {
				r.Final = true
			} else {
				r.Inserted = append(r.Inserted, Finding{Seq: q, Where: e.where, What: fmt.Sprintf("records up to seq %d follow the final checkpoint", r.LastSeq)})
			}
		}
	}
	// The end of the stream.
	open := !r.Final
	if next != nil {
		r.ContinuedBy = nextID
		open = false
		if e := good[next.PrevSeq]; e == nil || e.hash != next.PrevHash {
			r.Problems = append(r.Problems, fmt.Sprintf("stream %s continues it from seq %d hash %.12s, which this stream does not have (cut off)", nextID, next.PrevSeq, next.PrevHash))
			r.Truncated = true
		} else {
			sealed = max(sealed, next.PrevSeq)
		}
	}
	for _, q := range seqs {
		if q > sealed {
			r.Tail++
		}
	}
	var endProblem string
	switch {
	case open && !allowOpen:
		r.Truncated = true
		endProblem = fmt.Sprintf("no final checkpoint: the stream ends at seq %d, %d records after its last valid checkpoint (seq %d); it may have been cut off", r.LastSeq, r.Tail, sealed)
	case !open && r.Tail > 0 && !allowOpen:
		endProblem = fmt.Sprintf("%d records after seq %d, where stream %s continued from, are sealed by no checkpoint (the process stopped without one)", r.Tail, sealed, nextID)
	}
	for _, g := range r.Gaps {
		r.Problems = append(r.Problems, fmt.Sprintf("records %d-%d missing (deleted)", g.From, g.To))
	}
	for _, list := range [][]Finding{r.Modified, r.Mixed, r.Inserted, r.Reordered, r.BadSignatures, r.UnknownKeys} {
		for _, f := range list {
			p := fmt.Sprintf("seq %d: %s", f.Seq, f.What)
			if f.Where != "" {
				p += " [" + f.Where + "]"
			}
			r.Problems = append(r.Problems, p)
		}
	}
	if endProblem != "" {
		r.Problems = append(r.Problems, endProblem)
	}
}

// origin returns the other stream e belongs to when its hash verifies under
// that stream's id (a record moved between streams), or "".
func (v *Verifier) origin(e *entry, own string) string {
	if other, ok := v.byHash[e.hash]; ok && other != own {
		return other
	}
	for _, id := range v.order {
		if id == "" || id == own {
			continue
		}
		r := e.rec
		r.StreamID = id
		r.Attributes = append([]attribute.KeyValue(nil), r.Attributes...)
		if r.Hash() == e.hash {
			return id
		}
	}
	return ""
}

type sigFinding struct {
	Finding
	unknown bool
}

// checkSignature checks a checkpoint's signature: bad when it does not
// verify, or is missing while keys were given; unknown when its key was
// not given.
func (v *Verifier) checkSignature(r *Record, cp *Checkpoint) (sigFinding, bool) {
	keyID, sig := attrString(r, KeyCheckpointKeyID), attrString(r, KeyCheckpointSignature)
	switch {
	case sig == "":
		if len(v.keys) > 0 {
			return sigFinding{Finding: Finding{What: "checkpoint not signed although keys were given"}}, true
		}
	case v.keys[keyID] == nil:
		return sigFinding{Finding: Finding{What: fmt.Sprintf("signed with unknown key %q", keyID)}, unknown: true}, true
	case !Verify(v.keys[keyID], cp, sig):
		return sigFinding{Finding: Finding{What: fmt.Sprintf("signature does not verify with key %s", keyID)}}, true
	}
	return sigFinding{}, false
}

// checkpointOf reads the checkpoint a record states, if it is one.
func checkpointOf(r *Record) (*Checkpoint, bool) {
	if r.EventName != CheckpointEvent {
		return nil, false
	}
	cp := &Checkpoint{StreamID: r.StreamID}
	for _, kv := range r.Attributes {
		switch string(kv.Key) {
		case KeyCheckpointKind:
			cp.Kind = kv.Value.String()
		case KeyCheckpointSeq:
			n, _ := intValue(kv.Value)
			cp.Seq = uint64(n)
		case KeyCheckpointHash:
			cp.Hash = kv.Value.String()
		case KeyCheckpointPrevStream:
			cp.PrevStreamID = kv.Value.String()
		case KeyCheckpointPrevSeq:
			n, _ := intValue(kv.Value)
			cp.PrevSeq = uint64(n)
		case KeyCheckpointPrevHash:
			cp.PrevHash = kv.Value.String()
		}
	}
	return cp, true
}

func attrString(r *Record, key string) string {
	for _, kv := range r.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}
