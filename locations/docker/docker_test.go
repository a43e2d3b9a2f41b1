package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
)

type fixture struct {
	e      *docker.Engine
	cli    *client.Client
	image  string
	labels map[string]string // carries testenv.TestLabel: removed after the test
}

func setup(t *testing.T) fixture {
	t.Helper()
	cli := testenv.RequireDocker(t)
	image := testenv.BusyboxImage(t)
	e, err := docker.New(t.Context(), "docker", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return fixture{e: e, cli: cli, image: image, labels: testenv.ContainerLabels(t, cli)}
}

func (f fixture) with(extra map[string]string) map[string]string {
	l := maps.Clone(f.labels)
	maps.Copy(l, extra)
	return l
}

func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// get fetches url, retrying while the server in the container comes up.
func get(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return string(b)
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEngineLocation(t *testing.T) {
	f := setup(t)
	var loc locations.Location = f.e
	if loc.ID() != "docker" || loc.Kind() != "docker" || loc.Spec() != "docker" {
		t.Fatalf("ID/Kind/Spec = %q/%q/%q", loc.ID(), loc.Kind(), loc.Spec())
	}
	cfg := loc.Config()
	if cfg["host"] != f.cli.DaemonHost() || cfg["apiVersion"] == "" {
		t.Fatalf("Config = %v", cfg)
	}
	if _, ok := loc.(locations.ContainerHost); !ok {
		t.Fatal("engine is not a ContainerHost")
	}
	t.Logf("Config = %v, DisplayName = %q", cfg, loc.DisplayName())
}

func TestRunContainer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()

	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "index.html"), []byte("hello from gantry\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fixed := freePort(t)
	name := uniqueName("gantry-test-run")
	spec := locations.ContainerSpec{
		Name:  name,
		Image: f.image,
		Command: []string{"sh", "-c", `mkdir -p /srv && cp /data/index.html /srv/ &&
echo "$GREETING" > /srv/env.txt &&
if touch /data/x 2>/dev/null; then echo rw; else echo ro; fi > /srv/mode.txt &&
httpd -p 8081 -h /srv && exec httpd -f -p 80 -h /srv`},
		Env:          map[string]string{"GREETING": "hi there"},
		OpenPorts:    []int{80},
		PortBindings: map[int]int{8081: fixed},
		Volumes:      []string{data + ":/data:ro", "/scratch"},
		Labels:       f.with(map[string]string{"app": "web"}),
		CPUShares:    512,
		MemoryBytes:  64 << 20,
	}
	start := time.Now()
	c, err := f.e.RunContainer(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("RunContainer took %v", time.Since(start))

	if c.ID == "" || c.Name != name || c.Image != f.image {
		t.Errorf("ID/Name/Image = %q/%q/%q", c.ID, c.Name, c.Image)
	}
	if !c.Running || c.Status != "running" {
		t.Errorf("Running/Status = %v/%q", c.Running, c.Status)
	}
	if net.ParseIP(c.IP) == nil {
		t.Errorf("IP = %q", c.IP)
	}
	if c.Hostname == "" || !strings.HasPrefix(c.ID, c.Hostname) {
		t.Errorf("Hostname = %q (ID %s)", c.Hostname, c.ID)
	}
	if c.Ports[80] == 0 || c.Ports[8081] != fixed {
		t.Errorf("Ports = %v, want 80 -> random, 8081 -> %d", c.Ports, fixed)
	}
	if c.Labels["app"] != "web" || c.Labels[testenv.TestLabel] != f.labels[testenv.TestLabel] {
		t.Errorf("Labels = %v", c.Labels)
	}

	// The published ports serve what the bind mount, env and command made.
	base := "http://127.0.0.1:" + strconv.Itoa(c.Ports[80])
	if got := get(t, base+"/index.html"); got != "hello from gantry\n" {
		t.Errorf("index.html = %q", got)
	}
	if got := get(t, base+"/env.txt"); got != "hi there\n" {
		t.Errorf("env.txt = %q", got)
	}
	if got := get(t, base+"/mode.txt"); got != "ro\n" {
		t.Errorf("bind mount is %q, want ro", got)
	}
	if got := get(t, "http://127.0.0.1:"+strconv.Itoa(fixed)+"/index.html"); got != "hello from gantry\n" {
		t.Errorf("fixed port index.html = %q", got)
	}

	// Inspect agrees, and the raw engine view shows resources and volumes.
	again, err := f.e.InspectContainer(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != c.ID || again.IP != c.IP || again.Ports[80] != c.Ports[80] {
		t.Errorf("InspectContainer = %+v, RunContainer = %+v", again, c)
	}
	raw, err := f.cli.ContainerInspect(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if raw.HostConfig.CPUShares != 512 || raw.HostConfig.Memory != 64<<20 {
		t.Errorf("CPUShares/Memory = %d/%d", raw.HostConfig.CPUShares, raw.HostConfig.Memory)
	}
	var anon string
	for _, m := range raw.Mounts {
		if m.Destination == "/scratch" && m.Type == "volume" {
			anon = m.Name
		}
	}
	if anon == "" {
		t.Fatalf("no anonymous volume at /scratch in %+v", raw.Mounts)
	}

	// Remove takes the anonymous volume with it.
	if err := f.e.RemoveContainer(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.InspectContainer(ctx, c.ID); !errors.Is(err, locations.ErrNotFound) {
		t.Errorf("InspectContainer after remove: %v, want ErrNotFound", err)
	}
	if _, err := f.cli.VolumeInspect(ctx, anon); err == nil {
		t.Errorf("anonymous volume %s survived the container", anon)
		_ = f.cli.VolumeRemove(context.Background(), anon, true)
	}
	if err := f.e.RemoveContainer(ctx, c.ID); err != nil {
		t.Errorf("removing a missing container: %v", err)
	}
}

func TestListStopStartRemove(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()

	run := func(role string) *locations.Container {
		c, err := f.e.RunContainer(ctx, locations.ContainerSpec{
			Name: uniqueName("gantry-test-" + role), Image: f.image,
			Command: []string{"sleep", "3600"},
			Labels:  f.with(map[string]string{"role": role}),
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := run("a"), run("b")

	all, err := f.e.ListContainers(ctx, f.labels)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("ListContainers(test label) = %d containers, want 2", len(all))
	}
	onlyA, err := f.e.ListContainers(ctx, f.with(map[string]string{"role": "a"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(onlyA) != 1 || onlyA[0].ID != a.ID || !onlyA[0].Running || onlyA[0].Name != a.Name || onlyA[0].IP != a.IP {
		t.Fatalf("ListContainers(role=a) = %+v, want %+v", onlyA, a)
	}
	none, err := f.e.ListContainers(ctx, f.with(map[string]string{"role": "nobody"}))
	if err != nil || len(none) != 0 {
		t.Fatalf("ListContainers(role=nobody) = %v, %v", none, err)
	}

	// Stop: sleep as PID 1 ignores SIGTERM, so a zero timeout kills at once.
	if err := f.e.StopContainer(ctx, a.ID, 0); err != nil {
		t.Fatal(err)
	}
	stopped, err := f.e.InspectContainer(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stopped.Running || stopped.Status != "exited" || stopped.ExitCode != 137 || stopped.IP != "" {
		t.Errorf("after stop: Running/Status/ExitCode/IP = %v/%q/%d/%q", stopped.Running, stopped.Status, stopped.ExitCode, stopped.IP)
	}
	if err := f.e.StopContainer(ctx, a.ID, time.Second); err != nil {
		t.Errorf("stopping a stopped container: %v", err)
	}
	listed, err := f.e.ListContainers(ctx, f.with(map[string]string{"role": "a"}))
	if err != nil || len(listed) != 1 || listed[0].Running || listed[0].Status != "exited" || listed[0].ExitCode != 137 {
		t.Errorf("ListContainers after stop = %+v, %v", listed, err)
	}

	started, err := f.e.StartContainer(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !started.Running || started.IP == "" {
		t.Errorf("after start: Running/IP = %v/%q", started.Running, started.IP)
	}
	if _, err := f.e.StartContainer(ctx, a.ID); err != nil {
		t.Errorf("starting a running container: %v", err)
	}

	for _, c := range []*locations.Container{a, b} {
		if err := f.e.RemoveContainer(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if left, err := f.e.ListContainers(ctx, f.labels); err != nil || len(left) != 0 {
		t.Fatalf("after remove: %v, %v", left, err)
	}
	for _, op := range []struct {
		name string
		err  error
	}{
		{"stop", f.e.StopContainer(ctx, a.ID, 0)},
		{"start", func() error { _, err := f.e.StartContainer(ctx, a.ID); return err }()},
		{"inspect", func() error { _, err := f.e.InspectContainer(ctx, a.ID); return err }()},
	} {
		if !errors.Is(op.err, locations.ErrNotFound) {
			t.Errorf("%s of a removed container: %v, want ErrNotFound", op.name, op.err)
		}
	}
}

func TestRunMissingImage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	name := uniqueName("gantry-test-missing")
	image := "gantry/no-such-image:" + strings.TrimPrefix(name, "gantry-test-missing-")
	_, err := f.e.RunContainer(ctx, locations.ContainerSpec{Name: name, Image: image, Labels: f.labels})
	if !errors.Is(err, docker.ErrImageNotFound) || !errors.Is(err, locations.ErrNotFound) {
		t.Fatalf("err = %v, want ErrImageNotFound", err)
	}
	for _, s := range []string{"image " + image + " not found on engine docker", "build it locally, e.g. make images"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	t.Logf("error: %v", err)
	if left, err := f.e.ListContainers(ctx, f.labels); err != nil || len(left) != 0 {
		t.Errorf("containers left: %v, %v", left, err)
	}
	if _, err := f.e.InspectContainer(ctx, name); !errors.Is(err, locations.ErrNotFound) {
		t.Errorf("inspect %s: %v, want ErrNotFound", name, err)
	}
	// Nothing was pulled.
	if _, err := f.cli.ImageInspect(ctx, image); err == nil {
		t.Errorf("image %s exists after the failed run", image)
	}
}

func TestRunStartFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	name := uniqueName("gantry-test-badstart")
	_, err := f.e.RunContainer(ctx, locations.ContainerSpec{
		Name: name, Image: f.image, Command: []string{"/no/such/program"}, Labels: f.labels,
	})
	if err == nil {
		t.Fatal("RunContainer of a missing program succeeded")
	}
	t.Logf("error: %v", err)
	if errors.Is(err, docker.ErrImageNotFound) {
		t.Errorf("start failure reported as a missing image: %v", err)
	}
	if left, err := f.e.ListContainers(ctx, f.labels); err != nil || len(left) != 0 {
		t.Errorf("half-made containers left: %+v, %v", left, err)
	}
}

func TestRunInvalidAndConflict(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	if _, err := f.e.RunContainer(ctx, locations.ContainerSpec{Image: f.image, OpenPorts: []int{0}, Labels: f.labels}); !errors.Is(err, locations.ErrInvalid) {
		t.Errorf("invalid spec: %v, want ErrInvalid", err)
	}
	name := uniqueName("gantry-test-dup")
	spec := locations.ContainerSpec{Name: name, Image: f.image, Command: []string{"sleep", "3600"}, Labels: f.labels}
	first, err := f.e.RunContainer(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.RunContainer(ctx, spec); !errors.Is(err, locations.ErrInvalid) {
		t.Errorf("duplicate name: %v, want ErrInvalid", err)
	}
	if c, err := f.e.InspectContainer(ctx, name); err != nil || c.ID != first.ID || !c.Running {
		t.Errorf("first container after the conflict: %+v, %v", c, err)
	}
}

// WatchContainers delivers die (with the exit code) right after a kill, and
// only for containers carrying the labels.
func TestWatchContainersDie(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	type received struct {
		ev locations.ContainerEvent
		at time.Time
	}
	evs := make(chan received, 100)
	done := make(chan error, 1)
	go func() {
		done <- f.e.WatchContainers(ctx, f.labels, func(ev locations.ContainerEvent) {
			evs <- received{ev, time.Now()}
		})
	}()
	next := func(id, action string) received {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case r := <-evs:
				if r.ev.ID != id {
					t.Fatalf("event of container %s, which does not carry the labels: %+v", r.ev.ID, r.ev)
				}
				if r.ev.Action == action {
					return r
				}
			case <-timeout:
				t.Fatalf("no %s event for %s", action, id)
			}
		}
	}

	// A container without the test's labels must not be seen.
	other, err := f.e.RunContainer(ctx, locations.ContainerSpec{
		Image: f.image, Command: []string{"sleep", "3600"},
		Labels: map[string]string{testenv.TestLabel: f.labels[testenv.TestLabel] + "-other"},
	})
	if err != nil {
		t.Fatal(err)
	}
	testenv.CleanupContainers(t, f.cli, f.labels[testenv.TestLabel]+"-other")

	c, err := f.e.RunContainer(ctx, locations.ContainerSpec{
		Name: uniqueName("gantry-test-watch"), Image: f.image, Command: []string{"sleep", "3600"},
		Labels: f.with(map[string]string{"app": "watched"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The watch replays from when it was called, so the start is seen even if
	// the subscription lost the race with RunContainer.
	startEv := next(c.ID, locations.EventStart)
	if startEv.ev.Labels["app"] != "watched" || startEv.ev.Name != c.Name || startEv.ev.Image != f.image {
		t.Errorf("start event = %+v", startEv.ev)
	}

	killed := time.Now()
	if err := f.cli.ContainerKill(ctx, c.ID, "KILL"); err != nil {
		t.Fatal(err)
	}
	die := next(c.ID, locations.EventDie)
	latency, pipeline := die.at.Sub(killed), die.at.Sub(die.ev.Time)
	t.Logf("die delivered %v after the kill request; %v after the engine stamped it", latency, pipeline)
	if die.ev.ExitCode != 137 {
		t.Errorf("die exit code = %d, want 137", die.ev.ExitCode)
	}
	// Only our part is checked here: the engine's own kill time depends on the
	// machine's load (BenchmarkWatchDie measures the whole).
	if pipeline > time.Second {
		t.Errorf("die reached the callback %v after the engine emitted it, want well under 1s", pipeline)
	}

	if err := f.e.RemoveContainer(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	next(c.ID, locations.EventDestroy)
	_ = f.e.RemoveContainer(ctx, other.ID)

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("WatchContainers returned %v", err)
	}
}
