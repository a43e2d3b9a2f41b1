package main_test

// End-to-end tests of the blueprint keys: brooklyn.parameters, brooklyn.initializers,
// Brooklyn's software-process conventions, Clocker's links and ports, and the Clocker
// examples.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/internal/testenv"
)

// httpGet fetches url, retrying while the server behind it comes up.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return string(b)
			}
			err = fmt.Errorf("%s: %s", resp.Status, b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSensor waits until a sensor has the value want.
func waitSensor(t *testing.T, ctx context.Context, s *server, app, entity, name string, want any) {
	t.Helper()
	var got any
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := s.c.Sensor(ctx, app, entity, name)
		if err == nil && fmt.Sprint(v) == fmt.Sprint(want) {
			return
		}
		got = v
		if time.Now().After(deadline) {
			t.Fatalf("sensor %s of %s = %#v (%v), want %#v", name, entity, got, err, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// ping sends PING to addr as a Redis client would, and returns the answer's first line.
func ping(t *testing.T, addr string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			fmt.Fprint(c, "PING\r\n")
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil {
				return strings.TrimSpace(line)
			}
			err = rerr
		}
		if time.Now().After(deadline) {
			t.Fatalf("PING %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestClockerRedisExample(t *testing.T) {
	docker := testenv.RequireDocker(t)
	testenv.BusyboxImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	blueprint := readExample(t, "clocker-redis.yaml")
	port := 6379
	if !portFree(port) {
		// Something on this machine has Redis's port: play it on another one.
		port = freePortNumber(t)
		blueprint = bytes.ReplaceAll(blueprint, []byte("6379"), []byte(strconv.Itoa(port)))
	}
	s := startServer(t, "")
	removeOnCleanup(t, docker, s)
	app := deploy(t, ctx, s, blueprint)
	if st, _ := s.c.Application(ctx, app); st.Status != api.StatusRunning {
		t.Fatalf("application is %s", st.Status)
	}
	// The direct port is bound one to one on the host; the open one on a random port.
	if got := ping(t, "127.0.0.1:"+strconv.Itoa(port)); got != "PING" {
		t.Errorf("PING on the direct port answered %q", got)
	}
	if got := sensor(t, ctx, s, app, "Redis", "mapped.port."+strconv.Itoa(port)); fmt.Sprint(got) != strconv.Itoa(port) {
		t.Errorf("mapped.port.%d = %v", port, got)
	}
	uri := sensor(t, ctx, s, app, "Redis", "main.uri").(string)
	if got := httpGet(t, uri); !strings.Contains(got, "redis on port") {
		t.Errorf("GET %s = %q", uri, got)
	}
	// The command sensor runs in the container, and is declared as data.
	waitSensor(t, ctx, s, app, "Redis", "redis.ping", "PING")
	sensors, err := s.c.Sensors(ctx, app, "Redis")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ss := range sensors {
		found = found || (ss.Name == "redis.ping" && strings.Contains(ss.Description, "nc -w 1"))
	}
	if !found {
		t.Errorf("sensors do not list redis.ping: %+v", sensors)
	}
	// The command effector too; it returns the command's output.
	effs, err := s.c.Effectors(ctx, app, "Redis")
	if err != nil {
		t.Fatal(err)
	}
	var eff *api.EffectorSummary
	for i := range effs {
		if effs[i].Name == "redisCommand" {
			eff = &effs[i]
		}
	}
	if eff == nil || len(eff.Parameters) != 1 || eff.Parameters[0].Name != "command" || eff.Parameters[0].DefaultValue != "PING" {
		t.Fatalf("effector redisCommand: %+v", eff)
	}
	res, _, err := s.c.InvokeEffector(ctx, app, "Redis", "redisCommand", map[string]any{"command": "ECHO hello"}, "")
	if err != nil || strings.TrimSpace(fmt.Sprint(res)) != "ECHO hello" {
		t.Errorf("redisCommand = %q, %v", res, err)
	}

	// After a restart of the server the sensor's feed runs again.
	time.Sleep(1200 * time.Millisecond)
	s.kill()
	s2 := startServer(t, s.data)
	if err := s2.c.SetSensor(ctx, app, "Redis", "redis.ping", "stale"); err != nil {
		t.Fatal(err)
	}
	waitSensor(t, ctx, s2, app, "Redis", "redis.ping", "PING")
	if res, _, err := s2.c.InvokeEffector(ctx, app, "Redis", "redisCommand", nil, ""); err != nil || strings.TrimSpace(fmt.Sprint(res)) != "PING" {
		t.Errorf("redisCommand after restart = %q, %v", res, err)
	}
	task, err := s2.c.DeleteApplication(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	s2.c.WaitTask(ctx, task.ID)
}

func TestClockerLinkedExample(t *testing.T) {
	ctx, s, _, _ := dockerServer(t, 3*time.Minute)
	app := deploy(t, ctx, s, readExample(t, "clocker-linked.yaml"))
	if st, _ := s.c.Application(ctx, app); st.Status != api.StatusRunning {
		t.Fatalf("application is %s", st.Status)
	}
	dbIP := sensor(t, ctx, s, app, "db", "host.address").(string)
	appIP := sensor(t, ctx, s, app, "app", "host.address").(string)
	uri := sensor(t, ctx, s, app, "web", "main.uri").(string)
	got := httpGet(t, uri+"cgi-bin/ping")
	for _, want := range []string{"web: backend is at " + appIP, "app: db is at " + dbIP + ":6379", "PING"} {
		if !strings.Contains(got, want) {
			t.Errorf("GET %scgi-bin/ping = %q, want %q in it", uri, got, want)
		}
	}
	// The consumer's start says what it waited for.
	if !hasTask(t, ctx, s, app, "web", "Wait for linked container app (as backend)") {
		t.Error("web's start has no step waiting for app")
	}
}

// hasTask says whether a task of that name is in the tree of an entity's activities.
func hasTask(t *testing.T, ctx context.Context, s *server, app, entity, name string) bool {
	acts, err := s.c.Activities(ctx, app, entity)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(id string) bool
	walk = func(id string) bool {
		kids, _ := s.c.ActivityChildren(ctx, id)
		for _, k := range kids {
			if k.DisplayName == name || walk(k.ID) {
				return true
			}
		}
		return false
	}
	for _, a := range acts {
		if a.DisplayName == name || walk(a.ID) {
			return true
		}
	}
	return false
}

func TestClockerAppDatabaseExample(t *testing.T) {
	ctx, s, _, _ := dockerServer(t, 3*time.Minute)
	app := deploy(t, ctx, s, readExample(t, "clocker-app-database.yaml"))
	dbIP := sensor(t, ctx, s, app, "Database", "host.address").(string)
	env, err := s.c.ConfigValue(ctx, app, "App Server", "env")
	if err != nil {
		t.Fatal(err)
	}
	want := "redis://" + dbIP + ":6379/"
	if m, _ := env.(map[string]any); m["DATABASE_URL"] != want {
		t.Errorf("env of app = %v, want DATABASE_URL %s", env, want)
	}
	uri := sensor(t, ctx, s, app, "App Server", "main.uri").(string)
	if got := httpGet(t, uri); strings.TrimSpace(got) != want {
		t.Errorf("GET %s = %q, want %s", uri, got, want)
	}
	if got := httpGet(t, uri+"cgi-bin/db"); strings.TrimSpace(got) != "PING" {
		t.Errorf("the app asked the database: %q", got)
	}
}

func tarGz(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestBlueprintKeysOnLocalhost(t *testing.T) {
	busybox := testenv.RequireBusybox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dist := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/site.tar.gz":
			w.Write(tarGz(t, map[string]string{"site/index.html": "served from the archive", "site/status.json": `{"status": {"ok": true}}`}))
		case "/motd":
			io.WriteString(w, "welcome\n")
		default:
			http.NotFound(w, r)
		}
	}))
	defer dist.Close()
	base := freePortNumber(t)
	blueprint := `
name: keys
location: localhost
services:
- type: vanilla-software-process
  id: site
  name: site
  brooklyn.parameters:
  - name: site.port
    label: Site port
    description: Where the site is served
    type: port
    default: ` + strconv.Itoa(base) + `+
  - name: greeting
    description: What greet says
    constraints: [required]
  greeting: hello
  download.url: ` + dist.URL + `/site.tar.gz
  files.runtime:
    ` + dist.URL + `/motd: motd.txt
  launch.command: |
    nohup ` + busybox + ` httpd -f -p "$SITE_PORT" -h "$INSTALL_DIR/site" > /dev/null 2>&1 &
    echo $! > "$PID_FILE"
  checkRunning.period: 200ms
  brooklyn.initializers:
  - type: org.apache.brooklyn.core.sensor.ssh.SshCommandSensor
    brooklyn.config:
      name: motd
      command: cat motd.txt
      period: 200ms
  - type: ssh-command-effector
    name: greet
    description: Greets someone
    command: echo "$GREETING, $who"
    shell.env:
      GREETING: hello
    parameters:
      who:
        description: Who to greet
        defaultValue: world
  - type: org.apache.brooklyn.core.sensor.http.HttpRequestSensor
    brooklyn.config:
      name: site.ok
      uri: http://127.0.0.1:` + strconv.Itoa(base) + `/status.json
      jsonPath: $.status.ok
      targetType: boolean
      period: 200ms
`
	s := startServer(t, "")
	// A missing required parameter is a 400 at its line, naming it; nothing starts.
	_, err := s.c.Deploy(ctx, []byte(strings.Replace(blueprint, "  greeting: hello\n", "", 1)))
	var cerr *client.Error
	if !errors.As(err, &cerr) || cerr.StatusCode != http.StatusBadRequest ||
		!strings.Contains(cerr.Message, `line 14, column 5: services[0].brooklyn.parameters[1]: parameter "greeting" is required`) {
		t.Errorf("deploy without greeting: %v", err)
	}
	// So is an initializer of an unknown type.
	_, err = s.c.Deploy(ctx, []byte(strings.Replace(blueprint, "ssh-command-effector", "ssh-command-efector", 1)))
	if !errors.As(err, &cerr) || cerr.StatusCode != http.StatusBadRequest ||
		!strings.Contains(cerr.Message, `services[0].brooklyn.initializers[1].type: unknown initializer type "ssh-command-efector"; did you mean "ssh-command-effector"?`) {
		t.Errorf("deploy with a misspelt initializer: %v", err)
	}
	if apps, _ := s.c.Applications(ctx); len(apps) != 0 {
		t.Fatalf("bad blueprints created %d applications", len(apps))
	}

	app := deploy(t, ctx, s, []byte(blueprint))
	t.Cleanup(func() {
		if pid, err := s.c.Sensor(context.Background(), app, "site", "pid"); err == nil && pid != nil {
			n, _ := strconv.Atoi(fmt.Sprint(pid))
			syscall.Kill(n, syscall.SIGKILL)
		}
	})
	port := sensor(t, ctx, s, app, "site", "site.port")
	if fmt.Sprint(port) != strconv.Itoa(base) {
		t.Errorf("site.port = %v, want %d", port, base)
	}
	if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%v/index.html", port)); got != "served from the archive" {
		t.Errorf("site serves %q", got)
	}
	waitSensor(t, ctx, s, app, "site", "motd", "welcome")
	waitSensor(t, ctx, s, app, "site", "site.ok", true)

	// The parameters are config keys of the entity, with their descriptions.
	cfg, err := s.c.Config(ctx, app, "site")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]api.ConfigSummary{}
	for _, c := range cfg {
		byName[c.Name] = c
	}
	if c := byName["site.port"]; c.Description != "Where the site is served" || c.Label != "Site port" || c.Type != "org.apache.brooklyn.api.location.PortRange" {
		t.Errorf("config site.port: %+v", c)
	}
	if c := byName["greeting"]; c.Description != "What greet says" || len(c.Constraints) != 1 {
		t.Errorf("config greeting: %+v", c)
	}
	res, _, err := s.c.InvokeEffector(ctx, app, "site", "greet", map[string]any{"who": "gantry"}, "")
	if err != nil || res != "hello, gantry\n" {
		t.Errorf("greet = %q, %v", res, err)
	}

	// After a restart of the server the feeds run again, and the process is watched.
	time.Sleep(1200 * time.Millisecond)
	s.kill()
	s2 := startServer(t, s.data)
	s2.c.SetSensor(ctx, app, "site", "motd", "stale")
	waitSensor(t, ctx, s2, app, "site", "motd", "welcome")
	pid, _ := strconv.Atoi(fmt.Sprint(sensor(t, ctx, s2, app, "site", "pid")))
	syscall.Kill(pid, syscall.SIGKILL)
	waitSensor(t, ctx, s2, app, "site", "service.state", "ON_FIRE")
	task, err := s2.c.DeleteApplication(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := s2.c.WaitTask(ctx, task.ID); err != nil || done.IsError {
		t.Fatalf("delete: %+v %v", done, err)
	}
	runDir := filepath.Join(os.TempDir(), "gantry-processes", app)
	if _, err := os.Stat(runDir); !os.IsNotExist(err) {
		t.Errorf("%s left after delete: %v", runDir, err)
	}
}

// freePortNumber is a TCP port nothing listens on now.
func freePortNumber(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
