package grpcx

import (
	"net/http"

	"google.golang.org/grpc/codes"
)

// Code returns the gRPC code of an HTTP status, by the equivalences of
// google.rpc.Code (googleapis/google/rpc/code.proto):
//
//	400 INVALID_ARGUMENT     401 UNAUTHENTICATED     403 PERMISSION_DENIED
//	404 NOT_FOUND            405 UNIMPLEMENTED       408 DEADLINE_EXCEEDED
//	409 ALREADY_EXISTS       410 NOT_FOUND           412 FAILED_PRECONDITION
//	413 OUT_OF_RANGE         416 OUT_OF_RANGE        422 INVALID_ARGUMENT
//	429 RESOURCE_EXHAUSTED   499 CANCELLED           500 INTERNAL
//	501 UNIMPLEMENTED        502 UNAVAILABLE         503 UNAVAILABLE
//	504 DEADLINE_EXCEEDED
//
// Any other 4xx is FAILED_PRECONDITION, any other status INTERNAL; it never
// panics. [WithCode] overrides the code of one definition.
func Code(status int) codes.Code {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound, http.StatusGone:
		return codes.NotFound
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case http.StatusConflict:
		return codes.AlreadyExists
	case http.StatusPreconditionFailed:
		return codes.FailedPrecondition
	case http.StatusRequestEntityTooLarge, http.StatusRequestedRangeNotSatisfiable:
		return codes.OutOfRange
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case 499: // client closed request
		return codes.Canceled
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	if status >= 400 && status < 500 {
		return codes.FailedPrecondition
	}
	return codes.Internal
}
