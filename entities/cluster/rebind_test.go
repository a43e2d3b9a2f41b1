package cluster_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/cluster"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/sensors"
	"github.com/gantry-dev/gantry/store"
)

// server is one life of a server on the store in dir.
type server struct {
	m     *entities.Management
	s     store.Store
	since time.Time
}

func startServer(t *testing.T, dir string) server {
	t.Helper()
	since := time.Now()
	m, s := testenv.OpenManagement(t, dir, entities.Options{})
	t.Cleanup(func() { m.Close(); s.Close() })
	return server{m: m, s: s, since: since}
}

// kill stands for kill -9: what was written stays, the Management is dropped unclosed
// (its goroutines run on in memory, writing nothing any more).
func (sv server) kill(t *testing.T) {
	t.Helper()
	if err := sv.m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sv.s.Close()
}

// gateMembers makes the members the cluster makes from now on wait at a closed gate.
func gateMembers(t *testing.T, c *entities.Entity) (open func()) {
	t.Helper()
	name, open := gate(t)
	spec, ok := c.EntitySpec(cluster.KeyMemberSpec)
	if !ok {
		t.Fatal("no member spec")
	}
	spec.Config = map[string]any{"gate": name} // the spec the cluster holds, changed in place
	return open
}

// taskNamed waits for a top-level task of e with that name, submitted by this server
// (the tasks a restart interrupted are there too).
func (sv server) taskNamed(t *testing.T, e *entities.Entity, name string) *entities.Task {
	t.Helper()
	var found *entities.Task
	waitFor(t, "task "+name, func() bool {
		for _, x := range sv.m.Tasks(e) {
			if s := x.Snapshot(); s.Name == name && !s.Submitted.Before(sv.since) {
				found = x
				return true
			}
		}
		return false
	})
	return found
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

func TestRebindFinishesAResizeWithoutDuplicates(t *testing.T) {
	dir := t.TempDir()
	one := startServer(t, dir)
	_, c, err := deploy(t, one.m, clusterApp(map[string]any{"cluster.initial.size": 1}, memberSpec(nil)))
	if err != nil {
		t.Fatal(err)
	}
	open := gateMembers(t, c)
	if _, err := one.m.Invoke(context.Background(), c, "resize", map[string]any{"desiredSize": 3}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two members starting", func() bool {
		ms := c.Members()
		return len(ms) == 3 && startsOf(ms[1].ID()) == 1 && startsOf(ms[2].ID()) == 1
	})
	before := ids(c.Members())
	one.kill(t)
	open()

	two := startServer(t, dir)
	c2, err := two.m.Entity(c.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, two.taskNamed(t, c2, "Invoking effector resize")); err != nil {
		t.Fatal(err)
	}
	checkCluster(t, c2, 3)
	if got := ids(c2.Members()); !reflect.DeepEqual(got, before) {
		t.Errorf("members %v after the rebind, want the same %v", got, before)
	}
	if n := len(c2.Children()); n != 4 {
		t.Errorf("%d children, want 3 members and the quarantine group", n)
	}
	noProblems(t, c2.Members()...)
	noProblems(t, c2, c2.Application())
	if n := startsOf(before[0]); n != 1 {
		t.Errorf("the member that had started was started %d times", n)
	}
	for _, id := range before[1:] {
		if n := startsOf(id); n != 2 {
			t.Errorf("member %s caught starting was started %d times, want 2 (once before, once after)", id, n)
		}
	}
}

