package entities

import (
	"context"

	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/blueprints"

	"github.com/gantry-dev/gantry/sensors"
)

// AdjunctCategory says what an adjunct does: a policy acts (it calls effectors), an
// enricher derives sensors from sensors.
type AdjunctCategory string

const (
	PolicyCategory   AdjunctCategory = "policy"
	EnricherCategory AdjunctCategory = "enricher"
)

// AdjunctKind is a kind of policy or enricher, registered once from init(), as entity
// types are. Its config keys are declared as data, so that REST lists them.
type AdjunctKind struct {
	Name        string   // canonical name: Brooklyn's Java type name
	Aliases     []string // short names accepted in blueprints, e.g. autoscaler
	Description string
	Category    AdjunctCategory
	Config      []ConfigKey
	// Check, when set, validates a config before the adjunct is made (at deploy and when
	// one is added or reconfigured through REST). An error about one key is a *KeyError,
	// so that the blueprint error points at that key.
	Check func(config map[string]any) error
	// Start begins the adjunct's work on a.Entity(): subscriptions (a.Subscribe) and timers
	// (a.Every), all undone when the adjunct stops. It is called again after a stop, and
	// after a server restart, with a.Memory holding what the adjunct remembered, so that
	// it resumes rather than repeats what it did.
	Start func(a *Adjunct) error
	// Reconfigured, when set, is told that a config key changed while the adjunct runs;
	// without it the adjunct is stopped and started again to take the new value.
	Reconfigured func(a *Adjunct, key string)
}

// ConfigKey returns the declared key with that name or alias.
func (k *AdjunctKind) ConfigKey(name string) (*ConfigKey, bool) {
	for i := range k.Config {
		c := &k.Config[i]
		if c.Name == name || slices.Contains(c.Aliases, name) {
			return c, true
		}
	}
	return nil, false
}

var adjunctKinds = map[string]*AdjunctKind{}

// RegisterAdjunct adds an adjunct kind under its name and aliases; it panics on a
// duplicate, like Register.
func RegisterAdjunct(k *AdjunctKind) {
	if k.Category != PolicyCategory && k.Category != EnricherCategory {
		panic("adjunct kind " + k.Name + " has no category")
	}
	for _, n := range append([]string{k.Name}, k.Aliases...) {
		if _, dup := adjunctKinds[n]; dup {
			panic("adjunct kind registered twice: " + n)
		}
		adjunctKinds[n] = k
	}
}

// LookupAdjunct finds an adjunct kind by name or alias; Brooklyn's "java:" prefix is
// accepted. An unknown name is an error wrapping ErrNotFound that lists the known ones.
func LookupAdjunct(name string) (*AdjunctKind, error) {
	if k, ok := adjunctKinds[strings.TrimPrefix(name, "java:")]; ok {
		return k, nil
	}
	var names []string
	for _, k := range AdjunctKinds("") {
		names = append(names, k.Name)
	}
	return nil, fmt.Errorf("unknown policy or enricher type %q (known: %s): %w", name, strings.Join(names, ", "), ErrNotFound)
}

