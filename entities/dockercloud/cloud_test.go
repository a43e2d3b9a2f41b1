package dockercloud_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/dockercloud"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// Acceptance 1: a blueprint deployed into a Docker cloud of 3 real engines (one reached
// over TCP with TLS, its certificates given as PEM text) with [max-containers 2,
// breadth-first] spreads 6 containers 2/2/2; a 7th waits for headroom to add a host from
// the pool of engine endpoints, and then lands there.
func TestSpreadThenWaitForHeadroom(t *testing.T) {
	f := newFixture(t, 4)
	sv := f.open(t, t.TempDir())
	infra := f.deployInfra(t, sv, map[string]any{
		dockercloud.KeyHosts:      []any{f.endpoint(t, 0, true), f.endpoint(t, 1, false), f.endpoint(t, 2, false)},
		dockercloud.KeyHostsPool:  []any{f.endpoint(t, 3, false)},
		dockercloud.KeyStrategies: []any{map[string]any{"type": "max-containers", "max": 2}, map[string]any{"type": "breadth-first"}},
		// One slot of headroom, but a deficit must last an hour before a host is added
		// for it: only the waiting container makes headroom act in this test.
		dockercloud.KeyHeadroomCount: 1,
		dockercloud.KeyUpDelay:       "1h",
		dockercloud.KeyDownDelay:     "1h",
	})
	c, err := dockercloud.CloudOf(infra)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(hosts(infra)); got != 3 {
		t.Fatalf("%d hosts, want 3", got)
	}
	for _, h := range hosts(infra) {
		noProblems(t, h)
		if v, _ := h.Attribute(dockercloud.SensorVersion); v == "" || v == nil {
			t.Errorf("%s: no engine version", h)
		}
	}
	if len(infra.Adjuncts()) != 1 || infra.Adjuncts()[0].Kind().Name != dockercloud.HeadroomPolicyType {
		t.Fatalf("adjuncts %v, want the headroom policy", infra.Adjuncts())
	}
	// The cloud is a location blueprints name like any other.
	for _, spec := range []string{"docker-cloud:" + f.cloud, "named:" + f.cloud, f.cloud} {
		l, err := sv.reg.Resolve(spec, nil)
		if err != nil || l != locations.Location(c) {
			t.Errorf("resolve %s: %v, %v", spec, l, err)
		}
	}

	app, err := sv.deploy(t, sv.resolve(t, f.webApp(6)))
	if err != nil {
		t.Fatalf("deploy 6 containers: %v", err)
	}
	t.Cleanup(func() { unmanage(t, sv.m, app) })
	web := app.Children()[0]
	if got := f.spread(t)[:3]; !reflect.DeepEqual(got, []int{2, 2, 2}) {
		t.Fatalf("containers per engine %v (all: %v), want 2/2/2; placements %v", got, f.spread(t), c.Placements())
	}
	if got := sortedValues(counts(f.placedOn(t, c, web.Members()))); !reflect.DeepEqual(got, []int{2, 2, 2}) {
		t.Errorf("the cloud's placements per host %v, want 2/2/2", got)
	}
	if v, _ := infra.Attribute(sensors.DockerClusterFree); v != 0 {
		t.Errorf("free slots %v, want 0", v)
	}

	// The 7th: no host fits; it waits, headroom adds the pool's engine, it lands there.
	task, err := sv.m.Invoke(context.Background(), web, "resize", map[string]any{"desiredSize": 7})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "a container waiting for a host", func() bool {
		v, _ := infra.Attribute(sensors.DockerContainerWaiting)
		return v == 1 || len(hosts(infra)) == 4
	})
	if err := wait(t, task, 3*time.Minute); err != nil {
		t.Fatalf("resize to 7: %v\n%s", err, taskText(task))
	}
	if got := f.spread(t); !reflect.DeepEqual(got, []int{2, 2, 2, 1}) {
		t.Errorf("containers per engine %v, want 2/2/2/1", got)
	}
	if got := endpoints(hosts(infra)); len(got) != 4 {
		t.Fatalf("hosts %v, want 4", got)
	}
	seventh := web.Members()[6]
	placed := f.placedOn(t, c, []*entities.Entity{seventh})
	for _, ep := range placed {
		if ep != f.engines[3].Host {
			t.Errorf("the 7th container is on %s, want the pool's %s", ep, f.engines[3].Host)
		}
	}
	text := taskText(task)
	if !strings.Contains(text, "waiting up to") || !strings.Contains(text, "max-containers 2") {
		t.Errorf("the resize's task does not tell that it waited for a host, and why:\n%s", text)
	}
	h, _ := infra.Adjuncts()[0].Highlights()["lastAction"]
	if !strings.Contains(h.Description, "addHost") {
		t.Errorf("headroom's last action %q, want the addHost it invoked", h.Description)
	}
	noProblems(t, web.Members()...)
	noProblems(t, infra)
	if v, _ := infra.Attribute(sensors.DockerContainerWaiting); v != 0 {
		t.Errorf("containers waiting: %v, want 0", v)
	}
}

