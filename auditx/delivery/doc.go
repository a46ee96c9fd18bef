// Package delivery delivers audit records at least once: through graceful
// shutdown, collector outages, exporter back-pressure and process crashes,
// with bounded memory.
//
// [NewProcessor] returns a [Processor], an sdklog.Processor for the audit
// LoggerProvider (otelbridge.Setup routes records of the auditx scope to it).
// The SDK's BatchProcessor drops records when its queue is full and the OTLP
// exporters give up after their retry window; both are right for debug logs
// and wrong for an audit trail. The Processor instead writes every record to
// a write-ahead spool on disk before exporting it, and retries the exporter
// with backoff until it succeeds.
//
// # Guarantee
//
// Every record whose OnEmit has returned, and whose batch has been fsynced to
// the spool, is exported at least once: by this process, or after a crash or
// an incomplete shutdown by the next Processor opened on the same spool
// directory. Records are exported in the order OnEmit accepted them; spooled
// records left by a previous process go before new ones (except when the
// spool directory only became usable after start, see Limits). Retries never
// stop because of elapsed time.
//
// Every record given to OnEmit ends up in exactly one of three states, and
// the counters say which: exported (otelkit.audit.delivered, which also
// counts repeats), given up (otelkit.audit.dropped), or in the spool when
// Shutdown returns ([UndeliveredError].Spooled; the next Processor on the
// directory exports it). Only a crash escapes this accounting, and only for
// the loss window below. (When Shutdown ends with [ErrSpoolStuck], the
// records being written take one of the three states when the disk answers.) A record is given up only for one of these reasons,
// the counter's error.type attribute (see the Reason* constants): the spool
// cannot take it (no spool, unwritable directory, full disk, size cap, frame
// limit) while memory is full too; OnEmit waited longer than the emit
// timeout; OnEmit was called during or after Shutdown; it was in memory only
// (not spooled) and undelivered when Shutdown returned; its bytes in the
// spool are damaged or gone; or a [WithPermanentError] classifier says the
// exporter rejected it for good.
//
// Every record given up is also reported through the error handler, as a
// [*DroppedError] carrying the count and the reason. Reports are rate
// limited to one per reason and second; one report then carries the counts
// of the reports it held back. Held-back counts are reported by the spool
// writer about a second later even if nothing else happens (later while the
// writer waits on a disk that does not answer), all of them when Shutdown
// returns, and from then on every drop at once. So once Shutdown has
// returned, the Counts of the DroppedErrors the handler received add up to
// otelkit.audit.dropped; before it, they lag the counter by at most about a
// second of drops.
//
// # Loss window
//
// Between OnEmit returning and the fsync of its batch a record exists only in
// memory. At any moment that is at most two batches (2×[WithBatchSize],
// default 1024 records): the batch being written and the one filling up.
// There is no batching timer: the writer starts the next batch as soon as the previous
// fsync returns, so a record is durable after at most two writes with fsync
// (each about 3 ms for a 64 KiB batch on the machine the tests ran on). When
// the writer is a full batch behind, OnEmit waits up to the emit timeout
// instead of growing the window. A kill -9 loses at most this window; records
// in the spool survive it. While the spool is unusable the window grows to
// the records held in memory only (at most the memory limit) and the error
// handler says so; the directory is tried again every second.
//
// # Duplicates
//
// A record can be exported more than once only when (1) an Export call that
// contained it failed or timed out although the receiver had stored it,
// (2) the process died after the receiver accepted a batch and before the
// "ack" mark was updated (at most the one export batch in flight: up to
// [WithBatchSize] records, not one record), or (3) the ack
// mark was lost (it is not fsynced: after a power failure an older mark
// replays more). Every audit carries a unique otelkit.audit.record_id, so a backend
// can drop the repeats.
//
// # Write-ahead first
//
// The alternative, memory first (spool only what overflows the memory limit),
// writes nothing to disk while the collector keeps up, but a crash loses all
// records in memory: during an outage up to the memory limit, minutes of
// audits. Writing ahead costs one write and fsync per batch even when all is
// well, and bounds the crash loss to two batches. The Processor writes ahead;
// the memory limit only decides how many records are also kept in memory for
// export, and the rest are read back from the spool when the exporter catches
// up.
//
// # Memory
//
// At most [WithMemoryLimit] records wait in memory, plus one batch filling
// up, one being written and one read back from the spool for export: at most
// MemoryLimit + 3×BatchSize records in all, whatever the outage's length.
//
// # Spool format
//
// The spool directory holds segment files named after the sequence number of
// their first record (%020d.wal), an "ack" file and, after damage,
// "*.corrupt" files. The Processor holds a flock on the directory itself
// (not on a file in it, which a tmp cleaner could delete): one Processor
// per directory; a second one runs without a spool and says so. Segments
// are created exclusively, never truncated. An ack mark beyond every record
// in the spool is ignored and reported ([ErrCorruptSpool]): the records are
// delivered again rather than lost. A segment starts with the 8 bytes
// "OTKAUD1\n", followed by frames:
//
//	uint32 little endian  payload length n
//	uint32 little endian  CRC-32C (Castagnoli) of the payload
//	n bytes               payload: uint64 little-endian sequence number,
//	                      then an OTLP ResourceLogs protobuf holding one
//	                      ScopeLogs with one LogRecord
//
// The payload is what the OTLP exporters send, so body, severity, event name,
// attributes, trace and span ids, flags, timestamps, scope and resource
// survive a replay as the exporter would have seen them. The ack file holds
// the lowest undelivered sequence number (uint64 LE + CRC-32C). A segment
// starts when the previous one reaches [WithSegmentBytes] and is deleted once
// all its records are delivered. Each batch is appended with one write and
// one fsync; the directory is fsynced when a segment is created.
//
// On start every segment is checked. A torn tail (a crash in the middle of a
// write) or a corrupt region (bad CRC, bad length, damaged header) is cut
// out: the valid frames, including those after the damage, found by
// resynchronising on the next frame whose length, sequence number and CRC
// agree, are kept in a rewritten segment; the original is renamed to
// "<segment>.corrupt" and the damage is reported with [ErrCorruptSpool].
// Start-up never fails because of the spool's content.
//
// # Limits
//
//   - The spool cap ([WithMaxSpoolBytes], default 1 GiB) counts segment files,
//     not *.corrupt files, which are left for an operator.
//   - A directory that cannot be used at start (missing permissions,
//     read-only filesystem, a path under a file, locked by another process)
//     is tried again every second by the spool writer. Until then records
//     are kept in memory only; once it opens, records accepted from then on
//     are spooled, those accepted before stay in memory only, and records a
//     previous process left there (say, the one that held the lock) are
//     exported next, after the ones already exported from memory. A spool
//     that opened stays in use: later write errors are handled per batch.
//   - An I/O error while reading a spooled record back gives nothing up: it
//     is reported and the read is retried with backoff from the same record.
//     A disk that keeps failing therefore stalls delivery (reported each
//     second) until it answers or the Processor restarts. A segment deleted
//     or shortened behind the Processor's back (bytes it had fsynced are
//     gone) costs the records in the missing bytes, dropped with reason
//     "corrupt"; delivery goes on with the next segment. Each append checks
//     that its segment is still the file it wrote, and Shutdown checks every
//     segment holding undelivered records: records in a segment deleted or
//     replaced (say, the whole directory removed while the collector was
//     down) are not reported as safe in the spool but as lost and dropped
//     ([ErrSpoolGone]; reason "corrupt" for those only on disk, "shutdown"
//     for those still in memory).
//   - Shutdown returns at most 200 ms after its context ends even when a
//     spool write or fsync does not return; its error then wraps
//     [ErrSpoolStuck] and counts the records being written as not spooled.
//     The goroutine stuck on the disk finishes when the disk answers (the
//     records are then in the spool, or given up and reported) and closes
//     the spool; it is the only thing that can run after Shutdown returns.
//   - Export errors cannot be told apart from outside the OTLP exporters, so
//     all are retried; a batch the collector always rejects (HTTP 400) blocks
//     delivery until [WithPermanentError] classifies it.
//   - A replayed record's resource is the spooled one merged with
//     OTEL_RESOURCE_ATTRIBUTES of the replaying process (the SDK merges the
//     environment into every resource); spooled values win. The count of
//     attributes dropped by SDK limits is not replayed.
//
// # Exporter
//
// Give the Processor an exporter that does not retry on its own, so that
// failures reach the Processor at once and its backoff and shutdown deadline
// rule: for the OTLP/HTTP exporter,
// otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}) and a
// timeout such as otlploghttp.WithTimeout(10*time.Second). The Processor owns
// the exporter and shuts it down.
//
// # Metrics
//
// Counters (unit {record}, meter [ScopeName]): otelkit.audit.emitted
// (records given to OnEmit), otelkit.audit.spooled (written and fsynced),
// otelkit.audit.delivered (accepted by the exporter, including replays) and
// otelkit.audit.dropped (given up, attribute error.type = the reason).
package delivery