// AdjunctKinds lists the registered kinds of a category ("" for all), sorted by name.
func AdjunctKinds(c AdjunctCategory) []*AdjunctKind {
	seen := map[*AdjunctKind]bool{}
	var out []*AdjunctKind
	for _, k := range adjunctKinds {
		if !seen[k] && (c == "" || k.Category == c) {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AdjunctSpec is one entry of a blueprint's brooklyn.policies or brooklyn.enrichers, as
// data: the kind (its canonical name), an optional name, and its config.
type AdjunctSpec struct {
	Type   string         `json:"type"`
	Name   string         `json:"name,omitempty"`
	Config map[string]any `json:"config,omitempty"`
}

// Highlight is a line an adjunct shows about itself (Brooklyn's highlights: lastAction,
// lastViolation ...): what, when, and the task it started, if any.
type Highlight struct {
	Description string `json:"description"`
	Time        int64  `json:"time"` // milliseconds since the epoch
	TaskID      string `json:"taskId,omitempty"`
}

// Adjunct is one policy or enricher attached to an entity. What it remembers
// (Remember), its config and whether it runs are persisted with the entity.
type Adjunct struct {
	e    *Entity
	kind *AdjunctKind
	id   string

	// life serialises start, stop and reconfiguration.
	life sync.Mutex

	mu         sync.Mutex
	name       string
	config     map[string]any
	memory     map[string]any
	highlights map[string]Highlight
	running    bool // meant to run: persisted, and resumed after a restart
	ctx        context.Context
	cancel     context.CancelFunc // set while it runs
}

func (a *Adjunct) ID() string                { return a.id }
func (a *Adjunct) Kind() *AdjunctKind        { return a.kind }
func (a *Adjunct) Category() AdjunctCategory { return a.kind.Category }
func (a *Adjunct) Entity() *Entity           { return a.e }
func (a *Adjunct) Name() string              { a.mu.Lock(); defer a.mu.Unlock(); return a.name }
func (a *Adjunct) String() string            { return a.Name() + " (" + a.id + ")" }

// Running says whether the adjunct is running.
func (a *Adjunct) Running() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.cancel != nil }

// Logger logs with the adjunct's and its entity's ids.
func (a *Adjunct) Logger() *slog.Logger {
	return a.e.mgmt.log.With("entity", a.e.id, "adjunct", a.id, "kind", a.kind.Name)
}

// Context is cancelled when the adjunct stops.
func (a *Adjunct) Context() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ctx == nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	return a.ctx
}

// Config returns the adjunct's value of key (aliases resolved), else the declared
// default. $brooklyn: values are returned as written; Resolve evaluates them.
func (a *Adjunct) Config(key string) (any, bool) {
	k, declared := a.kind.ConfigKey(key)
	if declared {
		key = k.Name
	}
	a.mu.Lock()
	v, ok := a.config[key]
	a.mu.Unlock()
	if ok {
		return v, true
	}
	if declared && k.Default != nil {
		return k.Default, true
	}
	return nil, false
}

// ConfigMap is every config value the adjunct sees: declared defaults, then its own.
func (a *Adjunct) ConfigMap() map[string]any {
	out := map[string]any{}
	for _, k := range a.kind.Config {
		if k.Default != nil {
			out[k.Name] = k.Default
		}
	}
	a.mu.Lock()
	maps.Copy(out, a.config)
	a.mu.Unlock()
	return out
}

// ConfigString returns a config value as a string ("" when unset).
func (a *Adjunct) ConfigString(key string) string {
	v, ok := a.Config(key)
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// ConfigFloat returns a numeric config value (a number or a string holding one).
func (a *Adjunct) ConfigFloat(key string) (float64, bool) {
	v, ok := a.Config(key)
	if !ok {
		return 0, false
	}
	return blueprints.AsNumber(v)
}

// ConfigInt returns an integer config value, or def when it is unset or not a number.
func (a *Adjunct) ConfigInt(key string, def int) int {
	if f, ok := a.ConfigFloat(key); ok {
		return int(f)
	}
	return def
}

// ConfigBool returns a boolean config value ("true"/"false" strings too), or def.
func (a *Adjunct) ConfigBool(key string, def bool) bool {
	switch v, _ := a.Config(key); x := v.(type) {
	case bool:
		return x
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b
		}
	}
	return def
}

// ConfigDuration returns a duration config value ("30s", or a number of milliseconds as
// Brooklyn accepts), or def when it is unset or not a duration.
func (a *Adjunct) ConfigDuration(key string, def time.Duration) time.Duration {
	v, ok := a.Config(key)
	if !ok || v == nil {
		return def
	}
	if d, ok := toDuration(v); ok {
		return d
	}
	return def
}

// toDuration reads a Go duration ("30s", "1m30s"), or a number of milliseconds as
// Brooklyn takes one.
func toDuration(v any) (time.Duration, bool) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if d, err := time.ParseDuration(s); err == nil && d >= 0 {
			return d, true
		}
	}
	if f, ok := blueprints.AsNumber(v); ok && f >= 0 {
		return time.Duration(f * float64(time.Millisecond)), true
	}
	return 0, false
}

// Resolve returns the value of key with its $brooklyn: DSL evaluated against the
// adjunct's entity, without waiting for sensors that are not ready.
func (a *Adjunct) Resolve(key string) (any, error) {
	raw, ok := a.Config(key)
	if !ok {
		return nil, nil
	}
	if e, ok := raw.(*Entity); ok {
		return e, nil
	}
	ev := &evaluator{m: a.e.mgmt, noWait: true}
	return ev.value(context.Background(), a.e, raw)
}

