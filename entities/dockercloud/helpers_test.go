package dockercloud_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/catalog"
	"github.com/gantry-dev/gantry/entities"
	_ "github.com/gantry-dev/gantry/entities/cluster"
	"github.com/gantry-dev/gantry/entities/dockercloud"
	_ "github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
	_ "github.com/gantry-dev/gantry/policies"
	"github.com/gantry-dev/gantry/sensors"
	"github.com/gantry-dev/gantry/store"
)

// fixture is extra Docker Engines of this machine, a label every container of the test
// carries (removed from every engine after the test, even when it fails) and the name
// of the test's cloud.
type fixture struct {
	engines []testenv.EngineEndpoint
	clis    []*client.Client
	label   string // value of testenv.TestLabel
	cloud   string // docker.cloud.name
}

func newFixture(t *testing.T, n int) *fixture {
	t.Helper()
	eps := testenv.Engines(t, n)
	f := &fixture{engines: eps, cloud: fmt.Sprintf("cloud-%d", time.Now().UnixNano())}
	main := testenv.RequireDocker(t)
	f.label = testenv.ContainerLabels(t, main)[testenv.TestLabel]
	for _, ep := range eps {
		cli := ep.Client(t)
		testenv.CleanupContainers(t, cli, f.label)
		f.clis = append(f.clis, cli)
	}
	return f
}

// server is one life of a server on the store in dir, with a registry of its own, as a
// new process has.
type server struct {
	m   *entities.Management
	s   store.Store
	reg *locations.Registry
}

func (f *fixture) open(t *testing.T, dir string) *server {
	t.Helper()
	reg := locations.NewRegistry()
	m, s := testenv.OpenManagement(t, dir, entities.Options{Locations: reg})
	sv := &server{m: m, s: s, reg: reg}
	t.Cleanup(func() {
		m.Close()
		s.Close()
		closeEngines(reg)
	})
	return sv
}

// closeEngines closes the engine connections of a registry (the hosts').
func closeEngines(reg *locations.Registry) {
	for _, l := range reg.List() {
		if e, ok := l.(*docker.Engine); ok {
			_ = e.Close()
		}
	}
}

// kill stands for kill -9: what was written stays; the Management is dropped (closed
// after its store, so that it writes nothing more), its engine connections too.
func (sv *server) kill(t *testing.T) {
	t.Helper()
	if err := sv.m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sv.s.Close()
	sv.m.Close()
}

// endpoint is engine i (0-based) as a docker.hosts entry: a map with the TLS files, or
// their PEM text when pem is true, for the engine reached over TLS.
func (f *fixture) endpoint(t *testing.T, i int, pem bool) any {
	t.Helper()
	e := f.engines[i]
	if !e.TLS() {
		return e.Host
	}
	m := map[string]any{"endpoint": e.Host, "tls.ca": e.TLSCA, "tls.cert": e.TLSCert, "tls.key": e.TLSKey}
	if pem {
		for _, k := range []string{"tls.ca", "tls.cert", "tls.key"} {
			b, err := os.ReadFile(m[k].(string))
			if err != nil {
				t.Fatal(err)
			}
			m[k] = string(b)
		}
	}
	return m
}

// resolve parses and resolves a blueprint against the server's locations.
func (sv *server) resolve(t *testing.T, yaml string) *entities.Spec {
	t.Helper()
	plan, err := blueprints.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := catalog.Resolve(plan, sv.reg)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// deploy deploys spec and waits for its start.
func (sv *server) deploy(t *testing.T, spec *entities.Spec) (*entities.Entity, error) {
	t.Helper()
	app, task, err := sv.m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return app, wait(t, task, 3*time.Minute)
}

// deployInfra deploys a Docker infrastructure with cfg (beyond its name) and returns it.
func (f *fixture) deployInfra(t *testing.T, sv *server, cfg map[string]any) *entities.Entity {
	t.Helper()
	c := map[string]any{dockercloud.KeyCloudName: f.cloud, dockercloud.KeyPollPeriod: "500ms"}
	for k, v := range cfg {
		c[k] = v
	}
	spec := &entities.Spec{Type: "basic-application", Name: "infrastructure", Children: []*entities.Spec{
		{Type: "docker-infrastructure", Name: "docker cloud", Config: c},
	}}
	app, err := sv.deploy(t, spec)
	if err != nil {
		t.Fatalf("deploy the infrastructure: %v", err)
	}
	t.Cleanup(func() { unmanage(t, sv.m, app) })
	return app.Children()[0]
}

// unmanage unmanages an application when it is still managed (test cleanup).
func unmanage(t *testing.T, m *entities.Management, app *entities.Entity) {
	if _, err := m.Application(app.ID()); err != nil {
		return
	}
	task, err := m.Unmanage(context.Background(), app)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _ = task.Wait(ctx)
}

// webApp is a blueprint of n busybox containers, a cluster in the cloud, each carrying
// the test's label.
func (f *fixture) webApp(n int) string { return cloudWebApp(f.cloud, f.label, n) }

// cloudWebApp is a blueprint of n busybox containers, a cluster in the Docker cloud
// named cloud, each carrying the test label with the value label.
func cloudWebApp(cloud, label string, n int) string {
	return fmt.Sprintf(`
name: web
location: docker-cloud:%s
services:
- type: cluster
  name: web
  initialSize: %d
  memberSpec:
    $brooklyn:entitySpec:
      type: docker-container
      name: web
      brooklyn.config:
        image: gantry/busybox:latest
        command: exec sleep 3600
        stop.timeout: 1s
        docker.stats.period: 0
        labels:
          %s: %s
`, cloud, n, testenv.TestLabel, label)
}

func wait(t *testing.T, task *entities.Task, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, err := task.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("task %s did not end within %s", task.Snapshot().Name, d)
	}
	return err
}

