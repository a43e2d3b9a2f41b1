package main_test

// The client commands of the gantry binary, run as a person or a script runs them,
// against a real server. Basic entities and processes on this machine only: no
// Docker Engine is needed.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gantry-dev/gantry/api"
)

// cliEnv runs the gantry binary with its own saved login and home directory.
type cliEnv struct {
	t   *testing.T
	dir string
	env []string
}

func newCLIEnv(t *testing.T, url string) *cliEnv {
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GANTRY_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+dir, "GANTRY_CONFIG="+filepath.Join(dir, "config"))
	if url != "" {
		env = append(env, "GANTRY_URL="+url)
	}
	return &cliEnv{t: t, dir: dir, env: env}
}

// cliResult is what one command printed, and its exit code.
type cliResult struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return "gantry " + strings.Join(r.args, " ") + "\nstdout:\n" + r.stdout + "stderr:\n" + r.stderr
}

func (e *cliEnv) run(stdin string, args ...string) cliResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = e.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := cliResult{args: args, stdout: out.String(), stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		e.t.Fatalf("gantry %v: %v", args, err)
	}
	return r
}

// ok runs a command that must succeed and gives its standard output.
func (e *cliEnv) ok(args ...string) string {
	e.t.Helper()
	r := e.run("", args...)
	if r.code != 0 {
		e.t.Fatalf("exit code %d, want 0: %s", r.code, r)
	}
	return r.stdout
}

// fails runs a command that must end with code and gives its standard error.
func (e *cliEnv) fails(code int, args ...string) string {
	e.t.Helper()
	r := e.run("", args...)
	if r.code != code {
		e.t.Fatalf("exit code %d, want %d: %s", r.code, code, r)
	}
	if strings.Contains(r.stderr, `{"message"`) {
		e.t.Errorf("raw JSON in the error: %s", r)
	}
	return r.stderr
}

func (e *cliEnv) file(name, text string) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: want %q in\n%s", what, w, got)
		}
	}
}

const cliBlueprint = `name: shop
location: localhost
services:
- type: basic-entity
  name: front
  brooklyn.policies:
  - type: restarter
- type: server
  name: box
  brooklyn.initializers:
  - type: ssh-command-effector
    brooklyn.config:
      name: greet
      command: echo "hello $WHO"
      parameters:
        WHO: {description: who to greet}
  - type: ssh-command-effector
    brooklyn.config:
      name: count
      command: for i in 1 2 3; do echo "tick $i"; echo "warn $i" >&2; sleep 0.2; done
  - type: ssh-command-effector
    brooklyn.config:
      name: broken
      command: echo "cannot do it" >&2; exit 3
`

