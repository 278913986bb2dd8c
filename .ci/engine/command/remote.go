package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// setupError is a failure before the command ran (dial, environment); it is reported as is,
// without the "running ..." wrapper a failed command gets.
type setupError struct{ err error }

func (e setupError) Error() string { return e.err.Error() }
func (e setupError) Unwrap() error { return e.err }

// hostKeyError: the server is not the one pinned by hostKey. Not worth a retry.
type hostKeyError struct{ host, got, want string }

func (e *hostKeyError) Error() string {
	return fmt.Sprintf("host key mismatch for %s: the server presented %s, the connection's hostKey is %s", e.host, e.got, e.want)
}

func (p *provider) runRemote(ctx context.Context, urn string, s *spec, command string, prevEnv map[string]string, stdout, stderr io.Writer) error {
	client, err := p.dial(ctx, urn, s.Conn)
	if err != nil {
		return setupError{err}
	}
	defer client.Close()
	// Cancelling closes the connection, which ends a session still waiting for its command.
	defer context.AfterFunc(ctx, func() { client.Close() })()

	sess, err := client.NewSession()
	if err != nil {
		return setupError{err}
	}
	defer sess.Close()

	// sshd only takes the variables its AcceptEnv lists. The command's own environment must
	// arrive (fail otherwise); the previous output is a convenience (warn and go on), as upstream.
	hint := func(k string) string {
		return fmt.Sprintf("Unable to set '%s'. This only works if your SSH server is configured to accept these variables "+
			"via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could prefix the "+
			"command itself with the variables in the form 'VAR=value command'", k)
	}
	for _, k := range sortedKeys(s.Env) {
		if err := sess.Setenv(k, s.Env[k]); err != nil {
			p.log(urn, pulumirpc.LogSeverity_ERROR, hint(k), false)
			return setupError{fmt.Errorf("could not set environment variable %q: %w", k, err)}
		}
	}
	for _, k := range sortedKeys(prevEnv) {
		if err := sess.Setenv(k, prevEnv[k]); err != nil {
			p.log(urn, pulumirpc.LogSeverity_WARNING, hint(k), false)
		}
	}
	if s.Stdin != nil && *s.Stdin != "" {
		sess.Stdin = strings.NewReader(*s.Stdin)
	}
	sess.Stdout, sess.Stderr = stdout, stderr
	// An "exec" request: sshd runs the text with the user's login shell (`$SHELL -c`).
	err = sess.Run(command)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func addr(c *connection) string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// dial connects to the host, through the proxy when there is one, retrying failed attempts up
// to dialErrorLimit (-1: without end) with the SDK's backoff, as upstream does.
func (p *provider) dial(ctx context.Context, urn string, c *connection) (*ssh.Client, error) {
	cfg, err := clientConfig(c)
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(c.PerDialTimeout) * time.Second
	if c.Proxy == nil {
		return dialRetry(ctx, p, urn, "Dial", c.DialErrorLimit, func() (*ssh.Client, error) {
			conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", addr(c))
			if err != nil {
				return nil, err
			}
			return handshake(conn, addr(c), cfg, timeout)
		})
	}

	pcfg, err := clientConfig(c.Proxy)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	ptimeout := time.Duration(c.Proxy.PerDialTimeout) * time.Second
	proxy, err := dialRetry(ctx, p, urn, "Dial proxy", c.Proxy.DialErrorLimit, func() (*ssh.Client, error) {
		conn, err := (&net.Dialer{Timeout: ptimeout}).DialContext(ctx, "tcp", addr(c.Proxy))
		if err != nil {
			return nil, err
		}
		return handshake(conn, addr(c.Proxy), pcfg, ptimeout)
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	client, err := dialRetry(ctx, p, urn, "Dial from proxy", c.DialErrorLimit, func() (*ssh.Client, error) {
		dctx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			dctx, cancel = context.WithTimeout(ctx, timeout)
		}
		defer cancel()
		conn, err := proxy.DialContext(dctx, "tcp", addr(c))
		if err != nil {
			return nil, err
		}
		return handshake(conn, addr(c), cfg, timeout)
	})
	if err != nil {
		proxy.Close()
		return nil, fmt.Errorf("proxy: %w", err)
	}
	// The tunnel lives as long as the target connection.
	go func() { _ = client.Wait(); proxy.Close() }()
	return client, nil
}

// handshake runs the SSH handshake on conn; perDialTimeout bounds it too, not only the TCP
// connect, so a host that accepts but never answers (sshd still starting) counts as a failed dial.
func handshake(conn net.Conn, address string, cfg *ssh.ClientConfig, timeout time.Duration) (*ssh.Client, error) {
	if timeout > 0 {
		t := time.AfterFunc(timeout, func() { conn.Close() })
		defer t.Stop()
	}
	cc, chans, reqs, err := ssh.NewClientConn(conn, address, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return ssh.NewClient(cc, chans, reqs), nil
}

func dialRetry[T any](ctx context.Context, p *provider, urn, what string, limit int, f func() (T, error)) (T, error) {
	var last error
	ok, res, err := retry.Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			v, err := f()
			if err == nil {
				return true, v, nil
			}
			last = err
			var hk *hostKeyError
			if errors.As(err, &hk) {
				return false, nil, err // a different server will not become the right one
			}
			dials := try + 1
			if limit > -1 && dials > limit {
				return false, nil, fmt.Errorf("after %d failed attempts: %w", dials, err)
			}
			max := "inf"
			if limit > -1 {
				max = strconv.Itoa(limit)
			}
			p.log(urn, pulumirpc.LogSeverity_INFO, fmt.Sprintf("%s %d/%s failed: retrying (%v)", what, dials, max, err), true)
			return false, nil, nil
		},
	})
	if ok && err == nil {
		return res.(T), nil
	}
	var zero T
	if err == nil { // cancelled while waiting for the next attempt
		err = ctx.Err()
		if last != nil {
			err = fmt.Errorf("%w (last attempt: %v)", err, last)
		}
	}
	return zero, err
}

