// Command pulumi-language-nodejs is sealbench's own thin Node.js language host for the Pulumi
// engine. The upstream host is not obtainable here, so this one does only what a TypeScript
// program and a Node.js policy pack need. The real work stays in the npm package: Run launches
// `node @pulumi/pulumi/cmd/run` (which registers ts-node and compiles the program) and RunPlugin
// launches `node @pulumi/pulumi/cmd/run-policy-pack`, both resolved from the program's own
// node_modules, so compile and error-reporting behaviour is the SDK's.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// version is what GetPluginInfo reports: the SDK and CLI this host is built against.
const version = "3.248.0"

func main() {
	// The engine prepends its logging and tracing flags (plugin.buildPluginArguments) and puts
	// its gRPC address last as a positional argument. An unknown flag would make flag.Parse
	// exit, so every flag the engine may pass is accepted. glog, linked in through the SDK,
	// already registers -logtostderr and -v on the default flag set, and logging.InitLogging
	// reads them from there.
	tracing := flag.String("tracing", "", "emit tracing to a Zipkin-compatible endpoint")
	root := flag.String("root", "", "project root (informational)")
	logFlow := flag.Bool("logflow", false, "flow logging settings to child processes")
	if flag.Lookup("logtostderr") == nil {
		flag.Bool("logtostderr", false, "log to stderr")
	}
	if flag.Lookup("v") == nil {
		flag.Int("v", 0, "log verbosity")
	}
	// Accepted for compatibility with the upstream host's command line; Pulumi.yaml's
	// runtime option `typescript` is what this host reads.
	flag.Bool("typescript", true, "deprecated: use the runtime option 'typescript'")
	flag.Parse()

	logging.InitLogging(false, 0, *logFlow)
	cmdutil.InitTracing("pulumi-language-nodejs", "pulumi-language-nodejs", *tracing)
	defer cmdutil.CloseTracing()

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not find node on the $PATH: %w", err))
	}

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}
	logging.V(5).Infof("language-nodejs: engine=%q root=%q node=%q", engineAddress, *root, nodeBin)

	host := &nodeHost{nodeBin: nodeBin, engineAddress: engineAddress, tracing: *tracing}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}

	// The engine reads exactly one line from our stdout: the port to dial.
	fmt.Fprintf(os.Stdout, "%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}
