package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	// Upstream's Check sets no addPreviousOutputInEnv (absent reads as true when the command runs).
	if v, ok := in["addPreviousOutputInEnv"]; ok {
		t.Errorf("addPreviousOutputInEnv should stay absent, got %v", v)
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

	// A connection the program did not mark secret is made one (its provider:"secret" tag upstream).
	plainConn := checked(t, p, remoteURN, resource.PropertyMap{
		"connection": resource.NewObjectProperty(resource.PropertyMap{"host": str("10.0.0.1"), "password": str("pw")}),
	})["connection"]
	if !plainConn.IsSecret() || plainConn.SecretValue().Element.ObjectValue()["perDialTimeout"].NumberValue() != 15 {
		t.Errorf("connection not made secret, or without defaults: %v", plainConn)
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
	if outs["create"].StringValue() != in["create"].StringValue() || outs["dir"].StringValue() != dir {
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
	// As upstream (infer's default wiring): an output mirroring an input keeps its marker; stdout
	// has no input of its name and is not secret, even when it prints a secret input.
	if !outs["environment"].IsSecret() || outs["stdout"].IsSecret() || outs["stderr"].IsSecret() || outs["create"].IsSecret() {
		t.Errorf("secretness: %v", outs)
	}
	if outs["stdout"].StringValue() != "s3cret" {
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
// through /bin/sh -c, exit status, and direct-tcpip channels (a proxy's). execs counts the
// commands it was asked to run, conns the TCP connections it accepted.
type sshServer struct {
	addr    string
	hostPub ssh.PublicKey
	key     string // the client's private key, PEM
	execs   atomic.Int32
	conns   atomic.Int32
	noEnv   atomic.Bool  // refuse env requests, as an sshd without AcceptEnv does
	delay   atomic.Int64 // nanoseconds to wait before the SSH banner (a slow host)
}

// startSSH serves with an Ed25519 host key.
func startSSH(t *testing.T) *sshServer {
	t.Helper()
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, _ := ssh.NewSignerFromKey(hostPriv)
	return startSSHWith(t, hostSigner)
}

// startSSHWith serves with the given host keys; the first is hostPub.
func startSSHWith(t *testing.T, hostSigners ...ssh.Signer) *sshServer {
	t.Helper()
	clientPub, clientPriv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(clientPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	sshClientPub, _ := ssh.NewPublicKey(clientPub)
	srv := &sshServer{hostPub: hostSigners[0].PublicKey(), key: string(pem.EncodeToMemory(block))}

	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), sshClientPub.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	for _, h := range hostSigners {
		cfg.AddHostKey(h)
	}
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
			srv.conns.Add(1)
			go srv.serve(c, cfg)
		}
	}()
	return srv
}

func (s *sshServer) serve(c net.Conn, cfg *ssh.ServerConfig) {
	time.Sleep(time.Duration(s.delay.Load()))
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			go s.session(ch, creqs)
		case "direct-tcpip": // RFC 4254 7.2: host, port, originator host, originator port
			var target struct {
				Host     string
				Port     uint32
				OrigHost string
				OrigPort uint32
			}
			if err := ssh.Unmarshal(nc.ExtraData(), &target); err != nil {
				_ = nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			up, err := net.Dial("tcp", net.JoinHostPort(target.Host, strconv.Itoa(int(target.Port))))
			if err != nil {
				_ = nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			ch, creqs, err := nc.Accept()
			if err != nil {
				up.Close()
				continue
			}
			go ssh.DiscardRequests(creqs)
			go func() { _, _ = io.Copy(ch, up); ch.Close() }()
			go func() { _, _ = io.Copy(up, ch); up.Close() }()
		default:
			_ = nc.Reject(ssh.UnknownChannelType, "session and direct-tcpip only")
		}
	}
}

func (s *sshServer) session(ch ssh.Channel, creqs <-chan *ssh.Request) {
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
}

func (s *sshServer) hostPort() (string, float64) {
	host, port, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(port)
	return host, float64(n)
}

// connection: dialErrorLimit 2, so a failing dial is tried three times.
func (s *sshServer) connection(hostKey string) resource.PropertyValue {
	host, port := s.hostPort()
	m := resource.PropertyMap{"host": str(host), "port": resource.NewNumberProperty(port), "privateKey": str(s.key), "dialErrorLimit": resource.NewNumberProperty(2)}
	if hostKey != "" {
		m["hostKey"] = str(hostKey)
	}
	return resource.MakeSecret(resource.NewObjectProperty(m))
}

func authorizedKey(k ssh.PublicKey) string {
	return string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(k)))
}

