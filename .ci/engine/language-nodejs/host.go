package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	runModule        = "@pulumi/pulumi/cmd/run"
	runPolicyModule  = "@pulumi/pulumi/cmd/run-policy-pack"
	runPluginModule  = "@pulumi/pulumi/cmd/run-plugin"
	analyzerKind     = "analyzer"
	sdkMissingAdvice = "It looks like the Pulumi SDK has not been installed. Have you run npm install or yarn install?"

	// cmd/run (and run-policy-pack) exit with this code when every uncaught error was already
	// logged to the engine through log.error. Reporting anything further would print the
	// message, or its stack, a second time, so Run answers Bail instead.
	exitAfterLoggedError = 32
)

// nodeHost implements pulumirpc.LanguageRuntimeServer. Methods not defined here answer
// Unimplemented through the embedded type.
type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	nodeBin string
	tracing string

	mu            sync.Mutex
	engineAddress string
}

func (h *nodeHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *nodeHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.mu.Lock()
		h.engineAddress = req.GetEngineAddress()
		h.mu.Unlock()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins reports nothing: .ci/engine.sh installs the resource plugins sealbench uses
// (and automatic acquisition is off), and the engine loads a default provider on first use of a
// package, so there is nothing to pre-install.
func (h *nodeHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *nodeHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// InstallDependencies does nothing: the project installs its node_modules with `npm ci` itself.
func (h *nodeHost) InstallDependencies(
	*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	return nil
}

func (h *nodeHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	out, err := exec.CommandContext(ctx, h.nodeBin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s --version: %w", h.nodeBin, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: h.nodeBin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

// GetProgramDependencies lists package.json's direct dependencies with the version actually
// installed in node_modules (falling back to the declared range when it is not installed).
func (h *nodeHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, fmt.Errorf("reading package.json: %w", err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return nil, fmt.Errorf("parsing package.json: %w", err)
	}
	declared := map[string]string{}
	for name, v := range pkg.DevDependencies {
		declared[name] = v
	}
	for name, v := range pkg.Dependencies {
		declared[name] = v
	}
	names := make([]string, 0, len(declared))
	for name := range declared {
		names = append(names, name)
	}
	sort.Strings(names)
	deps := make([]*pulumirpc.DependencyInfo, 0, len(names))
	for _, name := range names {
		v := declared[name]
		var installed struct {
			Version string `json:"version"`
		}
		if b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json")); err == nil &&
			json.Unmarshal(b, &installed) == nil && installed.Version != "" {
			v = installed.Version
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: v})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// runtimeOptions are the Pulumi.yaml `runtime.options` this host honours.
type runtimeOptions struct {
	typescript bool     // register ts-node (default true, as upstream)
	tsconfig   string   // alternative tsconfig path, relative to the program directory
	nodeargs   []string // extra arguments for node itself
}

func parseOptions(info *pulumirpc.ProgramInfo) runtimeOptions {
	opts := runtimeOptions{typescript: true}
	m := info.GetOptions().AsMap()
	if v, ok := m["typescript"].(bool); ok {
		opts.typescript = v
	}
	if v, ok := m["tsconfig"].(string); ok {
		opts.tsconfig = v
	}
	if v, ok := m["nodeargs"].(string); ok {
		opts.nodeargs = strings.Fields(v)
	}
	return opts
}

// resolveModule asks node itself where a module lives, as seen from dir, so hoisted or
// parent-directory node_modules (the policy pack has none of its own) resolve exactly as
// they would for the program. On failure only node's first message line is kept, e.g.
// "Cannot find module '@pulumi/pulumi/cmd/run'", not the stack of the resolver script.
const resolveScript = `try { process.stdout.write(require.resolve(process.argv[1])); }
catch (e) { process.stderr.write(String(e && e.message).split("\n")[0]); process.exit(1); }`

func (h *nodeHost) resolveModule(ctx context.Context, dir, module string) (string, error) {
	cmd := exec.CommandContext(ctx, h.nodeBin, "-e", resolveScript, module)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", errors.New(msg)
		}
		return "", fmt.Errorf("resolving %s from %s: %w", module, dir, err)
	}
	return string(out), nil
}

func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir, entry := info.GetProgramDirectory(), info.GetEntryPoint()
	if info == nil { // engines older than ProgramInfo
		programDir, entry = req.GetPwd(), req.GetProgram()
	}
	if entry == "" {
		entry = "." // cmd/run then follows package.json's exports/main
	}
	pwd := req.GetPwd()
	if pwd == "" {
		pwd = programDir
	}
	opts := parseOptions(info)

	runPath, err := h.resolveModule(ctx, programDir, runModule)
	if err != nil {
		return &pulumirpc.RunResponse{Error: sdkMissingAdvice + " (" + err.Error() + ")"}, nil
	}

	// A stack without config must still send "{}": the SDK parses this and fails on "null".
	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, fmt.Errorf("serializing config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing config secret keys: %w", err)
	}

	// cmd/run parses these with minimist; `--k=v` keeps a value that starts with "-" attached.
	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath)
	addFlag := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k+"="+v)
		}
	}
	addFlag("monitor", req.GetMonitorAddress())
	addFlag("engine", h.engine())
	addFlag("organization", req.GetOrganization())
	addFlag("project", req.GetProject())
	addFlag("stack", req.GetStack())
	addFlag("root-directory", info.GetRootDirectory())
	addFlag("pwd", pwd)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		addFlag("parallel", fmt.Sprint(req.GetParallel()))
	}
	addFlag("tracing", h.tracing)
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	logging.V(5).Infof("language-nodejs: running %s %s", h.nodeBin, strings.Join(args, " "))
	// Not bound to ctx: a cancelled update is wound down by the engine through the resource
	// monitor, which lets the SDK finish and report; a SIGKILL here would cut that short.
	cmd := exec.Command(h.nodeBin, args...)
	cmd.Env = env
	// Our stdout/stderr are the engine's pipes for this plugin; sharing the descriptors means
	// nothing node writes is buffered here and lost if it exits abruptly.
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()

	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == exitAfterLoggedError:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() > 0:
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{Error: "Program exited unexpectedly: " + err.Error()}, nil
	default:
		return &pulumirpc.RunResponse{
			Error: "Problem executing program (could not run language executor): " + err.Error(),
		}, nil
	}
}

