package main

// The language host's own tests, run by .ci/engine.sh before a build is kept. Each runs the
// real node against a program folder made here whose node_modules holds stand-ins for the
// SDK's entry points (@pulumi/pulumi/cmd/run, cmd/run-policy-pack): they record the argv and
// environment node was given and exit as told, so what this host passes and how it reads the
// exit is checked, not what the SDK does with it.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// recorder is the stand-in entry point: writes {argv, env} to $RECORD, prints a line to each
// stream, and exits with $EXIT_CODE.
const recorder = `const fs = require("fs");
const env = {};
for (const k of ["PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS", "PULUMI_NODEJS_TYPESCRIPT", "PULUMI_NODEJS_TSCONFIG_PATH"]) if (k in process.env) env[k] = process.env[k];
fs.writeFileSync(process.env.RECORD, JSON.stringify({ argv: process.argv.slice(2), execArgv: process.execArgv, env, cwd: process.cwd() }));
process.stdout.write("out-line\n");
process.stderr.write("err-line\n");
process.exit(Number(process.env.EXIT_CODE || 0));
`

type record struct {
	Argv     []string          `json:"argv"`
	ExecArgv []string          `json:"execArgv"`
	Env      map[string]string `json:"env"`
	Cwd      string            `json:"cwd"`
}

// program makes a program folder with the stand-in SDK (version 3.248.0) and package.json.
func program(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sdk := filepath.Join(dir, "node_modules", "@pulumi", "pulumi")
	for _, entry := range []string{"run", "run-policy-pack", "run-plugin"} {
		if err := os.MkdirAll(filepath.Join(sdk, "cmd", entry), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sdk, "cmd", entry, "index.js"), []byte(recorder), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(sdk, "package.json"), `{"name": "@pulumi/pulumi", "version": "3.248.0"}`)
	write(t, filepath.Join(dir, "package.json"), `{"name": "p", "dependencies": {"@pulumi/pulumi": "^3.200.0", "absent": "^1.0.0"}, "devDependencies": {"typescript": "~5.9.3"}}`)
	return dir
}

func write(t *testing.T, file, text string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newHost(t *testing.T) *nodeHost {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the language host runs node, and there is none on PATH: %v", err)
	}
	return &nodeHost{nodeBin: node}
}

