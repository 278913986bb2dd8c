// Command pulumi-resource-command serves command:local:Command and command:remote:Command with
// the behaviour of pulumi-command 1.2.1, written against the Pulumi SDK's gRPC interface only.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The engine matches this against the version the npm package asks for.
const version = "1.2.1"

const (
	localType  = "command:local:Command"
	remoteType = "command:remote:Command"
)

func main() {
	p := newProvider()
	p.setEngine(engineArg(os.Args[1:]))
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(s, p)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port) // the engine reads the port from our first line of stdout
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "fatal: %v\n", err)
		os.Exit(1)
	}
}

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer

	mu      sync.Mutex
	engine  pulumirpc.EngineClient // nil until we know the engine's address (unit tests)
	engAddr string

	// Cancel (the engine's Ctrl-C) ends every command still running.
	base   context.Context
	cancel context.CancelFunc
}

// engineArg finds the engine's address: the engine passes its logging flags first
// (--logtostderr, -v=N, --tracing URL) and the address last. Read by hand: the SDK's glog
// already owns the flag names, and the address also comes again in Handshake.
func engineArg(args []string) string {
	addr := ""
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--tracing" || a == "-tracing":
			i++
		case !strings.HasPrefix(a, "-"):
			addr = a
		}
	}
	return addr
}

func newProvider() *provider {
	ctx, cancel := context.WithCancel(context.Background())
	return &provider{base: ctx, cancel: cancel}
}

func (p *provider) setEngine(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if addr == "" || addr == p.engAddr {
		return
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), rpcutil.GrpcChannelOptions())
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot reach the engine at %s, command output is not logged: %v\n", addr, err)
		return
	}
	p.engine, p.engAddr = pulumirpc.NewEngineClient(conn), addr
}

// log sends a message to the engine, tied to the resource. Ephemeral messages are status lines,
// which is how upstream streams a command's output; the rest land in the diagnostics.
func (p *provider) log(urn string, sev pulumirpc.LogSeverity, msg string, ephemeral bool) {
	p.mu.Lock()
	eng := p.engine
	p.mu.Unlock()
	if eng == nil {
		return
	}
	// A detached context: the line should reach the engine even while an operation is cancelled.
	_, _ = eng.Log(context.Background(), &pulumirpc.LogRequest{Severity: sev, Message: msg, Urn: urn, Ephemeral: ephemeral})
}

// opContext ends when the request ends or the engine asks us to cancel.
func (p *provider) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(p.base, cancel)
	return ctx, func() { stop(); cancel() }
}

var (
	// Unknowns stay unknown and secrets stay secret in both directions; the engine may send null
	// for a property set to undefined, which means absent here.
	unmarshalOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}
	marshalOpts   = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true}
)

func (p *provider) Handshake(_ context.Context, req *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	p.setEngine(req.GetEngineAddress())
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true}, nil
}

func (p *provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: schemaJSON}, nil
}

func (p *provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *provider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	// SupportsPreview: the engine calls Create/Update during preview too, and we answer with unknowns.
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	p.cancel()
	return &emptypb.Empty{}, nil
}

func typeOf(urn string) (string, error) {
	t := string(resource.URN(urn).Type())
	if t != localType && t != remoteType {
		return "", status.Errorf(codes.InvalidArgument, "unknown resource type %q", t)
	}
	return t, nil
}

func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	typ, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), unmarshalOpts)
	if err != nil {
		return nil, err
	}
	failures := check(typ, news)
	applyDefaults(typ, news)
	inputs, err := plugin.MarshalProperties(news, marshalOpts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	typ, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := plugin.UnmarshalProperties(req.GetOldInputs(), unmarshalOpts)
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 { // an engine or state without old inputs: the outputs hold them too
		if olds, err = plugin.UnmarshalProperties(req.GetOlds(), unmarshalOpts); err != nil {
			return nil, err
		}
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), unmarshalOpts)
	if err != nil {
		return nil, err
	}
	return diff(typ, olds, news, req.GetIgnoreChanges()), nil
}

func (p *provider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	typ, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	inputs, err := plugin.UnmarshalProperties(req.GetProperties(), unmarshalOpts)
	if err != nil {
		return nil, err
	}
	id, err := resource.NewUniqueHex(resource.URN(req.GetUrn()).Name(), 8, 0)
	if err != nil {
		return nil, err
	}
	ctx, done := p.opContext(ctx)
	defer done()
	outs, err := p.apply(ctx, typ, req.GetUrn(), inputs, nil, "create", req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := plugin.MarshalProperties(outs, marshalOpts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (p *provider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	typ, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := plugin.UnmarshalProperties(req.GetOlds(), unmarshalOpts)
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), unmarshalOpts)
	if err != nil {
		return nil, err
	}
	ctx, done := p.opContext(ctx)
	defer done()
	outs, err := p.apply(ctx, typ, req.GetUrn(), news, olds, "update", req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := plugin.MarshalProperties(outs, marshalOpts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *provider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	typ, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	// The last outputs: the inputs of the last create/update plus its stdout and stderr.
	state, err := plugin.UnmarshalProperties(req.GetProperties(), unmarshalOpts)
	if err != nil {
		return nil, err
	}
	s, err := parseSpec(typ, state)
	if err != nil {
		return nil, err
	}
	if s.Delete == nil {
		return &emptypb.Empty{}, nil
	}
	ctx, done := p.opContext(ctx)
	defer done()
	if _, err := p.run(ctx, req.GetUrn(), s, *s.Delete, prevOutput(state)); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// Read (refresh, import) keeps what the state says: a command has nothing to read back.
func (p *provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}
