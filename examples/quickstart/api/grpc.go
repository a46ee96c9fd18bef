package api

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/grpcx"
)

// The service's gRPC face: the same operations as the HTTP routes, from the
// same functions and the same registered errors, so that one definition
// gives the problem body over HTTP and the status (code, message,
// google.rpc.ErrorInfo and the other details) over gRPC. Requests and
// responses are protobuf's well-known types, so the service needs no code
// generation; a real service would register its generated descriptor the
// same way.
//
//	GetUser    StringValue(id)          -> Struct{id, name}   GET /users/{id}
//	CreateUser Struct{name, email}      -> Struct{name, email} POST /users
//	Login      Struct{user, password}   -> Empty               POST /login
//	GetOrder   StringValue(id)          -> Empty               GET /orders/{id}
//	Panic      Empty                    -> Empty               GET /panic
//	Abort      Empty                    -> Empty               GET /abort
const GRPCService = "quickstart.v1.Users"

// GRPCMethod returns the full method name of one of the service's methods
// ("/quickstart.v1.Users/GetUser"), as clients invoke it.
func GRPCMethod(name string) string { return "/" + GRPCService + "/" + name }

// Users holds the service's RPC operations on protobuf's well-known
// types. RegisterGRPC serves them with grpc-go; any other RPC transport
// (a connect-go handler per method, as examples/quickstart-connect does)
// serves the same methods, errors and definitions.
type Users struct{}

// GetUser is GET /users/{id}: the id as text, the user as {id, name}.
func (Users) GetUser(ctx context.Context, req *wrapperspb.StringValue) (*structpb.Struct, error) {
	id, name, err := viewUser(ctx, req.GetValue())
	if err != nil {
		return nil, err
	}
	return structpb.NewStruct(map[string]any{"id": id, "name": name})
}

// CreateUser is POST /users: {name, email}, answered as given.
func (Users) CreateUser(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error) {
	u := newUser{Name: req.GetFields()["name"].GetStringValue(), Email: req.GetFields()["email"].GetStringValue()}
	if err := addUser(ctx, u); err != nil {
		return nil, err
	}
	return req, nil
}

// Login is POST /login: {user, password}; it always fails (rate limited).
func (Users) Login(ctx context.Context, req *structpb.Struct) (*emptypb.Empty, error) {
	c := credentials{User: req.GetFields()["user"].GetStringValue(), Password: req.GetFields()["password"].GetStringValue()}
	return empty(logIn(ctx, c))
}

// GetOrder is GET /orders/{id}: a 5xx wrapping a cause.
func (Users) GetOrder(context.Context, *wrapperspb.StringValue) (*emptypb.Empty, error) {
	return empty(loadOrder())
}

// Panic is GET /panic.
func (Users) Panic(context.Context, *emptypb.Empty) (*emptypb.Empty, error) { return empty(crash()) }

// Abort is GET /abort: httpx.ErrorByID.
func (Users) Abort(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return empty(abortByID())
}

// RegisterGRPC registers the service on s. Serve it with
// [GRPCServerOptions] (and otelgrpc's stats handler) so that its errors
// answer their definitions.
func RegisterGRPC(s grpc.ServiceRegistrar) {
	var u Users
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: GRPCService,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unary("GetUser", u.GetUser),
			unary("CreateUser", u.CreateUser),
			unary("Login", u.Login),
			unary("GetOrder", u.GetOrder),
			unary("Panic", u.Panic),
			unary("Abort", u.Abort),
		},
	}, nil)
}

// GRPCServerOptions are grpcx's interceptors as the service configures
// them: the default registry (the admin group is HTTP only), the user from
// the x-user metadata (as X-User over HTTP), and the service's name as the
// ErrorInfo domain.
func GRPCServerOptions() []grpc.ServerOption {
	opts := []grpcx.Option{grpcx.WithUser(userFromMetadata), grpcx.WithDomain("quickstart")}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(grpcx.UnaryServerInterceptor(opts...)),
		grpc.ChainStreamInterceptor(grpcx.StreamServerInterceptor(opts...)),
	}
}

// userFromMetadata stands in for real authentication, as userFromHeader.
func userFromMetadata(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("x-user"); len(v) > 0 {
		return v[0]
	}
	return ""
}

// empty answers Empty, or err.
func empty(err error) (*emptypb.Empty, error) {
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// unary describes one unary method whose request is a Req.
func unary[Req any, PReq interface {
	*Req
	proto.Message
}, Res proto.Message](name string, fn func(context.Context, PReq) (Res, error)) grpc.MethodDesc {
	full := GRPCMethod(name)
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			req := PReq(new(Req))
			if err := dec(req); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, r any) (any, error) { return fn(ctx, r.(PReq)) }
			if ic == nil {
				return call(ctx, req)
			}
			return ic(ctx, req, &grpc.UnaryServerInfo{FullMethod: full}, call)
		},
	}
}
