package testenv

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshdPaths are where OpenSSH's server is looked for (Debian's openssh-server).
var sshdPaths = []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"}

const ensureSSHDHint = "run scripts/ensure-sshd.sh (as root on Debian it installs openssh-server)"

// RequireSSHD returns the path of OpenSSH's sshd: $GANTRY_SSHD_PATH when set, else
// the first of /usr/sbin/sshd, /usr/local/sbin/sshd and sshd on PATH. When
// there is none the test is skipped, or fails when CI=true.
func RequireSSHD(t testing.TB) string {
	t.Helper()
	p, looked := findDaemon("GANTRY_SSHD_PATH", "sshd", sshdPaths)
	if p == "" {
		unavailable(t, "no OpenSSH sshd at %s; %s", strings.Join(looked, " or "), ensureSSHDHint)
		return ""
	}
	if os.Geteuid() == 0 {
		// sshd refuses to start as root without its privilege separation directory,
		// which systemd usually makes.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			unavailable(t, "sshd needs /run/sshd: %v; %s", err, ensureSSHDHint)
		}
	}
	return p
}

// SSHKey is a key pair made for a test.
type SSHKey struct {
	// File is the private key, in OpenSSH's PEM format, mode 0600.
	File string
	// Public is the public key; AuthorizedLine its authorized_keys line.
	Public         ssh.PublicKey
	AuthorizedLine string
}

// NewSSHKey makes an ed25519 key pair in the test's temporary directory.
func NewSSHKey(t testing.TB, name string) SSHKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return SSHKey{File: file, Public: sp, AuthorizedLine: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + name}
}

// SSHDOptions configure StartSSHD.
type SSHDOptions struct {
	// Name tells several servers of a test apart (in logs, and as the
	// GANTRY_SSHD variable of their sessions). Default "sshd".
	Name string
	// Authorized are the keys that may log in; default one new key (Key).
	Authorized []SSHKey
	// Password, when set, lets the test's user log in with it. The user's
	// entry in /etc/shadow is never changed: sshd runs in a private mount
	// namespace where a copy of /etc/shadow with that password is mounted
	// over it. That needs root; without it (or without unshare) the test is
	// skipped, or fails when CI=true and running as root.
	Password string
	// Env is set in every session (sshd_config SetEnv).
	Env map[string]string
}

// SSHD is an OpenSSH server a test started on a loopback port. It logs in
// the test's own user (root when the tests run as root).
type SSHD struct {
	t    testing.TB
	opts SSHDOptions
	path string
	dir  string

	// Addr is "127.0.0.1:port"; Host and Port its parts.
	Addr string
	Host string
	Port int
	// User is the user that may log in.
	User string
	// Key is the first authorized key.
	Key SSHKey
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey

	mu     sync.Mutex
	proc   *os.Process // nil when stopped
	exited chan error  // receives once proc was waited for
	log    *lockedBuffer
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

// StartSSHD starts sshd on a free loopback port with a new host key, and
// stops it (with the sessions it serves) when the test ends; its log is shown
// when the test failed. It skips the test (fails under CI=true) when there is
// no sshd.
func StartSSHD(t testing.TB, opts SSHDOptions) *SSHD {
	t.Helper()
	path := RequireSSHD(t)
	if opts.Name == "" {
		opts.Name = "sshd"
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Password != "" {
		requirePrivateMounts(t)
	}
	s := &SSHD{t: t, opts: opts, path: path, dir: t.TempDir(), Host: "127.0.0.1", User: u.Username}
	if len(opts.Authorized) == 0 {
		opts.Authorized = []SSHKey{NewSSHKey(t, "client-"+opts.Name)}
		s.opts.Authorized = opts.Authorized
	}
	s.Key = opts.Authorized[0]
	var lines []string
	for _, k := range opts.Authorized {
		lines = append(lines, k.AuthorizedLine)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "authorized_keys"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if opts.Password != "" {
		if err := s.writeShadow(); err != nil {
			t.Fatal(err)
		}
	}
	s.newHostKey()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("log of %s (%s):\n%s", opts.Name, s.Addr, s.log)
		}
	})
	// A free port can be taken between choosing and binding it: try a few.
	for attempt := 1; ; attempt++ {
		s.Port = freePort(t)
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
		err := s.start()
		if err == nil {
			return s
		}
		if attempt == 5 || !strings.Contains(s.log.String(), "Address already in use") {
			t.Fatalf("start %s: %v\n%s", opts.Name, err, s.log)
		}
	}
}

// Restart stops the server, with every session it serves, and starts it
// again on the same port; with newHostKey it presents a new host key, as a
// re-installed machine would.
func (s *SSHD) Restart(newHostKey bool) {
	s.t.Helper()
	s.Stop()
	if newHostKey {
		s.newHostKey()
	}
	if err := s.start(); err != nil {
		s.t.Fatalf("restart %s: %v\n%s", s.opts.Name, err, s.log)
	}
}

