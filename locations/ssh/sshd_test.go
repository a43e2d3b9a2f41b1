package ssh_test

// Tests against real OpenSSH sshd processes on loopback ports (see
// testenv.StartSSHD): skipped without sshd, failed when CI=true.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/ssh"
)

// newDialer returns a Dialer with its own known_hosts file, closed at the end.
func newDialer(t *testing.T, opts ssh.Options) (*ssh.Dialer, string) {
	t.Helper()
	if opts.KnownHostsFile == "" {
		opts.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = 50 * time.Millisecond
	}
	d := ssh.NewDialer(opts)
	t.Cleanup(func() { d.Close() })
	return d, opts.KnownHostsFile
}

func hostOf(s *testenv.SSHD) ssh.Host {
	return ssh.Host{User: s.User, Host: s.Host, Port: s.Port, PrivateKeyFiles: []string{s.Key.File}}
}

func machineOf(d *ssh.Dialer, s *testenv.SSHD) *ssh.Machine {
	return ssh.NewMachine(d, hostOf(s), "", 0)
}

func TestExec(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{Env: map[string]string{"GANTRY_TEST_INHERITED": "from-login"}})
	d, _ := newDialer(t, ssh.Options{})
	m := machineOf(d, srv)
	tmp := t.TempDir()
	tests := []struct {
		name       string
		cmd        locations.Command
		wantCode   int
		wantStdout string
		wantStderr string
		wantErr    error
	}{
		{name: "success", cmd: locations.Command{Script: "echo hello"}, wantStdout: "hello\n"},
		{name: "exit code", cmd: locations.Command{Script: "echo out; echo err >&2; exit 3"}, wantCode: 3, wantStdout: "out\n", wantStderr: "err\n"},
		{name: "false", cmd: locations.Command{Script: "false"}, wantCode: 1},
		{name: "command not found", cmd: locations.Command{Script: "gantry-no-such-command-xyz 2>/dev/null"}, wantCode: 127},
		{name: "killed by signal", cmd: locations.Command{Script: "kill -TERM $$"}, wantCode: 128 + int(syscall.SIGTERM)},
		{name: "multi-line script", cmd: locations.Command{Script: "set -e\nA=1\nB=2\necho $((A+B))\n"}, wantStdout: "3\n"},
		{name: "quotes survive", cmd: locations.Command{Script: `printf '%s\n' "it's \"quoted\"" '$HOME'`}, wantStdout: "it's \"quoted\"\n$HOME\n"},
		{
			name: "env exported over the login environment",
			cmd: locations.Command{
				Script: `echo "$GANTRY_TEST_INHERITED|$GANTRY_TEST_NEW|$GANTRY_TEST_QUOTE|$GANTRY_TEST_LINES"; sh -c 'echo "child sees $GANTRY_TEST_NEW"'`,
				Env:    map[string]string{"GANTRY_TEST_NEW": "with space", "GANTRY_TEST_QUOTE": `it's "q" $x`, "GANTRY_TEST_LINES": "a\nb"},
			},
			wantStdout: "from-login|with space|it's \"q\" $x|a\nb\nchild sees with space\n",
		},
		{name: "dir", cmd: locations.Command{Script: "pwd", Dir: tmp}, wantStdout: tmp + "\n"},
		{
			name:       "dir created if missing",
			cmd:        locations.Command{Script: "pwd; touch made", Dir: filepath.Join(tmp, "a", "b c")},
			wantStdout: filepath.Join(tmp, "a", "b c") + "\n",
		},
		{name: "stdin is empty", cmd: locations.Command{Script: "cat; echo done"}, wantStdout: "done\n"},
		{name: "empty script", cmd: locations.Command{Script: "  "}, wantCode: -1, wantErr: locations.ErrInvalid},
		{name: "bad env name", cmd: locations.Command{Script: "true", Env: map[string]string{"A-B": "x"}}, wantCode: -1, wantErr: locations.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := tt.cmd
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			code, err := m.Exec(t.Context(), cmd)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if stdout.String() != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.wantStdout)
			}
			if stderr.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantStderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(tmp, "a", "b c", "made")); err != nil {
		t.Errorf("script did not run in the created dir: %v", err)
	}
	// A directory that cannot be made is an error that says so.
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, nil, 0o644)
	code, err := m.Exec(t.Context(), locations.Command{Script: "true", Dir: filepath.Join(file, "sub")})
	if code != -1 || !errors.Is(err, locations.ErrInvalid) || !strings.Contains(err.Error(), "create dir") {
		t.Fatalf("Exec in a dir under a file = %d, %v", code, err)
	}
}

