package delivery

import (
	"errors"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// Defaults used when the corresponding option is not given.
const (
	DefaultMemoryLimit      = 4096
	DefaultBatchSize        = 512
	DefaultMaxExportBytes   = 2 << 20 // 2 MiB: half the collector's 4 MiB gRPC message limit
	DefaultMaxSpoolBytes    = 1 << 30 // 1 GiB
	DefaultSegmentBytes     = 4 << 20 // 4 MiB
	DefaultEmitTimeout      = 500 * time.Millisecond
	DefaultExportTimeout    = 10 * time.Second
	DefaultBackoffInitial   = 100 * time.Millisecond
	DefaultBackoffMax       = 5 * time.Second
	defaultMaxRecordBytes   = 4 << 20     // a single encoded record larger than this is never spooled
	defaultReopenSpoolAfter = time.Second // retry an unusable spool directory this often
	limiterInterval         = time.Second // at most one report per kind of error this often
)

type config struct {
	dir            string
	memoryLimit    int
	batchSize      int
	maxExportBytes int
	maxSpoolBytes  int64
	segmentBytes   int64
	emitTimeout    time.Duration
	exportTimeout  time.Duration
	backoffInitial time.Duration
	backoffMax     time.Duration
	meterProvider  metric.MeterProvider
	errorHandler   func(error)
	permanent      func(error) bool
	chain          *chainConfig // nil: no hash chain (WithChain)

	// Unexported, for tests: zero means the default.
	reopenAfter time.Duration                       // defaultReopenSpoolAfter
	openRead    func(path string) (readFile, error) // os.Open for reading segments
	syncFile    func(f *os.File) error              // (*os.File).Sync for spool writes
}

func newConfig(opts []Option) (config, error) {
	c := config{
		memoryLimit:    DefaultMemoryLimit,
		batchSize:      DefaultBatchSize,
		maxExportBytes: DefaultMaxExportBytes,
		maxSpoolBytes:  DefaultMaxSpoolBytes,
		segmentBytes:   DefaultSegmentBytes,
		emitTimeout:    DefaultEmitTimeout,
		exportTimeout:  DefaultExportTimeout,
		backoffInitial: DefaultBackoffInitial,
		backoffMax:     DefaultBackoffMax,
		reopenAfter:    defaultReopenSpoolAfter,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	var errs []error
	if c.memoryLimit < 1 {
		errs = append(errs, fmt.Errorf("memory limit %d: must be at least 1", c.memoryLimit))
	}
	if c.maxExportBytes < 1 {
		errs = append(errs, fmt.Errorf("max export bytes %d: must be at least 1", c.maxExportBytes))
	}
	if c.batchSize < 1 {
		errs = append(errs, fmt.Errorf("batch size %d: must be at least 1", c.batchSize))
	}
	if c.maxSpoolBytes < 0 {
		errs = append(errs, fmt.Errorf("max spool bytes %d: must not be negative", c.maxSpoolBytes))
	}
	if c.segmentBytes < 1 {
		errs = append(errs, fmt.Errorf("segment bytes %d: must be positive", c.segmentBytes))
	}
	if c.emitTimeout < 0 {
		errs = append(errs, fmt.Errorf("emit timeout %v: must not be negative", c.emitTimeout))
	}
	if c.exportTimeout <= 0 {
		errs = append(errs, fmt.Errorf("export timeout %v: must be positive", c.exportTimeout))
	}
	if c.backoffInitial <= 0 || c.backoffMax < c.backoffInitial {
		errs = append(errs, fmt.Errorf("retry backoff %v..%v: need 0 < initial <= max", c.backoffInitial, c.backoffMax))
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	if c.errorHandler == nil {
		c.errorHandler = otel.Handle
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("delivery: invalid options: %w", err)
	}
	return c, nil
}

// Option configures a [Processor].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSpoolDir sets the directory of the write-ahead spool. It is created
// (mode 0700) when missing. Without it the Processor keeps records in memory
// only: nothing survives a crash and records beyond the memory limit are
// dropped with reason "no_spool". One directory serves one Processor at a
// time; a second Processor finding it locked runs without a spool.
func WithSpoolDir(dir string) Option {
	return optionFunc(func(c *config) { c.dir = dir })
}

// WithMemoryLimit sets how many records are kept in memory waiting for
// delivery (default [DefaultMemoryLimit]). Records beyond it stay only in the
// spool and are read back from disk when the exporter catches up.
func WithMemoryLimit(records int) Option {
	return optionFunc(func(c *config) { c.memoryLimit = records })
}

// WithBatchSize sets the largest number of records written to the spool with
// one fsync and passed to one Export call (default [DefaultBatchSize]). It
// also bounds the crash loss window: at most two batches.
func WithBatchSize(records int) Option {
	return optionFunc(func(c *config) { c.batchSize = records })
}

// WithMaxExportBytes bounds the encoded size of the records passed to one
// Export call (default [DefaultMaxExportBytes]); a single record larger
// than that is exported alone. When the receiver still answers that a
// request is too large (HTTP 413, gRPC RESOURCE_EXHAUSTED), the Processor
// halves the batch and retries at once; a single record the receiver
// refuses as too large is dropped with reason "too_large" and reported, so
// it never blocks the records behind it.
func WithMaxExportBytes(n int) Option {
	return optionFunc(func(c *config) { c.maxExportBytes = n })
}

// WithMaxSpoolBytes caps the size of the spool's segment files (default
// [DefaultMaxSpoolBytes]). A batch that would exceed the cap is kept in
// memory when there is room, and otherwise dropped with reason "spool_full".
// Zero means no cap.
func WithMaxSpoolBytes(n int64) Option {
	return optionFunc(func(c *config) { c.maxSpoolBytes = n })
}

// WithSegmentBytes sets the size at which the spool starts a new segment file
// (default [DefaultSegmentBytes]). A segment is deleted once every record in
// it is delivered.
func WithSegmentBytes(n int64) Option {
	return optionFunc(func(c *config) { c.segmentBytes = n })
}

// WithEmitTimeout bounds how long OnEmit waits when the spool writer is
// behind by a full batch (default [DefaultEmitTimeout]). After it the record
// is dropped with reason "emit_timeout". Zero means never wait.
func WithEmitTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.emitTimeout = d })
}

// WithExportTimeout bounds one Export call (default [DefaultExportTimeout]).
// A timed-out export is retried, so it may cause a duplicate.
func WithExportTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.exportTimeout = d })
}

// WithRetryBackoff sets the wait after the first failed export and the most
// it grows to by doubling (defaults [DefaultBackoffInitial],
// [DefaultBackoffMax]). Retries never stop because of elapsed time.
func WithRetryBackoff(initial, maxWait time.Duration) Option {
	return optionFunc(func(c *config) {
		c.backoffInitial = initial
		c.backoffMax = maxWait
	})
}

// WithMeterProvider sets the MeterProvider for the otelkit.audit.* counters.
// Without it the global MeterProvider at construction time is used.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meterProvider = mp })
}

// WithErrorHandler sets the function that receives errors that cannot be
// returned (export failures, spool faults, drops). Default: otel.Handle.
func WithErrorHandler(h func(error)) Option {
	return optionFunc(func(c *config) { c.errorHandler = h })
}

// WithPermanentError sets a classifier for export errors that will never
// succeed on retry (for example a 400 from the collector). A batch failing
// with such an error is dropped with reason "rejected" instead of being
// retried. By default every error is retried forever.
func WithPermanentError(f func(error) bool) Option {
	return optionFunc(func(c *config) { c.permanent = f })
}
