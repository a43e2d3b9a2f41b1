package testenv

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// etcdPaths are where etcd is looked for (Debian's etcd-server).
var etcdPaths = []string{"/usr/bin/etcd", "/usr/local/bin/etcd"}

const ensureEtcdHint = "run scripts/ensure-etcd.sh (as root on Debian it installs etcd-server)"

// RequireEtcd returns the path of the etcd server binary: $GANTRY_ETCD_PATH when
// set, else the first of /usr/bin/etcd, /usr/local/bin/etcd and etcd on PATH.
// When there is none the test is skipped, or fails when CI=true.
func RequireEtcd(t testing.TB) string {
	t.Helper()
	p, looked := findDaemon("GANTRY_ETCD_PATH", "etcd", etcdPaths)
	if p == "" {
		unavailable(t, "no etcd at %s; %s", strings.Join(looked, " or "), ensureEtcdHint)
	}
	return p
}

// Etcd is a single-member etcd server a test started on loopback ports, with a
// data directory of its own under the test's temporary directory.
type Etcd struct {
	t    testing.TB
	path string
	name string
	dir  string

	// Endpoint is the client URL, "http://127.0.0.1:port"; Endpoints is it
	// alone, as etcd clients take them.
	Endpoint  string
	Endpoints []string
	// ClientPort and PeerPort are the loopback ports it listens on.
	ClientPort, PeerPort int
	// DataDir is its data directory.
	DataDir string

	mu     sync.Mutex
	proc   *os.Process // nil when stopped
	exited chan error
	log    *lockedBuffer
}

// StartEtcd starts a private etcd (Debian's etcd-server binary) on two free
// loopback ports with its own data directory under t.TempDir(), waits until it
// answers its health check, and stops it when the test ends; its log is shown
// when the test failed. No system service is involved. It skips the test
// (fails under CI=true) when there is no etcd.
func StartEtcd(t testing.TB) *Etcd {
	t.Helper()
	path := RequireEtcd(t)
	dir := t.TempDir()
	e := &Etcd{t: t, path: path, name: "gantry-test", dir: dir, DataDir: filepath.Join(dir, "data"), log: &lockedBuffer{}}
	t.Cleanup(func() {
		e.Stop()
		if t.Failed() {
			t.Logf("log of etcd (%s):\n%s", e.Endpoint, e.log)
		}
	})
	// A free port can be taken between choosing and binding it: try a few.
	for attempt := 1; ; attempt++ {
		e.ClientPort, e.PeerPort = freePort(t), freePort(t)
		if e.ClientPort == e.PeerPort {
			continue
		}
		e.Endpoint = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(e.ClientPort))
		e.Endpoints = []string{e.Endpoint}
		err := e.start()
		if err == nil {
			return e
		}
		if attempt == 5 || !strings.Contains(e.log.String(), "address already in use") {
			t.Fatalf("start etcd: %v\n%s", err, e.log)
		}
		os.RemoveAll(e.DataDir)
	}
}

func (e *Etcd) args() []string {
	peer := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(e.PeerPort))
	return []string{
		"--name", e.name,
		"--data-dir", e.DataDir,
		"--listen-client-urls", e.Endpoint,
		"--advertise-client-urls", e.Endpoint,
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", e.name + "=" + peer,
		"--initial-cluster-state", "new",
		"--initial-cluster-token", "gantry-test-" + strconv.Itoa(e.ClientPort),
		// Tests write little: keep the server small and quick.
		"--snapshot-count", "10000",
		"--quota-backend-bytes", strconv.Itoa(256 << 20),
		"--logger", "zap",
		"--log-outputs", "stderr",
		"--log-level", "warn",
	}
}

func (e *Etcd) start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	cmd := exec.Command(e.path, e.args()...)
	cmd.Env = os.Environ()
	if runtime.GOARCH != "amd64" {
		// etcd 3.4 refuses to run on architectures it calls unsupported
		// (arm64 among them) unless told to.
		cmd.Env = append(cmd.Env, "ETCD_UNSUPPORTED_ARCH="+runtime.GOARCH)
	}
	cmd.Stdout, cmd.Stderr = e.log, e.log
	proc, exited, err := startDaemon("etcd", cmd, 20*time.Second, 50*time.Millisecond, func() bool { return etcdHealthy(e.Endpoint) })
	if err != nil {
		return err
	}
	e.proc, e.exited = proc, exited
	return nil
}

// etcdHealthy reports whether the etcd at endpoint answers /health with
// {"health":"true"}.
func etcdHealthy(endpoint string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(endpoint + "/health")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h struct {
		Health string `json:"health"`
	}
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&h) == nil && h.Health == "true"
}

// Restart stops the server and starts it again on the same ports with the same
// data directory: what was written survives.
func (e *Etcd) Restart() {
	e.t.Helper()
	e.Stop()
	if err := e.start(); err != nil {
		e.t.Fatalf("restart etcd: %v\n%s", err, e.log)
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 5s). Stopping a stopped
// server does nothing.
func (e *Etcd) Stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.proc == nil {
		return
	}
	e.proc.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(5 * time.Second):
		e.proc.Kill()
		<-e.exited
	}
	e.proc = nil
}

// Log returns what etcd logged so far.
func (e *Etcd) Log() string { return e.log.String() }
