package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	envStdout = "PULUMI_COMMAND_STDOUT"
	envStderr = "PULUMI_COMMAND_STDERR"
)

// output is what one run of a command leaves behind.
type output struct{ Stdout, Stderr string }

func prevOutput(state resource.PropertyMap) output {
	str := func(k resource.PropertyKey) string {
		if v := plain(state[k]); v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	return output{str("stdout"), str("stderr")}
}

// apply is Create (olds nil) and Update: the outputs are the inputs plus stdout and stderr.
//
// Secretness as upstream's (pulumi-go-provider's infer, resource.go markSecret and
// ensureDefaultSecrets): an output that mirrors an input keeps that input's marker (the copies
// below keep them), and an output without a same-named input — stdout, stderr, assets, archive —
// is not secret, whatever the inputs hold: not for a secret connection (upstream's regress-256
// test), nor for a secret environment. A program that wants them secret says so with
// additionalSecretOutputs.
func (p *provider) apply(ctx context.Context, typ, urn string, inputs, olds resource.PropertyMap, op string, preview bool) (resource.PropertyMap, error) {
	outs := inputs.Copy()
	var prev output
	if olds != nil {
		// An update that runs nothing keeps the last run's output (and its assets).
		prev = prevOutput(olds)
		for _, k := range []resource.PropertyKey{"assets", "archive"} {
			if v, ok := olds[k]; ok {
				outs[k] = v
			}
		}
	}
	outs["stdout"], outs["stderr"] = resource.NewStringProperty(prev.Stdout), resource.NewStringProperty(prev.Stderr)

	// Create runs create; update runs update, or create again when update is not set.
	cmdVal, ok := inputs[resource.PropertyKey(op)]
	if op == "update" && (!ok || cmdVal.IsNull()) {
		cmdVal, ok = inputs["create"]
	}
	if !ok || cmdVal.IsNull() {
		return outs, nil
	}
	if preview {
		unknown := resource.MakeComputed(resource.NewStringProperty(""))
		outs["stdout"], outs["stderr"] = unknown, unknown
		if typ == localType {
			for k, paths := range map[resource.PropertyKey]resource.PropertyKey{"assets": "assetPaths", "archive": "archivePaths"} {
				if v, ok := inputs[paths]; ok && !v.IsNull() {
					outs[k] = unknown
				}
			}
		}
		return outs, nil
	}

	s, err := parseSpec(typ, inputs)
	if err != nil {
		return nil, err
	}
	res, err := p.run(ctx, urn, s, plain(cmdVal).StringValue(), prev)
	if err != nil {
		return nil, err
	}
	outs["stdout"], outs["stderr"] = resource.NewStringProperty(res.Stdout), resource.NewStringProperty(res.Stderr)
	if typ == localType {
		if err := collectAssets(s, outs); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// run runs one command, locally or over SSH, streaming its output to the engine as it goes.
func (p *provider) run(ctx context.Context, urn string, s *spec, command string, prev output) (output, error) {
	var prevEnv map[string]string
	if s.AddPrev {
		prevEnv = map[string]string{}
		if prev.Stdout != "" {
			prevEnv[envStdout] = prev.Stdout
		}
		if prev.Stderr != "" {
			prevEnv[envStderr] = prev.Stderr
		}
	}

	var stdout, stderr bytes.Buffer
	combined := &lockedBuffer{} // both streams interleaved, for the error text
	logLine := func(line string) { p.log(urn, pulumirpc.LogSeverity_INFO, line, true) }
	logOut, logErr := io.Discard, io.Discard
	lines := &lineWriter{emit: logLine}
	if s.Logging == "" || s.Logging == "stdout" || s.Logging == "stdoutAndStderr" {
		logOut = lines
	}
	if s.Logging == "" || s.Logging == "stderr" || s.Logging == "stdoutAndStderr" {
		logErr = lines
	}
	outW := io.MultiWriter(&stdout, combined, logOut)
	errW := io.MultiWriter(&stderr, combined, logErr)

	var err error
	if s.Conn != nil {
		err = p.runRemote(ctx, urn, s, command, prevEnv, outW, errW)
	} else {
		err = runLocal(ctx, s, command, prevEnv, outW, errW)
	}
	lines.flush()
	var setup setupError
	if errors.As(err, &setup) {
		return output{}, setup.err
	}
	if err != nil {
		return output{}, fmt.Errorf("%w: running %q:\n%s", err, command, combined.String())
	}
	return output{strings.TrimSuffix(stdout.String(), "\n"), strings.TrimSuffix(stderr.String(), "\n")}, nil
}

func runLocal(ctx context.Context, s *spec, command string, prevEnv map[string]string, stdout, stderr io.Writer) error {
	args := s.Interpreter
	if len(args) == 0 {
		args = []string{"/bin/sh", "-c"}
		if runtime.GOOS == "windows" {
			args = []string{"cmd", "/C"}
		}
	}
	args = append(append([]string{}, args...), command)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	// Without dir, the provider's working directory, which the engine sets to the project's.
	if s.Dir != nil {
		cmd.Dir = *s.Dir
	}
	cmd.Env = os.Environ()
	for _, k := range sortedKeys(s.Env) {
		cmd.Env = append(cmd.Env, k+"="+s.Env[k])
	}
	for _, k := range sortedKeys(prevEnv) {
		cmd.Env = append(cmd.Env, k+"="+prevEnv[k])
	}
	if s.Stdin != nil && *s.Stdin != "" {
		cmd.Stdin = strings.NewReader(*s.Stdin)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lineWriter hands complete lines to emit; stdout and stderr write to it concurrently.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(strings.TrimSuffix(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(strings.TrimSuffix(string(w.buf), "\r"))
		w.buf = nil
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// collectAssets sets the local command's assets and archive outputs from its path globs.
func collectAssets(s *spec, outs resource.PropertyMap) error {
	if !s.HasAssets && !s.HasArchive {
		return nil
	}
	dir := "."
	if s.Dir != nil {
		dir = *s.Dir
	}
	if s.HasAssets {
		found, err := globFiles(dir, s.AssetPaths)
		if err != nil {
			return err
		}
		m := resource.PropertyMap{}
		for _, p := range found {
			a, err := resource.NewPathAsset(path.Join(dir, p))
			if err != nil {
				return err
			}
			m[resource.PropertyKey(p)] = resource.NewAssetProperty(a)
		}
		outs["assets"] = resource.NewObjectProperty(m)
	}
	if s.HasArchive {
		found, err := globFiles(dir, s.ArchivePaths)
		if err != nil {
			return err
		}
		m := map[string]any{}
		for _, p := range found {
			a, err := resource.NewPathAsset(path.Join(dir, p))
			if err != nil {
				return err
			}
			m[p] = a
		}
		arch, err := resource.NewAssetArchive(m)
		if err != nil {
			return err
		}
		outs["archive"] = resource.NewArchiveProperty(arch)
	}
	return nil
}

// globFiles walks dir and keeps the files the rules select, in order: a rule starting with "!"
// drops what it matches. "*" stays within one path segment, "**" crosses them (as upstream).
func globFiles(dir string, rules []string) ([]string, error) {
	type rule struct {
		re      *regexp.Regexp
		exclude bool
	}
	var compiled []rule
	for _, r := range rules {
		ex := strings.HasPrefix(r, "!")
		re, err := globRegexp(strings.TrimPrefix(r, "!"))
		if err != nil {
			return nil, fmt.Errorf("glob %q: %w", r, err)
		}
		compiled = append(compiled, rule{re, ex})
	}
	selected := map[string]bool{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, r := range compiled {
			if r.re.MatchString(p) {
				selected[p] = !r.exclude
			}
		}
		return nil
	})
	var out []string
	for p, ok := range selected {
		if ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, err
}

func globRegexp(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	depth := 0 // inside {a,b}, where a comma separates alternatives
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '{':
			depth++
			b.WriteString("(?:")
		case '}':
			depth--
			b.WriteString(")")
		case ',':
			if depth > 0 {
				b.WriteString("|")
			} else {
				b.WriteString(",")
			}
		case '[':
			b.WriteByte('[')
			if i+1 < len(g) && g[i+1] == '!' { // [!a-z] negates, as in gobwas/glob
				b.WriteByte('^')
				i++
			}
		case ']':
			b.WriteByte(']')
		case '\\':
			if i+1 < len(g) {
				i++
				b.WriteString(regexp.QuoteMeta(g[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
