package ssh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/gantry-dev/gantry/locations"
)

// Defaults of Options.
const (
	DefaultDialTimeout      = 10 * time.Second
	DefaultHandshakeTimeout = 15 * time.Second
	DefaultAttempts         = 3
	DefaultRetryDelay       = 500 * time.Millisecond
)

// ErrAuth is wrapped by the error of a connection whose login was refused
// (it also matches locations.ErrInvalid: the location's credentials are wrong).
var ErrAuth = errors.New("authentication failed")

// Options configure a Dialer. The zero value uses the defaults.
type Options struct {
	// KnownHostsFile records and checks host keys; default ~/.ssh/known_hosts
	// of the server's user. A location's knownHostsFile overrides it.
	KnownHostsFile string
	// User logs in when a location names none; default the server's user.
	User string
	// DialTimeout bounds a TCP connect; HandshakeTimeout the SSH handshake
	// and login that follow.
	DialTimeout, HandshakeTimeout time.Duration
	// Attempts is how many times a connection is tried when the host does not
	// answer (refused, timed out, reset); RetryDelay is the pause after the
	// first failure, doubled after each next one. Refused logins and changed
	// host keys are not tried again.
	Attempts   int
	RetryDelay time.Duration
	// KeepAlive is how often an idle connection is checked (default 30s; a
	// negative value turns it off); a connection that does not answer is
	// closed and dialled again when next needed.
	KeepAlive time.Duration
	Logger    *slog.Logger
}

// Dialer holds the SSH connections of every pool: one per host, user and
// credentials, dialled when first needed and again after it broke. It is safe
// for concurrent use. The zero value is not usable; call NewDialer.
type Dialer struct {
	opts Options

	mu      sync.Mutex
	conns   map[string]*conn
	known   map[string]*knownHosts
	closed  bool
	closing chan struct{}
}

// conn is one cached connection; sem (capacity 1) serialises dialling it.
type conn struct {
	sem    chan struct{}
	client *xssh.Client // guarded by Dialer.mu
}

// NewDialer returns a Dialer with opts, the zero fields set to their defaults.
func NewDialer(opts Options) *Dialer {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = DefaultRetryDelay
	}
	if opts.KeepAlive == 0 {
		opts.KeepAlive = 30 * time.Second
	}
	if opts.User == "" {
		if u, err := user.Current(); err == nil {
			opts.User = u.Username
		}
	}
	if opts.KnownHostsFile == "" {
		opts.KnownHostsFile = "~/.ssh/known_hosts"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Dialer{opts: opts, conns: map[string]*conn{}, known: map[string]*knownHosts{}, closing: make(chan struct{})}
}

// DefaultUser is the user of locations that name none.
func (d *Dialer) DefaultUser() string { return d.opts.User }

// Close closes every connection. Machines of the Dialer cannot run commands
// after it.
func (d *Dialer) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	close(d.closing)
	var errs []error
	for k, c := range d.conns {
		if c.client != nil {
			if err := c.client.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		delete(d.conns, k)
	}
	return errors.Join(errs...)
}

// target is what a connection is made for.
type target struct {
	host           Host
	knownHostsFile string        // "" for the Dialer's
	timeout        time.Duration // 0 for the Dialer's
}

// key identifies the connection of t: its credentials are part of it, so that
// a location with other (or wrong) credentials never borrows a connection
// that another location logged in.
func (t target) key() string {
	h := sha256.New()
	for _, s := range append([]string{t.host.ID(), t.knownHostsFile, t.host.PrivateKeyData, t.host.Passphrase, t.host.Password}, t.host.PrivateKeyFiles...) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return t.host.ID() + "/" + hex.EncodeToString(h.Sum(nil)[:8])
}

// client returns the connection of t, dialling it when there is none.
func (d *Dialer) client(ctx context.Context, t target) (*xssh.Client, error) {
	key := t.key()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, fmt.Errorf("ssh: the server is shutting down: %w", locations.ErrUnavailable)
	}
	c := d.conns[key]
	if c == nil {
		c = &conn{sem: make(chan struct{}, 1)}
		d.conns[key] = c
	}
	if cl := c.client; cl != nil {
		d.mu.Unlock()
		return cl, nil
	}
	d.mu.Unlock()

	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("ssh: %w", ctx.Err())
	}
	defer func() { <-c.sem }()
	d.mu.Lock()
	if cl := c.client; cl != nil { // dialled while this one waited
		d.mu.Unlock()
		return cl, nil
	}
	d.mu.Unlock()

	cl, err := d.dial(ctx, t)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		cl.Close()
		return nil, fmt.Errorf("ssh: the server is shutting down: %w", locations.ErrUnavailable)
	}
	c.client = cl
	d.mu.Unlock()
	go d.watch(key, c, cl)
	return cl, nil
}