// ResolveEntity returns the entity that key names: a $brooklyn: DSL value such as
// $brooklyn:entity("web"), an entity id, or def when the key is unset.
func (a *Adjunct) ResolveEntity(key string, def *Entity) (*Entity, error) {
	v, err := a.Resolve(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	switch x := v.(type) {
	case nil:
		return def, nil
	case *Entity:
		return x, nil
	case string:
		if x == "" {
			return def, nil
		}
		return a.e.mgmt.Entity(x)
	}
	return nil, fmt.Errorf("%s: %v is not an entity: %w", key, v, ErrInvalid)
}

// Memory returns what the adjunct remembered under key (persisted).
func (a *Adjunct) Memory(key string) (any, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.memory[key]
	return v, ok
}

// MemoryTime returns a time remembered with Remember (as milliseconds), or the zero time.
func (a *Adjunct) MemoryTime(key string) time.Time {
	v, _ := a.Memory(key)
	if f, ok := blueprints.AsNumber(v); ok && f > 0 {
		return time.UnixMilli(int64(f))
	}
	return time.Time{}
}

// Remember keeps v under key with the entity's record, so that the adjunct finds it after
// a server restart. v must encode as JSON; nil forgets the key. Times are kept as
// milliseconds (read them with MemoryTime).
func (a *Adjunct) Remember(key string, v any) {
	if t, ok := v.(time.Time); ok {
		v = t.UnixMilli()
	}
	a.mu.Lock()
	if v == nil {
		delete(a.memory, key)
	} else {
		if a.memory == nil {
			a.memory = map[string]any{}
		}
		a.memory[key] = v
	}
	a.mu.Unlock()
	a.e.mgmt.changed(a.e)
}

// Highlight records a line about what the adjunct saw or did (name: lastAction,
// lastViolation ...), with the task it started ("" for none).
func (a *Adjunct) Highlight(name, description, taskID string) {
	a.mu.Lock()
	if a.highlights == nil {
		a.highlights = map[string]Highlight{}
	}
	a.highlights[name] = Highlight{Description: description, Time: time.Now().UnixMilli(), TaskID: taskID}
	a.mu.Unlock()
	a.e.mgmt.changed(a.e)
	if a.e.mgmt.watched() {
		c := Change{Kind: AdjunctHighlight, Entity: a.e, Adjunct: a, Highlight: name, Text: description}
		if taskID != "" {
			c.Task, _ = a.e.mgmt.Task(taskID)
		}
		a.e.mgmt.emit(c)
	}
}

// Highlights returns a copy of the adjunct's highlights.
func (a *Adjunct) Highlights() map[string]Highlight {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.highlights)
}

// Subscribe calls fn for every event that filter accepts while the adjunct runs; the
// subscription ends when it stops. Events of one subscription arrive in order, on one
// goroutine.
func (a *Adjunct) Subscribe(filter func(sensors.Event) bool, fn func(sensors.Event)) {
	ctx := a.Context()
	if ctx.Err() != nil {
		return
	}
	cancel := a.e.mgmt.bus.Subscribe(filter, func(ev sensors.Event) {
		if ctx.Err() == nil {
			fn(ev)
		}
	})
	context.AfterFunc(ctx, cancel)
}

// SubscribeSensor calls fn when sensor of one of the given entities changes (any entity
// when entities is empty), while the adjunct runs.
func (a *Adjunct) SubscribeSensor(sensor string, fn func(sensors.Event), entities ...*Entity) {
	ids := make(map[string]bool, len(entities))
	for _, e := range entities {
		ids[e.id] = true
	}
	a.Subscribe(func(ev sensors.Event) bool {
		return ev.Sensor == sensor && (len(ids) == 0 || ids[ev.Entity])
	}, fn)
}

// Every calls fn every period while the adjunct runs (the first call after one period).
func (a *Adjunct) Every(period time.Duration, fn func(ctx context.Context)) {
	ctx := a.Context()
	if ctx.Err() != nil || period <= 0 {
		return
	}
	go func() {
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				fn(ctx)
			}
		}
	}()
}

