package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/connectx"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/examples/quickstart/api"
)

// protocols are connect-go's three protocols, as client options.
var protocols = []struct {
	name string
	opt  connect.ClientOption
}{
	{"connect", connect.WithClientOptions()},
	{"grpc", connect.WithGRPC()},
	{"grpcweb", connect.WithGRPCWeb()},
}

// runDemo calls each error of the quickstart over the three protocols and
// prints the code, the message and the details the client got, and the
// definition connectx's client interceptor turns them back into.
func runDemo(ctx context.Context, base string, out io.Writer) error {
	// Unencrypted HTTP/2 with prior knowledge, as the server speaks it.
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer tr.CloseIdleConnections()
	user, _ := structpb.NewStruct(map[string]any{"name": "", "email": "nope"})
	calls := []struct {
		note string
		call func(ctx context.Context, p connect.ClientOption) error
	}{
		{`GetUser("0"): sql.ErrNoRows, mapped with errorsx.Map`, unary(hc, base, "GetUser", wrapperspb.String("0"), new(structpb.Struct))},
		{`GetUser("abc"): an occurrence with a public detail`, unary(hc, base, "GetUser", wrapperspb.String("abc"), new(structpb.Struct))},
		{`CreateUser({name: "", email: "nope"}): a joined validation error`, unary(hc, base, "CreateUser", user, new(structpb.Struct))},
		{`GetOrder("7"): a 5xx, the cause stays in telemetry`, unary(hc, base, "GetOrder", wrapperspb.String("7"), new(emptypb.Empty))},
		{`Panic: a recovered panic`, unary(hc, base, "Panic", &emptypb.Empty{}, new(emptypb.Empty))},
		{`Abort: httpx.ErrorByID`, unary(hc, base, "Abort", &emptypb.Empty{}, new(emptypb.Empty))},
	}
	for _, c := range calls {
		fmt.Fprintf(out, "▶ %s\n", c.note)
		for _, p := range protocols {
			err := c.call(ctx, p.opt)
			var ce *connect.Error
			if !errors.As(err, &ce) {
				return fmt.Errorf("%s over %s: %v, want a *connect.Error", c.note, p.name, err)
			}
			fmt.Fprintf(out, "  %-8s %s %q\n", p.name, connectx.CodeName(ce.Code()), ce.Message())
			for _, d := range ce.Details() {
				v, err := d.Value()
				if err != nil {
					return err
				}
				printDetail(out, v)
			}
			fmt.Fprintf(out, "           the client resolves it to %s (connectx.FromError; errors.Is holds)\n", errorsx.Resolve(err).ID())
		}
		fmt.Fprintln(out)
	}
	return nil
}

// unary returns a call of method with req over a given protocol, through
// connectx's client interceptor.
func unary[Req, Res any](hc *http.Client, base, method string, req *Req, _ *Res) func(context.Context, connect.ClientOption) error {
	return func(ctx context.Context, p connect.ClientOption) error {
		c := connect.NewClient[Req, Res](hc, base+api.GRPCMethod(method), p,
			connect.WithInterceptors(connectx.NewInterceptor()))
		_, err := c.CallUnary(ctx, connect.NewRequest(req))
		return err
	}
}

func printDetail(out io.Writer, v any) {
	switch d := v.(type) {
	case *errdetails.ErrorInfo:
		fmt.Fprintf(out, "           ErrorInfo reason=%s domain=%s", d.GetReason(), d.GetDomain())
		keys := make([]string, 0, len(d.GetMetadata()))
		for k := range d.GetMetadata() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(out, " metadata.%s=%q", k, d.GetMetadata()[k])
		}
		fmt.Fprintln(out)
	case *errdetails.BadRequest:
		for _, fv := range d.GetFieldViolations() {
			fmt.Fprintf(out, "           BadRequest field=%s reason=%s %q\n", fv.GetField(), fv.GetReason(), fv.GetDescription())
		}
	default:
		fmt.Fprintf(out, "           %T\n", d)
	}
}
