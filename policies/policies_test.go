package policies_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	_ "github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/internal/testenv"
	_ "github.com/gantry-dev/gantry/policies"
	"github.com/gantry-dev/gantry/sensors"
	"github.com/gantry-dev/gantry/store"
)

// Test kinds: a pool whose resize and replaceMember effectors add and remove basic
// members, and a service whose restart and start are counted and can be made to fail.
// They stand for the cluster and the software processes, so that the policies are tested
// against a real Management without Docker.
const (
	poolType    = "test.policies.pool"
	serviceType = "test.policies.service"

	attrResizes  = "test.resizes"  // how many times resize ran
	attrStarts   = "test.starts"   // how many times the service started
	attrRestarts = "test.restarts" // how many times it restarted
	attrTicks    = "test.ticks"    // how many times tick ran
	notUpKilled  = "test.killed"   // the not-up indicator a test sets to kill the service
	cfgFail      = "test.fail"     // restart (service) or replaceMember (pool) fails
	cfgResizeGap = "test.resizeGap"
)

func count(e *entities.Entity, attr string) int {
	v, _ := e.Attribute(attr)
	n, _ := v.(int)
	if f, ok := v.(float64); ok {
		n = int(f)
	}
	return n
}

func bump(e *entities.Entity, attr string) { e.SetAttribute(attr, count(e, attr)+1) }

func init() {
	entities.Register(&entities.Type{
		Name: poolType,
		Config: []entities.ConfigKey{
			{Name: cfgFail, Type: "boolean"},
			{Name: cfgResizeGap, Type: "duration", Description: "how long resize takes"},
		},
		Effectors: []entities.Effector{
			{Name: "resize", Params: []entities.Param{{Name: "desiredSize", Type: "java.lang.Integer"}},
				Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
					n, ok := p["desiredSize"].(int)
					if f, isF := p["desiredSize"].(float64); isF {
						n, ok = int(f), true
					}
					if !ok {
						return nil, fmt.Errorf("desiredSize %v: %w", p["desiredSize"], entities.ErrInvalid)
					}
					bump(e, attrResizes)
					time.Sleep(e.ConfigDuration(cfgResizeGap, 0))
					return resize(ctx, e, n)
				}},
			{Name: "replaceMember", Params: []entities.Param{{Name: "memberId", Type: "java.lang.String"}},
				Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
					if v, _ := e.Config(cfgFail); v == true {
						return nil, errors.New("no room for a new member")
					}
					old, err := e.Management().Entity(fmt.Sprint(p["memberId"]))
					if err != nil || !e.HasMember(old) {
						return nil, fmt.Errorf("no member %v: %w", p["memberId"], entities.ErrNotFound)
					}
					n, err := addMember(ctx, e)
					if err != nil {
						return nil, err
					}
					e.RemoveMember(old)
					return n.ID(), e.Management().RemoveChild(ctx, old)
				}},
		},
	})
	entities.Register(&entities.Type{
		Name:   serviceType,
		Config: []entities.ConfigKey{{Name: cfgFail, Type: "boolean"}},
		Start: func(ctx context.Context, e *entities.Entity) error {
			bump(e, attrStarts)
			e.SetNotUp(notUpKilled, "")
			return nil
		},
		Restart: func(ctx context.Context, e *entities.Entity) error {
			bump(e, attrRestarts)
			if v, _ := e.Config(cfgFail); v == true {
				return errors.New("will not come back")
			}
			e.SetNotUp(notUpKilled, "")
			return nil
		},
		Effectors: []entities.Effector{
			{Name: "tick", Params: []entities.Param{{Name: "by", Type: "java.lang.Integer", Default: 1}},
				Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
					bump(e, attrTicks)
					e.SetAttribute("test.tickedBy", p["by"])
					return nil, nil
				}},
		},
	})
}

var resizeMu sync.Mutex

// resize brings the pool to n members, adding or removing the newest.
func resize(ctx context.Context, e *entities.Entity, n int) (any, error) {
	resizeMu.Lock()
	defer resizeMu.Unlock()
	for len(e.Members()) < n {
		if _, err := addMember(ctx, e); err != nil {
			return nil, err
		}
	}
	for ms := e.Members(); len(ms) > n; ms = e.Members() {
		last := ms[len(ms)-1]
		e.RemoveMember(last)
		if err := e.Management().RemoveChild(ctx, last); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func addMember(ctx context.Context, e *entities.Entity) (*entities.Entity, error) {
	m := e.Management()
	c, err := m.AddChild(ctx, e, &entities.Spec{Type: serviceType, Name: fmt.Sprintf("member-%d", len(e.Members())+1)})
	if err != nil {
		return nil, err
	}
	if err := m.StartEntity(ctx, c); err != nil {
		return nil, err
	}
	e.AddMember(c)
	return c, nil
}

// deployApp deploys an application with the given children and waits for it to start.
func deployApp(t *testing.T, m *entities.Management, children ...*entities.Spec) *entities.Entity {
	t.Helper()
	app, task, err := m.Deploy(context.Background(), &entities.Spec{Type: "basic-application", Name: t.Name(), Children: children}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := task.Wait(ctx); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	return app
}

// invoke calls an effector and waits for it.
func invoke(t *testing.T, e *entities.Entity, effector string, params map[string]any) any {
	t.Helper()
	task, err := e.Management().Invoke(context.Background(), e, effector, params)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := task.Wait(ctx)
	if err != nil {
		t.Fatalf("%s: %v", effector, err)
	}
	return res
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stays checks that cond holds for d.
func stays(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if !cond() {
			t.Fatalf("%s did not hold", what)
		}
	}
}

// events records the notifications of a sensor, on any entity.
type events struct {
	mu  sync.Mutex
	evs []sensors.Event
}

func watch(t *testing.T, m *entities.Management, sensor string) *events {
	r := &events{}
	cancel := m.Bus().Subscribe(func(ev sensors.Event) bool { return ev.Sensor == sensor }, func(ev sensors.Event) {
		r.mu.Lock()
		r.evs = append(r.evs, ev)
		r.mu.Unlock()
	})
	t.Cleanup(cancel)
	return r
}

func (r *events) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.evs) }

func mgmt(t *testing.T) *entities.Management { return testenv.Management(t, entities.Options{}) }

func open(t *testing.T, dir string) (*entities.Management, store.Store) {
	return testenv.OpenManagement(t, dir, entities.Options{})
}

func childNamed(app *entities.Entity, name string) *entities.Entity {
	for _, c := range app.Children() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}