// Invoke calls an effector of target as a new task (policies never change entities
// directly) and records it as the adjunct's lastAction highlight. What the adjunct
// remembered so far is written first: an action is never taken that a restart would
// forget, and so take again.
func (a *Adjunct) Invoke(target *Entity, effector string, params map[string]any) (*Task, error) {
	if err := a.e.mgmt.Flush(a.Context()); err != nil {
		return nil, fmt.Errorf("save the state of %s before %s: %w", a, effector, err)
	}
	// Tagged before it starts, so that whoever watches it start knows who asked.
	t, err := a.e.mgmt.invoke(target, effector, params, "adjunct:"+a.id)
	if err != nil {
		a.Highlight("lastAction", fmt.Sprintf("%s on %s failed: %v", effector, target.Name(), err), "")
		return nil, err
	}
	a.Highlight("lastAction", fmt.Sprintf("%s %v on %s", effector, params, target.Name()), t.id)
	a.Logger().Info("adjunct action", "effector", effector, "target", target.id, "task", t.id)
	return t, nil
}

// Start starts the adjunct (a no-op when it runs).
func (a *Adjunct) Start() error {
	a.life.Lock()
	defer a.life.Unlock()
	return a.startLocked()
}

func (a *Adjunct) startLocked() error {
	a.mu.Lock()
	if a.cancel != nil {
		a.mu.Unlock()
		return nil
	}
	a.ctx, a.cancel = context.WithCancel(a.e.mgmt.ctx)
	a.running = true
	a.mu.Unlock()
	a.e.mgmt.changed(a.e)
	if a.kind.Start == nil {
		return nil
	}
	if err := a.kind.Start(a); err != nil {
		a.stopLocked()
		a.Highlight("lastFailure", "start failed: "+err.Error(), "")
		return fmt.Errorf("start %s %s: %w", a.kind.Category, a, err)
	}
	return nil
}

// Stop stops the adjunct: its subscriptions and timers end.
func (a *Adjunct) Stop() {
	a.life.Lock()
	defer a.life.Unlock()
	a.stopLocked()
}

func (a *Adjunct) stopLocked() {
	a.mu.Lock()
	cancel := a.cancel
	a.cancel, a.running = nil, false
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	a.e.mgmt.changed(a.e)
}

