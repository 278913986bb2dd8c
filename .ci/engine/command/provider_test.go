package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	localURN  = "urn:pulumi:dev::proj::command:local:Command::step"
	remoteURN = "urn:pulumi:dev::proj::command:remote:Command::step"
)

func props(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, marshalOpts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func unprops(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := plugin.UnmarshalProperties(s, unmarshalOpts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func str(s string) resource.PropertyValue { return resource.NewStringProperty(s) }

func env(kv ...string) resource.PropertyValue {
	m := resource.PropertyMap{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[resource.PropertyKey(kv[i])] = str(kv[i+1])
	}
	return resource.NewObjectProperty(m)
}

// checked runs Check the way the engine does before every Create/Update.
func checked(t *testing.T, p *provider, urn string, in resource.PropertyMap) resource.PropertyMap {
	t.Helper()
	resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urn, News: props(t, in)})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Failures) > 0 {
		t.Fatalf("check failures: %v", resp.Failures)
	}
	return unprops(t, resp.Inputs)
}

func create(t *testing.T, p *provider, urn string, in resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	t.Helper()
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: urn, Properties: props(t, checked(t, p, urn, in)), Preview: preview})
	if err != nil {
		return nil, err
	}
	if resp.Id == "" {
		t.Fatal("no id")
	}
	return unprops(t, resp.Properties), nil
}

func TestCheckDefaultsAndFailures(t *testing.T) {
	p := newProvider()
	in := checked(t, p, remoteURN, resource.PropertyMap{
		"connection": resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{"host": str("10.0.0.1")})),
	})
	if !in["addPreviousOutputInEnv"].BoolValue() {
		t.Error("addPreviousOutputInEnv should default to true")
	}
	c := in["connection"]
	if !c.IsSecret() {
		t.Fatal("connection lost its secretness")
	}
	got := c.SecretValue().Element.ObjectValue()
	if got["user"].StringValue() != "root" || got["port"].NumberValue() != 22 ||
		got["dialErrorLimit"].NumberValue() != 10 || got["perDialTimeout"].NumberValue() != 15 {
		t.Errorf("connection defaults: %v", got)
	}

	resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: localURN, News: props(t, resource.PropertyMap{
		"create": resource.NewNumberProperty(1), "logging": str("loud"), "interpreter": str("/bin/sh"),
	})})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.Failures {
		failed = append(failed, f.Property)
	}
	if strings.Join(failed, ",") != "create,interpreter,logging" {
		t.Errorf("failures: %v", resp.Failures)
	}
	resp, _ = p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: remoteURN, News: props(t, resource.PropertyMap{"create": str("true")})})
	if len(resp.Failures) != 1 || resp.Failures[0].Property != "connection" {
		t.Errorf("a remote command without connection: %v", resp.Failures)
	}
}

func TestDiff(t *testing.T) {
	p := newProvider()
	base := resource.PropertyMap{"create": str("echo hi"), "environment": env("A", "1"), "triggers": resource.NewArrayProperty([]resource.PropertyValue{str("x")})}
	d := func(news resource.PropertyMap) *pulumirpc.DiffResponse {
		olds := base.Copy()
		olds["stdout"] = str("hi") // outputs carry more than the inputs; never a change
		resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: localURN, OldInputs: props(t, base), Olds: props(t, olds), News: props(t, news)})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := d(base.Copy()); r.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("no change: %v", r)
	}
	news := base.Copy()
	news["environment"] = env("A", "2")
	news["delete"] = str("rm -f x")
	r := d(news)
	if r.Changes != pulumirpc.DiffResponse_DIFF_SOME || len(r.Replaces) != 0 || r.DetailedDiff["environment.A"].GetKind() != pulumirpc.PropertyDiff_UPDATE ||
		r.DetailedDiff["delete"].GetKind() != pulumirpc.PropertyDiff_ADD {
		t.Errorf("environment and delete changes are updates: %v", r)
	}
	news = base.Copy()
	news["triggers"] = resource.NewArrayProperty([]resource.PropertyValue{str("y")})
	r = d(news)
	if len(r.Replaces) != 1 || r.Replaces[0] != "triggers" || r.DetailedDiff["triggers[0]"].GetKind() != pulumirpc.PropertyDiff_UPDATE_REPLACE || r.DeleteBeforeReplace {
		t.Errorf("a triggers change replaces, create before delete: %v", r)
	}
	news = base.Copy()
	news["create"] = resource.MakeComputed(str(""))
	if r := d(news); r.Changes != pulumirpc.DiffResponse_DIFF_SOME || len(r.Replaces) != 0 {
		t.Errorf("an unknown create is an update: %v", r)
	}
}