func TestRemoteCommand(t *testing.T) {
	srv := startSSH(t)
	p := newProvider()
	right := authorizedKey(srv.hostPub)
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
	// Not secret though the connection is (upstream's regress-256); the connection stays secret.
	if outs["stdout"].IsSecret() || outs["stdout"].StringValue() != "hello remote\npiped" || outs["stderr"].IsSecret() {
		t.Errorf("stdout/stderr (not secret): %v %v", outs["stdout"], outs["stderr"])
	}
	if !outs["connection"].IsSecret() {
		t.Errorf("the connection output must stay secret: %v", outs["connection"])
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

	// An sshd that drops the environment fails the command before it runs (its values would be
	// missing); the previous output in the environment is only a warning.
	srv.noEnv.Store(true)
	before := srv.execs.Load()
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

// Upstream's regress-256: a preview with a secret connection leaves stdout and stderr unknown and
// not secret.
func TestRemotePreviewOutputsNotSecret(t *testing.T) {
	p := newProvider()
	outs, err := create(t, p, remoteURN, resource.PropertyMap{
		"create":     str("<create command>"),
		"connection": resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{"host": str("<host port>")})),
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []resource.PropertyKey{"stdout", "stderr"} {
		if !outs[k].ContainsUnknowns() || outs[k].ContainsSecrets() {
			t.Errorf("%s: %v", k, outs[k])
		}
	}
}

// A wrong pinned key is a dial error like any other, as under upstream's ssh.FixedHostKey: each
// attempt reaches the handshake, dialErrorLimit + 1 attempts in all, then x/crypto's own message.
// No command runs.
func TestRemoteHostKeyMismatchIsRetried(t *testing.T) {
	srv := startSSH(t)
	e, address := startEngine(t)
	p := newProvider()
	if _, err := p.Handshake(context.Background(), &pulumirpc.ProviderHandshakeRequest{EngineAddress: address}); err != nil {
		t.Fatal(err)
	}
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	otherSigner, _ := ssh.NewSignerFromKey(otherPriv)
	_, err := create(t, p, remoteURN, resource.PropertyMap{"connection": srv.connection(authorizedKey(otherSigner.PublicKey())), "create": str("echo ran")}, false)
	want := "after 2 failed attempts: ssh: handshake failed: ssh: host key mismatch"
	if err == nil || err.Error() != want {
		t.Fatalf("wrong host key: got %v, want %q", err, want)
	}
	if n := srv.conns.Load(); n != 3 {
		t.Errorf("attempts: %d, want 3 (dialErrorLimit 2)", n)
	}
	if srv.execs.Load() != 0 {
		t.Error("a command ran on a server with the wrong host key")
	}
	if got := strings.Join(e.messages(remoteURN), "|"); got != "Dial 1/2 failed: retrying|Dial 2/2 failed: retrying" {
		t.Errorf("status lines: %q", got)
	}
}

// The host-key algorithms offered for a pin are the pin's own type only: an ed25519 pin makes a
// host with several keys show its ed25519 key, and an RSA pin offers only "ssh-rsa" (SHA-1), so
// a server that signs RSA keys with SHA-2 only (OpenSSH 8.8 and later) is never reached.
func TestRemoteHostKeyAlgorithms(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, _ := ssh.NewSignerFromKey(rsaKey)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edSigner, _ := ssh.NewSignerFromKey(edPriv)

	cfg, err := clientConfig(&connection{User: "root", HostKey: ptr(authorizedKey(rsaSigner.PublicKey())), PerDialTimeout: 15})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.HostKeyAlgorithms, ",") != "ssh-rsa" || cfg.Timeout != 15*time.Second {
		t.Errorf("an RSA pin: algorithms %v, timeout %v", cfg.HostKeyAlgorithms, cfg.Timeout)
	}

	// A server with an RSA and an ed25519 key; pinned ed25519 is the one negotiated.
	both := startSSHWith(t, rsaSigner, edSigner)
	p := newProvider()
	if _, err := create(t, p, remoteURN, resource.PropertyMap{"connection": both.connection(authorizedKey(edSigner.PublicKey())), "create": str("true")}, false); err != nil {
		t.Errorf("an ed25519 pin on a host that also has RSA: %v", err)
	}
	// The RSA key of a server that signs with ssh-rsa too (OpenSSH before 8.8): connects.
	if _, err := create(t, p, remoteURN, resource.PropertyMap{"connection": both.connection(authorizedKey(rsaSigner.PublicKey())), "create": str("true")}, false); err != nil {
		t.Errorf("an RSA pin on a server offering ssh-rsa: %v", err)
	}
	// OpenSSH 8.8 and later: RSA host keys sign with SHA-2 only.
	sha2Only, err := ssh.NewSignerWithAlgorithms(rsaSigner.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256})
	if err != nil {
		t.Fatal(err)
	}
	modern := startSSHWith(t, sha2Only)
	conn := modern.connection(authorizedKey(rsaSigner.PublicKey()))
	conn.SecretValue().Element.ObjectValue()["dialErrorLimit"] = resource.NewNumberProperty(0)
	_, err = create(t, p, remoteURN, resource.PropertyMap{"connection": conn, "create": str("true")}, false)
	want := "after 0 failed attempts: ssh: handshake failed: ssh: no common algorithm for host key; we offered: [ssh-rsa], peer offered: [rsa-sha2-256 rsa-sha2-512]"
	if err == nil || err.Error() != want {
		t.Errorf("an RSA pin against SHA-2-only signing: got %v, want %q", err, want)
	}
}