// When no host fits and none can be added, the container fails at once, with an error
// naming the constraints that failed and what the pool lacks.
func TestNoHostCanCome(t *testing.T) {
	f := newFixture(t, 2)
	sv := f.open(t, t.TempDir())
	infra := f.deployInfra(t, sv, map[string]any{
		dockercloud.KeyHosts:      []any{f.endpoint(t, 1, false)},
		dockercloud.KeyStrategies: "[{\"type\": \"max-containers\", \"max\": 1}]",
	})
	app, err := sv.deploy(t, sv.resolve(t, f.webApp(1)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmanage(t, sv.m, app) })
	web := app.Children()[0]
	start := time.Now()
	_, err = invoke(t, web, "resize", map[string]any{"desiredSize": 2})
	if err == nil {
		t.Fatal("a second container found a host")
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("it failed after %s: it should not wait when no host can come", d)
	}
	for _, want := range []string{"max-containers 1", "no host can be added", dockercloud.KeyHostsPool} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got := f.spread(t); got[1] != 1 {
		t.Errorf("containers per engine %v, want the first one only", got)
	}
	if n := len(hosts(infra)); n != 1 {
		t.Errorf("%d hosts", n)
	}
	// The infrastructure cannot be unmanaged while containers of other applications run
	// on it: it stays, and so do they.
	task, err := sv.m.Unmanage(context.Background(), infra.Application())
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task, time.Minute); err == nil || !strings.Contains(err.Error(), "only empty hosts are removed") {
		t.Errorf("unmanage the infrastructure with a container on it: %v", err)
	}
	if _, err := sv.m.Entity(infra.ID()); err != nil {
		t.Errorf("the infrastructure is gone: %v", err)
	}
	if got := f.spread(t); got[1] != 1 {
		t.Errorf("containers per engine %v after the refused unmanage", got)
	}
	if _, err := sv.reg.Get(dockercloud.LocationID(f.cloud)); err != nil {
		t.Errorf("the cloud's location is gone: %v", err)
	}
}

// Without a headroom policy the cloud asks the infrastructure for a host itself; a pool
// endpoint that does not answer is left out (and reported), the next one is used.
func TestWaitWithoutHeadroomSkipsBrokenEndpoint(t *testing.T) {
	f := newFixture(t, 3)
	sv := f.open(t, t.TempDir())
	infra := f.deployInfra(t, sv, map[string]any{
		dockercloud.KeyHosts:      []any{f.endpoint(t, 1, false)},
		dockercloud.KeyHostsPool:  []any{"unix:///nonexistent/docker.sock", f.endpoint(t, 2, false)},
		dockercloud.KeyStrategies: []any{map[string]any{"type": "max-containers", "max": 1}},
	})
	if len(infra.Adjuncts()) != 0 {
		t.Fatalf("adjuncts %v without headroom config", infra.Adjuncts())
	}
	app, err := sv.deploy(t, sv.resolve(t, f.webApp(2)))
	if err != nil {
		t.Fatalf("deploy 2 containers on 1 host of 1 slot and a pool: %v", err)
	}
	t.Cleanup(func() { unmanage(t, sv.m, app) })
	if got := f.spread(t); !reflect.DeepEqual(got[1:], []int{1, 1}) {
		t.Errorf("containers per engine %v, want one on each of engines 2 and 3", got)
	}
	if got := endpoints(hosts(infra)); !reflect.DeepEqual(got, []string{f.engines[1].Host, f.engines[2].Host}) {
		t.Errorf("hosts %v", got)
	}
	failed, _ := infra.Attribute(dockercloud.SensorPoolFailed)
	if m, _ := failed.(map[string]any); m["unix:///nonexistent/docker.sock"] == nil {
		t.Errorf("the broken endpoint is not reported: %v", failed)
	}
	// Every endpoint is used or broken: a third container fails with the reason.
	_, err = invoke(t, app.Children()[0], "resize", map[string]any{"desiredSize": 3})
	if err == nil || !errors.Is(err, locations.ErrNoCapacity) && !strings.Contains(err.Error(), "nonexistent") {
		t.Errorf("third container: %v", err)
	}
}