// Stop kills the server and the sessions it serves (the processes sessions
// left in the background survive, as on a real machine). Stopping a stopped
// server does nothing.
func (s *SSHD) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	// Connection handlers run in sessions of their own (setsid): find them
	// as the listener's children before it goes.
	for _, c := range childPIDs(s.proc.Pid) {
		syscall.Kill(c, syscall.SIGKILL)
	}
	s.proc.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.proc.Kill()
		<-s.exited
	}
	s.proc = nil
}

func (s *SSHD) newHostKey() {
	k := NewSSHKey(s.t, "host-"+s.opts.Name)
	dst := filepath.Join(s.dir, "host_ed25519")
	b, err := os.ReadFile(k.File)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		s.t.Fatal(err)
	}
	s.HostKey = k.Public
}

func (s *SSHD) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Port %d\nListenAddress %s\n", s.Port, s.Host)
	fmt.Fprintf(&b, "HostKey %s\nPidFile %s\n", filepath.Join(s.dir, "host_ed25519"), filepath.Join(s.dir, "sshd.pid"))
	fmt.Fprintf(&b, "AuthorizedKeysFile %s\n", filepath.Join(s.dir, "authorized_keys"))
	b.WriteString("StrictModes no\nUsePAM no\nPermitRootLogin yes\nPubkeyAuthentication yes\n")
	b.WriteString("KbdInteractiveAuthentication no\nPrintMotd no\nPrintLastLog no\nLogLevel VERBOSE\n")
	b.WriteString("MaxStartups 100:30:200\nMaxSessions 64\nUseDNS no\n")
	if s.opts.Password != "" {
		b.WriteString("PasswordAuthentication yes\n")
	} else {
		b.WriteString("PasswordAuthentication no\n")
	}
	env := map[string]string{"GANTRY_SSHD": s.opts.Name}
	for k, v := range s.opts.Env {
		env[k] = v
	}
	var keys []string
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// Only the first SetEnv line counts: all on one.
	b.WriteString("SetEnv")
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, env[k])
	}
	b.WriteString("\n")
	return b.String()
}

func (s *SSHD) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := filepath.Join(s.dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte(s.config()), 0o600); err != nil {
		return err
	}
	if s.log == nil {
		s.log = &lockedBuffer{}
	}
	var cmd *exec.Cmd
	if s.opts.Password != "" {
		script := `mount --bind "$1" /etc/shadow && exec "$2" -D -e -f "$3"`
		cmd = exec.Command("unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh",
			filepath.Join(s.dir, "shadow"), s.path, cfg)
	} else {
		cmd = exec.Command(s.path, "-D", "-e", "-f", cfg)
	}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	proc, exited, err := startDaemon("sshd", cmd, 10*time.Second, 20*time.Millisecond, func() bool { return banner(s.Addr) })
	if err != nil {
		return err
	}
	s.proc, s.exited = proc, exited
	return nil
}

// banner reports whether an SSH server answers at addr.
func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// childPIDs returns the pids of the processes whose parent is pid.
func childPIDs(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 {
			if pp, err := strconv.Atoi(f[1]); err == nil && pp == pid {
				out = append(out, p)
			}
		}
	}
	return out
}

var privateMounts struct {
	once sync.Once
	err  error
}

// requirePrivateMounts checks that sshd can run with its own /etc/shadow.
func requirePrivateMounts(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: password login needs root, to give the test's sshd its own /etc/shadow in a private mount namespace (the system's is never changed)")
	}
	privateMounts.once.Do(func() {
		out, err := exec.Command("unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
			"mount --bind /etc/hostname /etc/hostname").CombinedOutput()
		if err != nil {
			privateMounts.err = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
		}
		if _, err := exec.LookPath("openssl"); err != nil && privateMounts.err == nil {
			privateMounts.err = errors.New("no openssl to hash the test password")
		}
	})
	if privateMounts.err != nil {
		unavailable(t, "password login needs a private mount namespace for the test's sshd (unshare --mount): %v", privateMounts.err)
	}
}

// writeShadow writes a copy of /etc/shadow where the user's password is
// opts.Password.
func (s *SSHD) writeShadow() error {
	var salt [8]byte
	rand.Read(salt[:])
	cmd := exec.Command("openssl", "passwd", "-6", "-salt", hex.EncodeToString(salt[:]), "-stdin")
	cmd.Stdin = strings.NewReader(s.opts.Password + "\n")
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("hash the test password with openssl: %w", err)
	}
	hash := strings.TrimSpace(string(out))
	orig, err := os.ReadFile("/etc/shadow")
	if err != nil {
		return err
	}
	var lines []string
	found := false
	for _, l := range strings.Split(strings.TrimRight(string(orig), "\n"), "\n") {
		f := strings.Split(l, ":")
		if len(f) >= 2 && f[0] == s.User {
			f[1] = hash
			if len(f) >= 8 {
				f[7] = "" // no account expiry in the copy
			}
			l = strings.Join(f, ":")
			found = true
		}
		lines = append(lines, l)
	}
	if !found {
		return fmt.Errorf("user %s has no entry in /etc/shadow", s.User)
	}
	return os.WriteFile(filepath.Join(s.dir, "shadow"), []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

// Log returns what sshd logged so far.
func (s *SSHD) Log() string { return s.log.String() }
