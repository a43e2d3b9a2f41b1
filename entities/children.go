package entities

import (
	"context"
	"fmt"
	"slices"
)

// Entities made and removed while an application runs: a cluster's members, a load
// balancer's pair. Kinds call these from their effectors, inside the effector's task.

// AddChild creates the entity of spec (and its children) under parent, registers and
// persists it, and starts its adjuncts; it does not start the entity (StartEntity does).
func (m *Management) AddChild(ctx context.Context, parent *Entity, spec *Spec) (*Entity, error) {
	built, err := m.build(spec, parent, parent.app)
	if err != nil {
		return nil, fmt.Errorf("add a child to %s: %w", parent, err)
	}
	child := built[0]
	parent.mu.Lock()
	parent.children = append(parent.children, child)
	parent.mu.Unlock()
	m.mu.Lock()
	for _, e := range built {
		m.entities[e.id] = e
	}
	m.mu.Unlock()
	m.changed(parent)
	m.created(built)
	// Written before anything is made for it (a container named after it), so that a
	// crash leaves nothing that no entity claims.
	if err := m.Flush(ctx); err != nil {
		return nil, fmt.Errorf("save %s: %w", child, err)
	}
	Logf(ctx, "created %s", child)
	return child, nil
}

// created marks new entities as not started, persists them and starts their adjuncts.
func (m *Management) created(built []*Entity) {
	for _, e := range built { // parents before children
		m.emit(Change{Kind: EntityAdded, Entity: e})
	}
	for _, e := range built {
		e.SetNotUp(indicatorLifecycle, "not started")
		e.SetExpected(Created)
		m.changed(e)
	}
	for _, e := range built {
		m.startAdjuncts(e)
	}
}

// StartEntity starts e and its children, as the start effector does, in the task of ctx.
func (m *Management) StartEntity(ctx context.Context, e *Entity) error { return m.start(ctx, e) }

// StopEntity stops e and its children, as the stop effector does, in the task of ctx.
func (m *Management) StopEntity(ctx context.Context, e *Entity) error { return m.stop(ctx, e) }

// RestartEntity restarts e, as the restart effector does, in the task of ctx.
func (m *Management) RestartEntity(ctx context.Context, e *Entity) error { return m.restart(ctx, e) }

// RemoveChild stops e (not an application), releases what it and the entities below it
// hold, and forgets them. When releasing fails e stays, with the problem recorded, so
// that nothing it holds is orphaned.
func (m *Management) RemoveChild(ctx context.Context, e *Entity) error {
	if e.IsApplication() {
		return fmt.Errorf("%s is an application; unmanage it instead: %w", e, ErrInvalid)
	}
	if err := m.stop(ctx, e); err != nil {
		Logf(ctx, "stop failed (%v); releasing anyway", err)
	}
	all := e.Descendants()
	if err := m.release(ctx, all); err != nil {
		e.SetProblem(problemStop, "removal failed, nothing was forgotten: "+err.Error())
		return err
	}
	p := e.parent
	p.mu.Lock()
	p.children = slices.DeleteFunc(p.children, func(c *Entity) bool { return c == e })
	p.mu.Unlock()
	m.changed(p)
	m.forget(all)
	p.refreshChildren()
	Logf(ctx, "removed %s", e)
	return nil
}
