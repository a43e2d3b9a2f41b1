package cluster_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/cluster"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// memberIDs lists the cluster.member.id of the members, in member order.
func memberIDs(c *entities.Entity) []int {
	var out []int
	for _, m := range c.Members() {
		v, _ := m.Config(cluster.KeyMemberID)
		out = append(out, v.(int))
	}
	return out
}

func TestResizeUpAndDown(t *testing.T) {
	m := newManagement(t)
	app, c, err := deploy(t, m, clusterApp(map[string]any{"cluster.initial.size": 2}, memberSpec(nil)))
	if err != nil {
		t.Fatal(err)
	}
	checkCluster(t, c, 2)
	if got := names(c.Members()); !reflect.DeepEqual(got, []string{"member 0", "member 1"}) {
		t.Errorf("member names %v", got)
	}
	if app.State() != entities.Running || c.State() != entities.Running {
		t.Errorf("app %s, cluster %s", app.State(), c.State())
	}
	for _, x := range c.Members() {
		if v, _ := x.Attribute(cluster.SensorClusterEntity); v != c.ID() {
			t.Errorf("%s: cluster.entity = %v", x, v)
		}
	}
	first := c.Members()[0]

	size, err := invoke(t, c, "resize", map[string]any{"desiredSize": "4"}) // as a form sends it
	if err != nil || size != 4 {
		t.Fatalf("resize to 4 = %v, %v", size, err)
	}
	checkCluster(t, c, 4)
	if got := memberIDs(c); !reflect.DeepEqual(got, []int{0, 1, 2, 3}) {
		t.Errorf("member ids %v", got)
	}
	if v, _ := c.Attribute(cluster.SensorDesiredSize); v != 4 {
		t.Errorf("desired size %v", v)
	}

	removed := c.Members()[1:]
	size, err = invoke(t, c, "resize", map[string]any{"desiredSize": 1})
	if err != nil || size != 1 {
		t.Fatalf("resize to 1 = %v, %v", size, err)
	}
	checkCluster(t, c, 1)
	if c.Members()[0] != first {
		t.Errorf("newest first should keep the first member, kept %s", c.Members()[0])
	}
	if v, _ := c.Attribute(sensors.ClusterFirst); v != first.ID() {
		t.Errorf("cluster.first = %v, want %s", v, first.ID())
	}
	for _, x := range removed {
		if _, err := m.Entity(x.ID()); !errors.Is(err, entities.ErrNotFound) {
			t.Errorf("removed member %s is still managed", x)
		}
	}

	// resizeByDelta returns the ids of the members it added or removed; never below zero.
	added, err := invoke(t, c, "resizeByDelta", map[string]any{"delta": 2})
	if err != nil || len(added.([]string)) != 2 {
		t.Fatalf("resizeByDelta(2) = %v, %v", added, err)
	}
	checkCluster(t, c, 3)
	if got := memberIDs(c); !reflect.DeepEqual(got, []int{0, 4, 5}) {
		t.Errorf("member ids are never given twice: %v", got)
	}
	gone, err := invoke(t, c, "resizeByDelta", map[string]any{"delta": -10})
	if err != nil || len(gone.([]string)) != 3 {
		t.Fatalf("resizeByDelta(-10) = %v, %v", gone, err)
	}
	checkCluster(t, c, 0)
	if c.State() != entities.Running {
		t.Errorf("an empty cluster is %s", c.State())
	}
	if _, err := invoke(t, c, "resize", map[string]any{"desiredSize": -1}); err == nil {
		t.Error("resize to -1 worked")
	}
}