// lineWriter records writes as they come, to show output is streamed.
type lineWriter struct {
	mu    sync.Mutex
	lines []string
	first chan struct{}
	once  sync.Once
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.lines = append(w.lines, string(p))
	w.mu.Unlock()
	w.once.Do(func() { close(w.first) })
	return len(p), nil
}

func TestExecStreamsOutput(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, _ := newDialer(t, ssh.Options{})
	w := &lineWriter{first: make(chan struct{})}
	release := filepath.Join(t.TempDir(), "release")
	done := make(chan error, 1)
	go func() {
		_, err := machineOf(d, srv).Exec(t.Context(), locations.Command{
			Script: `echo first; while [ ! -e "$RELEASE" ]; do sleep 0.05; done; echo second`,
			Env:    map[string]string{"RELEASE": release},
			Stdout: w,
		})
		done <- err
	}()
	select {
	case <-w.first:
	case <-time.After(15 * time.Second):
		t.Fatal("no output streamed while the script runs")
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if got := strings.Join(w.lines, ""); got != "first\nsecond\n" {
		t.Fatalf("output = %q", got)
	}
}

func TestExecCancelKillsProcessGroup(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, _ := newDialer(t, ssh.Options{})
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := machineOf(d, srv).Exec(ctx, locations.Command{
			Script: "sleep 300 & echo $! >> pids\nsh -c 'sleep 300 & echo $! >> pids; wait' &\necho $! >> pids\nwait",
			Dir:    dir,
		})
		done <- result{code, err}
	}()
	var list []int
	deadline := time.Now().Add(10 * time.Second)
	for len(list) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		list = readPids(pids)
	}
	if len(list) < 3 {
		t.Fatalf("script did not start its children: %v", list)
	}
	cancel()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Exec did not return after cancel")
	}
	if r.code != -1 || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Exec after cancel = %d, %v", r.code, r.err)
	}
	for _, pid := range list {
		deadline := time.Now().Add(5 * time.Second)
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("child %d survived the cancellation", pid)
		}
	}
}