func readRecord(t *testing.T, file string) record {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("node did not run the entry point: %v", err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func options(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunPassesTheEngineContract(t *testing.T) {
	dir := program(t)
	rec := filepath.Join(t.TempDir(), "record.json")
	t.Setenv("RECORD", rec)
	t.Setenv("EXIT_CODE", "0")
	h := newHost(t)
	if _, err := h.Handshake(context.Background(), &pulumirpc.LanguageHandshakeRequest{EngineAddress: "127.0.0.1:1234"}); err != nil {
		t.Fatal(err)
	}
	resp, err := h.Run(context.Background(), &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:5678", Project: "sealbench", Stack: "dev", Organization: "organization",
		Config:           map[string]string{"sealbench:hosts": "[]", "sealbench:sshPrivateKey": "-----BEGIN"},
		ConfigSecretKeys: []string{"sealbench:sshPrivateKey"},
		DryRun:           true, Parallel: 4,
		Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir, RootDirectory: dir, EntryPoint: ".", Options: options(t, map[string]any{"nodeargs": "--max-old-space-size=4096"})},
	})
	if err != nil || resp.GetError() != "" || resp.GetBail() {
		t.Fatalf("run: %v %v", err, resp)
	}
	r := readRecord(t, rec)
	want := []string{
		"--monitor=127.0.0.1:5678", "--engine=127.0.0.1:1234", "--organization=organization", "--project=sealbench", "--stack=dev",
		"--root-directory=" + dir, "--pwd=" + dir, "--dry-run", "--parallel=4", ".",
	}
	if !reflect.DeepEqual(r.Argv, want) {
		t.Errorf("argv:\n got %q\nwant %q", r.Argv, want)
	}
	// Pulumi.yaml's runtime.options.nodeargs go to node itself, before the entry point.
	if !reflect.DeepEqual(r.ExecArgv, []string{"--max-old-space-size=4096"}) {
		t.Errorf("node's own arguments: %q", r.ExecArgv)
	}
	var cfg map[string]string
	if err := json.Unmarshal([]byte(r.Env["PULUMI_CONFIG"]), &cfg); err != nil || cfg["sealbench:hosts"] != "[]" {
		t.Errorf("PULUMI_CONFIG: %q (%v)", r.Env["PULUMI_CONFIG"], err)
	}
	if r.Env["PULUMI_CONFIG_SECRET_KEYS"] != `["sealbench:sshPrivateKey"]` || r.Env["PULUMI_NODEJS_TYPESCRIPT"] != "true" {
		t.Errorf("env: %v", r.Env)
	}
}

func TestRunWithoutConfigSendsEmptyObjects(t *testing.T) {
	dir := program(t)
	rec := filepath.Join(t.TempDir(), "record.json")
	t.Setenv("RECORD", rec)
	t.Setenv("EXIT_CODE", "0")
	resp, err := newHost(t).Run(context.Background(), &pulumirpc.RunRequest{
		Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir, EntryPoint: "index.ts", Options: options(t, map[string]any{"typescript": false, "tsconfig": "tsconfig.pulumi.json"})},
	})
	if err != nil || resp.GetError() != "" {
		t.Fatalf("run: %v %v", err, resp)
	}
	r := readRecord(t, rec)
	// The SDK parses PULUMI_CONFIG and fails on "null".
	if r.Env["PULUMI_CONFIG"] != "{}" || r.Env["PULUMI_CONFIG_SECRET_KEYS"] != "[]" {
		t.Errorf("empty config: %v", r.Env)
	}
	if _, on := r.Env["PULUMI_NODEJS_TYPESCRIPT"]; on || r.Env["PULUMI_NODEJS_TSCONFIG_PATH"] != "tsconfig.pulumi.json" {
		t.Errorf("typescript off, tsconfig set: %v", r.Env)
	}
	if last := r.Argv[len(r.Argv)-1]; last != "index.ts" {
		t.Errorf("entry point last: %q", r.Argv)
	}
}

