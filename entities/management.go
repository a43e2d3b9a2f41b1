package entities

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
	"github.com/gantry-dev/gantry/store"
)

// Options configure a Management.
type Options struct {
	Store     store.Store
	Locations *locations.Registry
	Logger    *slog.Logger
	// ServerID names this server in the labels of what it creates. Empty: the id kept in
	// the store, or a new one.
	ServerID string
	// FlushInterval is how long a change may wait before it is written (default 200ms).
	FlushInterval time.Duration
	// TasksPerEntity bounds the task history kept for each entity (default 100).
	TasksPerEntity int
}

// Management owns every application of the server: it creates entity trees, runs their
// effectors as tasks, persists them and rebinds them after a restart.
type Management struct {
	store     store.Store
	locations *locations.Registry
	log       *slog.Logger
	bus       *sensors.Bus
	serverID  string
	perEntity int

	ctx    context.Context // lives as long as the Management; tasks run under it
	cancel context.CancelFunc

	mu       sync.RWMutex
	apps     []*Entity
	entities map[string]*Entity
	tasks    map[string]*Task
	history  map[string][]*Task // entity id -> its top-level tasks, oldest first
	orphans  []*Task            // top-level tasks of unmanaged entities, still readable

	persist persister
	feeds   feeds
	watch   watchers // Watch (events.go)
}

// New loads what the store holds and starts writing changes behind. Call Rebind next,
// once whatever watches the locations (Docker events) is listening.
func New(ctx context.Context, opts Options) (*Management, error) {
	if opts.Store == nil {
		return nil, fmt.Errorf("management needs a store: %w", ErrInvalid)
	}
	if opts.Locations == nil {
		opts.Locations = locations.NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 200 * time.Millisecond
	}
	if opts.TasksPerEntity <= 0 {
		opts.TasksPerEntity = 100
	}
	mctx, cancel := context.WithCancel(context.Background())
	m := &Management{
		store: opts.Store, locations: opts.Locations, log: opts.Logger, bus: sensors.NewBus(),
		perEntity: opts.TasksPerEntity, ctx: mctx, cancel: cancel,
		entities: make(map[string]*Entity), tasks: make(map[string]*Task), history: make(map[string][]*Task),
	}
	m.persist.init(m, opts.FlushInterval)
	id, err := m.loadServerID(ctx, opts.ServerID)
	if err != nil {
		cancel()
		return nil, err
	}
	m.serverID = id
	if err := m.load(ctx); err != nil {
		cancel()
		return nil, err
	}
	go m.persist.run()
	return m, nil
}

// Close writes every pending change and stops the writer. Running tasks are abandoned,
// as they would be by a crash; the next start marks them interrupted.
func (m *Management) Close() error {
	m.cancel()
	return m.persist.stop()
}

// Flush writes every pending change now.
func (m *Management) Flush(ctx context.Context) error { return m.persist.flush(ctx) }

func (m *Management) Bus() *sensors.Bus              { return m.bus }
func (m *Management) Locations() *locations.Registry { return m.locations }
func (m *Management) ServerID() string               { return m.serverID }
func (m *Management) Logger() *slog.Logger           { return m.log }