// watch forgets cl once its connection ends, and checks it while idle.
func (d *Dialer) watch(key string, c *conn, cl *xssh.Client) {
	done := make(chan struct{})
	go func() {
		cl.Wait()
		close(done)
	}()
	var tick <-chan time.Time
	if d.opts.KeepAlive > 0 {
		t := time.NewTicker(d.opts.KeepAlive)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-done:
			d.forget(key, c, cl)
			return
		case <-d.closing:
			return
		case <-tick:
			if err := keepAlive(cl, d.opts.HandshakeTimeout); err != nil {
				d.opts.Logger.Info("ssh connection does not answer: closing it", "host", cl.RemoteAddr().String(), "err", err)
				cl.Close()
			}
		}
	}
}

func keepAlive(cl *xssh.Client, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		_, _, err := cl.SendRequest("keepalive@openssh.com", true, nil)
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(timeout):
		return errors.New("no answer to a keepalive within " + timeout.String())
	}
}

// forget drops cl from the cache (if it is still the cached one) and closes it.
func (d *Dialer) forget(key string, c *conn, cl *xssh.Client) {
	d.mu.Lock()
	if c.client == cl {
		c.client = nil
	}
	d.mu.Unlock()
	cl.Close()
}

// drop is forget for a connection found broken by its user.
func (d *Dialer) drop(t target, cl *xssh.Client) {
	key := t.key()
	d.mu.Lock()
	c := d.conns[key]
	d.mu.Unlock()
	if c != nil {
		d.forget(key, c, cl)
	} else {
		cl.Close()
	}
}

func (d *Dialer) knownHosts(path string) (*knownHosts, error) {
	if path == "" {
		path = d.opts.KnownHostsFile
	}
	p, err := expandHome(path)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := d.known[p]
	if k == nil {
		k = &knownHosts{path: p, log: d.opts.Logger}
		d.known[p] = k
	}
	return k, nil
}

// dial connects and logs in, trying again when the host does not answer.
func (d *Dialer) dial(ctx context.Context, t target) (*xssh.Client, error) {
	id := t.host.ID()
	auth, tried, err := authMethods(t.host)
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	kh, err := d.knownHosts(t.knownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	addr := t.host.Addr()
	algos, err := kh.algorithms(addr)
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	dialTimeout, hsTimeout := d.opts.DialTimeout, d.opts.HandshakeTimeout
	if t.timeout > 0 {
		dialTimeout, hsTimeout = t.timeout, t.timeout
	}
	cfg := &xssh.ClientConfig{
		User:              t.host.User,
		Auth:              auth,
		HostKeyCallback:   kh.check,
		HostKeyAlgorithms: algos,
		Timeout:           dialTimeout,
	}
	start := time.Now()
	delay := d.opts.RetryDelay
	for attempt := 1; ; attempt++ {
		// Whether the host's key was accepted tells a refused login (after it)
		// from a host that does not answer (before it).
		var keyOK atomic.Bool
		try := *cfg
		try.HostKeyCallback = func(hostname string, remote net.Addr, key xssh.PublicKey) error {
			err := kh.check(hostname, remote, key)
			keyOK.Store(err == nil)
			return err
		}
		cl, err := dialOnce(ctx, addr, &try, dialTimeout, hsTimeout)
		if err == nil {
			d.opts.Logger.Debug("ssh connected", "host", id, "attempts", attempt)
			return cl, nil
		}
		var hk *HostKeyError
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("ssh: %w", ctx.Err())
		case errors.As(err, &hk):
			return nil, fmt.Errorf("ssh: %w", hk)
		case errors.Is(err, ErrHostKeyChanged):
			return nil, fmt.Errorf("ssh: %w", err)
		case keyOK.Load() && !isNetError(err):
			return nil, fmt.Errorf("ssh: login refused for user %s (tried %s): check the location's user, privateKeyFile or password; the server said: %v: %w (%w)",
				t.host.User, strings.Join(tried, ", "), err, ErrAuth, locations.ErrInvalid)
		case attempt >= d.opts.Attempts:
			return nil, fmt.Errorf("ssh: no connection after %d attempts in %s: %v; check that the host is up and that sshd listens on port %d: %w",
				attempt, time.Since(start).Round(time.Millisecond), err, t.host.Port, locations.ErrUnavailable)
		}
		d.opts.Logger.Debug("ssh connection failed; trying again", "host", id, "attempt", attempt, "err", err, "after", delay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, fmt.Errorf("ssh: %w", ctx.Err())
		}
		delay *= 2
	}
}