func TestOldestFirstAndMaxSize(t *testing.T) {
	m := newManagement(t)
	_, c, err := deploy(t, m, clusterApp(map[string]any{
		"cluster.initial.size": 3, "dynamiccluster.removalstrategy": "oldest-first", "cluster.max.size": 4,
	}, memberSpec(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Resize(context.Background(), c, 1); err != nil {
		t.Fatal(err)
	}
	if got := memberIDs(c); !reflect.DeepEqual(got, []int{2}) {
		t.Errorf("oldest first kept %v, want [2]", got)
	}
	size, err := cluster.Resize(context.Background(), c, 6)
	if !errors.Is(err, locations.ErrNoCapacity) || size != 4 {
		t.Fatalf("resize beyond the maximum = %d, %v; want 4 and ErrNoCapacity", size, err)
	}
	checkCluster(t, c, 4)
	if v, _ := c.Attribute(cluster.SensorDesiredSize); v != 4 {
		t.Errorf("desired size %v, want the maximum", v)
	}
}

func TestReplaceMember(t *testing.T) {
	m := newManagement(t)
	_, c, err := deploy(t, m, clusterApp(map[string]any{"cluster.initial.size": 2}, memberSpec(nil)))
	if err != nil {
		t.Fatal(err)
	}
	old := c.Members()[0]
	nid, err := invoke(t, c, "replaceMember", map[string]any{"memberId": old.ID()})
	if err != nil {
		t.Fatal(err)
	}
	checkCluster(t, c, 2)
	if _, err := m.Entity(old.ID()); !errors.Is(err, entities.ErrNotFound) {
		t.Errorf("replaced member is still managed: %v", err)
	}
	if got := ids(c.Members()); got[1] != nid {
		t.Errorf("members %v, the new one %v should be last", got, nid)
	}
	if v, _ := c.Attribute(sensors.ClusterFirst); v == old.ID() {
		t.Error("cluster.first still names the replaced member")
	}
	if v, ok := c.Attribute(cluster.SensorReplacing); ok {
		t.Errorf("replacing = %v after the replacement", v)
	}
	if _, err := cluster.ReplaceMember(context.Background(), c, "nope"); !errors.Is(err, entities.ErrNotFound) {
		t.Errorf("replace an unknown member: %v", err)
	}

	// A replacement that fails to start leaves the old member.
	// (the spec the cluster holds is changed in place: members made from now on fail)
	spec, _ := c.EntitySpec(cluster.KeyMemberSpec)
	spec.Config = map[string]any{"failMemberIDs": []any{3}}
	keep := c.Members()[0]
	if _, err := cluster.ReplaceMember(context.Background(), c, keep.ID()); err == nil || !strings.Contains(err.Error(), "stays") {
		t.Fatalf("failed replacement: %v", err)
	}
	checkCluster(t, c, 2)
	if !c.HasMember(keep) {
		t.Error("the member whose replacement failed was removed")
	}
}

func TestQuarantine(t *testing.T) {
	m := newManagement(t)
	_, c, err := deploy(t, m, clusterApp(map[string]any{"cluster.initial.size": 1},
		memberSpec(map[string]any{"failMemberIDs": []any{2}})))
	if err != nil {
		t.Fatal(err)
	}
	size, err := cluster.Resize(context.Background(), c, 3)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 new members failed to start (quarantined)") {
		t.Fatalf("resize with a failing member: %v", err)
	}
	if size != 2 {
		t.Errorf("size %d, want 2", size)
	}
	checkCluster(t, c, 2)
	q := quarantineOf(t, c)
	if len(q.Members()) != 1 {
		t.Fatalf("quarantine has %v", names(q.Members()))
	}
	bad := q.Members()[0]
	if bad.Name() != "member 2" || bad.Parent() != c || c.HasMember(bad) || bad.State() != entities.OnFire {
		t.Errorf("quarantined %s: parent %v, member %v, state %s", bad, bad.Parent(), c.HasMember(bad), bad.State())
	}
	if v, _ := c.Attribute(cluster.SensorEntityQuarantined); v != bad.ID() {
		t.Errorf("entityQuarantined = %v", v)
	}
	if c.State() != entities.Running {
		t.Errorf("cluster is %s with a quarantined member", c.State())
	}
	// The desired size stays what was asked; the next resize tries again, with a new member.
	if v, _ := c.Attribute(cluster.SensorDesiredSize); v != 3 {
		t.Errorf("desired size %v", v)
	}
	if _, err := cluster.Resize(context.Background(), c, 3); err != nil {
		t.Fatal(err)
	}
	checkCluster(t, c, 3)
	if got := memberIDs(c); !reflect.DeepEqual(got, []int{0, 1, 3}) {
		t.Errorf("member ids %v", got)
	}
}

func TestFailedMembersRemovedWithoutQuarantine(t *testing.T) {
	m := newManagement(t)
	_, c, err := deploy(t, m, clusterApp(map[string]any{"cluster.initial.size": 3, "dynamiccluster.quarantineFailedEntities": false},
		memberSpec(map[string]any{"failMemberIDs": []any{0, 2}})))
	if err == nil || !strings.Contains(err.Error(), "2 of 3 new members failed to start (removed)") {
		t.Fatalf("start with failing members: %v", err)
	}
	if c.State() != entities.OnFire {
		t.Errorf("a cluster that did not reach its initial size is %s", c.State())
	}
	if len(c.Members()) != 1 || len(c.Children()) != 1 {
		t.Fatalf("members %v, children %v", names(c.Members()), names(c.Children()))
	}
	if _, ok := c.Attribute(cluster.SensorQuarantineGroup); ok {
		t.Error("a quarantine group without quarantine")
	}
}

func TestConcurrentResizesDoNotOvershoot(t *testing.T) {
	m := newManagement(t)
	watch := t.Name()
	w := &concurrency{}
	watchers.Store(watch, w)
	_, c, err := deploy(t, m, clusterApp(map[string]any{"cluster.initial.size": 0, "dynamiccluster.maxConcurrentChildCommands": 2},
		memberSpec(map[string]any{"watch": watch, "startDelay": "20ms"})))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := invoke(t, c, "resize", map[string]any{"desiredSize": 6}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	checkCluster(t, c, 6)
	if n := len(c.Children()); n != 7 {
		t.Errorf("%d children, want 6 members and the quarantine group", n)
	}
	if most := w.most.Load(); most > 2 {
		t.Errorf("%d members started at once, the bound is 2", most)
	}
}

func TestStopAndStartKeepsMembers(t *testing.T) {
	m := newManagement(t)
	app, c, err := deploy(t, m, clusterApp(map[string]any{"cluster.initial.size": 2}, memberSpec(nil)))
	if err != nil {
		t.Fatal(err)
	}
	before := ids(c.Members())
	if _, err := invoke(t, app, "stop", nil); err != nil {
		t.Fatal(err)
	}
	for _, x := range c.Members() {
		if x.State() != entities.Stopped {
			t.Errorf("%s is %s after stop", x, x.State())
		}
	}
	// A resize of a stopped cluster is recorded for its next start.
	if size, err := invoke(t, c, "resize", map[string]any{"desiredSize": 3}); err != nil || size != 2 {
		t.Fatalf("resize of a stopped cluster = %v, %v", size, err)
	}
	if _, err := invoke(t, app, "start", nil); err != nil {
		t.Fatal(err)
	}
	checkCluster(t, c, 3)
	if got := ids(c.Members())[:2]; !reflect.DeepEqual(got, before) {
		t.Errorf("members %v after start, want %v kept", got, before)
	}
	for _, id := range before {
		if n := startsOf(id); n != 2 {
			t.Errorf("member %s started %d times, want 2", id, n)
		}
	}
	// restart: stop then start, the same members.
	if _, err := invoke(t, c, "restart", nil); err != nil {
		t.Fatal(err)
	}
	checkCluster(t, c, 3)
}

func TestNoMemberSpec(t *testing.T) {
	m := newManagement(t)
	_, c, err := deploy(t, m, clusterApp(map[string]any{"cluster.initial.size": 1}, nil))
	if err == nil || !strings.Contains(err.Error(), "no dynamiccluster.memberspec") {
		t.Fatalf("start without a member spec: %v", err)
	}
	if c.State() != entities.OnFire {
		t.Errorf("cluster is %s", c.State())
	}
	// Empty is fine.
	_, c, err = deploy(t, m, clusterApp(map[string]any{"cluster.initial.size": 0}, nil))
	if err != nil || c.State() != entities.Running {
		t.Fatalf("empty cluster without a member spec: %v, %s", err, c.State())
	}
}

func TestFirstMemberSpec(t *testing.T) {
	m := newManagement(t)
	spec := clusterApp(map[string]any{"cluster.initial.size": 3}, memberSpec(nil))
	spec.Children[0].EntitySpecs[cluster.KeyFirstMemberSpec] = &entities.Spec{Type: memberType, Name: "leader"}
	_, c, err := deploy(t, m, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(c.Members()); !reflect.DeepEqual(got, []string{"leader 0", "member 1", "member 2"}) {
		t.Errorf("names %v", got)
	}
}
