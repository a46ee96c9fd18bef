package grpcx

import (
	"google.golang.org/grpc/codes"

	"github.com/otelkit/otelkit/internal/rpccode"
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
func Code(status int) codes.Code { return codes.Code(rpccode.ForStatus(status)) }

// CodeName returns the canonical name of code in google.rpc.Code
// ("NOT_FOUND", "CANCELLED"), as rpc.response.status_code and the catalog
// write it.
func CodeName(code codes.Code) string { return rpccode.Name(uint32(code)) }