// dialOnce makes one TCP connection and SSH handshake, within the timeouts
// and ctx.
func dialOnce(ctx context.Context, addr string, cfg *xssh.ClientConfig, dialTimeout, hsTimeout time.Duration) (*xssh.Client, error) {
	nd := net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	tcp, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tcp.SetDeadline(time.Now().Add(hsTimeout))
	stop := context.AfterFunc(ctx, func() { tcp.SetDeadline(time.Unix(1, 0)) })
	sc, chans, reqs, err := xssh.NewClientConn(tcp, addr, cfg)
	stop()
	if err != nil {
		tcp.Close()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("no SSH handshake within %s: %w", hsTimeout, err)
		}
		return nil, err
	}
	tcp.SetDeadline(time.Time{})
	return xssh.NewClient(sc, chans, reqs), nil
}

// defaultKeys are tried when a host has no credentials, as ssh does.
var defaultKeys = []string{"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"}

// authMethods returns how to log in to h, and a description of what is tried.
func authMethods(h Host) ([]xssh.AuthMethod, []string, error) {
	var signers []xssh.Signer
	var tried []string
	parse := func(what string, pem []byte) error {
		var s xssh.Signer
		var err error
		if h.Passphrase != "" {
			s, err = xssh.ParsePrivateKeyWithPassphrase(pem, []byte(h.Passphrase))
		} else {
			s, err = xssh.ParsePrivateKey(pem)
		}
		var pm *xssh.PassphraseMissingError
		switch {
		case errors.As(err, &pm):
			return fmt.Errorf("private key %s is encrypted: set privateKeyPassphrase on the location: %w", what, locations.ErrInvalid)
		case err != nil:
			return fmt.Errorf("private key %s: %v: %w", what, err, locations.ErrInvalid)
		}
		signers = append(signers, s)
		tried = append(tried, "public key "+what+" ("+fingerprint(s.PublicKey())+")")
		return nil
	}
	if h.PrivateKeyData != "" {
		if err := parse("privateKeyData", []byte(h.PrivateKeyData)); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range h.PrivateKeyFiles {
		p, err := expandHome(f)
		if err != nil {
			return nil, nil, err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read privateKeyFile: %v: %w", err, locations.ErrInvalid)
		}
		if err := parse(p, b); err != nil {
			return nil, nil, err
		}
	}
	if len(signers) == 0 && h.Password == "" {
		for _, f := range defaultKeys {
			p, err := expandHome(f)
			if err != nil {
				continue
			}
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if err := parse(p, b); err != nil {
				continue // an encrypted default key: skip it, as ssh would without an agent
			}
		}
		if len(signers) == 0 {
			return nil, nil, fmt.Errorf("no credentials for %s: set privateKeyFile, privateKeyData or password on the location (there is no usable %s either): %w",
				h.ID(), strings.Join(defaultKeys, ", "), locations.ErrInvalid)
		}
	}
	var methods []xssh.AuthMethod
	if len(signers) > 0 {
		methods = append(methods, xssh.PublicKeys(signers...))
	}
	if h.Password != "" {
		pw := h.Password
		methods = append(methods, xssh.Password(pw), xssh.KeyboardInteractive(
			func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if !echos[i] {
						answers[i] = pw
					}
				}
				return answers, nil
			}))
		tried = append(tried, "password")
	}
	return methods, tried, nil
}

func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand %s: %w", p, err)
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

// isNetError reports whether err is the connection failing rather than the
// host refusing something.
func isNetError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded)
}