// Deploy creates the application tree of spec and starts it. The returned task is the
// application's start; the tree exists (and is persisted) when Deploy returns.
func (m *Management) Deploy(ctx context.Context, spec *Spec, blueprint []byte) (*Entity, *Task, error) {
	t, err := LookupType(spec.Type)
	if err != nil {
		return nil, nil, err
	}
	if !t.Application {
		return nil, nil, fmt.Errorf("type %s is not an application: %w", t.Name, ErrInvalid)
	}
	built, err := m.build(spec, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	app := built[0]
	var b store.Batch
	b.Put(blueprintPrefix+app.id, blueprint)
	if err := m.store.Apply(ctx, &b); err != nil {
		return nil, nil, fmt.Errorf("save the blueprint: %w", err)
	}
	m.mu.Lock()
	m.apps = append(m.apps, app)
	for _, e := range built {
		m.entities[e.id] = e
	}
	m.mu.Unlock()
	m.created(built)
	// Written before anything is made for it, as AddChild does.
	if err := m.Flush(ctx); err != nil {
		return nil, nil, fmt.Errorf("save the application: %w", err)
	}
	m.log.Info("application deployed", "app", app.id, "name", app.Name(), "entities", len(built))
	task, err := m.Invoke(ctx, app, "start", nil)
	return app, task, err
}

// build turns a spec tree into entities (not yet registered), parents before children.
func (m *Management) build(spec *Spec, parent, app *Entity) ([]*Entity, error) {
	t, err := LookupType(spec.Type)
	if err != nil {
		return nil, err
	}
	if t, err = derive(t, spec.Parameters, spec.Initializers); err != nil {
		return nil, err
	}
	e := &Entity{
		mgmt: m, typ: t, id: newID(), parent: parent, app: app,
		params: spec.Parameters, inits: spec.Initializers,
		name: spec.Name, blueprintID: spec.BlueprintID, catalogItemID: spec.CatalogItemID,
		config: internKeys(spec.Config), locations: spec.Locations, tags: spec.Tags,
		created: time.Now(), specs: spec.EntitySpecs,
		// Brooklyn's indicator maps exist from the start, empty when all is well.
		attrs: map[string]any{sensors.NotUpIndicators: map[string]any{}, sensors.Problems: map[string]any{}},
	}
	if e.app == nil {
		e.app = e
	}
	for _, as := range spec.Adjuncts {
		a, err := newAdjunct(e, as)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		e.adjuncts = append(e.adjuncts, a)
	}
	if e.name == "" {
		e.name = defaultName(t)
	}
	out := []*Entity{e}
	for _, cs := range spec.Children {
		kids, err := m.build(cs, e, e.app)
		if err != nil {
			return nil, err
		}
		e.children = append(e.children, kids[0])
		out = append(out, kids...)
	}
	return out, nil
}

func defaultName(t *Type) string {
	if len(t.Aliases) > 0 {
		return t.Aliases[0]
	}
	return t.Name
}

// Blueprint returns the blueprint an application was deployed from.
func (m *Management) Blueprint(ctx context.Context, app *Entity) ([]byte, error) {
	b, err := m.store.Get(ctx, blueprintPrefix+app.Application().id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

// Applications lists the applications in the order they were deployed.
func (m *Management) Applications() []*Entity {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]*Entity(nil), m.apps...)
}

// Application finds an application by id, else by name.
func (m *Management) Application(idOrName string) (*Entity, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if e, ok := m.entities[idOrName]; ok && e.IsApplication() {
		return e, nil
	}
	for _, a := range m.apps {
		if strings.EqualFold(a.Name(), idOrName) {
			return a, nil
		}
	}
	return nil, fmt.Errorf("application %q: %w", idOrName, ErrNotFound)
}

// Entity finds an entity of any application by id.
func (m *Management) Entity(id string) (*Entity, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if e, ok := m.entities[id]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("entity %q: %w", id, ErrNotFound)
}

// FindEntity finds an entity of app by id, else by name.
func (m *Management) FindEntity(app *Entity, idOrName string) (*Entity, error) {
	all := app.Descendants()
	for _, e := range all {
		if e.id == idOrName {
			return e, nil
		}
	}
	for _, e := range all {
		if e.Name() == idOrName {
			return e, nil
		}
	}
	return nil, fmt.Errorf("entity %q in application %s: %w", idOrName, app.id, ErrNotFound)
}

// Task finds a task by id.
func (m *Management) Task(id string) (*Task, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if t, ok := m.tasks[id]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("task %q: %w", id, ErrNotFound)
}

// Tasks lists the top-level tasks of an entity, oldest first.
func (m *Management) Tasks(e *Entity) []*Task {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]*Task(nil), m.history[e.id]...)
}

// Invoke calls an effector of e as a new top-level task and returns at once; the task's
// Wait gives the outcome. Parameters are checked against the effector's declaration.
func (m *Management) Invoke(ctx context.Context, e *Entity, effector string, params map[string]any) (*Task, error) {
	return m.invoke(e, effector, params)
}

// invoke is Invoke, with tags added to the task before it starts.
func (m *Management) invoke(e *Entity, effector string, params map[string]any, tags ...string) (*Task, error) {
	eff, ok := e.typ.Effector(effector)
	if !ok {
		return nil, fmt.Errorf("entity %s has no effector %q: %w", e.id, effector, ErrNotFound)
	}
	params, err := checkParams(eff, params)
	if err != nil {
		return nil, err
	}
	t := m.newTask(nil, "Invoking effector "+eff.Name, eff.Description, e.id, e.Name(), e.app.id)
	t.mu.Lock() // the writer may be reading it already
	t.tags = append([]string{"EFFECTOR", "effector:" + eff.Name}, tags...)
	t.mu.Unlock()
	t.start()
	go func() {
		res, err := eff.Run(context.WithValue(m.ctx, taskKey{}, t), e, params)
		if err != nil {
			m.log.Warn("effector failed", "entity", e.id, "effector", eff.Name, "task", t.id, "err", err)
		}
		t.finish(res, err)
	}()
	return t, nil
}

func checkParams(eff *Effector, given map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(eff.Params))
	declared := make(map[string]bool, len(eff.Params))
	for _, p := range eff.Params {
		declared[p.Name] = true
		if p.Default != nil {
			out[p.Name] = p.Default
		}
	}
	for k, v := range given {
		if !declared[k] {
			return nil, fmt.Errorf("effector %s has no parameter %q: %w", eff.Name, k, ErrInvalid)
		}
		out[k] = v
	}
	return out, nil
}

