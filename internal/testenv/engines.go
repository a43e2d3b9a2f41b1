package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// MaxEngines is the most extra engines scripts/engines.sh runs.
const MaxEngines = 10

// EnginesScript is the script, relative to the repository root, that starts,
// lists and removes the extra engines (`make engines N=3`, `make engines-down`).
const EnginesScript = "scripts/engines.sh"

const enginesHint = "as root: make engines N=3 (scripts/engines.sh up 3); make engines-down removes them"

// EngineEndpoint is one of the extra Docker Engines scripts/engines.sh runs on
// this machine next to the main one, each with its own socket, data root,
// bridge and address pool: the endpoint and the TLS client files, as a docker
// location takes them (see Config).
type EngineEndpoint struct {
	// Index is the engine's number, 1 for the first; the script prints
	// engines 1..N in that order.
	Index int
	// Host is the endpoint: tcp://127.0.0.1:PORT for the engine reached over
	// TLS (engine 1), unix:///run/gantry-engines/I.sock for the others.
	Host string
	// TLSCA, TLSCert and TLSKey are the CA certificate and the client's
	// certificate and key (PEM files under /var/lib/gantry-engines/tls), set
	// when Host is reached over TLS.
	TLSCA, TLSCert, TLSKey string
}

// TLS reports whether the engine is reached over TLS.
func (e EngineEndpoint) TLS() bool { return e.TLSCA != "" }

// String is the endpoint as the script prints it: the host, then tls.ca=,
// tls.cert= and tls.key= when it uses TLS.
func (e EngineEndpoint) String() string {
	if !e.TLS() {
		return e.Host
	}
	return fmt.Sprintf("%s tls.ca=%s tls.cert=%s tls.key=%s", e.Host, e.TLSCA, e.TLSCert, e.TLSKey)
}

// Config is the config of a docker location for this engine: endpoint, and
// tls.ca, tls.cert, tls.key when it uses TLS (see locations/docker.ParseOptions).
func (e EngineEndpoint) Config() map[string]any {
	c := map[string]any{"endpoint": e.Host}
	if e.TLS() {
		c["tls.ca"], c["tls.cert"], c["tls.key"] = e.TLSCA, e.TLSCert, e.TLSKey
	}
	return c
}

// Client returns a Docker client of the engine, using the TLS client
// certificate when there is one, with the API version negotiated; it is
// closed when the test ends.
func (e EngineEndpoint) Client(t testing.TB) *client.Client {
	t.Helper()
	opts := []client.Opt{client.WithHost(e.Host), client.WithAPIVersionNegotiation()}
	if e.TLS() {
		opts = append(opts, client.WithTLSClientConfig(e.TLSCA, e.TLSCert, e.TLSKey))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		t.Fatalf("engine %d (%s): %v", e.Index, e.Host, err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ping, err := cli.Ping(ctx)
	if err != nil {
		t.Fatalf("engine %d (%s) does not answer: %v", e.Index, e.Host, err)
	}
	cli.NegotiateAPIVersionPing(ping)
	return cli
}

// ParseEngines reads the script's output: one engine a line, its endpoint
// followed by key=value pairs (tls.ca, tls.cert, tls.key, all three or none).
// Blank lines are ignored.
func ParseEngines(out string) ([]EngineEndpoint, error) {
	var eps []EngineEndpoint
	for n, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		e := EngineEndpoint{Index: len(eps) + 1, Host: fields[0]}
		if !strings.HasPrefix(e.Host, "tcp://") && !strings.HasPrefix(e.Host, "unix:///") {
			return nil, fmt.Errorf("engines line %d: endpoint %q: want tcp://HOST:PORT or unix:///PATH", n+1, e.Host)
		}
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok || v == "" {
				return nil, fmt.Errorf("engines line %d: %q: want key=value", n+1, f)
			}
			switch k {
			case "tls.ca":
				e.TLSCA = v
			case "tls.cert":
				e.TLSCert = v
			case "tls.key":
				e.TLSKey = v
			default:
				return nil, fmt.Errorf("engines line %d: unknown key %q (known: tls.ca, tls.cert, tls.key)", n+1, k)
			}
		}
		set := 0
		for _, v := range []string{e.TLSCA, e.TLSCert, e.TLSKey} {
			if v != "" {
				set++
			}
		}
		if set != 0 && set != 3 {
			return nil, fmt.Errorf("engines line %d: give all of tls.ca, tls.cert and tls.key, or none", n+1)
		}
		if e.TLS() && !strings.HasPrefix(e.Host, "tcp://") {
			return nil, fmt.Errorf("engines line %d: TLS files for %s, which is not tcp://", n+1, e.Host)
		}
		eps = append(eps, e)
	}
	return eps, nil
}

var engines struct {
	mu  sync.Mutex
	eps []EngineEndpoint // the most this process made sure of
}

// Engines makes sure at least n extra Docker Engines run on this machine
// (scripts/engines.sh up n, as root) and returns the first n; engine 1 is
// reached over TCP with TLS, the others by unix socket. Each has
// gantry/busybox:latest, and gantry/haproxy:latest when the main engine has
// it (call HAProxyImage first when the test needs it there).
//
// The engines are shared: by the tests of this process (the script runs once,
// again only when a test asks for more engines), and by concurrent test
// processes, the script serializing them with a lock and reusing engines that
// run rather than restarting them. Tests do not stop them, as they take
// seconds to start: they stay up after `go test` until `make engines-down`.
// A test removes what it creates on them: label containers with
// ContainerLabels(t, e.Client(t)), remove networks and volumes it makes.
//
// Not being root, Engines uses the engines that already run (scripts/engines.sh
// list), as after `sudo make engines N=3`. When the engines cannot be had, the
// test is skipped, or fails when CI=true.
func Engines(t testing.TB, n int) []EngineEndpoint {
	t.Helper()
	if n < 1 || n > MaxEngines {
		t.Fatalf("Engines(%d): want 1 to %d engines", n, MaxEngines)
	}
	RequireDocker(t)
	BusyboxImage(t) // the script copies it from the main engine
	engines.mu.Lock()
	defer engines.mu.Unlock()
	if len(engines.eps) >= n {
		return slices.Clone(engines.eps[:n])
	}
	root, err := findRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, filepath.FromSlash(EnginesScript))
	if os.Geteuid() != 0 {
		eps, err := runEngines(script, "list")
		if err != nil {
			unavailable(t, "extra Docker Engines: not root, and %v; %s", err, enginesHint)
		}
		if len(eps) < n {
			unavailable(t, "%d extra Docker Engines needed, %d run, and starting them needs root; %s", n, len(eps), enginesHint)
		}
		engines.eps = eps
		return slices.Clone(eps[:n])
	}
	if _, err := exec.LookPath("dockerd"); err != nil {
		unavailable(t, "extra Docker Engines need dockerd: %v; %s", err, ensureHint)
	}
	eps, err := runEngines(script, "up", fmt.Sprint(n))
	if err != nil {
		unavailable(t, "extra Docker Engines: %v", err)
	}
	if len(eps) != n {
		t.Fatalf("%s up %d printed %d engines: %v", EnginesScript, n, len(eps), eps)
	}
	engines.eps = eps
	return slices.Clone(eps)
}

// runEngines runs the script with args and parses what it prints.
func runEngines(script string, args ...string) ([]EngineEndpoint, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{script}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The engines it starts must not hold our pipes open.
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out: %w", err)
		}
		return nil, fmt.Errorf("%s %s: %w\n%s", EnginesScript, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	eps, err := ParseEngines(stdout.String())
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", EnginesScript, strings.Join(args, " "), err)
	}
	return eps, nil
}