func TestRebindFinishesTheClusterStart(t *testing.T) {
	dir := t.TempDir()
	one := startServer(t, dir)
	name, open := gate(t)
	app, _, err := one.m.Deploy(context.Background(), clusterApp(map[string]any{"cluster.initial.size": 2},
		memberSpec(map[string]any{"gate": name})), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := app.Children()[0]
	waitFor(t, "two members starting", func() bool {
		ms := c.Members()
		return len(ms) == 2 && startsOf(ms[0].ID()) == 1 && startsOf(ms[1].ID()) == 1
	})
	before := ids(c.Members())
	one.kill(t)
	open()

	two := startServer(t, dir)
	c2, _ := two.m.Entity(c.ID())
	if err := wait(t, two.taskNamed(t, c2, "Invoking effector start")); err != nil {
		t.Fatal(err)
	}
	checkCluster(t, c2, 2)
	if got := ids(c2.Members()); !reflect.DeepEqual(got, before) {
		t.Errorf("members %v, want %v", got, before)
	}
	noProblems(t, c2)
	noProblems(t, c2.Members()...)
	// The application's own start was cut short too: it says so, as any entity does.
	if app2 := c2.Application(); app2.State() != entities.OnFire {
		t.Errorf("application is %s", app2.State())
	}
}

func TestRebindLeavesASettledClusterAlone(t *testing.T) {
	dir := t.TempDir()
	one := startServer(t, dir)
	_, c, err := deploy(t, one.m, clusterApp(map[string]any{"cluster.initial.size": 2},
		memberSpec(map[string]any{"failMemberIDs": []any{3}})))
	if err != nil {
		t.Fatal(err)
	}
	// A resize that ended, with a failure (member 3), is not done again by a restart.
	if _, err := cluster.Resize(context.Background(), c, 4); err == nil {
		t.Fatal("member 3 should fail")
	}
	checkCluster(t, c, 3)
	tasks := len(one.m.Tasks(c))
	before := ids(c.Members())
	one.kill(t)

	two := startServer(t, dir)
	c2, _ := two.m.Entity(c.ID())
	time.Sleep(100 * time.Millisecond)
	if n := len(two.m.Tasks(c2)); n != tasks {
		t.Errorf("%d tasks after the rebind, want the same %d", n, tasks)
	}
	checkCluster(t, c2, 3)
	if got := ids(c2.Members()); !reflect.DeepEqual(got, before) {
		t.Errorf("members %v, want %v", got, before)
	}
	if q := quarantineOf(t, c2); len(q.Members()) != 1 {
		t.Errorf("quarantine %v", names(q.Members()))
	}
	if v, _ := c2.Attribute(cluster.SensorDesiredSize); v != float64(4) {
		t.Errorf("desired size %v (%T)", v, v)
	}
	// Member numbers go on where they were.
	if _, err := cluster.Resize(context.Background(), c2, 4); err != nil {
		t.Fatal(err)
	}
	last := c2.Members()[3]
	if v, _ := last.Config(cluster.KeyMemberID); v != 4 || last.Name() != "member 4" {
		t.Errorf("new member %s has id %v", last.Name(), v)
	}
}

func TestRebindAdoptsChildrenLeftOutOfTheMembers(t *testing.T) {
	dir := t.TempDir()
	one := startServer(t, dir)
	_, c, err := deploy(t, one.m, clusterApp(map[string]any{"cluster.initial.size": 2}, memberSpec(nil)))
	if err != nil {
		t.Fatal(err)
	}
	// The server stopped between making a member and making it a member.
	stray, err := one.m.AddChild(context.Background(), c, &entities.Spec{Type: memberType, Name: "member 2",
		Config: map[string]any{cluster.KeyMemberID: 2}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetAttribute(cluster.SensorNextMemberID, 3)
	one.kill(t)

	two := startServer(t, dir)
	c2, _ := two.m.Entity(c.ID())
	if err := wait(t, two.taskNamed(t, c2, "Invoking effector resize")); err != nil {
		t.Fatal(err)
	}
	checkCluster(t, c2, 2)
	if len(c2.Children()) != 3 {
		t.Errorf("children %v", names(c2.Children()))
	}
	if slices.Contains(ids(c2.Members()), stray.ID()) {
		t.Error("the stray is newest: it should have gone")
	}
}

func TestRebindFinishesAReplacement(t *testing.T) {
	dir := t.TempDir()
	one := startServer(t, dir)
	_, c, err := deploy(t, one.m, clusterApp(map[string]any{"cluster.initial.size": 2}, memberSpec(nil)))
	if err != nil {
		t.Fatal(err)
	}
	old, kept := c.Members()[0], c.Members()[1]
	open := gateMembers(t, c)
	if _, err := one.m.Invoke(context.Background(), c, "replaceMember", map[string]any{"memberId": old.ID()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replacement starting", func() bool {
		ms := c.Members()
		return len(ms) == 3 && startsOf(ms[2].ID()) == 1
	})
	repl := c.Members()[2]
	one.kill(t)
	open()

	two := startServer(t, dir)
	c2, _ := two.m.Entity(c.ID())
	if err := wait(t, two.taskNamed(t, c2, "Invoking effector resize")); err != nil {
		t.Fatal(err)
	}
	checkCluster(t, c2, 2)
	if got, want := ids(c2.Members()), []string{kept.ID(), repl.ID()}; !reflect.DeepEqual(got, want) {
		t.Errorf("members %v, want %v: the replaced member goes", got, want)
	}
	if _, ok := c2.Attribute(cluster.SensorReplacing); ok {
		t.Error("still replacing")
	}
}
