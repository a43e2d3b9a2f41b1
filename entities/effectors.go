package entities

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// lifecycleEffectors are the effectors every entity has, as Brooklyn's Startable.
func lifecycleEffectors() []Effector {
	return []Effector{
		{Name: "start", Description: "Start the entity and its children", ReturnType: "void",
			Params: []Param{{Name: "locations", Type: "java.lang.Object", Description: "The locations to start in (ignored: the blueprint's locations are used)"}},
			Run:    func(ctx context.Context, e *Entity, _ map[string]any) (any, error) { return nil, e.mgmt.start(ctx, e) }},
		{Name: "stop", Description: "Stop the entity and its children", ReturnType: "void",
			Params: []Param{
				{Name: "stopProcessMode", Type: "java.lang.String", Description: "Accepted for Brooklyn compatibility"},
				{Name: "stopMachineMode", Type: "java.lang.String", Description: "Accepted for Brooklyn compatibility"},
			},
			Run: func(ctx context.Context, e *Entity, _ map[string]any) (any, error) { return nil, e.mgmt.stop(ctx, e) }},
		{Name: "restart", Description: "Restart the entity and its children", ReturnType: "void",
			Params: []Param{
				{Name: "restartChildren", Type: "java.lang.Boolean", Description: "Accepted for Brooklyn compatibility"},
				{Name: "restartMachine", Type: "java.lang.String", Description: "Accepted for Brooklyn compatibility"},
			},
			Run: func(ctx context.Context, e *Entity, _ map[string]any) (any, error) {
				return nil, e.mgmt.restart(ctx, e)
			}},
	}
}

// start runs the type's Start, then starts the children in parallel, each as a subtask.
func (m *Management) start(ctx context.Context, e *Entity) error {
	e.lifecycle.Lock()
	defer e.lifecycle.Unlock()
	e.SetProblem(problemStart, "")
	e.SetProblem(problemRebind, "")
	e.SetExpected(Starting)
	err := func() error {
		if err := m.resolveDeferred(ctx, e); err != nil {
			return err
		}
		if e.typ.Start != nil {
			if err := e.typ.Start(ctx, e); err != nil {
				return err
			}
		}
		e.SetNotUp(indicatorLifecycle, "")
		if e.typ.StartsChildren {
			return nil
		}
		return eachChild(ctx, e, "Starting", m.start)
	}()
	if err != nil {
		e.SetProblem(problemStart, err.Error())
		e.SetExpected(Running) // expected to run, with a problem: ON_FIRE
		return fmt.Errorf("start %s: %w", e, err)
	}
	e.SetExpected(Running)
	return nil
}

// stop stops the children in parallel, then runs the type's Stop.
func (m *Management) stop(ctx context.Context, e *Entity) error {
	e.lifecycle.Lock()
	defer e.lifecycle.Unlock()
	e.SetExpected(Stopping)
	m.StopFeeds(e)
	err := eachChild(ctx, e, "Stopping", m.stop)
	if e.typ.Stop != nil {
		err = errors.Join(err, e.typ.Stop(ctx, e))
	}
	e.SetNotUp(indicatorLifecycle, "stopped")
	if err != nil {
		e.SetProblem(problemStop, err.Error())
		e.SetExpected(Stopped)
		return fmt.Errorf("stop %s: %w", e, err)
	}
	e.SetProblem(problemStop, "")
	e.SetProblem(problemStart, "")
	m.forgetResolved(e) // the next start evaluates the DSL again
	e.SetExpected(Stopped)
	return nil
}

// restart uses the type's own Restart where it has one (a container restarts in place),
// else stops and starts; then it restarts the children in parallel.
func (m *Management) restart(ctx context.Context, e *Entity) error {
	if e.typ.Restart == nil {
		if err := Step(ctx, "Stopping "+e.Name(), func(ctx context.Context) error { return m.stop(ctx, e) }); err != nil {
			return err
		}
		return Step(ctx, "Starting "+e.Name(), func(ctx context.Context) error { return m.start(ctx, e) })
	}
	e.lifecycle.Lock()
	defer e.lifecycle.Unlock()
	e.SetExpected(Starting)
	err := e.typ.Restart(ctx, e)
	if err == nil {
		e.SetNotUp(indicatorLifecycle, "")
		e.SetProblem(problemStart, "")
		err = eachChild(ctx, e, "Restarting", m.restart)
	}
	if err != nil {
		e.SetProblem(problemStart, err.Error())
	}
	e.SetExpected(Running)
	if err != nil {
		return fmt.Errorf("restart %s: %w", e, err)
	}
	return nil
}

// eachChild runs fn on every child of e in parallel, each in a subtask named
// "<verb> <child>", and joins their errors.
func eachChild(ctx context.Context, e *Entity, verb string, fn func(context.Context, *Entity) error) error {
	kids := e.Children()
	errs := make([]error, len(kids))
	var wg sync.WaitGroup
	for i, c := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = StepOn(ctx, c, verb+" "+c.Name(), func(ctx context.Context) error { return fn(ctx, c) })
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
