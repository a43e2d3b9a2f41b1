package cluster_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/cluster"
	_ "github.com/gantry-dev/gantry/entities/container"
	"github.com/gantry-dev/gantry/entities/proxy"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
	"github.com/gantry-dev/gantry/sensors"
)

// dockerFixture is a Docker engine location and the label every container of the test
// carries (removed after the test, even when it fails).
type dockerFixture struct {
	cli    *client.Client
	reg    *locations.Registry
	image  string
	labels map[string]string
}

func newDockerFixture(t *testing.T) dockerFixture {
	t.Helper()
	cli := testenv.RequireDocker(t)
	image := testenv.BusyboxImage(t)
	labels := testenv.ContainerLabels(t, cli)
	eng, err := docker.New(t.Context(), "docker", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	reg := locations.NewRegistry()
	if err := reg.Add(eng); err != nil {
		t.Fatal(err)
	}
	return dockerFixture{cli: cli, reg: reg, image: image, labels: labels}
}

// open starts a server on dir with the Docker location.
func (f dockerFixture) open(t *testing.T, dir string) server {
	t.Helper()
	since := time.Now()
	m, s := testenv.OpenManagement(t, dir, entities.Options{Locations: f.reg})
	t.Cleanup(func() { m.Close(); s.Close() })
	return server{m: m, s: s, since: since}
}

// app is an application on the Docker location with a cluster of busybox httpd
// containers.
func (f dockerFixture) app(size int) *entities.Spec {
	labels := map[string]any{}
	for k, v := range f.labels {
		labels[k] = v
	}
	member := &entities.Spec{Type: "docker-container", Name: "web", Config: map[string]any{
		"image": f.image, "command": "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www",
		"openPorts": []any{80}, "labels": labels,
	}}
	spec := clusterApp(map[string]any{cluster.KeyInitialSize: size}, member)
	spec.Locations = []string{"docker"}
	return spec
}

// containers lists the test's containers: id -> running.
func (f dockerFixture) containers(t *testing.T) map[string]bool {
	t.Helper()
	var args []filters.KeyValuePair
	for k, v := range f.labels {
		args = append(args, filters.Arg("label", k+"="+v))
	}
	list, err := f.cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(args...)})
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]bool, len(list))
	for _, c := range list {
		out[c.ID] = c.State == "running"
	}
	return out
}

