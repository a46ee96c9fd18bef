package delivery

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestItem3TooLarge: the export errors that mean "request too large".
func TestItem3TooLarge(t *testing.T) {
	for _, tt := range []struct {
		name        string
		err         error
		large, sure bool
	}{
		{"http 413", errors.New("failed to send logs to http://x/v1/logs: 413 Request Entity Too Large (body: too big)"), true, true},
		{"exporter's own limit", errors.New("request body too large: exceeded 10 bytes"), true, true},
		{"grpc message too large", fmt.Errorf("export: %w", status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5000000 vs. 4194304)")), true, true},
		{"grpc throttled", status.Error(codes.ResourceExhausted, "slow down"), true, false},
		{"503", errors.New("failed to send logs: 503 Service Unavailable"), false, false},
		{"nil", nil, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			large, sure := tooLarge(tt.err)
			assert.Equal(t, tt.large, large)
			assert.Equal(t, tt.sure, sure)
		})
	}
}
