package auditx

import (
	"crypto/rand"
	"math/bits"
	"slices"
	"sync/atomic"
)

// Record ids are a random per-process prefix and a counter: unique across
// restarts and processes with overwhelming probability, and cheap to make.
var (
	recordPrefix = newRecordPrefix()
	recordSeq    atomic.Uint64
)

// newRecordPrefix returns 16 random hex digits and '-'.
func newRecordPrefix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	out := make([]byte, 0, 17)
	for _, c := range b {
		out = append(out, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(append(out, '-'))
}

// appendRecordID appends a new record id, "<16 hex digits>-<hex counter>"
// (the counter without leading zeros, as strconv.FormatUint(n, 16)).
func appendRecordID(dst []byte) []byte {
	return appendHex(append(dst, recordPrefix...), recordSeq.Add(1))
}

// appendHex appends n in lower-case hex without leading zeros, as
// strconv.AppendUint(dst, n, 16) does, more cheaply.
func appendHex(dst []byte, n uint64) []byte {
	digits := max(1, (bits.Len64(n)+3)/4)
	dst = slices.Grow(dst, digits)
	end := len(dst) + digits
	dst = dst[:end]
	for i := end - 1; i >= end-digits; i-- {
		dst[i] = hexDigits[n&0xf]
		n >>= 4
	}
	return dst
}