func TestLocalLifecycle(t *testing.T) {
	p := newProvider()
	dir := t.TempDir()
	file := filepath.Join(dir, "made")
	in := resource.PropertyMap{
		"create":      str(`printf '%s\n' "$GREETING" > made; echo "created $GREETING"; echo warn >&2`),
		"update":      str(`echo "was: $PULUMI_COMMAND_STDOUT" > made; echo "updated $GREETING"`),
		"delete":      str(`test "$PULUMI_COMMAND_STDOUT" = "updated bye" && rm made`),
		"environment": env("GREETING", "hello"),
		"dir":         str(dir),
	}

	// Preview runs nothing and leaves stdout/stderr unknown.
	outs, err := create(t, p, localURN, in, true)
	if err != nil {
		t.Fatal(err)
	}
	if !outs["stdout"].IsComputed() || !outs["stderr"].IsComputed() {
		t.Errorf("preview outputs: %v", outs)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("preview ran the command")
	}

	outs, err = create(t, p, localURN, in, false)
	if err != nil {
		t.Fatal(err)
	}
	if outs["stdout"].StringValue() != "created hello" || outs["stderr"].StringValue() != "warn" {
		t.Errorf("stdout/stderr (trailing newline trimmed): %q %q", outs["stdout"], outs["stderr"])
	}
	if b, _ := os.ReadFile(file); string(b) != "hello\n" {
		t.Errorf("file: %q", b)
	}
	if outs["create"].StringValue() != in["create"].StringValue() || !outs["addPreviousOutputInEnv"].BoolValue() {
		t.Errorf("outputs should carry the inputs: %v", outs)
	}

	// An environment change is an update in place: update runs with the last stdout.
	news := in.Copy()
	news["environment"] = env("GREETING", "bye")
	newIn := checked(t, p, localURN, news)
	up, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: localURN, Olds: props(t, outs), News: props(t, newIn), Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	if !unprops(t, up.Properties)["stdout"].IsComputed() {
		t.Error("update preview should leave stdout unknown")
	}
	up, err = p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: localURN, Olds: props(t, outs), News: props(t, newIn)})
	if err != nil {
		t.Fatal(err)
	}
	outs = unprops(t, up.Properties)
	if outs["stdout"].StringValue() != "updated bye" || outs["stderr"].StringValue() != "" {
		t.Errorf("update outputs: %v", outs)
	}
	if b, _ := os.ReadFile(file); string(b) != "was: created hello\n" {
		t.Errorf("update should see PULUMI_COMMAND_STDOUT: %q", b)
	}

	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: localURN, Properties: props(t, outs)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Error("delete should have removed the file")
	}
}

func TestUpdateFallsBackToCreate(t *testing.T) {
	p := newProvider()
	in := resource.PropertyMap{"create": str(`echo "run $N"`), "environment": env("N", "1")}
	outs, err := create(t, p, localURN, in, false)
	if err != nil {
		t.Fatal(err)
	}
	in["environment"] = env("N", "2")
	up, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: localURN, Olds: props(t, outs), News: props(t, checked(t, p, localURN, in))})
	if err != nil {
		t.Fatal(err)
	}
	if got := unprops(t, up.Properties)["stdout"].StringValue(); got != "run 2" {
		t.Errorf("without update, create runs again: %q", got)
	}
}

