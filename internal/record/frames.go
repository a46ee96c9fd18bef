package record

import (
	"sync/atomic"

	"github.com/otelkit/otelkit/internal/stacktext"
)

// Frames bounds the exception.stacktrace of exception records (span events
// and log records). Its zero value, FramesDefault, follows the process
// default ([SetDefaultFrames], set by otelbridge.Setup's option), which is
// every frame captured unless set. The stack is still taken whole for the
// fingerprint of an unregistered error, so bounding it does not regroup
// failures.
type Frames int32

// Frames values besides a positive count.
const (
	// FramesDefault follows the process default.
	FramesDefault Frames = 0
	// FramesNone writes no stack trace.
	FramesNone Frames = -1
	// FramesAll writes every frame captured.
	FramesAll Frames = -2
)

// FramesOf converts the frame count of a public option: n < 0 every frame,
// 0 none, n > 0 at most n.
func FramesOf(n int) Frames {
	switch {
	case n < 0:
		return FramesAll
	case n == 0:
		return FramesNone
	case n > 1<<30:
		return FramesAll // more than any stack has
	}
	return Frames(n)
}

var defaultFrames atomic.Int32

// SetDefaultFrames sets the process default; FramesDefault puts back
// every frame.
func SetDefaultFrames(f Frames) { defaultFrames.Store(int32(f)) }

// Resolve returns f, or the process default when f is FramesDefault.
func (f Frames) Resolve() Frames {
	if f == FramesDefault {
		if f = Frames(defaultFrames.Load()); f == FramesDefault {
			return FramesAll
		}
	}
	return f
}

// limit returns f as a stacktext.Limit.
func (f Frames) limit() stacktext.Limit {
	switch f = f.Resolve(); f {
	case FramesAll:
		return stacktext.All
	case FramesNone:
		return 0
	}
	return stacktext.Limit(f)
}

// stackText returns the stack trace f's records carry: f.Stack bounded by
// f.Frames.
func (f *Failure) stackText() string {
	if f.Stack == "" {
		return ""
	}
	return stacktext.Truncate(f.Stack, f.Frames.limit())
}