// RunPlugin runs a plugin written in Node.js: for an analyzer (a policy pack) the engine passes
// the pack's folder as the program directory and its own address in Args, and reads the port
// the pack's gRPC server prints from the stdout we stream back.
func (h *nodeHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	// The engine cancels this context to kill the plugin (Plugin.Kill), so node is bound to it.
	ctx := stream.Context()
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	opts := parseOptions(info)

	var sendMu sync.Mutex // a gRPC stream must not be written from several goroutines at once
	send := func(resp *pulumirpc.RunPluginResponse) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return stream.Send(resp)
	}

	module := runPluginModule
	if req.GetKind() == analyzerKind {
		module = runPolicyModule
	}
	runPath, err := h.resolveModule(ctx, dir, module)
	if err != nil {
		// Forward node's own "Cannot find module '@pulumi/pulumi/cmd/run-policy-pack'": the
		// engine matches that text to tell the user to install the pack's dependencies.
		if err := send(&pulumirpc.RunPluginResponse{
			Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: []byte(err.Error() + "\n")},
		}); err != nil {
			return err
		}
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: 1}})
	}

	// The engine prefixes Args with its logging flags. The Node entry points ignore them, and
	// minimist would read a bare boolean like --logtostderr as taking the next argument (the
	// engine address) as its value, so they are dropped here.
	var pluginArgs []string
	for _, a := range req.GetArgs() {
		if a == "--logtostderr" || a == "--logflow" || strings.HasPrefix(a, "-v=") {
			continue
		}
		pluginArgs = append(pluginArgs, a)
	}

	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath)
	// --pwd makes the entry point chdir into the pack, where its tsconfig.json is looked up.
	args = append(args, "--pwd="+dir)
	if module == runPolicyModule {
		args = append(args, pluginArgs...) // usage: run-policy-pack <engine-address> <program>
		args = append(args, dir)
	} else {
		args = append(args, dir) // usage: run-plugin <program> [args...]
		args = append(args, pluginArgs...)
	}

	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}

	logging.V(5).Infof("language-nodejs: running plugin %s %s", h.nodeBin, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, h.nodeBin, args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", h.nodeBin, err)
	}

	forward := func(r io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse) {
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				// grpc-go forbids modifying a sent message (stats handlers may read it later)
				// and buf is reused, so each message gets its own copy.
				if sendErr := send(wrap(bytes.Clone(buf[:n]))); sendErr != nil {
					logging.V(5).Infof("language-nodejs: forwarding plugin output: %v", sendErr)
				}
			}
			if err != nil {
				return
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		forward(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
			return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
		})
	}()
	go func() {
		defer wg.Done()
		forward(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
			return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
		})
	}()
	// Both pipes must be drained before Wait, which closes them.
	wg.Wait()
	code := int32(0)
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return err
		}
		code = int32(exitErr.ExitCode())
	}
	if ctx.Err() != nil {
		return nil // the engine went away on purpose; nobody is listening
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}
