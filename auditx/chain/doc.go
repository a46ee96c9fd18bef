// Package chain defines the tamper-evident hash chain of otelkit's audit
// records: the attributes that place a record in its chain, the canonical
// encoding its hash is computed over, and the signed checkpoints that seal
// it. The delivery processor (package auditx/delivery, [github.com/otelkit/otelkit/auditx/delivery.WithChain])
// computes the chain; the command "otelkit audit verify" checks it.
//
// # The chain
//
// Every audit record carries four attributes:
//
//   - otelkit.audit.stream_id: the stream the record belongs to, 32 hex
//     digits, random, new for every process (a process lineage continues
//     through the stream's first record, see Checkpoints);
//   - otelkit.audit.seq: its place in the stream, an int, from 1 with no gap;
//   - otelkit.audit.prev_hash: the hash of record seq-1 ("" for seq 1);
//   - otelkit.audit.hash: SHA-256 of the record's canonical encoding, as 64
//     lowercase hex digits.
//
// Deleting a record leaves a gap in the sequence; editing one changes its
// hash; moving, forging or inserting one breaks the prev_hash link of the
// record after it. Someone able to rewrite the whole chain from some point
// on is stopped by the signed checkpoints.
//
// # Canonical encoding (version 1)
//
// The hash is SHA-256 over the concatenation of, in this order:
//
//	"otelkit.audit.chain/v1\n"
//	str(stream_id) u64(seq) str(prev_hash)
//	str(event_name) i64(time) i64(severity_number) str(severity_text)
//	value(body)
//	str(trace_id) str(span_id)
//	uvarint(n) then n times: str(key) value(v)
//
// where u64 and i64 are 8 bytes big-endian; uvarint is the varint of
// encoding/binary; str(s) is uvarint(len(s)) followed by the bytes of s;
// time is the record's timestamp in Unix nanoseconds (0 when unset);
// trace_id and span_id are lowercase hex, "" when unset. The attributes are
// all of the record's attributes except the four chain attributes above,
// sorted by key (byte order). A value is encoded after the OTLP AnyValue it
// is exported as, so that the hash survives export:
//
//	empty             0x00
//	bool              'b' then 0x00 or 0x01
//	int               'i' then i64
//	double            'd' then u64 of the IEEE 754 bits
//	string            's' then str
//	bytes             'y' then str
//	array (and the    'a' then uvarint(n) and the n values
//	typed slices)
//	key-value list    'm' then uvarint(n) and n times str(key) value(v),
//	                  in the list's order
//
// Resource, scope, observed time, flags and dropped-attribute counts are
// not covered: the collector and a replay after a crash may change them
// without changing what the record says.
//
// # Checkpoints
//
// A checkpoint is a record of the stream itself, with the event name
// [CheckpointEvent] and the attributes otelkit.audit.checkpoint.kind
// ("start", "periodic" or "final"), .seq and .hash (the last record it
// covers: the one before it; a start checkpoint covers nothing, its .seq is
// 0 and it has no .hash, as backends drop empty values), and, when a key is
// configured, .key_id and .signature. A "start" checkpoint is the first record of a stream whose
// process found the state of an earlier stream in its spool directory; it
// names that stream in .prev_stream_id, .prev_seq and .prev_hash: the
// earlier stream's last record that reached the spool (its final
// checkpoint after a clean shutdown; after a crash, the last record
// written before it), so the new stream's signed start seals the earlier
// one's end. A "final" checkpoint is the last
// record of a stream that was shut down cleanly: records after the last
// checkpoint of a stream with neither a final checkpoint nor a successor
// may have been cut off.
//
// The signature is Ed25519 ([crypto/ed25519]) over the statement
//
//	"otelkit.audit.checkpoint/v1\n" stream_id "\n" seq "\n" hash "\n" kind "\n"
//	prev_stream_id "\n" prev_seq "\n" prev_hash "\n"
//
// (numbers in decimal), encoded in standard base64. The key id is the first
// 16 hex digits of SHA-256 over the raw 32-byte public key, so a verifier
// given several public keys picks the right one and keys can be rotated by
// signing with a new one.
//
// # Keys
//
// [LoadSigner] reads a PKCS#8 PEM private key (as written by
// "openssl genpkey -algorithm ed25519"), and [SignerFromEnv] reads it from
// the environment variable OTELKIT_AUDIT_SIGNING_KEY (the PEM text itself)
// or from the file named by OTELKIT_AUDIT_SIGNING_KEY_FILE. Verifiers take
// the PKIX PEM public keys ("openssl pkey -pubout").
package chain
