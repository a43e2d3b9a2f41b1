package testenv_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gantry-dev/gantry/internal/testenv"
)

func TestStartSSHD(t *testing.T) {
	key := testenv.NewSSHKey(t, "client")
	srv := testenv.StartSSHD(t, testenv.SSHDOptions{Name: "box", Authorized: []testenv.SSHKey{key}})
	if srv.Key.File != key.File || srv.Port == 0 || srv.User == "" {
		t.Fatalf("server %+v", srv)
	}
	signer := parseKey(t, key.File)
	run := func() string {
		var seen ssh.PublicKey
		c, err := ssh.Dial("tcp", srv.Addr, &ssh.ClientConfig{
			User: srv.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error { seen = k; return nil },
		})
		if err != nil {
			t.Fatalf("dial %s: %v\n%s", srv.Addr, err, srv.Log())
		}
		defer c.Close()
		if string(seen.Marshal()) != string(srv.HostKey.Marshal()) {
			t.Errorf("host key presented is not HostKey")
		}
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, err := sess.Output("echo $GANTRY_SSHD")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(); got != "box" {
		t.Fatalf("GANTRY_SSHD in a session = %q", got)
	}
	old := srv.HostKey
	srv.Restart(true)
	if string(old.Marshal()) == string(srv.HostKey.Marshal()) {
		t.Fatal("Restart(true) kept the host key")
	}
	if got := run(); got != "box" {
		t.Fatalf("after restart: %q", got)
	}
	srv.Stop()
	srv.Stop()
	if _, err := ssh.Dial("tcp", srv.Addr, &ssh.ClientConfig{User: srv.User, HostKeyCallback: ssh.InsecureIgnoreHostKey()}); err == nil {
		t.Fatal("server still answers after Stop")
	}
}

// Without sshd, RequireSSHD skips, except under CI=true where it fails.
func TestRequireSSHDMissing(t *testing.T) {
	if os.Getenv("GANTRY_TESTENV_CHILD") == "1" {
		testenv.RequireSSHD(t)
		t.Fatal("RequireSSHD returned without sshd")
	}
	missing := filepath.Join(t.TempDir(), "no-sshd")
	for _, tt := range []struct {
		ci       string
		wantFail bool
		wantOut  string
	}{
		{ci: "", wantFail: false, wantOut: "SKIP"},
		{ci: "true", wantFail: true, wantOut: "CI=true"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireSSHDMissing$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "GANTRY_TESTENV_CHILD=1", "GANTRY_SSHD_PATH="+missing, "CI="+tt.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tt.wantFail {
			t.Errorf("CI=%q: failed = %v, want %v\n%s", tt.ci, failed, tt.wantFail, out)
		}
		if !strings.Contains(string(out), tt.wantOut) || !strings.Contains(string(out), "scripts/ensure-sshd.sh") {
			t.Errorf("CI=%q: output lacks %q or the ensure-sshd hint:\n%s", tt.ci, tt.wantOut, out)
		}
	}
}

func parseKey(t *testing.T, file string) ssh.Signer {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
