package main_test

// End-to-end tests: the real gantry binary, driven through client/, against the real
// Docker Engine.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerclient "github.com/docker/docker/client"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/internal/testenv"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gantry-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gantry")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gantry:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one run of the gantry binary.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	data string
	log  *syncBuffer
	c    *client.Client
}

// syncBuffer collects the server's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs gantry on data (a new directory when empty) and waits until it serves.
func startServer(t *testing.T, data string) *server {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	addr := freeAddr(t)
	s := &server{t: t, data: data, url: "http://" + addr, log: &syncBuffer{}}
	s.cmd = exec.Command(binary, "server", "--bind", addr, "--data", data)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// Processes the server started on this machine may hold its output open after it
	// died: do not wait for them.
	s.cmd.WaitDelay = 2 * time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("server log:\n%s", s.log)
		}
	})
	s.c = client.New(s.url)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if up, err := s.c.Up(context.Background()); err == nil && up {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer within 20s; log:\n%s", s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the server as kill -9 would: nothing is flushed or cleaned.
func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	}
}

func (s *server) id(ctx context.Context) string {
	resp, err := http.Get(s.url + "/v1/server/planeid")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Trim(string(b), "\"\n")
}

// containers lists the containers carrying the server's label, by entity id.
func containers(t *testing.T, docker *dockerclient.Client, serverID string) map[string]container.Summary {
	t.Helper()
	list, err := docker.ContainerList(context.Background(), container.ListOptions{
		All: true, Filters: filters.NewArgs(filters.Arg("label", "dev.gantry.server="+serverID)),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]container.Summary{}
	for _, c := range list {
		out[c.Labels["dev.gantry.entity"]] = c
	}
	return out
}

// removeOnCleanup removes whatever the server created, even when the test failed. The
// server is killed first: its policies would otherwise replace what is being removed.
func removeOnCleanup(t *testing.T, docker *dockerclient.Client, s *server) {
	serverID := s.id(context.Background())
	t.Cleanup(func() {
		s.kill()
		for _, c := range containers(t, docker, serverID) {
			docker.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		}
	})
}

// dockerServer starts a server for a test that runs containers (it needs the Docker
// Engine, and busybox), whose containers are removed at the end; it gives a context
// that times out after timeout, the engine's client and the server's id.
func dockerServer(t *testing.T, timeout time.Duration) (context.Context, *server, *dockerclient.Client, string) {
	t.Helper()
	docker := testenv.RequireDocker(t)
	testenv.BusyboxImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	s := startServer(t, "")
	serverID := s.id(ctx)
	removeOnCleanup(t, docker, s)
	return ctx, s, docker, serverID
}

func readExample(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func deploy(t *testing.T, ctx context.Context, s *server, blueprint []byte) string {
	t.Helper()
	task, err := s.c.Deploy(ctx, blueprint)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	done, err := s.c.WaitTask(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.IsError {
		t.Fatalf("start failed: %v\n%s", done.Result, done.DetailedStatus)
	}
	return task.EntityID
}

func sensor(t *testing.T, ctx context.Context, s *server, app, entity, name string) any {
	t.Helper()
	v, err := s.c.Sensor(ctx, app, entity, name)
	if err != nil {
		t.Fatalf("sensor %s of %s: %v", name, entity, err)
	}
	return v
}

// waitFor polls cond every 20ms until it holds or d passes; it returns how long it took.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

func TestHelloLifecycleRebindAndDelete(t *testing.T) {
	ctx, s, docker, serverID := dockerServer(t, 3*time.Minute)

	app := deploy(t, ctx, s, readExample(t, "hello.yaml"))

	summary, err := s.c.Application(ctx, "hello")
	if err != nil || summary.Status != api.StatusRunning || summary.ID != app {
		t.Fatalf("application: %+v, %v", summary, err)
	}
	// The containers exist on the engine, labelled with server, app and entity.
	byEntity := containers(t, docker, serverID)
	if len(byEntity) != 2 {
		t.Fatalf("%d containers on the engine, want 2", len(byEntity))
	}
	webID := sensor(t, ctx, s, app, "web", "container.id").(string)
	web, _ := s.c.Entity(ctx, app, "web")
	if byEntity[web.ID].ID != webID || byEntity[web.ID].Labels["dev.gantry.app"] != app {
		t.Fatalf("container of web: %+v, sensor says %s", byEntity[web.ID], webID)
	}
	// main.uri serves the greeting from the container's env (once httpd, started by the
	// container's command, listens: RUNNING says the container runs, not that its server
	// is ready).
	uri := sensor(t, ctx, s, app, "web", "main.uri").(string)
	if body := httpGet(t, uri); !strings.Contains(body, "hello from gantry") {
		t.Fatalf("GET %s = %q", uri, body)
	}
	// The deploy's task tree tells the story, with each step's output.
	acts, err := s.c.Activities(ctx, app, "web")
	if err != nil || len(acts) == 0 {
		t.Fatalf("activities of web: %v %v", acts, err)
	}

	// Rename, then address the entity by its new name.
	if err := s.c.Rename(ctx, app, "web", "frontend"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.Entity(ctx, app, "frontend"); err != nil {
		t.Fatalf("entity by new name: %v", err)
	}

	// stop, start and restart effectors.
	for _, eff := range []string{"stop", "start", "restart"} {
		if _, _, err := s.c.InvokeEffector(ctx, app, "frontend", eff, nil, ""); err != nil {
			t.Fatalf("%s: %v", eff, err)
		}
		want := "RUNNING"
		if eff == "stop" {
			want = "STOPPED"
		}
		if got := sensor(t, ctx, s, app, "frontend", "service.state"); got != want {
			t.Fatalf("after %s: service.state %v, want %s", eff, got, want)
		}
	}
	webID = sensor(t, ctx, s, app, "frontend", "container.id").(string)

	// docker kill -> ON_FIRE, seen from the events stream.
	workerID := sensor(t, ctx, s, app, "worker", "container.id").(string)
	if err := docker.ContainerKill(ctx, workerID, "KILL"); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, 5*time.Second, "worker on fire", func() bool {
		return sensor(t, ctx, s, app, "worker", "service.state") == "ON_FIRE"
	})
	t.Logf("container death seen as ON_FIRE after %s", took)
	if took > time.Second {
		t.Errorf("ON_FIRE took %s, want within 1s", took)
	}
	if st, _ := s.c.Application(ctx, app); st.Status != api.StatusError {
		t.Errorf("application status %s after a child died, want ERROR", st.Status)
	}
	if _, _, err := s.c.InvokeEffector(ctx, app, "worker", "restart", nil, ""); err != nil {
		t.Fatal(err)
	}
	workerID = sensor(t, ctx, s, app, "worker", "container.id").(string)

	// kill -9 the server, start it again on the same data: same containers, same state.
	time.Sleep(1200 * time.Millisecond) // the write-behind reaches the store within 1s
	s.kill()
	s2 := startServer(t, s.data)
	if got := sensor(t, ctx, s2, app, "frontend", "container.id"); got != webID {
		t.Errorf("after restart web container %v, want %s", got, webID)
	}
	if got := sensor(t, ctx, s2, app, "worker", "container.id"); got != workerID {
		t.Errorf("after restart worker container %v, want %s", got, workerID)
	}
	if st, _ := s2.c.Application(ctx, app); st.Status != api.StatusRunning {
		t.Errorf("after restart application status %s, want RUNNING", st.Status)
	}
	if n := len(containers(t, docker, serverID)); n != 2 {
		t.Errorf("after restart %d containers, want the same 2", n)
	}
	// Death is still seen after the rebind.
	if err := docker.ContainerKill(ctx, workerID, "KILL"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "worker on fire after rebind", func() bool {
		return sensor(t, ctx, s2, app, "worker", "service.state") == "ON_FIRE"
	})

	// DELETE stops and unmanages: nothing is left.
	task, err := s2.c.DeleteApplication(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := s2.c.WaitTask(ctx, task.ID); err != nil || done.IsError {
		t.Fatalf("delete: %+v %v", done, err)
	}
	if n := len(containers(t, docker, serverID)); n != 0 {
		t.Errorf("%d containers left after DELETE", n)
	}
	if _, err := s2.c.Application(ctx, app); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("application after DELETE: %v, want not found", err)
	}
}

func TestContainerVanishedWhileServerDown(t *testing.T) {
	ctx, s, docker, _ := dockerServer(t, 2*time.Minute)
	app := deploy(t, ctx, s, []byte(`
name: lonely
location: docker
services:
- type: docker:gantry/busybox
  name: sleeper
  command: [sleep, "3600"]
`))
	id := sensor(t, ctx, s, app, "sleeper", "container.id").(string)
	time.Sleep(1200 * time.Millisecond)
	s.kill()
	if err := docker.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, s.data)
	if got := sensor(t, ctx, s2, app, "sleeper", "service.isUp"); got != false {
		t.Errorf("service.isUp = %v, want false", got)
	}
	if got := sensor(t, ctx, s2, app, "sleeper", "service.state"); got != "ON_FIRE" {
		t.Errorf("service.state = %v, want ON_FIRE", got)
	}
	problems, _ := sensor(t, ctx, s2, app, "sleeper", "service.problems").(map[string]any)
	if !strings.Contains(fmt.Sprint(problems), "no longer exists") {
		t.Errorf("service.problems = %v, want the vanished container named", problems)
	}
	// start creates a new container: the entity recovers.
	if _, _, err := s2.c.InvokeEffector(ctx, app, "sleeper", "start", nil, ""); err != nil {
		t.Fatal(err)
	}
	if got := sensor(t, ctx, s2, app, "sleeper", "service.state"); got != "RUNNING" {
		t.Errorf("after start: %v", got)
	}
}

func TestBadBlueprintsAreRejectedAndStartNothing(t *testing.T) {
	docker := testenv.RequireDocker(t)
	ctx := context.Background()
	s := startServer(t, "")
	serverID := s.id(ctx)
	removeOnCleanup(t, docker, s)
	cases := []struct{ name, yaml, want string }{
		{"malformed", "services:\n- type: docker:gantry/busybox\n  env: {A: 1\n", "line 3, column 1: invalid yaml"},
		{"unknown root key", "location: docker\nservice:\n- type: basic-entity\n", `line 2, column 1: service: unknown root key; did you mean "services"?`},
		{"unknown type", "location: docker\nservices:\n- type: docker:gantry/busybox\n- type: dockr-container\n", `line 4, column 9: services[1].type: unknown type "dockr-container"`},
		{"unknown location", "location: mars\nservices:\n- type: docker:gantry/busybox\n", `line 1, column 11: location: unknown location "mars"`},
		{"wrong value type", "location: docker\nservices:\n- type: docker:gantry/busybox\n  openPorts: {80: 80}\n", `line 4, column 14: services[0].openPorts`},
		{"duplicate id", "location: docker\nservices:\n- type: docker:gantry/busybox\n  id: a\n- type: docker:gantry/busybox\n  id: a\n", `line 6, column 7: services[1].id`},
	}
	for _, c := range cases {
		_, err := s.c.Deploy(ctx, []byte(c.yaml))
		var cerr *client.Error
		if !errors.As(err, &cerr) || cerr.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: error %v, want a 400", c.name, err)
			continue
		}
		if !strings.Contains(cerr.Message, c.want) {
			t.Errorf("%s: message %q, want it to contain %q", c.name, cerr.Message, c.want)
		}
	}
	if apps, err := s.c.Applications(ctx); err != nil || len(apps) != 0 {
		t.Errorf("applications after bad blueprints: %v %v", apps, err)
	}
	if n := len(containers(t, docker, serverID)); n != 0 {
		t.Errorf("%d containers created by bad blueprints", n)
	}
}

func TestProcessOnLocalhost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := startServer(t, "")
	app := deploy(t, ctx, s, readExample(t, "process.yaml"))
	if got := sensor(t, ctx, s, app, "ticker", "service.state"); got != "RUNNING" {
		t.Fatalf("service.state = %v", got)
	}
	runDir := sensor(t, ctx, s, app, "ticker", "run.dir").(string)
	t.Cleanup(func() {
		kill := exec.Command("sh", "-c", `[ -f pid ] && kill "$(cat pid)"`)
		kill.Dir = runDir
		kill.Run()
	})

	// Each phase is a subtask with its output captured.
	acts, err := s.c.Activities(ctx, app, "ticker")
	if err != nil || len(acts) == 0 {
		t.Fatalf("activities: %v %v", acts, err)
	}
	var launch string
	var walk func(id string)
	walk = func(id string) {
		kids, err := s.c.ActivityChildren(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kids {
			if k.DisplayName == "launch" {
				launch, _ = s.c.Stream(ctx, k.ID, "stdout")
			}
			walk(k.ID)
		}
	}
	walk(acts[len(acts)-1].ID)
	if !strings.Contains(launch, "launched pid") {
		t.Errorf("launch stdout = %q, want the launch command's output", launch)
	}

	// The process dies: checkRunning sees it and the entity goes on fire.
	pid, err := os.ReadFile(filepath.Join(runDir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("kill", strings.TrimSpace(string(pid))).Run(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "ticker on fire", func() bool {
		return sensor(t, ctx, s, app, "ticker", "service.state") == "ON_FIRE"
	})
	// start runs it again.
	if _, _, err := s.c.InvokeEffector(ctx, app, "ticker", "start", nil, ""); err != nil {
		t.Fatal(err)
	}
	if got := sensor(t, ctx, s, app, "ticker", "service.state"); got != "RUNNING" {
		t.Errorf("after start: %v", got)
	}
	task, err := s.c.DeleteApplication(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := s.c.WaitTask(ctx, task.ID); err != nil || done.IsError {
		t.Fatalf("delete: %+v %v", done, err)
	}
	if _, err := os.Stat(runDir); !os.IsNotExist(err) {
		t.Errorf("run dir %s left after delete: %v", runDir, err)
	}
}

func TestTreeExampleInheritsConfig(t *testing.T) {
	ctx, s, _, _ := dockerServer(t, 2*time.Minute)
	app := deploy(t, ctx, s, readExample(t, "tree.yaml"))
	all, err := s.c.Descendants(ctx, app)
	if err != nil || len(all) != 5 {
		t.Fatalf("descendants: %d %v", len(all), err)
	}
	for _, e := range all {
		if got := sensor(t, ctx, s, app, e.ID, "service.state"); got != "RUNNING" {
			t.Errorf("%s: %v", e.Name, got)
		}
	}
	if v, err := s.c.ConfigValue(ctx, app, "web-2", "shop.region"); err != nil || v != "eu-west" {
		t.Errorf("inherited config: %v %v", v, err)
	}
	tree, err := s.c.FetchApplications(ctx)
	if err != nil || len(tree) != 1 || len(tree[0].Children) != 2 || len(tree[0].Children[0].Children) != 2 {
		t.Errorf("fetch: %+v %v", tree, err)
	}
}

func TestOrphanContainersAreReportedAtStart(t *testing.T) {
	docker := testenv.RequireDocker(t)
	image := testenv.BusyboxImage(t)
	ctx := context.Background()
	s := startServer(t, "")
	serverID := s.id(ctx)
	removeOnCleanup(t, docker, s)
	s.kill()
	// A container with this server's labels that no entity claims, as a crash between
	// creating a container and recording it would leave.
	created, err := docker.ContainerCreate(ctx, &container.Config{
		Image: image, Cmd: []string{"sleep", "60"},
		Labels: map[string]string{"dev.gantry.server": serverID, "dev.gantry.entity": "nobody"},
	}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, s.data)
	if !strings.Contains(s2.log.String(), "no entity claims") || !strings.Contains(s2.log.String(), created.ID) {
		t.Errorf("the orphan %s is not reported; log:\n%s", created.ID, s2.log)
	}
	// Reporting is all: the container is left for the user to decide.
	if _, err := docker.ContainerInspect(ctx, created.ID); err != nil {
		t.Errorf("orphan removed: %v", err)
	}
}
