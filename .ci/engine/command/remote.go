package main

import (
	"context"
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

// dial connects to the host, through the proxy when there is one, the way pulumi-command 1.2.1's
// Connection.Dial does (provider/pkg/provider/remote/connection.go): each stage is retried up to
// its dialErrorLimit with the SDK's backoff, a wrong host key included (it is a handshake error
// like any other), and perDialTimeout bounds only the TCP connect (x/crypto's ssh.Dial applies
// ClientConfig.Timeout to net.DialTimeout; the handshake has no deadline).
func (p *provider) dial(ctx context.Context, urn string, c *connection) (*ssh.Client, error) {
	cfg, err := clientConfig(c)
	if err != nil {
		return nil, err
	}
	endpoint := addr(c)
	if c.Proxy == nil {
		return dialRetry(ctx, p, urn, "Dial", c.DialErrorLimit, func() (*ssh.Client, error) {
			return sshDial(ctx, endpoint, cfg)
		})
	}

	pcfg, err := clientConfig(c.Proxy)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	proxy, err := dialRetry(ctx, p, urn, "Dial proxy", c.Proxy.DialErrorLimit, func() (*ssh.Client, error) {
		return sshDial(ctx, addr(c.Proxy), pcfg)
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	// Upstream's three stages: the proxy, a TCP channel through it (no per-dial timeout), then
	// the SSH handshake over that one channel, each with its own retries.
	conn, err := dialRetry(ctx, p, urn, "Dial from proxy", c.DialErrorLimit, func() (net.Conn, error) {
		return proxy.Dial("tcp", endpoint)
	})
	if err != nil {
		proxy.Close()
		return nil, fmt.Errorf("proxy: %w", err)
	}
	client, err := dialRetry(ctx, p, urn, "Dial", c.DialErrorLimit, func() (*ssh.Client, error) {
		cc, chans, reqs, err := ssh.NewClientConn(conn, endpoint, cfg)
		if err != nil {
			return nil, err
		}
		return ssh.NewClient(cc, chans, reqs), nil
	})
	if err != nil {
		proxy.Close()
		return nil, fmt.Errorf("proxy: %w", err)
	}
	// The tunnel lives as long as the target connection.
	go func() { _ = client.Wait(); proxy.Close() }()
	return client, nil
}

// sshDial is x/crypto's ssh.Dial, except that a cancelled operation also ends the TCP connect.
func sshDial(ctx context.Context, endpoint string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	conn, err := (&net.Dialer{Timeout: cfg.Timeout}).DialContext(ctx, "tcp", endpoint)
	if err != nil {
		return nil, err
	}
	cc, chans, reqs, err := ssh.NewClientConn(conn, endpoint, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return ssh.NewClient(cc, chans, reqs), nil
}

// dialRetry retries f as upstream's dialWithRetry (connection.go) does: every error counts
// against the limit (-1: no limit); each failure but the last is reported as an ephemeral status
// line "<what> N/limit failed: retrying", and the last as "after N failed attempts: <error>" with
// upstream's count (the failures before the last). Cancelled while waiting: the context's error.
func dialRetry[T any](ctx context.Context, p *provider, urn, what string, limit int, f func() (T, error)) (T, error) {
	ok, res, err := retry.Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			v, err := f()
			if err == nil {
				return true, v, nil
			}
			dials := try + 1
			if limit > -1 && dials > limit {
				return true, nil, fmt.Errorf("after %d failed attempts: %w", try, err)
			}
			max := "inf"
			if limit > -1 {
				max = strconv.Itoa(limit)
			}
			p.log(urn, pulumirpc.LogSeverity_INFO, fmt.Sprintf("%s %d/%s failed: retrying", what, dials, max), true)
			return false, nil, nil
		},
	})
	if ok && err == nil {
		return res.(T), nil
	}
	var zero T
	if err == nil {
		err = ctx.Err()
	}
	return zero, err
}

// clientConfig builds the SSH client settings as upstream's SSHConfig (connection.go): a pinned
// hostKey is checked with ssh.FixedHostKey and offered as the only host-key algorithm, its own
// type (so an RSA pin offers "ssh-rsa", SHA-1 signatures, which OpenSSH 8.8 and later refuse);
// without one any key is taken. Timeout is perDialTimeout, which ssh.Dial applies to TCP only.
func clientConfig(c *connection) (*ssh.ClientConfig, error) {
	cfg := &ssh.ClientConfig{User: c.User, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: time.Duration(c.PerDialTimeout) * time.Second}
	if c.HostKey != nil {
		want, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*c.HostKey))
		if err != nil {
			return nil, fmt.Errorf("failed to parse host key: %w", err)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(want)
		cfg.HostKeyAlgorithms = []string{want.Type()}
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
			return nil, err
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
			return nil, err
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	return cfg, nil
}