// checkContainers checks that each member runs in its own container, that it answers
// HTTP, and that the test has no other container.
func (f dockerFixture) checkContainers(t *testing.T, c *entities.Entity, want int) {
	t.Helper()
	checkCluster(t, c, want)
	got := f.containers(t)
	if len(got) != want {
		t.Errorf("%d containers, want %d", len(got), want)
	}
	seen := map[string]bool{}
	for _, m := range c.Members() {
		v, _ := m.Attribute(sensors.ContainerID)
		id, _ := v.(string)
		if !got[id] || seen[id] {
			t.Errorf("member %s: container %q running %v (seen before: %v)", m, id, got[id], seen[id])
		}
		seen[id] = true
		uri, _ := m.Attribute(sensors.MainURI)
		u, _ := uri.(string)
		var resp *http.Response
		var err error
		for range 50 { // httpd may take a moment to listen
			if resp, err = http.Get(u); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("member %s at %q: %v", m, u, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("member %s at %s: %s", m, u, resp.Status)
		}
	}
}

func TestDockerClusterResize(t *testing.T) {
	f := newDockerFixture(t)
	sv := f.open(t, t.TempDir())
	app, c, err := deploy(t, sv.m, f.app(2))
	if err != nil {
		t.Fatal(err)
	}
	f.checkContainers(t, c, 2)
	for _, n := range []int{4, 1} {
		if size, err := invoke(t, c, "resize", map[string]any{"desiredSize": n}); err != nil || size != n {
			t.Fatalf("resize to %d = %v, %v", n, size, err)
		}
		f.checkContainers(t, c, n)
	}
	if got := memberIDs(c); !slices.Equal(got, []int{0}) {
		t.Errorf("members %v after shrinking newest first", got)
	}
	task, err := sv.m.Unmanage(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	if left := f.containers(t); len(left) != 0 {
		t.Errorf("%d containers left after unmanage", len(left))
	}
}

// hasStep says whether a task of the trees of tasks has a name containing part.
func hasStep(tasks []*entities.Task, part string) bool {
	for _, x := range tasks {
		if strings.Contains(x.Snapshot().Name, part) || hasStep(x.Children(), part) {
			return true
		}
	}
	return false
}

// A server killed after it made a member's container and before it recorded its id: after
// the rebind the member starts again and adopts that container; no second one is made.
func TestDockerRebindAdoptsTheContainerOfAMemberCaughtStarting(t *testing.T) {
	f := newDockerFixture(t)
	dir := t.TempDir()
	one := f.open(t, dir)
	_, c, err := deploy(t, one.m, f.app(2))
	if err != nil {
		t.Fatal(err)
	}
	f.checkContainers(t, c, 2)
	caught := c.Members()[1]
	v, _ := caught.Attribute(sensors.ContainerID)
	made := v.(string)
	// What the store holds when the kill comes between docker create and the record.
	caught.SetAttribute(sensors.ContainerID, nil)
	caught.SetExpected(entities.Starting)
	one.kill(t)

	two := f.open(t, dir)
	c2, _ := two.m.Entity(c.ID())
	if err := wait(t, two.taskNamed(t, c2, "Invoking effector resize")); err != nil {
		t.Fatal(err)
	}
	f.checkContainers(t, c2, 2)
	caught2, _ := two.m.Entity(caught.ID())
	if v, _ := caught2.Attribute(sensors.ContainerID); v != made {
		t.Errorf("member %s has container %v, want the one made before the kill, %s", caught2, v, made)
	}
	noProblems(t, c2.Members()...)
	if !hasStep(two.m.Tasks(caught2), "made before a restart") {
		t.Error("no step adopted the container")
	}
	task, err := two.m.Unmanage(context.Background(), c2.Application())
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	if left := f.containers(t); len(left) != 0 {
		t.Errorf("%d containers left after unmanage", len(left))
	}
}

// A ControlledDynamicWebAppCluster with its default controller, the load-balancer kind
// (HAProxy in a container): requests to its main.uri reach the members, and the load
// balancer follows a resize made through the view.
func TestDockerControlledClusterBehindTheLoadBalancer(t *testing.T) {
	f := newDockerFixture(t)
	testenv.HAProxyImage(t)
	sv := f.open(t, t.TempDir())
	labels := map[string]any{}
	for k, v := range f.labels {
		labels[k] = v
	}
	member := &entities.Spec{Type: "docker-container", Name: "web", Config: map[string]any{
		"image": f.image, "command": "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www",
		"http.port": 8080,
	}}
	spec := &entities.Spec{
		Type: "basic-application", Name: "web", Locations: []string{"docker"},
		// Inherited by every container of the tree: the test's label, no stats feed.
		Config: map[string]any{"labels": labels, "docker.stats.period": "0", proxy.KeyDebounce: "50ms"},
		Children: []*entities.Spec{{
			Type: "controlled-cluster", Name: "web-cluster",
			Config:      map[string]any{cluster.KeyInitialSize: 2},
			EntitySpecs: map[string]*entities.Spec{cluster.KeyMemberSpec: member},
		}},
	}
	app, cc, err := deploy(t, sv.m, spec)
	if err != nil {
		t.Fatal(err)
	}
	c, lb := cc.Children()[0], cc.Children()[1]
	if lb.Type().Name != proxy.TypeName {
		t.Fatalf("controller is a %s", lb.Type().Name)
	}
	var url string
	waitFor(t, "main.uri", func() bool {
		v, _ := cc.Attribute(sensors.MainURI)
		url, _ = v.(string)
		return url != ""
	})
	for _, n := range []int{2, 3} {
		if n != 2 {
			if _, err := invoke(t, cc, "resize", map[string]any{"desiredSize": n}); err != nil {
				t.Fatal(err)
			}
		}
		sameMembers(t, cc, c, n)
		want := map[string]bool{}
		for _, m := range c.Members() {
			v, _ := m.Attribute(sensors.HostName)
			want[v.(string)] = true
		}
		// Round robin: within a few rounds every member has answered.
		seen := map[string]bool{}
		waitFor(t, "every member to answer through the load balancer", func() bool {
			resp, err := http.Get(url)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if name := strings.TrimSpace(string(b)); want[name] {
				seen[name] = true
			}
			return len(seen) == len(want)
		})
	}
	task, err := sv.m.Unmanage(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	if left := f.containers(t); len(left) != 0 {
		t.Errorf("%d containers left after unmanage", len(left))
	}
}
