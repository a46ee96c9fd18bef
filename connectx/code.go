package connectx

import (
	"connectrpc.com/connect"

	"github.com/otelkit/otelkit/internal/rpccode"
)

// Code returns the Connect code of an HTTP status, by the table of
// grpcx.Code (Connect's codes are gRPC's): 400 INVALID_ARGUMENT, 401
// UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 409
// ALREADY_EXISTS, 412 FAILED_PRECONDITION, 429 RESOURCE_EXHAUSTED, 499
// CANCELLED, 500 INTERNAL, 501 UNIMPLEMENTED, 503 UNAVAILABLE, 504
// DEADLINE_EXCEEDED and the others listed there. Any other 4xx is
// FAILED_PRECONDITION, any other status INTERNAL; it never panics.
// [WithCode] overrides the code of one definition.
func Code(status int) connect.Code { return connect.Code(rpccode.ForStatus(status)) }

// CodeName returns the canonical name of code in google.rpc.Code
// ("NOT_FOUND", "CANCELLED"), as rpc.response.status_code, error.type and
// the catalog write it (connect.Code.String gives "not_found").
func CodeName(code connect.Code) string { return rpccode.Name(uint32(code)) }
