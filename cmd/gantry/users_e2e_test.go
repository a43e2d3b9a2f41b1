package main_test

// gantry users and gantry server --users, with the real binary.

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/client"
	gserver "github.com/gantry-dev/gantry/server"
)

// gantryRun runs the binary with stdin and returns its output and exit code.
func gantryRun(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestUsersCommandAndServerLogin(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "users.yaml")

	// Usage mistakes: 2.
	for _, args := range [][]string{
		{"users", "add", file, "admin", "--password-stdin"},          // no role
		{"users", "add", file, "admin", "--role", "root"},            // no --password-stdin
		{"users", "add", file, "--role", "root", "--password-stdin"}, // no name
		{"users", "frobnicate", file},
	} {
		if _, stderr, code := gantryRun(t, "pw\n", args...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
	if _, stderr, code := gantryRun(t, "pw\n", "users", "add", file, "admin", "--role", "emperor", "--password-stdin"); code != 1 || !strings.Contains(stderr, "readonly") {
		t.Errorf("unknown role: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed add wrote the file: %v", err)
	}

	// add (flags after the names, as the usage says), twice: the second changes it.
	if _, stderr, code := gantryRun(t, "s3cret-admin\n", "users", "add", file, "admin", "--role", "root", "--password-stdin"); code != 0 || !strings.Contains(stderr, "added") {
		t.Fatalf("users add: exit %d, %s", code, stderr)
	}
	if _, stderr, code := gantryRun(t, "ro-pass", "users", "add", "--role=readonly", "--password-stdin", file, "viewer"); code != 0 {
		t.Fatalf("users add viewer: exit %d, %s", code, stderr)
	}
	if _, stderr, code := gantryRun(t, "ro-pass2\n", "users", "add", file, "viewer", "--role", "readonly", "--password-stdin"); code != 0 || !strings.Contains(stderr, "changed") {
		t.Fatalf("users add viewer again: exit %d, %s", code, stderr)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file: %v %v", fi.Mode(), err)
	}
	b, _ := os.ReadFile(file)
	if strings.Contains(string(b), "s3cret-admin") || !strings.Contains(string(b), "$2a$") {
		t.Errorf("the file keeps the password, not its bcrypt hash:\n%s", b)
	}
	token, stderr, code := gantryRun(t, "", "users", "token", file, "viewer", "--label", "ci")
	token = strings.TrimSpace(token)
	if code != 0 || !strings.HasPrefix(token, "gantry_") || strings.Contains(string(mustRead(t, file)), token) {
		t.Fatalf("users token: exit %d, %q, %s", code, token, stderr)
	}
	list, _, code := gantryRun(t, "", "users", "list", file)
	if code != 0 || !strings.Contains(list, "admin") || !strings.Contains(list, "readonly") || !strings.Contains(list, "(ci)") {
		t.Errorf("users list: %d\n%s", code, list)
	}

	// A server without users refuses a network address; with them it serves it.
	if _, stderr, code := gantryRun(t, "", "server", "--bind", "0.0.0.0:0", "--data", filepath.Join(dir, "d0")); code == 0 || !strings.Contains(stderr, "--users") {
		t.Errorf("server on 0.0.0.0 without users: exit %d, %s", code, stderr)
	}
	addr := freeAddr(t)
	cmd := exec.Command(binary, "server", "--bind", addr, "--data", filepath.Join(dir, "data"), "--users", file,
		"--docker-host", "unix://"+filepath.Join(dir, "no-docker.sock"))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	}()
	url := "http://" + addr
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + "/v1/server/up")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("GET /v1/server/up without credentials: %s", resp.Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not answer")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := client.New(url, client.WithBasicAuth("viewer", "ro-pass2")).Applications(ctx); err != nil {
		t.Errorf("viewer's password: %v", err)
	}
	if _, err := client.New(url, client.WithBasicAuth("viewer", "ro-pass")).Applications(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("viewer's old password: %v", err)
	}
	if _, err := client.New(url, client.WithToken(token)).Deploy(ctx, []byte("name: x\nservices: [{type: basic-entity}]")); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("viewer deploys with a token: %v, want ErrForbidden", err)
	}

	// Revoking the token: refused within a second or two, without a restart.
	u, err := gserver.ReadUsers(file)
	if err != nil {
		t.Fatal(err)
	}
	id := u.Find("viewer").Tokens[0].ID
	if _, stderr, code := gantryRun(t, "", "users", "revoke", file, "viewer", id); code != 0 {
		t.Fatalf("users revoke: %d %s", code, stderr)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		_, err := client.New(url, client.WithToken(token)).Applications(ctx)
		if errors.Is(err, client.ErrUnauthorized) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoked token still works: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, stderr, code := gantryRun(t, "", "users", "remove", file, "viewer"); code != 0 {
		t.Errorf("users remove: %d %s", code, stderr)
	}
	if _, _, code := gantryRun(t, "", "users", "remove", file, "viewer"); code != 1 {
		t.Errorf("users remove of nobody: exit %d", code)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
