// Package rpccode holds the HTTP status → google.rpc.Code table without
// importing grpc, so that the catalog lists each id's gRPC code and a
// service that only speaks HTTP does not link grpc. grpcx.Code is its
// public face.
package rpccode

import "net/http"

// Codes of google.rpc.Code (googleapis/google/rpc/code.proto).
const (
	OK                 = 0
	Canceled           = 1
	Unknown            = 2
	InvalidArgument    = 3
	DeadlineExceeded   = 4
	NotFound           = 5
	AlreadyExists      = 6
	PermissionDenied   = 7
	ResourceExhausted  = 8
	FailedPrecondition = 9
	Aborted            = 10
	OutOfRange         = 11
	Unimplemented      = 12
	Internal           = 13
	Unavailable        = 14
	DataLoss           = 15
	Unauthenticated    = 16
)

var names = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
}

// Name returns the canonical name of code ("NOT_FOUND"), or "CODE(n)".
func Name(code uint32) string {
	if int(code) < len(names) {
		return names[code]
	}
	return "CODE(" + itoa(code) + ")"
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b [10]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// ForStatus returns the code of an HTTP status; see grpcx.Code for the table.
func ForStatus(status int) uint32 {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return InvalidArgument
	case http.StatusUnauthorized:
		return Unauthenticated
	case http.StatusForbidden:
		return PermissionDenied
	case http.StatusNotFound, http.StatusGone:
		return NotFound
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return Unimplemented
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return DeadlineExceeded
	case http.StatusConflict:
		return AlreadyExists
	case http.StatusPreconditionFailed:
		return FailedPrecondition
	case http.StatusRequestEntityTooLarge, http.StatusRequestedRangeNotSatisfiable:
		return OutOfRange
	case http.StatusTooManyRequests:
		return ResourceExhausted
	case 499: // client closed request
		return Canceled
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return Unavailable
	}
	if status >= 400 && status < 500 {
		return FailedPrecondition
	}
	return Internal
}
