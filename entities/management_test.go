package entities_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	_ "github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/sensors"
	"github.com/gantry-dev/gantry/store"
)

// flaky is a test kind whose start fails while its config says so.
func init() {
	entities.Register(&entities.Type{
		Name: "test.flaky",
		Config: []entities.ConfigKey{
			{Name: "fail", Type: "boolean"},
		},
		Start: func(ctx context.Context, e *entities.Entity) error {
			entities.Logf(ctx, "starting %s", e.Name())
			if v, _ := e.Config("fail"); v == true {
				return errors.New("told to fail")
			}
			e.SetAttribute("flaky.started", true)
			return nil
		},
	})
}

func open(t *testing.T, dir string) (*entities.Management, store.Store) {
	t.Helper()
	return testenv.OpenManagement(t, dir, entities.Options{})
}

func appSpec(fail bool) *entities.Spec {
	return &entities.Spec{
		Type: "basic-application", Name: "shop",
		Config: map[string]any{"region": "eu"},
		Children: []*entities.Spec{
			{Type: "basic-entity", Name: "web", BlueprintID: "web", Children: []*entities.Spec{{Type: "test.flaky", Name: "w1"}}},
			{Type: "test.flaky", Name: "db", Config: map[string]any{"fail": fail}},
		},
	}
}

func wait(t *testing.T, task *entities.Task) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := task.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("task did not end")
	}
	return err
}

func TestDeployStartsTreeAndRunsWhenAllUp(t *testing.T) {
	m, s := open(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	app, task, err := m.Deploy(context.Background(), appSpec(false), []byte("name: shop"))
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	for _, e := range app.Descendants() {
		if e.State() != entities.Running || !e.IsUp() {
			t.Errorf("%s: state %s up %v, want RUNNING and up", e, e.State(), e.IsUp())
		}
	}
	w1, err := m.FindEntity(app, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := w1.Config("region"); v != "eu" {
		t.Errorf("inherited config region = %v, want eu", v)
	}
	// The task tree tells the story: app start -> start web, start db -> start w1.
	var names []string
	for _, c := range task.Children() {
		names = append(names, c.Snapshot().Name)
	}
	if len(names) != 2 {
		t.Errorf("start subtasks = %v, want two", names)
	}
	if got := len(m.Tasks(w1)); got != 1 {
		t.Errorf("w1 has %d tasks, want its start", got)
	}
}

func TestFailedStartPutsEntityAndAppOnFire(t *testing.T) {
	m, s := open(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	app, task, err := m.Deploy(context.Background(), appSpec(true), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err == nil {
		t.Fatal("start succeeded, want the failure of db")
	}
	db, _ := m.FindEntity(app, "db")
	if db.State() != entities.OnFire {
		t.Errorf("db state %s, want ON_FIRE", db.State())
	}
	probs, _ := db.Attribute(sensors.Problems)
	if fmt.Sprint(probs) == "map[]" {
		t.Errorf("db has no problems recorded")
	}
	if app.State() != entities.OnFire {
		t.Errorf("app state %s, want ON_FIRE", app.State())
	}

	// Fix the config and start again: everything runs.
	db.SetConfig("fail", false)
	task, err = m.Invoke(context.Background(), app, "start", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	if app.State() != entities.Running || db.State() != entities.Running {
		t.Errorf("after restart: app %s db %s, want RUNNING", app.State(), db.State())
	}
}

func TestStopAndRestart(t *testing.T) {
	m, s := open(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	app, task, _ := m.Deploy(context.Background(), appSpec(false), nil)
	wait(t, task)
	stop, _ := m.Invoke(context.Background(), app, "stop", nil)
	if err := wait(t, stop); err != nil {
		t.Fatal(err)
	}
	for _, e := range app.Descendants() {
		if e.State() != entities.Stopped || e.IsUp() {
			t.Errorf("%s after stop: %s up=%v", e, e.State(), e.IsUp())
		}
	}
	restart, _ := m.Invoke(context.Background(), app, "restart", nil)
	if err := wait(t, restart); err != nil {
		t.Fatal(err)
	}
	if app.State() != entities.Running {
		t.Errorf("app after restart: %s", app.State())
	}
	if _, err := m.Invoke(context.Background(), app, "explode", nil); !errors.Is(err, entities.ErrNotFound) {
		t.Errorf("unknown effector: %v, want ErrNotFound", err)
	}
	if _, err := m.Invoke(context.Background(), app, "stop", map[string]any{"bogus": 1}); !errors.Is(err, entities.ErrInvalid) {
		t.Errorf("unknown parameter: %v, want ErrInvalid", err)
	}
}

func TestPersistAndRebind(t *testing.T) {
	dir := t.TempDir()
	m, s := open(t, dir)
	app, task, _ := m.Deploy(context.Background(), appSpec(false), []byte("name: shop\n"))
	wait(t, task)
	w1, _ := m.FindEntity(app, "w1")
	w1.SetAttribute("custom", "x")
	w1.SetName("renamed")
	// No explicit flush: the write-behind must reach the store on its own.
	time.Sleep(200 * time.Millisecond)
	// Simulate kill -9: drop the Management without Close, then close the file.
	s.Close()

	m2, s2 := open(t, dir)
	defer s2.Close()
	defer m2.Close()
	app2, err := m2.Application("shop")
	if err != nil {
		t.Fatal(err)
	}
	bp, err := m2.Blueprint(context.Background(), app2)
	if app2.ID() != app.ID() || string(bp) != "name: shop\n" || err != nil {
		t.Errorf("rebound app %s blueprint %q %v", app2.ID(), bp, err)
	}
	w1b, err := m2.FindEntity(app2, w1.ID())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := w1b.Attribute("custom"); v != "x" || w1b.Name() != "renamed" {
		t.Errorf("rebound w1: custom=%v name=%s", v, w1b.Name())
	}
	if app2.State() != entities.Running {
		t.Errorf("rebound app state %s", app2.State())
	}
	if v, _ := w1b.Config("region"); v != "eu" {
		t.Errorf("rebound inherited config = %v", v)
	}
	if got := len(m2.Tasks(app2)); got != 1 {
		t.Errorf("rebound app has %d tasks, want 1", got)
	}
	if _, err := m2.Task(task.ID()); err != nil {
		t.Errorf("start task not rebound: %v", err)
	}

	un, _ := m2.Unmanage(context.Background(), app2)
	if err := wait(t, un); err != nil {
		t.Fatal(err)
	}
	if len(m2.Applications()) != 0 {
		t.Errorf("applications after unmanage: %d", len(m2.Applications()))
	}
	if _, err := m2.Entity(w1.ID()); !errors.Is(err, entities.ErrNotFound) {
		t.Errorf("entity after unmanage: %v", err)
	}
	if _, err := m2.Task(un.ID()); err != nil {
		t.Errorf("unmanage task should stay readable: %v", err)
	}
}