func TestLocalFailure(t *testing.T) {
	p := newProvider()
	_, err := create(t, p, localURN, resource.PropertyMap{"create": str("echo partial; echo broken >&2; exit 3")}, false)
	if err == nil {
		t.Fatal("a failing command must fail the create")
	}
	for _, want := range []string{"exit status 3", "running", "partial", "broken"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLocalInterpreterStdinAssets(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	p := newProvider()
	dir := t.TempDir()
	outs, err := create(t, p, localURN, resource.PropertyMap{
		"create":       str("import sys; open('a.txt','w').write(sys.stdin.read()); open('b.log','w').write('x'); print('ok')"),
		"interpreter":  resource.NewArrayProperty([]resource.PropertyValue{str("python3"), str("-c")}),
		"stdin":        str("from stdin"),
		"dir":          str(dir),
		"assetPaths":   resource.NewArrayProperty([]resource.PropertyValue{str("*.txt")}),
		"archivePaths": resource.NewArrayProperty([]resource.PropertyValue{str("**"), str("!*.log")}),
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if outs["stdout"].StringValue() != "ok" {
		t.Errorf("stdout %q", outs["stdout"])
	}
	assets := outs["assets"].ObjectValue()
	if len(assets) != 1 || !assets["a.txt"].IsAsset() {
		t.Errorf("assets: %v", assets)
	}
	if arch := outs["archive"].ArchiveValue(); len(arch.Assets) != 1 || arch.Assets["a.txt"] == nil {
		t.Errorf("archive: %v", arch.Assets)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "from stdin" {
		t.Errorf("stdin: %q", b)
	}
}

func TestSecretsFlow(t *testing.T) {
	p := newProvider()
	outs, err := create(t, p, localURN, resource.PropertyMap{
		"create":      str("echo $TOKEN"),
		"environment": resource.MakeSecret(env("TOKEN", "s3cret")),
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !outs["environment"].IsSecret() || !outs["stdout"].IsSecret() || outs["create"].IsSecret() {
		t.Errorf("secretness: %v", outs)
	}
	if outs["stdout"].SecretValue().Element.StringValue() != "s3cret" {
		t.Errorf("stdout %v", outs["stdout"])
	}
	plainOuts, err := create(t, p, localURN, resource.PropertyMap{"create": str("echo hi")}, false)
	if err != nil {
		t.Fatal(err)
	}
	if plainOuts["stdout"].IsSecret() {
		t.Error("no secret inputs, no secret stdout")
	}
}

// fakeEngine records the Log calls a provider makes.
type fakeEngine struct {
	pulumirpc.UnimplementedEngineServer
	mu   sync.Mutex
	logs []*pulumirpc.LogRequest
}

func (e *fakeEngine) Log(_ context.Context, req *pulumirpc.LogRequest) (*emptypb.Empty, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, req)
	return &emptypb.Empty{}, nil
}

func (e *fakeEngine) messages(urn string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, l := range e.logs {
		if l.Urn == urn {
			out = append(out, l.Message)
		}
	}
	return out
}

func startEngine(t *testing.T) (*fakeEngine, string) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &fakeEngine{}
	s := grpc.NewServer()
	pulumirpc.RegisterEngineServer(s, e)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return e, lis.Addr().String()
}

func TestLoggingStreamsToEngine(t *testing.T) {
	e, address := startEngine(t)
	p := newProvider()
	if _, err := p.Handshake(context.Background(), &pulumirpc.ProviderHandshakeRequest{EngineAddress: address}); err != nil {
		t.Fatal(err)
	}
	cmd := "echo out-line; echo err-line >&2"
	if _, err := create(t, p, localURN, resource.PropertyMap{"create": str(cmd)}, false); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.messages(localURN), "|"); !strings.Contains(got, "out-line") || !strings.Contains(got, "err-line") {
		t.Errorf("default logging: %q", got)
	}
	other := "urn:pulumi:dev::proj::command:local:Command::quiet"
	if _, err := create(t, p, other, resource.PropertyMap{"create": str(cmd), "logging": str("stderr")}, false); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.messages(other), "|"); got != "err-line" {
		t.Errorf("logging stderr: %q", got)
	}
}

// sshServer is a minimal in-process sshd: public-key auth, env requests (AcceptEnv *), exec
// through /bin/sh -c, exit status. execs counts the commands it was asked to run.
type sshServer struct {
	addr    string
	hostPub ssh.PublicKey
	key     string // the client's private key, PEM
	execs   atomic.Int32
	noEnv   atomic.Bool // refuse env requests, as an sshd without AcceptEnv does
}

func startSSH(t *testing.T) *sshServer {
	t.Helper()
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, _ := ssh.NewSignerFromKey(hostPriv)
	clientPub, clientPriv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(clientPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	sshClientPub, _ := ssh.NewPublicKey(clientPub)
	srv := &sshServer{hostPub: hostSigner.PublicKey(), key: string(pem.EncodeToMemory(block))}

	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), sshClientPub.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(hostSigner)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	srv.addr = lis.Addr().String()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go srv.serve(c, cfg)
		}
	}()
	return srv
}

func (s *sshServer) serve(c net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			environ := os.Environ()
			for req := range creqs {
				switch req.Type {
				case "env":
					var kv struct{ Name, Value string }
					_ = ssh.Unmarshal(req.Payload, &kv)
					if s.noEnv.Load() {
						_ = req.Reply(false, nil)
						continue
					}
					environ = append(environ, kv.Name+"="+kv.Value)
					_ = req.Reply(true, nil)
				case "exec":
					var cmd struct{ Command string }
					_ = ssh.Unmarshal(req.Payload, &cmd)
					s.execs.Add(1)
					_ = req.Reply(true, nil)
					run := exec.Command("/bin/sh", "-c", cmd.Command)
					run.Env, run.Stdin, run.Stdout, run.Stderr = environ, ch, ch, ch.Stderr()
					code := 0
					if err := run.Run(); err != nil {
						code = 255
						var ee *exec.ExitError
						if errors.As(err, &ee) {
							code = ee.ExitCode()
						}
					}
					_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
					return
				default:
					_ = req.Reply(false, nil)
				}
			}
		}()
	}
}

