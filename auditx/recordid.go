package auditx

import (
	"crypto/rand"
	"strconv"
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
	return strconv.AppendUint(dst, recordSeq.Add(1), 16)
}