func (m *Management) newTask(parent *Task, name, description, entityID, entityName, appID string) *Task {
	t := &Task{
		mgmt: m, id: newID(), name: name, description: description, parent: parent,
		entityID: entityID, entityName: entityName, appID: appID,
		state: TaskQueued, submitted: time.Now(), done: make(chan struct{}),
	}
	t.wireStreams()
	var evicted []*Task
	m.mu.Lock()
	m.tasks[t.id] = t
	if parent == nil || parent.entityID != entityID {
		h := append(m.history[entityID], t)
		if len(h) > m.perEntity {
			evicted = h[:len(h)-m.perEntity]
			h = append([]*Task(nil), h[len(h)-m.perEntity:]...)
		}
		m.history[entityID] = h
	}
	for _, old := range evicted {
		m.forgetTaskLocked(old)
	}
	m.mu.Unlock()
	if parent != nil {
		parent.mu.Lock()
		parent.children = append(parent.children, t)
		parent.mu.Unlock()
	}
	m.taskChanged(t)
	return t
}

// forgetTaskLocked drops a task and its subtasks from memory and from the store.
func (m *Management) forgetTaskLocked(t *Task) {
	delete(m.tasks, t.id)
	m.persist.forgetTask(t.id)
	for _, c := range t.Children() {
		m.forgetTaskLocked(c)
	}
}

// Unmanage stops an application, releases everything it holds (containers, processes)
// and forgets it. When releasing fails the application stays, with the problem recorded,
// so that nothing it holds is orphaned.
func (m *Management) Unmanage(ctx context.Context, app *Entity) (*Task, error) {
	if !app.IsApplication() {
		return nil, fmt.Errorf("%s is not an application: %w", app.id, ErrInvalid)
	}
	t := m.newTask(nil, "Stopping and unmanaging "+app.Name(), "stop the application and release everything it holds", app.id, app.Name(), app.id)
	t.mu.Lock()
	t.tags = []string{"EFFECTOR", "effector:stop"}
	t.mu.Unlock()
	t.start()
	go func() {
		err := m.unmanage(context.WithValue(m.ctx, taskKey{}, t), app)
		t.finish(nil, err)
	}()
	return t, nil
}

func (m *Management) unmanage(ctx context.Context, app *Entity) error {
	if err := m.stop(ctx, app); err != nil {
		Logf(ctx, "stop failed (%v); releasing anyway", err)
	}
	all := app.Descendants()
	if err := m.release(ctx, all); err != nil {
		app.SetProblem(problemStop, "unmanage failed, nothing was forgotten: "+err.Error())
		return err
	}
	m.mu.Lock()
	for i, a := range m.apps {
		if a == app {
			m.apps = append(m.apps[:i:i], m.apps[i+1:]...)
			break
		}
	}
	m.persist.forgetKey(blueprintPrefix + app.id)
	m.mu.Unlock()
	m.forget(all)
	m.log.Info("application unmanaged", "app", app.id, "entities", len(all))
	return nil
}

// release runs the Destroy of every entity of all (a subtree, parents first), children
// before parents, each as a step; it joins their errors.
func (m *Management) release(ctx context.Context, all []*Entity) error {
	var errs []error
	for i := len(all) - 1; i >= 0; i-- {
		e := all[i]
		if e.typ.Destroy == nil {
			continue
		}
		if err := Step(ctx, "Release "+e.Name(), func(ctx context.Context) error { return e.typ.Destroy(ctx, e) }); err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", e, err))
		}
	}
	return errors.Join(errs...)
}

// forget drops the entities of all (a released subtree): their adjuncts stop, they
// leave their groups, and their records go from the store. Their tasks stay readable
// for a while.
func (m *Management) forget(all []*Entity) {
	for _, e := range all {
		for _, a := range e.Adjuncts() {
			a.halt()
		}
		e.leaveGroups()
		e.SetExpected(Destroyed)
	}
	for i := len(all) - 1; i >= 0; i-- { // children before parents
		m.emit(Change{Kind: EntityRemoved, Entity: all[i]})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range all {
		m.StopFeeds(e)
		delete(m.entities, e.id)
		m.orphans = append(m.orphans, m.history[e.id]...)
		delete(m.history, e.id)
		m.persist.forgetEntity(e.id)
	}
	const keepOrphans = 1000
	if n := len(m.orphans); n > keepOrphans {
		for _, old := range m.orphans[:n-keepOrphans] {
			m.forgetTaskLocked(old)
		}
		m.orphans = append([]*Task(nil), m.orphans[n-keepOrphans:]...)
	}
}

// changed marks an entity to be written behind.
func (m *Management) changed(e *Entity) { m.persist.markEntity(e) }

// taskChanged marks a task to be written behind.
func (m *Management) taskChanged(t *Task) { m.persist.markTask(t) }

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newID returns a Brooklyn-style id: ten lower-case letters and digits, starting with a
// letter.
func newID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	for i := range b {
		n := len(idAlphabet)
		if i == 0 {
			n = 26
		}
		b[i] = idAlphabet[int(b[i])%n]
	}
	return string(b[:])
}