// Every client command against a running server, as a script uses them: output,
// -o json and yaml, and exit codes.
func TestCLICommands(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	g := newCLIEnv(t, s.url)

	// deploy FILE shows the start task tree and ends with the application running.
	out := g.ok("deploy", g.file("shop.yaml", cliBlueprint))
	mustContain(t, "deploy", out, "Deploying shop", "✓ Invoking effector start [shop]", "Starting box", "Application shop (", "is RUNNING")
	t.Cleanup(func() { g.run("", "delete", "shop") })

	// deploy - reads standard input; -o json prints the application, progress goes to stderr.
	r := g.run("name: second\nlocation: localhost\nservices:\n- type: basic-entity\n  name: only\n", "deploy", "-", "-o", "json")
	var second api.ApplicationSummary
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &second) != nil || second.Status != api.StatusRunning {
		t.Fatalf("deploy - -o json: %s", r)
	}
	mustContain(t, "deploy progress", r.stderr, "Deploying second")

	t.Run("apps", func(t *testing.T) {
		mustContain(t, "apps", g.ok("apps"), "ID", "NAME", "STATUS", "shop", "second", "RUNNING")
		var apps []api.ApplicationSummary
		if err := json.Unmarshal([]byte(g.ok("apps", "-o", "json")), &apps); err != nil || len(apps) != 2 {
			t.Errorf("apps -o json: %v %v", apps, err)
		}
		var y []map[string]any
		if err := yaml.Unmarshal([]byte(g.ok("-o", "yaml", "apps")), &y); err != nil || len(y) != 2 || y[0]["spec"] == nil {
			t.Errorf("apps -o yaml: %v %v", y, err)
		}
	})
	t.Run("tree", func(t *testing.T) {
		mustContain(t, "tree", g.ok("tree"), "shop", "├─ front", "└─ box", "second", "└─ only", "RUNNING")
		var d api.EntityDetail
		if err := json.Unmarshal([]byte(g.ok("tree", "shop", "-o", "json")), &d); err != nil || d.Name != "shop" || len(d.Children) != 2 {
			t.Errorf("tree shop -o json: %+v %v", d, err)
		}
		g.fails(3, "tree", "nowhere")
	})
	t.Run("app", func(t *testing.T) {
		mustContain(t, "app", g.ok("app", "shop"), "Name:", "shop", "Status:", "RUNNING", "localhost", "├─ front")
		if msg := g.fails(3, "app", "nowhere"); !strings.Contains(msg, `"nowhere"`) {
			t.Errorf("app nowhere: %q", msg)
		}
	})
	t.Run("entity", func(t *testing.T) {
		mustContain(t, "entity", g.ok("entity", "shop", "front"), "Name:", "front", "State:", "RUNNING", "BasicEntity")
		mustContain(t, "entity list", g.ok("entity", "shop"), "front", "box")
		g.fails(3, "entity", "shop", "nobody")
	})
	t.Run("sensor", func(t *testing.T) {
		mustContain(t, "sensors", g.ok("sensor", "shop", "front"), "service.state", "service.isUp", "true")
		if got := g.ok("sensor", "shop", "front", "service.state"); got != "RUNNING\n" {
			t.Errorf("sensor service.state = %q", got)
		}
		if got := g.ok("sensor", "shop", "front", "service.isUp", "-o", "json"); got != "true\n" {
			t.Errorf("sensor service.isUp -o json = %q", got)
		}
		g.fails(3, "sensor", "shop", "front", "no.such.sensor")
	})
	t.Run("config", func(t *testing.T) {
		mustContain(t, "config set", g.ok("config", "shop", "front", "shop.region", "eu-west"), "Set shop.region")
		if got := g.ok("config", "shop", "front", "shop.region"); got != "eu-west\n" {
			t.Errorf("config shop.region = %q", got)
		}
		g.ok("config", "shop", "front", "shop.limits", `{"cpu": 2}`)
		var limits map[string]any
		if err := json.Unmarshal([]byte(g.ok("config", "shop", "front", "shop.limits", "-o", "json")), &limits); err != nil || limits["cpu"] != 2.0 {
			t.Errorf("config shop.limits: %v %v", limits, err)
		}
		mustContain(t, "config list", g.ok("config", "shop", "front"), "KEY", "shop.region", "eu-west")
	})
	t.Run("effector and invoke", func(t *testing.T) {
		mustContain(t, "effectors", g.ok("effector", "shop", "box"), "start", "restart", "greet", "WHO", "count")
		if got := g.ok("invoke", "shop", "box", "greet", "-P", "WHO=world"); got != "hello world\n" {
			t.Errorf("invoke greet = %q", got)
		}
		if msg := g.fails(1, "invoke", "shop", "box", "broken"); !strings.Contains(msg, "cannot do it") {
			t.Errorf("invoke broken: %q", msg)
		}
		g.fails(3, "invoke", "shop", "box", "nothing")
		mustContain(t, "bad -P", g.fails(2, "invoke", "shop", "box", "greet", "-P", "WHO"), "NAME=VALUE", "gantry help invoke")
	})
	t.Run("start stop restart", func(t *testing.T) {
		mustContain(t, "stop", g.ok("stop", "shop", "front"), "✓ Invoking effector stop")
		if got := g.ok("sensor", "shop", "front", "service.state"); got != "STOPPED\n" {
			t.Errorf("after stop: %q", got)
		}
		g.ok("start", "shop", "front")
		mustContain(t, "restart", g.ok("restart", "shop"), "✓ Invoking effector restart [shop]", "Stopping front", "Starting box")
		if got := g.ok("sensor", "shop", "front", "service.state"); got != "RUNNING\n" {
			t.Errorf("after restart: %q", got)
		}
	})
	t.Run("policy", func(t *testing.T) {
		mustContain(t, "policies", g.ok("policy", "shop", "front"), "restarter", "RUNNING")
		mustContain(t, "stop", g.ok("policy", "shop", "front", "stop", "restarter"), "Stopped policy restarter")
		mustContain(t, "after stop", g.ok("policy", "shop", "front", "list"), "STOPPED")
		mustContain(t, "show", g.ok("policy", "shop", "front", "show", "restarter"), "failOnRecurringFailuresInThisDuration", "3m")
		g.ok("policy", "shop", "front", "start", "restarter")
		mustContain(t, "after start", g.ok("policy", "shop", "front"), "RUNNING")
		g.ok("policy", "shop", "front", "destroy", "restarter")
		if got := g.ok("policy", "shop", "front", "-o", "json"); strings.TrimSpace(got) != "[]" {
			t.Errorf("policies after destroy: %s", got)
		}
		g.fails(3, "policy", "shop", "front", "stop", "restarter")
		g.fails(2, "policy", "shop", "front", "pause", "restarter")
	})
	t.Run("activity", func(t *testing.T) {
		mustContain(t, "activities of the app", g.ok("activity", "shop"), "Invoking effector start", "Completed")
		mustContain(t, "activities of an entity", g.ok("activity", "shop", "box"), "Invoking effector greet")
		var acts []api.TaskSummary
		if err := json.Unmarshal([]byte(g.ok("activity", "shop", "-o", "json")), &acts); err != nil || len(acts) == 0 {
			t.Fatalf("activity -o json: %v %v", acts, err)
		}
		start := acts[len(acts)-1].ID
		mustContain(t, "task", g.ok("activity", "shop", start), "Status:", "Completed", "Steps:", "✓ Invoking effector start")
		mustContain(t, "task of an entity", g.ok("activity", "shop", "shop", start), start)
		g.fails(3, "activity", "shop", "nothing-of-that-name")

		// A running task, followed as it writes: standard output and error apart.
		task := strings.TrimSpace(g.ok("invoke", "shop", "box", "count", "--timeout", "0"))
		r := g.run("", "activity", "shop", "box", task, "--follow")
		if r.code != 0 || r.stdout != "tick 1\ntick 2\ntick 3\n" || r.stderr != "warn 1\nwarn 2\nwarn 3\n" {
			t.Errorf("activity --follow: %s", r)
		}
		if got := g.ok("activity", "shop", "box", task, "--stdout"); got != "tick 1\ntick 2\ntick 3\n" {
			t.Errorf("activity --stdout = %q", got)
		}
		if got := g.ok("activity", "shop", "box", task, "--stderr"); got != "warn 1\nwarn 2\nwarn 3\n" {
			t.Errorf("activity --stderr = %q", got)
		}
		// A task that fails: --follow prints its output and exits with 1.
		task = strings.TrimSpace(g.ok("invoke", "shop", "box", "broken", "--timeout", "0"))
		r = g.run("", "activity", "shop", "box", task, "-f")
		if r.code != 1 || !strings.Contains(r.stderr, "cannot do it") {
			t.Errorf("activity --follow of a failing task: %s", r)
		}
	})
	t.Run("locations", func(t *testing.T) {
		mustContain(t, "locations", g.ok("locations"), "ID", "localhost")
	})
	t.Run("catalog", func(t *testing.T) {
		bom := g.file("bom.yaml", `brooklyn.catalog:
  version: "1.0"
  items:
  - id: cli-thing
    itemType: entity
    name: CLI thing
    description: A basic entity the CLI test added
    item:
      type: basic-entity
`)
		mustContain(t, "catalog add", g.ok("catalog", "add", bom), "INSTALLED_NEW_BUNDLE", "cli-thing:1.0")
		mustContain(t, "catalog list", g.ok("catalog", "list"), "cli-thing:1.0", "entity", "restarter", "policy")
		mustContain(t, "catalog list entity", g.ok("catalog", "list", "ent"), "cli-thing:1.0")
		mustContain(t, "catalog show", g.ok("catalog", "show", "cli-thing"), "A basic entity the CLI test added", "BasicEntity")
		mustContain(t, "catalog show policy", g.ok("catalog", "show", "policy", "restarter"), "setOnFireOnFailure")
		g.fails(3, "catalog", "show", "no-such-item")
		r := g.run("brooklyn.catalog:\n  items:\n  - id: x\n    itemType: entity\n    item: {type: nope}\n", "catalog", "add", "-")
		if r.code != 2 || !regexp.MustCompile(`<stdin>:5:\d+: .*unknown type "nope"`).MatchString(r.stderr) {
			t.Errorf("catalog add of a broken BOM: %s", r)
		}
	})
	t.Run("events", func(t *testing.T) {
		// Read the stream while something happens.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, binary, "events", "--app", "shop", "--type", "task.ended", "--max", "1")
		cmd.Env = g.env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for {
			g.ok("invoke", "shop", "front", "restart")
			select {
			case err := <-done:
				if strings.Contains(errOut.String(), "has no event stream") {
					// A server without /v1/events: the command says so clearly.
					t.Logf("no event stream: %s", &errOut)
					if cmd.ProcessState.ExitCode() != 1 {
						t.Errorf("events without a stream: exit %d", cmd.ProcessState.ExitCode())
					}
					return
				}
				if err != nil || !strings.Contains(out.String(), "task.ended") || !strings.Contains(out.String(), "shop/front") {
					t.Errorf("events: %v\nstdout:\n%s\nstderr:\n%s", err, &out, &errOut)
				}
				t.Logf("events: %s", &out)
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	})
	t.Run("delete", func(t *testing.T) {
		mustContain(t, "delete", g.ok("delete", "second"), "Deleted second")
		g.fails(3, "app", "second")
		g.fails(3, "delete", "second")
	})
	t.Run("usage", func(t *testing.T) {
		mustContain(t, "help", g.ok("help"), "Client commands:", "deploy FILE|-", "Exit codes:")
		mustContain(t, "help deploy", g.ok("help", "deploy"), "Usage: gantry deploy FILE|-", "Examples:", "--no-wait")
		mustContain(t, "invoke -h", g.ok("invoke", "-h"), "Usage: gantry invoke", "-P NAME=VALUE")
		mustContain(t, "unknown command", g.fails(2, "frobnicate"), `unknown command "frobnicate"`)
		mustContain(t, "missing arguments", g.fails(2, "sensor", "shop"), "missing arguments", "gantry help sensor")
		mustContain(t, "too many", g.fails(2, "apps", "extra"), "too many arguments")
		mustContain(t, "bad output", g.fails(2, "apps", "-o", "xml"), "table, json or yaml")
		mustContain(t, "unknown flag", g.fails(2, "apps", "--frob"), "-frob")
		mustContain(t, "no server", g.fails(1, "apps", "--server", "http://127.0.0.1:1"), "cannot reach http://127.0.0.1:1")
	})
}

// A refused blueprint is printed at its line and column, with exit code 2; a start
// that fails is shown with the output of the failing step, with exit code 1.
func TestCLIDeployFailures(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	g := newCLIEnv(t, s.url)

	broken := g.file("broken.yaml", "name: broken\nlocation: localhost\nservices:\n- type: basic-entity\n  brooklyn.config: {a: \n")
	mustContain(t, "invalid yaml", g.fails(2, "deploy", broken), broken+":6:1: invalid yaml")
	typo := g.file("typo.yaml", "location: localhost\nservices:\n- type: basic-entity\n- type: basic-entiy\n")
	mustContain(t, "unknown type", g.fails(2, "deploy", typo), typo+`:4:9: services[1].type: unknown type "basic-entiy"`)
	r := g.run("location: mars\nservices:\n- type: basic-entity\n", "deploy", "-")
	if r.code != 2 || !strings.Contains(r.stderr, `<stdin>:1:11: location: unknown location "mars"`) {
		t.Errorf("deploy - with an unknown location: %s", r)
	}
	g.fails(2, "deploy", filepath.Join(g.dir, "missing.yaml"))
	if got := g.ok("apps", "-o", "json"); strings.TrimSpace(got) != "[]" {
		t.Errorf("applications after refused blueprints: %s", got)
	}

	failing := g.file("failing.yaml", `name: failing
location: localhost
services:
- type: vanilla-software-process
  name: proc
  launch.command: echo "about to fail"; echo "no such thing" >&2; exit 1
`)
	r = g.run("", "deploy", failing)
	if r.code != 1 {
		t.Fatalf("deploy of a failing start: exit %d, want 1: %s", r.code, r)
	}
	mustContain(t, "failing start", r.stdout, "✗ Invoking effector start [failing]", "✗ launch: launch exited with code 1", "stderr of launch [proc]", "no such thing")
	mustContain(t, "failing start", r.stderr, "deploy of failing failed")
	if got := g.ok("app", "failing", "-o", "json"); !strings.Contains(got, `"status": "ERROR"`) {
		t.Errorf("app after a failed start: %s", got)
	}
	g.ok("delete", "failing")
}

// login saves the server and credentials (0600); --server, $GANTRY_URL and the saved
// login are used in that order; credentials are sent; a refused login exits with 4.
func TestCLILogin(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	g := newCLIEnv(t, "")
	cfg := filepath.Join(g.dir, "config")

	mustContain(t, "login", g.ok("login", s.url), "Connected to Gantry", s.url)
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved login: %v %v", fi, err)
	}
	mustContain(t, "apps after login", g.ok("apps"), "ID")

	// The saved user and password; a server without users takes any.
	mustContain(t, "login with a user", g.ok("login", strings.TrimPrefix(s.url, "http://"), "admin", "s3cret"), "as admin")
	b, _ := os.ReadFile(cfg)
	mustContain(t, "saved config", string(b), "current: "+s.url, "user: admin", "password: s3cret")
	if r := g.run("from-stdin\n", "login", s.url, "ops", "--password-stdin"); r.code != 0 {
		t.Fatalf("login --password-stdin: %s", r)
	}
	b, _ = os.ReadFile(cfg)
	mustContain(t, "saved config", string(b), "user: ops", "password: from-stdin")

	// --server, then $GANTRY_URL, before the saved login.
	mustContain(t, "--server", g.fails(1, "--server", "127.0.0.1:1", "apps"), "cannot reach http://127.0.0.1:1")
	env := g.env
	g.env = append(env, "GANTRY_URL=http://127.0.0.1:1")
	g.fails(1, "apps")
	g.ok("apps", "--server", s.url)
	g.env = env

	// A server that wants other credentials: login refused (4), nothing saved; the
	// saved credentials are what later commands send.
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "admin" || pass != "right" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message": "Authentication required", "error": 401}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/server/version":
			w.Write([]byte(`{"version": "9.9", "features": []}`))
		case "/v1/applications":
			w.Write([]byte(`[]`))
		default:
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message": "user admin may not do that", "error": 403}`))
		}
	}))
	defer fake.Close()
	mustContain(t, "wrong password", g.fails(4, "login", fake.URL, "admin", "wrong"), "refused: wrong user or password")
	mustContain(t, "no user", g.fails(4, "login", fake.URL), "wants a user and password")
	b, _ = os.ReadFile(cfg)
	if strings.Contains(string(b), fake.URL) {
		t.Errorf("a refused login was saved:\n%s", b)
	}
	mustContain(t, "right password", g.ok("login", fake.URL, "admin", "right"), "Gantry 9.9", "as admin")
	if got := g.ok("apps", "-o", "json"); strings.TrimSpace(got) != "[]" {
		t.Errorf("apps with the saved credentials: %q", got)
	}
	mustContain(t, "forbidden", g.fails(4, "locations"), "user admin may not do that")
	g.env = append(env, "GANTRY_USER=admin", "GANTRY_PASSWORD=wrong")
	mustContain(t, "$GANTRY_USER", g.fails(4, "apps"), "Authentication required")
	g.env = env
}

