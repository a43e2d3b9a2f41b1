package entities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/store"
)

// Keys of the store that this package owns.
const (
	entityPrefix = "entities/"
	taskPrefix   = "tasks/"
	serverIDKey  = "server/id"
	// blueprintPrefix keys the blueprint of each application, kept out of memory and out of
	// the entity records, which are rewritten on every change.
	blueprintPrefix = "blueprints/"
)

// entityRecord is what the store keeps of an entity.
type entityRecord struct {
	ID            string         `json:"id"`
	Type          string         `json:"type"`
	Name          string         `json:"name"`
	Parent        string         `json:"parent,omitempty"`
	App           string         `json:"app"`
	Children      []string       `json:"children,omitempty"`
	BlueprintID   string         `json:"blueprintId,omitempty"`
	CatalogItemID string         `json:"catalogItemId,omitempty"`
	Config        map[string]any `json:"config,omitempty"`
	Attrs         map[string]any `json:"attrs,omitempty"`
	Tags          []any          `json:"tags,omitempty"`
	Locations     []string       `json:"locations,omitempty"`
	Created       time.Time      `json:"created"`

	// brooklyn.parameters and brooklyn.initializers of the entity (see derive).
	Parameters   []ConfigKey       `json:"parameters,omitempty"`
	Initializers []InitializerSpec `json:"initializers,omitempty"`
	// Resolved are the evaluated $brooklyn: config values the entity started with (dsl.go).
	Resolved map[string]resolvedValue `json:"resolved,omitempty"`
	// Specs are the resolved specs of config keys of type "spec".
	Specs map[string]*Spec `json:"specs,omitempty"`
	// Adjuncts are the entity's policies and enrichers; Members its members' ids.
	Adjuncts []adjunctRecord `json:"adjuncts,omitempty"`
	Members  []string        `json:"members,omitempty"`
}

// taskRecord is what the store keeps of a task.
type taskRecord struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	EntityID    string            `json:"entity"`
	EntityName  string            `json:"entityName"`
	AppID       string            `json:"app"`
	Parent      string            `json:"parent,omitempty"`
	Children    []string          `json:"children,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	State       TaskState         `json:"state"`
	Submitted   time.Time         `json:"submitted"`
	Started     time.Time         `json:"started"`
	Ended       time.Time         `json:"ended"`
	Stdout      string            `json:"stdout,omitempty"`
	Stderr      string            `json:"stderr,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
	Result      any               `json:"result,omitempty"`
	Error       string            `json:"error,omitempty"`
}

// marshal encodes the entity's record. It holds the entity's read lock while encoding, so
// that no sensor write changes a map under the encoder.
func (e *Entity) marshal() ([]byte, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	r := entityRecord{
		ID: e.id, Type: e.typ.Name, Name: e.name, App: e.app.id,
		BlueprintID: e.blueprintID, CatalogItemID: e.catalogItemID,
		Config: e.config, Attrs: e.attrs, Tags: e.tags, Locations: e.locations,
		Created:    e.created,
		Parameters: e.params, Initializers: e.inits,
		Resolved: e.dsl.snapshot(), Specs: e.specs,
	}
	if e.parent != nil {
		r.Parent = e.parent.id
	}
	for _, c := range e.children {
		r.Children = append(r.Children, c.id)
	}
	for _, a := range e.adjuncts {
		r.Adjuncts = append(r.Adjuncts, a.record())
	}
	for _, m := range e.members {
		r.Members = append(r.Members, m.id)
	}
	return json.Marshal(r)
}

func (t *Task) record() taskRecord {
	s := t.Snapshot()
	t.mu.Lock()
	env := t.env
	t.mu.Unlock()
	return taskRecord{
		ID: s.ID, Name: s.Name, Description: s.Description, EntityID: s.EntityID, EntityName: s.EntityName,
		AppID: s.AppID, Parent: s.ParentID, Children: s.ChildIDs, Tags: s.Tags, State: s.State,
		Submitted: s.Submitted, Started: s.Started, Ended: s.Ended,
		Stdout: t.stdout.String(), Stderr: t.stderr.String(), Env: env, Result: s.Result, Error: s.Error,
	}
}

// persister writes changed entities and tasks behind, in one batch per interval.
type persister struct {
	m        *Management
	interval time.Duration

	mu      sync.Mutex
	entity  map[string]*Entity // nil value: delete
	task    map[string]*Task   // nil value: delete
	deletes []string           // other keys to delete
	kick    chan struct{}
	stopped chan struct{}
	flushMu sync.Mutex // one batch at a time
}

func (p *persister) init(m *Management, interval time.Duration) {
	p.m, p.interval = m, interval
	p.entity = make(map[string]*Entity)
	p.task = make(map[string]*Task)
	p.kick = make(chan struct{}, 1)
	p.stopped = make(chan struct{})
}

func (p *persister) markEntity(e *Entity) {
	p.mu.Lock()
	p.entity[e.id] = e
	p.mu.Unlock()
}

