package software_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
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

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/software"
	_ "github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/internal/testenv"
)

func manage(t *testing.T) *entities.Management {
	t.Helper()
	return testenv.Management(t, entities.Options{Locations: testenv.Localhost(t)})
}

func run(t *testing.T, m *entities.Management, e *entities.Entity, effector string) error {
	t.Helper()
	task, err := m.Invoke(context.Background(), e, effector, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = task.Wait(ctx)
	return err
}

func tarGz(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		mode := int64(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func zipped(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	zw.Close()
	return buf.Bytes()
}

// freePort is a port nothing listens on now.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func get(t *testing.T, url string) string {
	t.Helper()
	var last error
	for range 50 {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestSoftwareProcessConventions(t *testing.T) {
	busybox := testenv.RequireBusybox(t)
	archives := http.NewServeMux()
	archives.HandleFunc("/dist/site.tar.gz", func(w http.ResponseWriter, r *http.Request) {
		w.Write(tarGz(t, map[string]string{"site/index.html": "hello from the archive", "site/bin/run.sh": "#!/bin/sh\necho ran\n"}))
	})
	archives.HandleFunc("/conf/app.conf", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "threads=4\n") })
	srv := httptest.NewServer(archives)
	defer srv.Close()
	script := filepath.Join(t.TempDir(), "setup.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho set up\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	base := freePort(t)
	proc := func(name string) *entities.Spec {
		return &entities.Spec{
			Type: software.TypeName, Name: name,
			Parameters: []entities.ConfigKey{{Name: "http.port", Type: "port", Default: fmt.Sprintf("%d+", base)}},
			Config: map[string]any{
				"download.url":        srv.URL + "/dist/site.tar.gz",
				"files.install":       map[string]any{script: "bin/"},
				"files.runtime":       map[string]any{srv.URL + "/conf/app.conf": "conf/app.conf", "file://" + script: filepath.Join(t.TempDir(), "abs.sh")},
				"install.command":     `test -f "$INSTALL_DIR/site/index.html" && test -x "$INSTALL_DIR/site/bin/run.sh" && test -x "$INSTALL_DIR/bin/setup.sh" && echo "installed in $INSTALL_DIR"`,
				"customize.command":   `pwd > customized; echo "$HTTP_PORT" > port`,
				"launch.command":      `nohup ` + busybox + ` httpd -f -p "$HTTP_PORT" -h "$INSTALL_DIR/site" > /dev/null 2>&1 & echo $! > "$PID_FILE"`,
				"checkRunning.period": "100ms",
			},
			Initializers: []entities.InitializerSpec{
				{Type: "ssh-command-sensor", Config: map[string]any{"name": "where", "command": `echo "$(cat customized) $HTTP_PORT $(cat conf/app.conf)"`, "period": "100ms"}},
				{Type: "ssh-command-effector", Config: map[string]any{"name": "pidfile", "command": `basename "$PID_FILE"; test "$(pwd)" = "$RUN_DIR"`}},
			},
		}
	}
	m := manage(t)
	app, task, err := m.Deploy(context.Background(), &entities.Spec{
		Type: "basic-application", Name: "conventions", Locations: []string{"localhost"},
		Children: []*entities.Spec{proc("one"), proc("two")},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	one, _ := m.FindEntity(app, "one")
	two, _ := m.FindEntity(app, "two")
	t.Cleanup(func() {
		for _, e := range []*entities.Entity{one, two} {
			if pid, ok := e.Attribute("pid"); ok {
				syscall.Kill(pid.(int), syscall.SIGKILL)
			}
		}
		run(t, m, app, "stop")
	})

	// Each got its own port of the range, published as a sensor, in the env as HTTP_PORT.
	p1, _ := one.Attribute("http.port")
	p2, _ := two.Attribute("http.port")
	if p1 == p2 || p1.(int) < base || p2.(int) < base {
		t.Fatalf("ports %v and %v from %d+", p1, p2, base)
	}
	for _, e := range []*entities.Entity{one, two} {
		port := strconv.Itoa(mustInt(t, e, "http.port"))
		if got := get(t, "http://127.0.0.1:"+port+"/index.html"); got != "hello from the archive" {
			t.Errorf("%s serves %q", e.Name(), got)
		}
		runDir := mustString(t, e, "run.dir")
		if b, _ := os.ReadFile(filepath.Join(runDir, "customized")); strings.TrimSpace(string(b)) != runDir {
			t.Errorf("customize ran in %q, want the run dir %s", b, runDir)
		}
		if b, _ := os.ReadFile(filepath.Join(runDir, "port")); strings.TrimSpace(string(b)) != port {
			t.Errorf("HTTP_PORT = %q, want %s", b, port)
		}
		if b, _ := os.ReadFile(filepath.Join(runDir, "conf", "app.conf")); string(b) != "threads=4\n" {
			t.Errorf("files.runtime: conf/app.conf = %q", b)
		}
		if got := mustString(t, e, "install.dir"); got != filepath.Join(runDir, "install") {
			t.Errorf("install.dir = %s", got)
		}
		pid := mustInt(t, e, "pid")
		if b, _ := os.ReadFile(filepath.Join(runDir, "pid.txt")); strings.TrimSpace(string(b)) != strconv.Itoa(pid) || !alive(pid) {
			t.Errorf("pid %d, pid.txt %q", pid, b)
		}
		waitSensor(t, e, "where", runDir+" "+port+" threads=4")
	}
	// The command effector runs in the run dir with the conventions' environment.
	call, _ := m.Invoke(ctx, one, "pidfile", nil)
	if res, err := call.Wait(ctx); err != nil || res != "pid.txt\n" {
		t.Errorf("pidfile = %q, %v", res, err)
	}
	// The process dies: the default check by $PID_FILE sees it.
	pid := mustInt(t, one, "pid")
	syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for one.State() != entities.OnFire {
		if time.Now().After(deadline) {
			t.Fatalf("one is %s after its process died", one.State())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := run(t, m, one, "restart"); err != nil {
		t.Fatal(err)
	}
	if one.State() != entities.Running || mustInt(t, one, "pid") == pid {
		t.Errorf("after restart: %s, pid %d", one.State(), mustInt(t, one, "pid"))
	}
	// The default stop ends the process in $PID_FILE.
	pid = mustInt(t, two, "pid")
	if err := run(t, m, two, "stop"); err != nil {
		t.Fatal(err)
	}
	for i := 0; alive(pid) && i < 50; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid) {
		t.Errorf("pid %d still runs after stop", pid)
	}
}

func TestEmptySoftwareProcess(t *testing.T) {
	archives := http.NewServeMux()
	archives.HandleFunc("/tools.zip", func(w http.ResponseWriter, r *http.Request) {
		w.Write(zipped(t, map[string]string{"tools/readme.txt": "zipped"}))
	})
	srv := httptest.NewServer(archives)
	defer srv.Close()
	m := manage(t)
	app, task, err := m.Deploy(context.Background(), &entities.Spec{
		Type: "basic-application", Name: "bare", Locations: []string{"localhost"},
		Children: []*entities.Spec{{Type: "server", Name: "box", Config: map[string]any{
			"download.url":         srv.URL + "/tools.zip",
			"post.install.command": `cat "$INSTALL_DIR/tools/readme.txt" > readme.copy`,
			"launch.command":       "echo never run > launched", // not a key of a bare machine
		}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	box, _ := m.FindEntity(app, "box")
	if box.State() != entities.Running {
		t.Errorf("box is %s", box.State())
	}
	runDir := mustString(t, box, "run.dir")
	if b, err := os.ReadFile(filepath.Join(runDir, "readme.copy")); string(b) != "zipped" {
		t.Errorf("readme.copy = %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(runDir, "launched")); err == nil {
		t.Error("launch.command ran on a bare machine")
	}
	if err := run(t, m, app, "stop"); err != nil {
		t.Fatal(err)
	}
}

func TestNoPidFileMeansNotWatched(t *testing.T) {
	m := manage(t)
	app, task, err := m.Deploy(context.Background(), &entities.Spec{
		Type: "basic-application", Name: "fg", Locations: []string{"localhost"},
		Children: []*entities.Spec{{Type: software.TypeName, Name: "once", Config: map[string]any{"launch.command": "echo done"}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	once, _ := m.FindEntity(app, "once")
	if once.State() != entities.Running {
		t.Errorf("once is %s", once.State())
	}
	if err := run(t, m, once, "stop"); err != nil {
		t.Errorf("stop without a pid file: %v", err)
	}
}

func waitSensor(t *testing.T, e *entities.Entity, name string, want any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, _ := e.Attribute(name)
		if v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s of %s = %#v, want %#v", name, e.Name(), v, want)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustInt(t *testing.T, e *entities.Entity, name string) int {
	t.Helper()
	v, _ := e.Attribute(name)
	n, ok := v.(int)
	if !ok {
		t.Fatalf("%s of %s = %#v, want a number", name, e.Name(), v)
	}
	return n
}

func mustString(t *testing.T, e *entities.Entity, name string) string {
	t.Helper()
	v, _ := e.Attribute(name)
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s of %s = %#v, want a string", name, e.Name(), v)
	}
	return s
}

func TestPortRangesSkipPortsInUse(t *testing.T) {
	busy, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := busy.Addr().(*net.TCPAddr).Port
	m := manage(t)
	app, task, err := m.Deploy(context.Background(), &entities.Spec{
		Type: "basic-application", Name: "ports", Locations: []string{"localhost"},
		Config: map[string]any{"db.port": 5432}, // another entity's port: not this one's
		Children: []*entities.Spec{{Type: software.TypeName, Name: "p", Config: map[string]any{
			"admin.port":     fmt.Sprintf("%d+", taken),
			"fixed.port":     8123,
			"launch.command": `echo "$ADMIN_PORT $FIXED_PORT ${DB_PORT:-none}" > ports`,
		}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, _ := m.FindEntity(app, "p")
	admin := mustInt(t, p, "admin.port")
	if admin <= taken {
		t.Errorf("admin.port = %d, want a port after %d, which is in use", admin, taken)
	}
	if mustInt(t, p, "fixed.port") != 8123 {
		t.Error("fixed.port not published")
	}
	if v, ok := p.Attribute("db.port"); ok {
		t.Errorf("the inherited db.port was published: %v", v)
	}
	b, _ := os.ReadFile(filepath.Join(mustString(t, p, "run.dir"), "ports"))
	if want := fmt.Sprintf("%d 8123 none\n", admin); string(b) != want {
		t.Errorf("ports seen by launch: %q, want %q", b, want)
	}
	if err := run(t, m, app, "stop"); err != nil {
		t.Fatal(err)
	}
}