// halt stops the adjunct's work without changing whether it is meant to run (the
// server is closing, or the entity is being forgotten).
func (a *Adjunct) halt() {
	a.mu.Lock()
	cancel := a.cancel
	a.cancel = nil
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// SetConfig changes one config value (nil removes it) after checking the whole config
// with the kind's Check; a running adjunct is told (Reconfigured) or restarted.
func (a *Adjunct) SetConfig(key string, v any) error {
	if k, ok := a.kind.ConfigKey(key); ok {
		key = k.Name
	}
	a.life.Lock()
	defer a.life.Unlock()
	a.mu.Lock()
	next := maps.Clone(a.config)
	a.mu.Unlock()
	if next == nil {
		next = map[string]any{}
	}
	if v == nil {
		delete(next, key)
	} else {
		next[key] = v
	}
	if a.kind.Check != nil {
		if err := a.kind.Check(next); err != nil {
			return fmt.Errorf("%s: %w", a.kind.Name, withInvalid(err))
		}
	}
	a.mu.Lock()
	a.config = next
	running := a.cancel != nil
	a.mu.Unlock()
	a.e.mgmt.changed(a.e)
	if !running {
		return nil
	}
	if a.kind.Reconfigured != nil {
		a.kind.Reconfigured(a, key)
		return nil
	}
	a.stopLocked()
	return a.startLocked()
}

// withInvalid makes err wrap ErrInvalid, so that REST answers 400.
func withInvalid(err error) error {
	if errors.Is(err, ErrInvalid) {
		return err
	}
	return fmt.Errorf("%w: %w", err, ErrInvalid)
}

// Adjuncts lists the entity's policies and enrichers in the order they were added.
func (e *Entity) Adjuncts() []*Adjunct {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Clone(e.adjuncts)
}

// Adjunct finds one of the entity's adjuncts by id, else by name.
func (e *Entity) Adjunct(idOrName string) (*Adjunct, error) {
	all := e.Adjuncts()
	for _, a := range all {
		if a.id == idOrName {
			return a, nil
		}
	}
	for _, a := range all {
		if a.Name() == idOrName {
			return a, nil
		}
	}
	return nil, fmt.Errorf("entity %s has no policy or enricher %q: %w", e.id, idOrName, ErrNotFound)
}

// newAdjunct checks spec and makes its adjunct, not yet attached or started.
func newAdjunct(e *Entity, spec AdjunctSpec) (*Adjunct, error) {
	k, err := LookupAdjunct(spec.Type)
	if err != nil {
		return nil, err
	}
	if k.Check != nil {
		if err := k.Check(spec.Config); err != nil {
			return nil, fmt.Errorf("%s: %w", k.Name, withInvalid(err))
		}
	}
	name := spec.Name
	if name == "" {
		name = defaultAdjunctName(k)
	}
	cfg := make(map[string]any, len(spec.Config))
	for key, v := range spec.Config {
		if ck, ok := k.ConfigKey(key); ok {
			key = ck.Name
		}
		cfg[intern(key)] = v
	}
	return &Adjunct{e: e, kind: k, id: newID(), name: name, config: cfg, running: true}, nil
}

func defaultAdjunctName(k *AdjunctKind) string {
	if len(k.Aliases) > 0 {
		return k.Aliases[0]
	}
	return k.Name[strings.LastIndex(k.Name, ".")+1:]
}

// AddAdjunct attaches a new policy or enricher to e and starts it.
func (m *Management) AddAdjunct(e *Entity, spec AdjunctSpec) (*Adjunct, error) {
	a, err := newAdjunct(e, spec)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.adjuncts = append(e.adjuncts, a)
	e.mu.Unlock()
	m.changed(e)
	m.log.Info("adjunct added", "entity", e.id, "adjunct", a.id, "kind", a.kind.Name)
	return a, a.Start()
}

// DestroyAdjunct stops an adjunct and removes it from its entity.
func (m *Management) DestroyAdjunct(a *Adjunct) {
	a.Stop()
	e := a.e
	e.mu.Lock()
	e.adjuncts = slices.DeleteFunc(e.adjuncts, func(x *Adjunct) bool { return x == a })
	e.mu.Unlock()
	m.changed(e)
	m.log.Info("adjunct destroyed", "entity", e.id, "adjunct", a.id)
}

// startAdjuncts starts the adjuncts of e that are meant to run (after a deploy, a new
// child, a restart of the server).
func (m *Management) startAdjuncts(e *Entity) {
	for _, a := range e.Adjuncts() {
		a.mu.Lock()
		want := a.running
		a.mu.Unlock()
		if !want {
			continue
		}
		if err := a.Start(); err != nil {
			m.log.Warn("adjunct did not start", "entity", e.id, "adjunct", a.id, "err", err)
		}
	}
}

// adjunctRecord is what the store keeps of an adjunct.
type adjunctRecord struct {
	ID         string               `json:"id"`
	Type       string               `json:"type"`
	Name       string               `json:"name"`
	Config     map[string]any       `json:"config,omitempty"`
	Memory     map[string]any       `json:"memory,omitempty"`
	Highlights map[string]Highlight `json:"highlights,omitempty"`
	Running    bool                 `json:"running"`
}

func (a *Adjunct) record() adjunctRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	// Copies: the record is encoded after the lock is released, while Remember may write.
	return adjunctRecord{ID: a.id, Type: a.kind.Name, Name: a.name, Config: maps.Clone(a.config),
		Memory: maps.Clone(a.memory), Highlights: maps.Clone(a.highlights), Running: a.running}
}

// restoreAdjuncts makes the adjuncts of a loaded entity again, not started; an adjunct
// of a kind this server does not know is left out, and logged.
func (m *Management) restoreAdjuncts(e *Entity, recs []adjunctRecord) {
	for _, r := range recs {
		k, err := LookupAdjunct(r.Type)
		if err != nil {
			m.log.Error("adjunct of unknown type left out", "entity", e.id, "adjunct", r.ID, "type", r.Type)
			continue
		}
		e.adjuncts = append(e.adjuncts, &Adjunct{e: e, kind: k, id: r.ID, name: r.Name,
			config: internKeys(r.Config), memory: r.Memory, highlights: r.Highlights, running: r.Running})
	}
}
