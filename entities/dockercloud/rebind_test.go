package dockercloud_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/dockercloud"
	"github.com/gantry-dev/gantry/sensors"
)

// Acceptance 5: a server killed (kill -9: nothing more written, nothing closed) with a
// cloud of 3 engines running 6 containers comes back with the same hosts and the same
// placements, nothing recreated: the same containers, still running, each on the host it
// was on. A placement the server did not record before it died (the crash came between
// the container's creation and the write) is learnt from the engines; the cloud then
// places containers as before.
func TestRebindKeepsHostsAndPlacements(t *testing.T) {
	f := newFixture(t, 3)
	dir := t.TempDir()
	one := f.open(t, dir)
	infra := f.deployInfra(t, one, map[string]any{
		dockercloud.KeyHosts:         []any{f.endpoint(t, 0, true), f.endpoint(t, 1, false), f.endpoint(t, 2, false)},
		dockercloud.KeyStrategies:    []any{map[string]any{"type": "max-containers", "max": 3}, map[string]any{"type": "breadth-first"}},
		dockercloud.KeyHeadroomCount: 1,
		dockercloud.KeyUpDelay:       "1h",
		dockercloud.KeyDownDelay:     "1s",
	})
	app, err := one.deploy(t, one.resolve(t, f.webApp(6)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmanage(t, one.m, app) })
	c1, err := dockercloud.CloudOf(infra)
	if err != nil {
		t.Fatal(err)
	}
	web := app.Children()[0]
	placedBefore := f.placedOn(t, c1, web.Members())
	enginesBefore := f.onEngines(t)
	hostsBefore := ids(hosts(infra))
	if got := sortedValues(counts(placedBefore)); !reflect.DeepEqual(got, []int{2, 2, 2}) {
		t.Fatalf("placements per host %v, want 2/2/2", got)
	}
	// The last placement is lost, as when the server dies between creating a container
	// and writing that it did.
	lost := web.Members()[5]
	lostID := containerOf(lost)
	rec, _ := infra.Attribute(dockercloud.SensorPlacements)
	kept := map[string]any{}
	for id, v := range rec.(map[string]any) {
		if id != lostID {
			kept[id] = v
		}
	}
	infra.SetAttribute(dockercloud.SensorPlacements, kept)
	one.kill(t)

	two := f.open(t, dir)
	infra2, err := two.m.Entity(infra.ID())
	if err != nil {
		t.Fatal(err)
	}
	web2, err := two.m.Entity(web.ID())
	if err != nil {
		t.Fatal(err)
	}
	c2, err := dockercloud.CloudOf(infra2)
	if err != nil {
		t.Fatalf("the cloud is not registered after the restart: %v", err)
	}
	if c2 == c1 {
		t.Fatal("the same cloud object: the second server must make its own")
	}
	if got := ids(hosts(infra2)); !reflect.DeepEqual(got, hostsBefore) {
		t.Errorf("hosts %v after the restart, want %v", got, hostsBefore)
	}
	if got := f.placedOn(t, c2, web2.Members()); !reflect.DeepEqual(got, placedBefore) {
		t.Errorf("placements after the restart %v, want %v", got, placedBefore)
	}
	if got := f.onEngines(t); !reflect.DeepEqual(got, enginesBefore) {
		t.Errorf("containers on the engines %v after the restart, want the same %v: something was recreated or removed", got, enginesBefore)
	}
	for _, m := range web2.Members() {
		if containerOf(m) == "" {
			t.Errorf("%s has no container", m)
		}
	}
	waitFor(t, 10*time.Second, "everything running", func() bool {
		for _, e := range append(append([]*entities.Entity{infra2, web2}, hosts(infra2)...), web2.Members()...) {
			if e.State() != entities.Running {
				return false
			}
		}
		return true
	})
	noProblems(t, append(append([]*entities.Entity{infra2, web2}, hosts(infra2)...), web2.Members()...)...)
	if v, _ := infra2.Attribute(sensors.DockerContainerCount); v != 6 {
		t.Errorf("containers in the cloud %v, want 6", v)
	}
	if len(infra2.Adjuncts()) != 1 || !infra2.Adjuncts()[0].Running() {
		t.Errorf("the headroom policy does not run again: %v", infra2.Adjuncts())
	}

	// The cloud works as before: a 7th and 8th container go breadth-first, one on each
	// of two hosts; killed, a container's death is seen from the engine's events.
	if _, err := invoke(t, web2, "resize", map[string]any{"desiredSize": 8}); err != nil {
		t.Fatal(err)
	}
	if got := sortedValues(counts(f.placedOn(t, c2, web2.Members()))); !reflect.DeepEqual(got, []int{2, 3, 3}) {
		t.Errorf("placements per host %v after 2 more, want 2/3/3", got)
	}
	victim := web2.Members()[0]
	h, _ := two.m.Entity(c2.HostOf(containerOf(victim)))
	for i, e := range f.engines {
		if e.Host == h.ConfigString(dockercloud.KeyEndpoint) {
			if err := f.clis[i].ContainerKill(context.Background(), containerOf(victim), "KILL"); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, 20*time.Second, "the killed container's entity on fire", func() bool { return victim.State() == entities.OnFire })
	if got := ids(hosts(infra2)); !reflect.DeepEqual(got, hostsBefore) {
		t.Errorf("hosts %v, want %v", got, hostsBefore)
	}
	unmanage(t, two.m, two.mustApp(t, app.ID()))
}

func (sv *server) mustApp(t *testing.T, id string) *entities.Entity {
	t.Helper()
	a, err := sv.m.Application(id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func containerOf(e *entities.Entity) string {
	v, _ := e.Attribute(sensors.ContainerID)
	s, _ := v.(string)
	return s
}

func ids(es []*entities.Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID()
	}
	slices.Sort(out)
	return out
}