// A background process that keeps the output open does not hold Exec.
func TestExecBackgroundChildHoldingOutput(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, _ := newDialer(t, ssh.Options{})
	dir := t.TempDir()
	var out bytes.Buffer
	start := time.Now()
	code, err := machineOf(d, srv).Exec(t.Context(), locations.Command{
		Script: "sleep 300 & echo $! > pid; echo launched", Dir: dir, Stdout: &out,
	})
	if err != nil || code != 0 {
		t.Fatalf("Exec = %d, %v", code, err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Exec took %s", took)
	}
	if out.String() != "launched\n" {
		t.Errorf("stdout = %q", out.String())
	}
	for _, pid := range readPids(filepath.Join(dir, "pid")) {
		if !alive(pid) {
			t.Errorf("background child %d was killed; it should survive a normal exit", pid)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func TestCopyFile(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, _ := newDialer(t, ssh.Options{})
	m := machineOf(d, srv)
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	tests := []struct {
		name string
		data []byte
		path string
		mode os.FileMode
		want os.FileMode
	}{
		{name: "small, parents made", data: []byte("hello\n"), path: filepath.Join(dir, "a", "b", "f.txt"), want: 0o644},
		{name: "executable", data: []byte("#!/bin/sh\necho run\n"), path: filepath.Join(dir, "run.sh"), mode: 0o750, want: 0o750},
		{name: "overwrite", data: []byte("second\n"), path: filepath.Join(dir, "a", "b", "f.txt"), mode: 0o600, want: 0o600},
		{name: "large", data: big, path: filepath.Join(dir, "big.bin"), want: 0o644},
		{name: "empty", data: nil, path: filepath.Join(dir, "empty"), want: 0o644},
		{name: "name with quote", data: []byte("q"), path: filepath.Join(dir, "it's here"), want: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := m.CopyFile(t.Context(), bytes.NewReader(tt.data), tt.path, tt.mode); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(tt.path)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Fatalf("read back %d bytes, %v; want %d", len(got), err, len(tt.data))
			}
			fi, _ := os.Stat(tt.path)
			if fi.Mode().Perm() != tt.want {
				t.Errorf("mode = %o, want %o", fi.Mode().Perm(), tt.want)
			}
		})
	}
	// The copied script runs there.
	var out bytes.Buffer
	if code, err := m.Exec(t.Context(), locations.Command{Script: "./run.sh", Dir: dir, Stdout: &out}); code != 0 || err != nil || out.String() != "run\n" {
		t.Fatalf("run copied script: %d %v %q", code, err, out.String())
	}
	// A reader that fails leaves nothing behind, and not a partial file.
	failing := io.MultiReader(bytes.NewReader([]byte("partial")), errReader{})
	target := filepath.Join(dir, "failed.txt")
	if err := m.CopyFile(t.Context(), failing, target, 0); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("CopyFile with a failing reader: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "failed") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	// CopyLocalFile keeps the local file's mode.
	src := filepath.Join(t.TempDir(), "tool")
	os.WriteFile(src, []byte("tool"), 0o700)
	if err := locations.CopyLocalFile(t.Context(), m, src, filepath.Join(dir, "bin", "tool"), 0); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "bin", "tool")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("copied tool: %v %v", fi, err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// Commands share one connection per host: they all see the same client port.
func TestConnectionReuse(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, _ := newDialer(t, ssh.Options{})
	m := machineOf(d, srv)
	other := machineOf(d, srv) // another Machine of the same host shares it too
	var mu sync.Mutex
	ports := map[string]bool{}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := m
			if i%2 == 1 {
				x = other
			}
			var out bytes.Buffer
			if code, err := x.Exec(t.Context(), locations.Command{Script: `echo "${SSH_CONNECTION%% *} ${SSH_CONNECTION#* }"`, Stdout: &out}); code != 0 || err != nil {
				t.Error(code, err)
				return
			}
			f := strings.Fields(out.String())
			mu.Lock()
			ports[f[1]] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(ports) != 1 {
		t.Fatalf("commands used %d connections (client ports %v), want 1", len(ports), ports)
	}
	if n := strings.Count(srvLog(t, srv), "Accepted publickey"); n != 1 {
		t.Errorf("sshd accepted %d logins, want 1", n)
	}
}

// After the server restarts (same key), the broken connection is replaced.
func TestReconnectAfterRestart(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, _ := newDialer(t, ssh.Options{})
	m := machineOf(d, srv)
	if code, err := m.Exec(t.Context(), locations.Command{Script: "true"}); code != 0 || err != nil {
		t.Fatal(code, err)
	}
	srv.Restart(false)
	if code, err := m.Exec(t.Context(), locations.Command{Script: "echo again"}); code != 0 || err != nil {
		t.Fatalf("Exec after restart = %d, %v", code, err)
	}
}

// The first connection records the host key; a changed key is refused with
// an error that names host, both fingerprints and the fix.
func TestHostKeyTrustOnFirstUseAndChange(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, known := newDialer(t, ssh.Options{})
	m := machineOf(d, srv)
	if code, err := m.Exec(t.Context(), locations.Command{Script: "true"}); code != 0 || err != nil {
		t.Fatal(code, err)
	}
	b, err := os.ReadFile(known)
	if err != nil {
		t.Fatal(err)
	}
	hostPattern := "[127.0.0.1]:" + strconv.Itoa(srv.Port)
	if !strings.HasPrefix(string(b), hostPattern+" ssh-ed25519 ") {
		t.Fatalf("known_hosts after first use:\n%s", b)
	}
	oldKey := srv.HostKey
	srv.Restart(true)
	start := time.Now()
	code, err := m.Exec(t.Context(), locations.Command{Script: "echo must not run"})
	if code != -1 || !errors.Is(err, ssh.ErrHostKeyChanged) {
		t.Fatalf("Exec with a changed host key = %d, %v; want ErrHostKeyChanged", code, err)
	}
	var hk *ssh.HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("error %T is not a *HostKeyError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		srv.Addr, xssh.FingerprintSHA256(oldKey), xssh.FingerprintSHA256(srv.HostKey),
		"ssh-keygen -R '" + hostPattern + "' -f " + known,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("refusal took %s: a changed key must not be retried", took)
	}
	t.Logf("refused as: %v", err)
	// The file is unchanged: the new key was not recorded.
	if b2, _ := os.ReadFile(known); !bytes.Equal(b, b2) {
		t.Errorf("known_hosts changed:\n%s", b2)
	}
	// Following the advice fixes it.
	if out, err := runCmd("ssh-keygen", "-R", hostPattern, "-f", known); err != nil {
		t.Logf("ssh-keygen not usable (%v: %s); removing the line by hand", err, out)
		os.WriteFile(known, nil, 0o600)
	}
	if code, err := m.Exec(t.Context(), locations.Command{Script: "true"}); code != 0 || err != nil {
		t.Fatalf("after removing the old key: %d, %v", code, err)
	}
}

func TestAuthAndConnectErrors(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, _ := newDialer(t, ssh.Options{Attempts: 3})
	wrongKey := testenv.NewSSHKey(t, "wrong")
	tests := []struct {
		name     string
		host     ssh.Host
		want     []error
		wantText []string
		maxTime  time.Duration
	}{
		{name: "key not authorized", host: ssh.Host{User: srv.User, Host: srv.Host, Port: srv.Port, PrivateKeyFiles: []string{wrongKey.File}},
			want: []error{ssh.ErrAuth, locations.ErrInvalid}, wantText: []string{"login refused for user " + srv.User, wrongKey.File, "privateKeyFile"}, maxTime: 5 * time.Second},
		{name: "missing key file", host: ssh.Host{User: srv.User, Host: srv.Host, Port: srv.Port, PrivateKeyFiles: []string{"/nonexistent/key"}},
			want: []error{locations.ErrInvalid}, wantText: []string{"/nonexistent/key"}, maxTime: time.Second},
		{name: "password not allowed", host: ssh.Host{User: srv.User, Host: srv.Host, Port: srv.Port, Password: "nope"},
			want: []error{ssh.ErrAuth}, wantText: []string{"tried password"}, maxTime: 5 * time.Second},
		{name: "nobody listening", host: ssh.Host{User: srv.User, Host: "127.0.0.1", Port: closedPort(t), PrivateKeyFiles: []string{srv.Key.File}},
			want: []error{locations.ErrUnavailable}, wantText: []string{"after 3 attempts", "connection refused", "sshd listens on port"}, maxTime: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, err := ssh.NewMachine(d, tt.host, "", 0).Exec(t.Context(), locations.Command{Script: "true"})
			if code != -1 || err == nil {
				t.Fatalf("Exec = %d, %v", code, err)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error does not wrap %v: %v", w, err)
				}
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
			if took := time.Since(start); took > tt.maxTime {
				t.Errorf("took %s, want under %s", took, tt.maxTime)
			}
			t.Logf("%v", err)
		})
	}
}

// A host that accepts TCP but never speaks SSH times out with a clear error.
func TestHandshakeTimeout(t *testing.T) {
	ln := listenSilently(t)
	d, _ := newDialer(t, ssh.Options{HandshakeTimeout: 300 * time.Millisecond, Attempts: 2})
	key := testenv.NewSSHKey(t, "k")
	start := time.Now()
	_, err := ssh.NewMachine(d, ssh.Host{User: "u", Host: "127.0.0.1", Port: ln, PrivateKeyFiles: []string{key.File}}, "", 0).
		Exec(t.Context(), locations.Command{Script: "true"})
	if !errors.Is(err, locations.ErrUnavailable) || !strings.Contains(err.Error(), "no SSH handshake within 300ms") || !strings.Contains(err.Error(), "2 attempts") {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %s", took)
	}
}

func TestPasswordAuth(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{Password: "gantry-test-pw"})
	d, _ := newDialer(t, ssh.Options{})
	var out bytes.Buffer
	m := ssh.NewMachine(d, ssh.Host{User: srv.User, Host: srv.Host, Port: srv.Port, Password: "gantry-test-pw"}, "", 0)
	if code, err := m.Exec(t.Context(), locations.Command{Script: "echo $GANTRY_SSHD", Stdout: &out}); code != 0 || err != nil {
		t.Fatalf("Exec with password = %d, %v", code, err)
	}
	if out.String() != "sshd\n" {
		t.Fatalf("stdout = %q", out.String())
	}
	if !strings.Contains(srvLog(t, srv), "Accepted password") {
		t.Errorf("sshd did not log a password login")
	}
	wrong := ssh.NewMachine(d, ssh.Host{User: srv.User, Host: srv.Host, Port: srv.Port, Password: "wrong"}, "", 0)
	if _, err := wrong.Exec(t.Context(), locations.Command{Script: "true"}); !errors.Is(err, ssh.ErrAuth) {
		t.Fatalf("wrong password: %v", err)
	}
}

// A pool of three machines (three sshd): one machine per entity, clear
// errors when none is free, leases saved and restored.
func TestPool(t *testing.T) {
	key := testenv.NewSSHKey(t, "client")
	var srvs []*testenv.SSHD
	var hosts []any
	for i := range 3 {
		s := testenv.StartSSHD(t, testenv.SSHDOptions{Name: fmt.Sprintf("m%d", i+1), Authorized: []testenv.SSHKey{key}})
		srvs = append(srvs, s)
		hosts = append(hosts, s.Addr)
	}
	d, _ := newDialer(t, ssh.Options{})
	var saved []string
	save := func(state json.RawMessage) error {
		saved = append(saved, string(state))
		return nil
	}
	def := locations.Definition{ID: "byon-test", Spec: "byon", Config: map[string]any{
		"hosts": hosts, "user": srvs[0].User, "privateKeyFile": key.File,
	}}
	pool, err := ssh.NewPool(d, def, save)
	if err != nil {
		t.Fatal(err)
	}
	var l locations.Location = pool
	if l.Kind() != "byon" || l.ID() != "byon-test" || !locations.RunsCommands(l) {
		t.Fatalf("pool %s %s", l.Kind(), l.ID())
	}
	ctx := t.Context()
	names := map[string]string{}
	for _, e := range []string{"e1", "e2", "e3"} {
		x, err := locations.ExecutorFor(ctx, pool, e)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if code, err := x.Exec(ctx, locations.Command{Script: "echo $GANTRY_SSHD", Stdout: &out}); code != 0 || err != nil {
			t.Fatal(code, err)
		}
		names[e] = strings.TrimSpace(out.String())
	}
	if names["e1"] != "m1" || names["e2"] != "m2" || names["e3"] != "m3" {
		t.Fatalf("machines by entity: %v", names)
	}
	// Obtain again: the same machine.
	m, err := pool.Obtain(ctx, "e2")
	if err != nil || m.MachineID() != srvs[1].User+"@"+srvs[1].Addr || m.Address() != "127.0.0.1" || m.Hostname() != "127.0.0.1" {
		t.Fatalf("Obtain(e2) again = %v, %v", m, err)
	}
	_, err = pool.Obtain(ctx, "e4")
	if !errors.Is(err, locations.ErrNoCapacity) {
		t.Fatalf("fourth entity: %v", err)
	}
	for _, want := range []string{"no machine free for entity e4", "all 3 are in use", srvs[0].Addr + " by entity e1", "add hosts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if m, ok := pool.Holding("e2"); !ok || m.MachineID() != srvs[1].User+"@"+srvs[1].Addr {
		t.Fatalf("Holding(e2) = %v, %v", m, ok)
	}
	if _, ok := pool.Holding("e4"); ok {
		t.Fatal("Holding(e4) before it got a machine")
	}
	if err := pool.Release(ctx, "e2"); err != nil {
		t.Fatal(err)
	}
	if err := pool.Release(ctx, "e2"); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if m, err := pool.Obtain(ctx, "e4"); err != nil || m.MachineID() != srvs[1].User+"@"+srvs[1].Addr {
		t.Fatalf("e4 after release = %v, %v", m, err)
	}
	if cfg := pool.Config(); cfg["machines"] != 3 || cfg["free"] != 0 {
		t.Fatalf("Config = %v", cfg)
	}
	for _, v := range pool.Config() {
		if s := fmt.Sprint(v); strings.Contains(s, "BEGIN OPENSSH") {
			t.Fatalf("Config shows key data: %v", pool.Config())
		}
	}

	// Made again from the last saved state (a restarted server): the same
	// machines for the same entities.
	def.State = json.RawMessage(saved[len(saved)-1])
	again, err := ssh.NewPool(d, def, save)
	if err != nil {
		t.Fatal(err)
	}
	for e, want := range map[string]int{"e1": 0, "e3": 2, "e4": 1} {
		m, err := again.Obtain(ctx, e)
		if err != nil || m.MachineID() != srvs[want].User+"@"+srvs[want].Addr {
			t.Errorf("restored %s = %v, %v; want %s", e, m, err, srvs[want].Addr)
		}
	}
	if _, err := again.Obtain(ctx, "e2"); !errors.Is(err, locations.ErrNoCapacity) {
		t.Errorf("released e2 got a machine after restore: %v", err)
	}

	// A failed save undoes the change.
	failing, err := ssh.NewPool(d, locations.Definition{ID: "byon-f", Spec: "byon", Config: def.Config},
		func(json.RawMessage) error { return errors.New("store is down") })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := failing.Obtain(ctx, "e1"); err == nil || !strings.Contains(err.Error(), "store is down") {
		t.Fatalf("Obtain with failing save: %v", err)
	}
	if _, held := failing.Holder(srvs[0].User + "@" + srvs[0].Addr); held {
		t.Fatal("lease kept although it was not saved")
	}
}

// Registered with a Registry, byon specs resolve to pools, and several
// machines run commands at once.
func TestRegistryByon(t *testing.T) {
	key := testenv.NewSSHKey(t, "client")
	a := testenv.StartSSHD(t, testenv.SSHDOptions{Name: "a", Authorized: []testenv.SSHKey{key}})
	b := testenv.StartSSHD(t, testenv.SSHDOptions{Name: "b", Authorized: []testenv.SSHKey{key}})
	d, _ := newDialer(t, ssh.Options{})
	r := locations.NewRegistry()
	if err := ssh.Register(r, d); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf(`byon:(hosts="%s@127.0.0.1:{%d,%d}",privateKeyFile="%s")`, a.User, a.Port, b.Port, key.File)
	l, err := r.Resolve(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := l.(*ssh.Pool)
	if got := len(pool.Machines()); got != 2 {
		t.Fatalf("%d machines", got)
	}
	var wg sync.WaitGroup
	results := make([]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			m := pool.Machines()[i%2]
			if code, err := m.Exec(t.Context(), locations.Command{Script: "sleep 0.2; echo $GANTRY_SSHD", Stdout: &out}); code != 0 || err != nil {
				t.Error(code, err)
			}
			results[i] = strings.TrimSpace(out.String())
		}()
	}
	wg.Wait()
	for i, r := range results {
		if want := []string{"a", "b"}[i%2]; r != want {
			t.Errorf("command %d ran on %q, want %q", i, r, want)
		}
	}
	if _, err := r.Resolve("byon", map[string]any{"hosts": []any{}}); !errors.Is(err, locations.ErrInvalid) {
		t.Fatalf("empty hosts: %v", err)
	}
}

func srvLog(t *testing.T, s *testenv.SSHD) string {
	t.Helper()
	return s.Log()
}

func readPids(path string) []int {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// closedPort returns a loopback port nobody listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// listenSilently accepts connections and never says anything; it returns the port.
func listenSilently(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