// Upstream's exit handling (execRuntime): 32 means the program already told the user, so the
// engine bails without a further message; any other code is reported with it.
func TestRunExitCodes(t *testing.T) {
	dir := program(t)
	t.Setenv("RECORD", filepath.Join(t.TempDir(), "record.json"))
	h := newHost(t)
	run := func(code string) *pulumirpc.RunResponse {
		t.Helper()
		t.Setenv("EXIT_CODE", code)
		resp, err := h.Run(context.Background(), &pulumirpc.RunRequest{Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir, EntryPoint: "."}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := run("32"); !r.GetBail() || r.GetError() != "" {
		t.Errorf("exit 32: %v", r)
	}
	if r := run("3"); r.GetBail() || r.GetError() != "Program exited with non-zero exit code: 3" {
		t.Errorf("exit 3: %v", r)
	}
}

func TestRunWithoutTheSDK(t *testing.T) {
	dir := t.TempDir()
	resp, err := newHost(t).Run(context.Background(), &pulumirpc.RunRequest{Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir, EntryPoint: "."}})
	if err != nil {
		t.Fatal(err)
	}
	want := sdkMissingAdvice + " (Cannot find module '@pulumi/pulumi/cmd/run'"
	if !strings.HasPrefix(resp.GetError(), want) {
		t.Errorf("got %q, want it to start with %q", resp.GetError(), want)
	}
}

// fakeStream collects what RunPlugin sends.
type fakeStream struct {
	grpc.ServerStream
	ctx  context.Context
	mu   sync.Mutex
	msgs []*pulumirpc.RunPluginResponse
}

func (s *fakeStream) Context() context.Context { return s.ctx }
func (s *fakeStream) Send(m *pulumirpc.RunPluginResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *fakeStream) result() (stdout, stderr string, code int32, exited bool) {
	for _, m := range s.msgs {
		switch o := m.Output.(type) {
		case *pulumirpc.RunPluginResponse_Stdout:
			stdout += string(o.Stdout)
		case *pulumirpc.RunPluginResponse_Stderr:
			stderr += string(o.Stderr)
		case *pulumirpc.RunPluginResponse_Exitcode:
			code, exited = o.Exitcode, true
		}
	}
	return
}

// A policy pack: run-policy-pack <engine address> <pack folder>, the engine's logging flags
// dropped (minimist would take the address as --logtostderr's value), the output streamed back.
func TestRunPluginStartsAPolicyPack(t *testing.T) {
	dir := program(t)
	pack := filepath.Join(dir, "policies")
	if err := os.Mkdir(pack, 0o755); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(t.TempDir(), "record.json")
	env := append(os.Environ(), "RECORD="+rec, "EXIT_CODE=0")
	stream := &fakeStream{ctx: context.Background()}
	err := newHost(t).RunPlugin(&pulumirpc.RunPluginRequest{
		Kind: "analyzer", Pwd: pack, Env: env,
		Args: []string{"--logtostderr", "-v=9", "--logflow", "127.0.0.1:4321"},
		Info: &pulumirpc.ProgramInfo{ProgramDirectory: pack, Options: options(t, map[string]any{})},
	}, stream)
	if err != nil {
		t.Fatal(err)
	}
	r := readRecord(t, rec)
	if want := []string{"--pwd=" + pack, "127.0.0.1:4321", pack}; !reflect.DeepEqual(r.Argv, want) {
		t.Errorf("argv:\n got %q\nwant %q", r.Argv, want)
	}
	if r.Env["PULUMI_NODEJS_TYPESCRIPT"] != "true" || r.Cwd != pack {
		t.Errorf("env %v, cwd %s", r.Env, r.Cwd)
	}
	stdout, stderr, code, exited := stream.result()
	if stdout != "out-line\n" || stderr != "err-line\n" || !exited || code != 0 {
		t.Errorf("streamed: %q %q exit %d (%v)", stdout, stderr, code, exited)
	}
}

// A pack whose folder cannot resolve the SDK: node's own "Cannot find module" line on stderr
// (the engine matches it to tell the user to install the pack's dependencies) and exit 1.
func TestRunPluginWithoutTheSDK(t *testing.T) {
	pack := t.TempDir()
	stream := &fakeStream{ctx: context.Background()}
	if err := newHost(t).RunPlugin(&pulumirpc.RunPluginRequest{Kind: "analyzer", Pwd: pack, Info: &pulumirpc.ProgramInfo{ProgramDirectory: pack}}, stream); err != nil {
		t.Fatal(err)
	}
	_, stderr, code, exited := stream.result()
	if !strings.HasPrefix(stderr, "Cannot find module '@pulumi/pulumi/cmd/run-policy-pack'") || !exited || code != 1 {
		t.Errorf("stderr %q exit %d (%v)", stderr, code, exited)
	}
}

func TestPluginInfoAndDependencies(t *testing.T) {
	h := newHost(t)
	info, err := h.GetPluginInfo(context.Background(), &emptypb.Empty{})
	if err != nil || info.GetVersion() != "3.248.0" {
		t.Errorf("plugin info: %v %v", info, err)
	}
	dir := program(t)
	deps, err := h.GetProgramDependencies(context.Background(), &pulumirpc.GetProgramDependenciesRequest{Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range deps.GetDependencies() {
		got[d.GetName()] = d.GetVersion()
	}
	// The installed version where node_modules has the package, the declared range where not.
	want := map[string]string{"@pulumi/pulumi": "3.248.0", "absent": "^1.0.0", "typescript": "~5.9.3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dependencies: %v, want %v", got, want)
	}
	about, err := h.About(context.Background(), &pulumirpc.AboutRequest{})
	if err != nil || about.GetExecutable() != h.nodeBin || !strings.Contains(about.GetVersion(), ".") || strings.HasPrefix(about.GetVersion(), "v") {
		t.Errorf("about: %v %v", about, err)
	}
}