func (p *persister) forgetEntity(id string) {
	p.mu.Lock()
	p.entity[id] = nil
	p.mu.Unlock()
}

func (p *persister) forgetKey(key string) {
	p.mu.Lock()
	p.deletes = append(p.deletes, key)
	p.mu.Unlock()
}

func (p *persister) markTask(t *Task) {
	p.mu.Lock()
	p.task[t.id] = t
	p.mu.Unlock()
}

func (p *persister) forgetTask(id string) {
	p.mu.Lock()
	p.task[id] = nil
	p.mu.Unlock()
}

func (p *persister) run() {
	defer close(p.stopped)
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	busy := false
	for {
		select {
		case <-tick.C:
		case <-p.m.ctx.Done():
			return
		}
		wrote, err := p.flushCounting(context.Background())
		if err != nil {
			p.m.log.Error("persist changes", "err", err)
		}
		// A burst of changes (a deploy, a storm of sensor writes) leaves garbage that an
		// idle server would hold for minutes: when the burst is over, give it back.
		if busy && wrote == 0 {
			debug.FreeOSMemory()
		}
		busy = wrote > 0
	}
}

func (p *persister) stop() error {
	<-p.stopped
	return p.flush(context.Background())
}

// flush writes everything marked so far as one batch. On failure the changes are marked
// again, to be retried by the next flush.
func (p *persister) flush(ctx context.Context) error {
	_, err := p.flushCounting(ctx)
	return err
}

// flushCounting is flush, saying how many writes it made.
func (p *persister) flushCounting(ctx context.Context) (int, error) {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	ents, tasks, deletes := p.entity, p.task, p.deletes
	p.entity, p.task, p.deletes = make(map[string]*Entity), make(map[string]*Task), nil
	p.mu.Unlock()
	if len(ents) == 0 && len(tasks) == 0 && len(deletes) == 0 {
		return 0, nil
	}
	b := store.Batch{Deletes: deletes}
	var errs []error
	for id, e := range ents {
		if e == nil {
			b.Delete(entityPrefix + id)
			continue
		}
		data, err := e.marshal()
		if err != nil {
			errs = append(errs, fmt.Errorf("encode entity %s: %w", id, err))
			continue
		}
		b.Put(entityPrefix+id, data)
	}
	for id, t := range tasks {
		if t == nil {
			b.Delete(taskPrefix + id)
			continue
		}
		data, err := json.Marshal(t.record())
		if err != nil {
			errs = append(errs, fmt.Errorf("encode task %s: %w", id, err))
			continue
		}
		b.Put(taskPrefix+id, data)
	}
	if err := p.m.store.Apply(ctx, &b); err != nil {
		p.mu.Lock()
		p.deletes = append(p.deletes, deletes...)
		for id, e := range ents {
			if _, newer := p.entity[id]; !newer {
				p.entity[id] = e
			}
		}
		for id, t := range tasks {
			if _, newer := p.task[id]; !newer {
				p.task[id] = t
			}
		}
		p.mu.Unlock()
		return 0, fmt.Errorf("write %d changes: %w", b.Len(), err)
	}
	return b.Len(), errors.Join(errs...)
}

func (m *Management) loadServerID(ctx context.Context, want string) (string, error) {
	data, err := m.store.Get(ctx, serverIDKey)
	switch {
	case err == nil && (want == "" || want == string(data)):
		return string(data), nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("read server id: %w", err)
	}
	id := want
	if id == "" {
		id = newID()
	}
	var b store.Batch
	b.Put(serverIDKey, []byte(id))
	if err := m.store.Apply(ctx, &b); err != nil {
		return "", fmt.Errorf("write server id: %w", err)
	}
	return id, nil
}

