package entities_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// counter is a test enricher: it counts the changes of its sensor and remembers the count.
var counterStarts atomic.Int32

func init() {
	entities.RegisterAdjunct(&entities.AdjunctKind{
		Name: "test.counter", Aliases: []string{"counter"}, Category: entities.EnricherCategory,
		Config: []entities.ConfigKey{{Name: "sensor", Type: "string", Default: "load"}},
		Check: func(cfg map[string]any) error {
			if s, ok := cfg["sensor"]; ok && s == "" {
				return &entities.KeyError{Key: "sensor", Err: errors.New("must not be empty")}
			}
			return nil
		},
		Start: func(a *entities.Adjunct) error {
			counterStarts.Add(1)
			a.SubscribeSensor(a.ConfigString("sensor"), func(ev sensors.Event) {
				n, _ := a.Memory("count")
				c, _ := n.(float64)
				a.Remember("count", c+1)
				a.Entity().SetAttribute("count", c+1)
			}, a.Entity())
			return nil
		},
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAdjunctsRunPersistAndResume(t *testing.T) {
	dir := t.TempDir()
	m, s := open(t, dir)
	spec := &entities.Spec{Type: "basic-application", Name: "a",
		Adjuncts: []entities.AdjunctSpec{{Type: "counter", Name: "c1"}}}
	app, task, err := m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	app.SetAttribute("load", 1)
	app.SetAttribute("load", 2)
	waitFor(t, "two counts", func() bool { v, _ := app.Attribute("count"); return v == 2.0 })

	a, err := app.Adjunct("c1")
	if err != nil || !a.Running() || a.Category() != entities.EnricherCategory {
		t.Fatalf("adjunct c1: %v running=%v", err, a != nil && a.Running())
	}
	// Reconfigure: a bad value is refused and changes nothing; a good one restarts it.
	if err := a.SetConfig("sensor", ""); !errors.Is(err, entities.ErrInvalid) {
		t.Fatalf("empty sensor: %v, want ErrInvalid", err)
	}
	if err := a.SetConfig("sensor", "other"); err != nil {
		t.Fatal(err)
	}
	app.SetAttribute("other", 1)
	waitFor(t, "count 3", func() bool { v, _ := app.Attribute("count"); return v == 3.0 })

	// A second one, stopped: it stays stopped after a restart.
	b, err := m.AddAdjunct(app, entities.AdjunctSpec{Type: "test.counter", Name: "c2"})
	if err != nil {
		t.Fatal(err)
	}
	b.Stop()
	if _, err := m.AddAdjunct(app, entities.AdjunctSpec{Type: "nope"}); !errors.Is(err, entities.ErrNotFound) {
		t.Fatalf("unknown kind: %v", err)
	}
	m.Close()
	s.Close()

	m2, s2 := open(t, dir)
	defer s2.Close()
	defer m2.Close()
	app2, err := m2.Application("a")
	if err != nil {
		t.Fatal(err)
	}
	all := app2.Adjuncts()
	if len(all) != 2 || !all[0].Running() || all[1].Running() {
		t.Fatalf("after restart: %d adjuncts, running %v %v", len(all), all[0].Running(), len(all) > 1 && all[1].Running())
	}
	if v, _ := all[0].Memory("count"); v != 3.0 {
		t.Fatalf("remembered count %v, want 3", v)
	}
	if all[0].ConfigString("sensor") != "other" {
		t.Fatalf("config after restart: %v", all[0].ConfigMap())
	}
	app2.SetAttribute("other", 5)
	waitFor(t, "count 4", func() bool { v, _ := app2.Attribute("count"); return v == 4.0 })
	m2.DestroyAdjunct(all[1])
	if len(app2.Adjuncts()) != 1 {
		t.Fatal("destroyed adjunct still listed")
	}
}

func TestAddRemoveChildAndMembers(t *testing.T) {
	dir := t.TempDir()
	m, s := open(t, dir)
	app, task, err := m.Deploy(context.Background(), &entities.Spec{Type: "basic-application", Name: "g",
		Children: []*entities.Spec{{Type: "basic-entity", Name: "group"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	group := app.Children()[0]
	ctx := context.Background()
	var kids []*entities.Entity
	for _, n := range []string{"m1", "m2"} {
		c, err := m.AddChild(ctx, app, &entities.Spec{Type: "test.flaky", Name: n})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.StartEntity(ctx, c); err != nil {
			t.Fatal(err)
		}
		group.AddMember(c)
		kids = append(kids, c)
	}
	if v, _ := group.Attribute(sensors.GroupMembersCount); v != 2 {
		t.Fatalf("group.members.count %v", v)
	}
	if got := kids[0].Groups(); len(got) != 1 || got[0] != group {
		t.Fatalf("groups of m1: %v", got)
	}
	if err := m.RemoveChild(ctx, kids[0]); err != nil {
		t.Fatal(err)
	}
	if len(app.Children()) != 2 || group.HasMember(kids[0]) {
		t.Fatalf("after removal: children %v members %v", app.Children(), group.Members())
	}
	if _, err := m.Entity(kids[0].ID()); !errors.Is(err, entities.ErrNotFound) {
		t.Fatalf("removed entity still found: %v", err)
	}
	if err := m.RemoveChild(ctx, app); !errors.Is(err, entities.ErrInvalid) {
		t.Fatalf("removing an application: %v", err)
	}
	m.Close()
	s.Close()

	m2, s2 := open(t, dir)
	defer s2.Close()
	defer m2.Close()
	app2, _ := m2.Application("g")
	g2, _ := m2.FindEntity(app2, "group")
	if ms := g2.Members(); len(ms) != 1 || ms[0].Name() != "m2" {
		t.Fatalf("members after restart: %v", ms)
	}
}