// invoke calls an effector and waits for its outcome.
func invoke(t *testing.T, e *entities.Entity, effector string, params map[string]any) (any, error) {
	t.Helper()
	task, err := e.Management().Invoke(context.Background(), e, effector, params)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task, 3*time.Minute); err != nil {
		return nil, err
	}
	return task.Outcome()
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hosts lists the infrastructure's hosts.
func hosts(infra *entities.Entity) []*entities.Entity {
	var out []*entities.Entity
	for _, m := range infra.Members() {
		if m.Type().Name == dockercloud.HostType {
			out = append(out, m)
		}
	}
	return out
}

func endpoints(hs []*entities.Entity) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.ConfigString(dockercloud.KeyEndpoint))
	}
	sort.Strings(out)
	return out
}

// onEngines counts the test's containers on each engine, by endpoint, from the engines
// themselves: id -> running.
func (f *fixture) onEngines(t *testing.T) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	for i, cli := range f.clis {
		list, err := cli.ContainerList(context.Background(), container.ListOptions{
			All: true, Filters: filters.NewArgs(filters.Arg("label", testenv.TestLabel+"="+f.label)),
		})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, c := range list {
			m[c.ID] = c.State == "running"
		}
		out[f.engines[i].Host] = m
	}
	return out
}

// spread is the number of the test's containers on each engine, in engine order.
func (f *fixture) spread(t *testing.T) []int {
	t.Helper()
	on := f.onEngines(t)
	var out []int
	for _, e := range f.engines {
		out = append(out, len(on[e.Host]))
	}
	return out
}

// placedOn maps each member's container to the endpoint of the host the cloud says
// holds it, and checks that the container is there and runs.
func (f *fixture) placedOn(t *testing.T, c *dockercloud.Cloud, members []*entities.Entity) map[string]string {
	t.Helper()
	on := f.onEngines(t)
	out := map[string]string{}
	for _, m := range members {
		id, _ := m.Attribute(sensors.ContainerID)
		cid, _ := id.(string)
		hostID := c.HostOf(cid)
		h, err := m.Management().Entity(hostID)
		if err != nil {
			t.Errorf("%s: container %.12s is on no host of the cloud (%v)", m, cid, err)
			continue
		}
		ep := h.ConfigString(dockercloud.KeyEndpoint)
		if !on[ep][cid] {
			t.Errorf("%s: container %.12s is not running on %s, where the cloud placed it (there: %v)", m, cid, ep, on[ep])
		}
		out[cid] = ep
	}
	return out
}

// noProblems fails when an entity reports a problem or is not running.
func noProblems(t *testing.T, es ...*entities.Entity) {
	t.Helper()
	for _, e := range es {
		p, _ := e.Attribute(sensors.Problems)
		if m, _ := p.(map[string]any); len(m) > 0 || e.State() != entities.Running {
			t.Errorf("%s is %s with problems %v", e, e.State(), p)
		}
	}
}

// taskText is the output of a task and its subtasks.
func taskText(t *entities.Task) string {
	var b strings.Builder
	var walk func(*entities.Task)
	walk = func(t *entities.Task) {
		s := t.Snapshot()
		b.WriteString(s.Name + "\n")
		if out, ok := t.Stream("stdout"); ok {
			b.WriteString(out)
		}
		if s.Error != "" {
			b.WriteString("error: " + s.Error + "\n")
		}
		for _, c := range t.Children() {
			walk(c)
		}
	}
	walk(t)
	return b.String()
}

func counts(m map[string]string) map[string]int {
	out := map[string]int{}
	for _, ep := range m {
		out[ep]++
	}
	return out
}

func sortedValues(m map[string]int) []int {
	var out []int
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
