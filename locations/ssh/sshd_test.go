package ssh_test

// Tests against real OpenSSH sshd processes on loopback ports (see
// testenv.StartSSHD): skipped without sshd, failed when CI=true.

import (
	"bytes"
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
	cases := append(testenv.CommonExecCases(tmp),
		testenv.ExecCase{Name: "quotes survive", Cmd: locations.Command{Script: `printf '%s\n' "it's \"quoted\"" '$HOME'`}, WantStdout: "it's \"quoted\"\n$HOME\n"},
		testenv.ExecCase{
			Name: "env exported over the login environment",
			Cmd: locations.Command{
				Script: `echo "$GANTRY_TEST_INHERITED|$GANTRY_TEST_NEW|$GANTRY_TEST_QUOTE|$GANTRY_TEST_LINES"; sh -c 'echo "child sees $GANTRY_TEST_NEW"'`,
				Env:    map[string]string{"GANTRY_TEST_NEW": "with space", "GANTRY_TEST_QUOTE": `it's "q" $x`, "GANTRY_TEST_LINES": "a\nb"},
			},
			WantStdout: "from-login|with space|it's \"q\" $x|a\nb\nchild sees with space\n",
		},
		testenv.ExecCase{Name: "stdin is empty", Cmd: locations.Command{Script: "cat; echo done"}, WantStdout: "done\n"},
		testenv.ExecCase{Name: "bad env name", Cmd: locations.Command{Script: "true", Env: map[string]string{"A-B": "x"}}, WantCode: -1, WantErr: locations.ErrInvalid},
	)
	testenv.RunExecCases(t, m, cases)
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

func TestExecStreamsOutput(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, _ := newDialer(t, ssh.Options{})
	testenv.ExecStreamsOutput(t, machineOf(d, srv))
}

func TestExecCancelKillsProcessGroup(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, _ := newDialer(t, ssh.Options{})
	testenv.ExecCancelKillsProcessGroup(t, machineOf(d, srv))
}

func TestExecBackgroundChildHoldingOutput(t *testing.T) {
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{})
	d, _ := newDialer(t, ssh.Options{})
	testenv.ExecBackgroundChildHoldingOutput(t, machineOf(d, srv))
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