func (s *sshServer) connection(hostKey string) resource.PropertyValue {
	host, port, _ := net.SplitHostPort(s.addr)
	var n float64
	for _, c := range port {
		n = n*10 + float64(c-'0')
	}
	m := resource.PropertyMap{"host": str(host), "port": resource.NewNumberProperty(n), "privateKey": str(s.key), "dialErrorLimit": resource.NewNumberProperty(2)}
	if hostKey != "" {
		m["hostKey"] = str(hostKey)
	}
	return resource.MakeSecret(resource.NewObjectProperty(m))
}

func TestRemoteCommand(t *testing.T) {
	srv := startSSH(t)
	p := newProvider()
	right := string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(srv.hostPub)))
	in := resource.PropertyMap{
		"connection":  srv.connection(right),
		"create":      str(`echo "hello $WHO"; cat`),
		"delete":      str(`echo "bye $PULUMI_COMMAND_STDOUT"`),
		"environment": env("WHO", "remote"),
		"stdin":       str("piped"),
	}
	outs, err := create(t, p, remoteURN, in, false)
	if err != nil {
		t.Fatal(err)
	}
	if !outs["stdout"].IsSecret() || outs["stdout"].SecretValue().Element.StringValue() != "hello remote\npiped" {
		t.Errorf("stdout (secret, as the connection is): %v", outs["stdout"])
	}
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: remoteURN, Properties: props(t, outs)}); err != nil {
		t.Fatal(err)
	}
	if srv.execs.Load() != 2 {
		t.Errorf("execs: %d", srv.execs.Load())
	}

	// Any key when hostKey is unset, as 1.2.1.
	in["connection"] = srv.connection("")
	if _, err := create(t, p, remoteURN, in, false); err != nil {
		t.Fatal(err)
	}

	// A pinned key that is not the server's: refused before any command runs, without retries.
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	otherSigner, _ := ssh.NewSignerFromKey(otherPriv)
	wrong := string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(otherSigner.PublicKey())))
	before := srv.execs.Load()
	in["connection"] = srv.connection(wrong)
	_, err = create(t, p, remoteURN, in, false)
	if err == nil || !strings.Contains(err.Error(), "host key mismatch") {
		t.Fatalf("wrong host key: %v", err)
	}
	if srv.execs.Load() != before {
		t.Error("a command ran on a server with the wrong host key")
	}

	// An sshd that drops the environment fails the command before it runs (its values would be
	// missing); the previous output in the environment is only a warning.
	srv.noEnv.Store(true)
	before = srv.execs.Load()
	in["connection"] = srv.connection(right)
	if _, err = create(t, p, remoteURN, in, false); err == nil || !strings.Contains(err.Error(), `could not set environment variable "WHO"`) {
		t.Errorf("env refused: %v", err)
	}
	delete(in, "environment")
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: remoteURN, Properties: props(t, outs)}); err == nil {
		t.Error("delete with its environment refused should fail")
	}
	outs["environment"] = resource.NewNullProperty()
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: remoteURN, Properties: props(t, outs)}); err != nil {
		t.Errorf("PULUMI_COMMAND_STDOUT refused is a warning only: %v", err)
	}
	if srv.execs.Load() != before+1 {
		t.Errorf("only the last delete should have run: %d", srv.execs.Load()-before)
	}
	srv.noEnv.Store(false)

	// A failing remote command reports its exit status and output.
	in["connection"] = srv.connection(right)
	in["create"] = str("echo nope >&2; exit 4")
	_, err = create(t, p, remoteURN, in, false)
	if err == nil || !strings.Contains(err.Error(), "exited with status 4") || !strings.Contains(err.Error(), "nope") {
		t.Errorf("remote failure: %v", err)
	}
}

func TestRemoteDialRetries(t *testing.T) {
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	address := lis.Addr().String()
	lis.Close() // nothing listens there now
	host, port, _ := net.SplitHostPort(address)
	var n float64
	for _, c := range port {
		n = n*10 + float64(c-'0')
	}
	p := newProvider()
	_, err := create(t, p, remoteURN, resource.PropertyMap{
		"connection": resource.NewObjectProperty(resource.PropertyMap{"host": str(host), "port": resource.NewNumberProperty(n), "dialErrorLimit": resource.NewNumberProperty(2), "password": str("x")}),
		"create":     str("true"),
	}, false)
	if err == nil || !strings.Contains(err.Error(), "after 3 failed attempts") {
		t.Errorf("dial retries: %v", err)
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		glob, path string
		want       bool
	}{
		{"*.txt", "a.txt", true}, {"*.txt", "d/a.txt", false}, {"**.js", "src/x/a.js", true},
		{"assets/**", "assets/logos/logo.svg", true}, {"{a,b}.c", "b.c", true}, {"a,b", "a,b", true}, {"[!x]y", "zy", true},
	} {
		re, err := globRegexp(c.glob)
		if err != nil || re.MatchString(c.path) != c.want {
			t.Errorf("%s ~ %s: %v (%v)", c.glob, c.path, !c.want, err)
		}
	}
}