func clientConfig(c *connection) (*ssh.ClientConfig, error) {
	cfg := &ssh.ClientConfig{User: c.User, HostKeyCallback: ssh.InsecureIgnoreHostKey()} // 1.2.1: no hostKey, any key
	if c.HostKey != nil {
		want, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*c.HostKey))
		if err != nil {
			return nil, fmt.Errorf("hostKey %q: %w", *c.HostKey, err)
		}
		cfg.HostKeyCallback = func(_ string, _ net.Addr, got ssh.PublicKey) error {
			if bytes.Equal(got.Marshal(), want.Marshal()) {
				return nil
			}
			return &hostKeyError{host: addr(c), got: got.Type() + " " + ssh.FingerprintSHA256(got), want: want.Type() + " " + ssh.FingerprintSHA256(want)}
		}
		// Ask for the pinned key's algorithm, so a host with several keys shows the one pinned.
		cfg.HostKeyAlgorithms = []string{want.Type()}
		if want.Type() == ssh.KeyAlgoRSA {
			cfg.HostKeyAlgorithms = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
	}
	if c.PrivateKey != nil {
		var signer ssh.Signer
		var err error
		if c.PrivateKeyPassword != nil {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(*c.PrivateKey), []byte(*c.PrivateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(*c.PrivateKey))
		}
		if err != nil {
			return nil, fmt.Errorf("privateKey: %w", err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if c.Password != nil {
		pw := *c.Password
		cfg.Auth = append(cfg.Auth, ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range answers {
				answers[i] = pw
			}
			return answers, nil
		}))
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if c.AgentSocketPath != nil {
		sock = *c.AgentSocketPath
	}
	if sock != "" {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return nil, fmt.Errorf("ssh agent at %s: %w", sock, err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	return cfg, nil
}