// A server with users and TLS: login checks the certificate against the authority
// given (--ca-cert), saves user and password or a token, and a role short of an
// operation exits with 4.
func TestCLIUsersAndTLS(t *testing.T) {
	t.Parallel()
	g := newCLIEnv(t, "")
	users := filepath.Join(g.dir, "users.yaml")
	for _, u := range []struct{ name, role, password string }{{"admin", "root", "admin-pw"}, {"viewer", "readonly", "viewer-pw"}} {
		if r := g.run(u.password+"\n", "users", "add", users, u.name, "--role", u.role, "--password-stdin"); r.code != 0 {
			t.Fatalf("users add: %s", r)
		}
	}
	token := strings.TrimSpace(g.ok("users", "token", users, "admin"))
	cert, key := selfSignedCert(t, g.dir)

	addr := freeAddr(t)
	srv := exec.Command(binary, "server", "--bind", addr, "--data", t.TempDir(), "--users", users, "--tls-cert", cert, "--tls-key", key)
	log := &syncBuffer{}
	srv.Stdout, srv.Stderr = log, log
	srv.WaitDelay = 2 * time.Second
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Kill()
		srv.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", log)
		}
	})
	url := "https://" + addr
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	waitFor(t, 20*time.Second, "the server answers", func() bool {
		resp, err := insecure.Get(url + "/v1/server/up")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})

	mustContain(t, "untrusted certificate", g.fails(1, "login", url, "admin", "admin-pw"), "certificate of "+url+" is not trusted", "--ca-cert")
	mustContain(t, "wrong password", g.fails(4, "login", url, "admin", "nope", "--ca-cert", cert), "wrong user or password")
	mustContain(t, "login", g.ok("login", url, "admin", "admin-pw", "--ca-cert", cert), "Connected to Gantry", "as admin")
	mustContain(t, "deploy as admin", g.ok("deploy", g.file("tls.yaml", "name: secure\nservices:\n- type: basic-entity\n  name: thing\n")), "is RUNNING")
	mustContain(t, "apps as admin", g.ok("apps"), "secure")

	// A readonly user sees, and is refused what changes anything.
	env := g.env
	g.env = append(env, "GANTRY_USER=viewer", "GANTRY_PASSWORD=viewer-pw")
	mustContain(t, "apps as viewer", g.ok("apps"), "secure")
	g.fails(4, "stop", "secure", "thing")
	if r := g.run("services:\n- type: basic-entity\n", "deploy", "-"); r.code != 4 {
		t.Errorf("deploy as a readonly user: %s", r)
	}
	g.env = env

	// An API token instead of a password.
	mustContain(t, "login with a token", g.ok("login", url, "--token", token, "--ca-cert", cert), "with a token")
	g.ok("delete", "secure")
}

// selfSignedCert writes a certificate for 127.0.0.1, its own authority, and its key.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gantry test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
