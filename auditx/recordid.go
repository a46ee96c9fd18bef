package auditx

import (
	"crypto/rand"
	"sync"
	"sync/atomic"
)

// Record ids are a random per-process prefix and a counter: unique across
// restarts and processes with overwhelming probability, and cheap to make.
var (
	recordPrefix = sync.OnceValue(func() string {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails on supported platforms
		out := make([]byte, 0, 17)
		for _, c := range b {
			out = append(out, hexDigits[c>>4], hexDigits[c&0xf])
		}
		return string(append(out, '-'))
	})
	recordSeq atomic.Uint64
)

// appendRecordID appends a new record id, "<16 hex digits>-<hex counter>".
func appendRecordID(dst []byte) []byte {
	dst = append(dst, recordPrefix()...)
	n := recordSeq.Add(1)
	shift := 60
	for shift > 0 && n>>shift == 0 {
		shift -= 4
	}
	for ; shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[n>>shift&0xf])
	}
	return dst
}