// load rebuilds the entity trees and the task history from the store.
func (m *Management) load(ctx context.Context) error {
	records := make(map[string]*entityRecord)
	var order []string
	err := m.store.List(ctx, entityPrefix, func(_ string, v []byte) error {
		var r entityRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode entity record: %w", err)
		}
		records[r.ID] = &r
		order = append(order, r.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load entities: %w", err)
	}
	for _, id := range order {
		r := records[id]
		t, err := LookupType(r.Type)
		if err != nil {
			m.log.Error("entity of unknown type left out", "entity", r.ID, "type", r.Type)
			continue
		}
		if r.Attrs == nil {
			r.Attrs = make(map[string]any)
		}
		if t, err = derive(t, r.Parameters, r.Initializers); err != nil {
			m.log.Error("entity whose initializers cannot be made again left out", "entity", r.ID, "err", err)
			continue
		}
		m.entities[r.ID] = &Entity{
			mgmt: m, typ: t, id: r.ID, name: r.Name, blueprintID: r.BlueprintID, catalogItemID: r.CatalogItemID,
			config: internKeys(r.Config), attrs: internKeys(r.Attrs), tags: r.Tags, locations: r.Locations, created: r.Created,
			params: r.Parameters, inits: r.Initializers,
			dsl: dslState{values: r.Resolved}, specs: r.Specs,
		}
		m.restoreAdjuncts(m.entities[r.ID], r.Adjuncts)
	}
	for _, e := range m.entities {
		r := records[e.id]
		e.app = m.entities[r.App]
		if r.Parent != "" {
			e.parent = m.entities[r.Parent]
		}
		for _, c := range r.Children {
			if ce, ok := m.entities[c]; ok {
				e.children = append(e.children, ce)
			}
		}
		for _, id := range r.Members {
			if me, ok := m.entities[id]; ok {
				e.members = append(e.members, me)
				me.groups = append(me.groups, e)
			}
		}
		if e.app == nil || (r.Parent != "" && e.parent == nil) {
			m.log.Error("entity whose application or parent is missing left out", "entity", e.id)
			delete(m.entities, e.id)
		}
	}
	for _, e := range m.entities {
		if e.parent == nil {
			m.apps = append(m.apps, e)
		}
	}
	sortByCreated(m.apps)

	var trecs []*taskRecord
	err = m.store.List(ctx, taskPrefix, func(_ string, v []byte) error {
		var r taskRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode task record: %w", err)
		}
		trecs = append(trecs, &r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load tasks: %w", err)
	}
	m.restoreTasks(trecs)
	return nil
}

func (m *Management) restoreTasks(recs []*taskRecord) {
	for _, r := range recs {
		t := &Task{
			mgmt: m, id: r.ID, name: r.Name, description: r.Description, entityID: r.EntityID,
			entityName: r.EntityName, appID: r.AppID, tags: r.Tags, state: r.State,
			submitted: r.Submitted, started: r.Started, ended: r.Ended, env: r.Env,
			result: r.Result, errMsg: r.Error, done: make(chan struct{}),
		}
		t.stdout.buf.WriteString(r.Stdout)
		t.stderr.buf.WriteString(r.Stderr)
		if t.state == TaskQueued || t.state == TaskRunning {
			// In-flight work is not resumed, as in Brooklyn: say so and end the task.
			t.state, t.errMsg, t.ended = TaskFailed, "interrupted: the server stopped while this task ran", time.Now()
			m.persist.markTask(t)
		}
		close(t.done)
		m.tasks[t.id] = t
	}
	for _, r := range recs {
		t := m.tasks[r.ID]
		if p, ok := m.tasks[r.Parent]; ok {
			t.parent = p
		}
		for _, c := range r.Children {
			if ct, ok := m.tasks[c]; ok {
				t.children = append(t.children, ct)
			}
		}
	}
	for _, r := range recs {
		t := m.tasks[r.ID]
		if t.parent != nil && t.parent.entityID == t.entityID {
			continue
		}
		if _, live := m.entities[t.entityID]; live {
			m.history[t.entityID] = append(m.history[t.entityID], t)
		} else {
			m.orphans = append(m.orphans, t)
		}
	}
	for _, h := range m.history {
		sortTasks(h)
	}
	sortTasks(m.orphans)
}

// Rebind re-adopts what each entity had. Entities caught mid-start or mid-stop by the
// restart are marked on fire, as Brooklyn does; kinds with a Rebind hook check their
// resources (in parallel, bounded), those that provide locations (Type.ProvidesLocations)
// before the others.
func (m *Management) Rebind(ctx context.Context) {
	all := make([]*Entity, 0, len(m.entities))
	for _, e := range m.entities {
		all = append(all, e)
	}
	// Every entity is marked before any hook runs: a hook may start work on other
	// entities (a cluster starts again the members a restart caught starting).
	for _, e := range all {
		if exp := e.Expected(); exp == Starting || exp == Stopping {
			e.SetProblem(problemRebind, fmt.Sprintf("the server restarted while the entity was %s; run start or stop again", exp))
		}
	}
	// Kinds that make locations again go first: the others' hooks use those locations.
	var first, rest []*Entity
	for _, e := range all {
		switch {
		case e.typ.Rebind == nil:
		case e.typ.ProvidesLocations:
			first = append(first, e)
		default:
			rest = append(rest, e)
		}
	}
	m.rebindHooks(ctx, first)
	m.rebindHooks(ctx, rest)
	// Policies and enrichers resume once every kind has re-adopted what it had, so that
	// they see the world as it is.
	for _, e := range all {
		m.startAdjuncts(e)
	}
	debug.FreeOSMemory() // the decoding of the load is garbage now
	if len(all) > 0 {
		m.mu.RLock() // hooks and adjuncts may be starting tasks already
		apps, tasks := len(m.apps), len(m.tasks)
		m.mu.RUnlock()
		m.log.Info("rebound", "applications", apps, "entities", len(all), "tasks", tasks)
	}
}

// rebindHooks runs the Rebind hooks of es in parallel, bounded, and waits for them.
func (m *Management) rebindHooks(ctx context.Context, es []*Entity) {
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, e := range es {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := e.typ.Rebind(ctx, e); err != nil {
				m.log.Warn("rebind", "entity", e.id, "err", err)
				e.SetProblem(problemRebind, err.Error())
			}
		}()
	}
	wg.Wait()
}