// perDialTimeout bounds the TCP connect only, as x/crypto's ssh.Dial applies it: a host slower
// than that to start the SSH handshake is still reached.
func TestRemotePerDialTimeoutIsTCPOnly(t *testing.T) {
	srv := startSSH(t)
	srv.delay.Store(int64(1500 * time.Millisecond))
	conn := srv.connection(authorizedKey(srv.hostPub))
	conn.SecretValue().Element.ObjectValue()["perDialTimeout"] = resource.NewNumberProperty(1)
	conn.SecretValue().Element.ObjectValue()["dialErrorLimit"] = resource.NewNumberProperty(0)
	outs, err := create(t, newProvider(), remoteURN, resource.PropertyMap{"connection": conn, "create": str("echo slow")}, false)
	if err != nil {
		t.Fatalf("a banner later than perDialTimeout: %v", err)
	}
	if outs["stdout"].StringValue() != "slow" || srv.conns.Load() != 1 {
		t.Errorf("stdout %v after %d connections", outs["stdout"], srv.conns.Load())
	}
}

// Through a proxy (bastion): upstream's three stages, each retried, each failure prefixed "proxy: ".
func TestRemoteThroughProxy(t *testing.T) {
	bastion := startSSH(t)
	target := startSSH(t)
	p := newProvider()
	th, tp := target.hostPort()
	bh, bp := bastion.hostPort()
	conn := func(targetKey string) resource.PropertyValue {
		return resource.NewObjectProperty(resource.PropertyMap{
			"host": str(th), "port": resource.NewNumberProperty(tp), "privateKey": str(target.key), "hostKey": str(targetKey), "dialErrorLimit": resource.NewNumberProperty(1),
			"proxy": resource.NewObjectProperty(resource.PropertyMap{
				"host": str(bh), "port": resource.NewNumberProperty(bp), "privateKey": str(bastion.key), "hostKey": str(authorizedKey(bastion.hostPub)),
			}),
		})
	}
	outs, err := create(t, p, remoteURN, resource.PropertyMap{"connection": conn(authorizedKey(target.hostPub)), "create": str("echo via proxy")}, false)
	if err != nil {
		t.Fatal(err)
	}
	if outs["stdout"].StringValue() != "via proxy" || target.execs.Load() != 1 || bastion.execs.Load() != 0 {
		t.Errorf("stdout %v, target execs %d, bastion execs %d", outs["stdout"], target.execs.Load(), bastion.execs.Load())
	}
	// A wrong target key: the handshake over the one tunnel is retried, then reported as upstream does.
	_, err = create(t, p, remoteURN, resource.PropertyMap{"connection": conn(authorizedKey(bastion.hostPub)), "create": str("true")}, false)
	if err == nil || !strings.HasPrefix(err.Error(), "proxy: after 1 failed attempts: ssh: handshake failed: ") {
		t.Errorf("wrong target key through the proxy: %v", err)
	}
}

func TestRemoteDialRetries(t *testing.T) {
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	address := lis.Addr().String()
	lis.Close() // nothing listens there now
	host, port, _ := net.SplitHostPort(address)
	n, _ := strconv.Atoi(port)
	e, engineAddr := startEngine(t)
	p := newProvider()
	if _, err := p.Handshake(context.Background(), &pulumirpc.ProviderHandshakeRequest{EngineAddress: engineAddr}); err != nil {
		t.Fatal(err)
	}
	_, err := create(t, p, remoteURN, resource.PropertyMap{
		"connection": resource.NewObjectProperty(resource.PropertyMap{"host": str(host), "port": resource.NewNumberProperty(float64(n)), "dialErrorLimit": resource.NewNumberProperty(2), "password": str("x")}),
		"create":     str("true"),
	}, false)
	// Three dials; upstream counts the failures before the last.
	if err == nil || !strings.HasPrefix(err.Error(), "after 2 failed attempts: dial tcp "+address+": ") {
		t.Errorf("dial retries: %v", err)
	}
	if got := strings.Join(e.messages(remoteURN), "|"); got != "Dial 1/2 failed: retrying|Dial 2/2 failed: retrying" {
		t.Errorf("status lines: %q", got)
	}

	// Cancelled (the engine's Ctrl-C) while waiting for the next attempt: the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	c := &connection{Host: host, Port: n, User: "root", DialErrorLimit: -1, PerDialTimeout: 15, Password: ptr("x")}
	if _, err := p.dial(ctx, remoteURN, c); !errors.Is(err, context.Canceled) || err.Error() != "context canceled" {
		t.Errorf("cancelled dial: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

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
