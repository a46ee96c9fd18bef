//go:build !linux

package delivery

import "time"

// threadCPU is not measured outside Linux.
func threadCPU() (time.Duration, bool) { return 0, false }

// processCPU is not measured outside Linux.
func processCPU() (time.Duration, bool) { return 0, false }

// threadFaults is not measured outside Linux.
func threadFaults() (int64, bool) { return 0, false }
