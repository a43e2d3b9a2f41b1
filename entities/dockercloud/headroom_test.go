package dockercloud_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/dockercloud"
	"github.com/gantry-dev/gantry/sensors"
)

// Acceptance 2: with a headroom of one free slot, filling the only host makes headroom
// add one from the pool; a host with containers is never removed (not by headroom, not
// by removeHost, not by removing the entity); once the containers are gone, the empty
// host beyond the headroom is removed after the down delay, and the cloud's first host
// stays.
func TestHeadroomAddsAndRemovesOnlyEmptyHosts(t *testing.T) {
	f := newFixture(t, 3)
	sv := f.open(t, t.TempDir())
	infra := f.deployInfra(t, sv, map[string]any{
		dockercloud.KeyHosts:         []any{f.endpoint(t, 1, false)},
		dockercloud.KeyHostsPool:     []any{f.endpoint(t, 2, false)},
		dockercloud.KeyStrategies:    []any{map[string]any{"type": "max-containers", "max": 2}},
		dockercloud.KeyHeadroomCount: 1,
		dockercloud.KeyUpDelay:       "200ms",
		dockercloud.KeyDownDelay:     "3s",
	})
	policy := infra.Adjuncts()[0]
	c, err := dockercloud.CloudOf(infra)
	if err != nil {
		t.Fatal(err)
	}

	// Two containers fill the only host: fewer free slots than the headroom.
	app, err := sv.deploy(t, sv.resolve(t, f.webApp(2)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmanage(t, sv.m, app) })
	first := hosts(infra)[0]
	waitFor(t, time.Minute, "headroom to add a host", func() bool {
		hs := hosts(infra)
		return len(hs) == 2 && hs[1].State() == entities.Running && hs[1].IsUp()
	})
	added := hosts(infra)[1]
	if ep := added.ConfigString(dockercloud.KeyEndpoint); ep != f.engines[2].Host {
		t.Errorf("added host at %s, want the pool's %s", ep, f.engines[2].Host)
	}
	waitFor(t, 10*time.Second, "free slots 2", func() bool {
		v, _ := infra.Attribute(sensors.DockerClusterFree)
		return v == 2
	})
	noProblems(t, infra)

	// A host with containers is never removed, whoever asks.
	if _, err := invoke(t, infra, "removeHost", map[string]any{"hostId": first.ID()}); err == nil || !strings.Contains(err.Error(), "only empty hosts are removed") {
		t.Errorf("removeHost of a host with 2 containers: %v, want a conflict", err)
	}
	before := f.onEngines(t)[f.engines[1].Host]
	ctx := context.Background()
	if err := sv.m.RemoveChild(ctx, first); err == nil || !strings.Contains(err.Error(), "only empty hosts are removed") {
		t.Errorf("RemoveChild of a host with containers: %v", err)
	}
	if _, err := sv.m.Entity(first.ID()); err != nil {
		t.Fatalf("the host is gone: %v", err)
	}
	if got := f.onEngines(t)[f.engines[1].Host]; !reflect.DeepEqual(got, before) {
		t.Errorf("its containers changed: %v, were %v", got, before)
	}
	// RemoveChild stopped it before its release was refused, which it records as a
	// problem: stop and start it again.
	if err := sv.m.StopEntity(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := sv.m.StartEntity(ctx, first); err != nil {
		t.Fatal(err)
	}
	noProblems(t, first)

	// The down delay passes with 2 spare slots on the added host, but removing it would
	// leave 0 free: it stays.
	time.Sleep(4 * time.Second)
	if n := len(hosts(infra)); n != 2 {
		t.Fatalf("%d hosts while the headroom needs both", n)
	}

	// The containers go: the added host, empty and beyond the headroom, is removed after
	// the down delay; the first host stays (the cloud keeps the hosts it started with).
	gone := time.Now()
	unmanage(t, sv.m, app)
	waitFor(t, time.Minute, "the empty host's removal", func() bool { return len(hosts(infra)) == 1 })
	if d := time.Since(gone); d < 3*time.Second {
		t.Errorf("removed %s after the containers went, before the down delay of 3s", d)
	}
	if hosts(infra)[0] != first {
		t.Errorf("the remaining host is %s, want the first %s", hosts(infra)[0], first)
	}
	if _, err := sv.reg.Get(dockercloud.EngineLocationID(added)); err == nil {
		t.Errorf("the removed host's engine location is still registered")
	}
	if !strings.Contains(policy.Highlights()["lastAction"].Description, "removeHost") {
		t.Errorf("headroom's last action: %v", policy.Highlights()["lastAction"])
	}
	time.Sleep(4 * time.Second)
	if n := len(hosts(infra)); n != 1 {
		t.Errorf("%d hosts: the first host was removed too", n)
	}
	if got := c.Placements(); len(got) != 0 {
		t.Errorf("placements left: %v", got)
	}
	noProblems(t, infra)
}

// When the pool cannot give a host, headroom reports the cloud on fire with the reason,
// and does not try again and again; the problem clears once the headroom is back.
func TestHeadroomOnFireWhenNoHostCanCome(t *testing.T) {
	f := newFixture(t, 2)
	sv := f.open(t, t.TempDir())
	infra := f.deployInfra(t, sv, map[string]any{
		dockercloud.KeyHosts:         []any{f.endpoint(t, 1, false)},
		dockercloud.KeyHostsPool:     []any{"unix:///nonexistent/docker.sock"},
		dockercloud.KeyStrategies:    []any{map[string]any{"type": "max-containers", "max": 2}},
		dockercloud.KeyHeadroomCount: 1,
		dockercloud.KeyUpDelay:       "0s",
		dockercloud.KeyRetryDelay:    "1h",
	})
	app, err := sv.deploy(t, sv.resolve(t, f.webApp(2)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmanage(t, sv.m, app) })
	waitFor(t, time.Minute, "the infrastructure on fire", func() bool { return infra.State() == entities.OnFire })
	p, _ := infra.Attribute(sensors.Problems)
	if s := strings.Join(problemTexts(p), "; "); !strings.Contains(s, "no host can be added") && !strings.Contains(s, "failed") {
		t.Errorf("problems %q do not say why", s)
	}
	// It tried once; then it waits (retry delay 1h), and the failed endpoint is left out.
	time.Sleep(2 * time.Second)
	tasks := 0
	for _, task := range sv.m.Tasks(infra) {
		if task.Snapshot().Name == "Invoking effector addHost" {
			tasks++
		}
	}
	if tasks != 1 {
		t.Errorf("%d addHost tasks, want 1", tasks)
	}
	if n := len(hosts(infra)); n != 1 {
		t.Errorf("%d hosts", n)
	}
	// Free a slot: the headroom is kept again, and the problem clears.
	if _, err := invoke(t, app.Children()[0], "resize", map[string]any{"desiredSize": 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the problem to clear", func() bool { return infra.State() == entities.Running })
}

func problemTexts(v any) []string {
	m, _ := v.(map[string]any)
	var out []string
	for k, x := range m {
		out = append(out, k+": "+x.(string))
	}
	return out
}
