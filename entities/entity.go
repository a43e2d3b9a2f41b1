package entities

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"sync"
	"time"
	"unique"

	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// Sentinel errors of this package; test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid")
	ErrConflict = errors.New("conflict")
)

// Spec says what entity to create: the output of catalog resolution.
type Spec struct {
	Type          string         `json:"type"` // a registered type name or alias
	Name          string         `json:"name,omitempty"`
	BlueprintID   string         `json:"blueprintId,omitempty"` // the `id:` of the blueprint, for DSL references
	CatalogItemID string         `json:"catalogItemId,omitempty"`
	Config        map[string]any `json:"config,omitempty"`
	Locations     []string       `json:"locations,omitempty"` // location ids; inherited by children when empty
	Tags          []any          `json:"tags,omitempty"`
	Children      []*Spec        `json:"children,omitempty"`
	// Parameters (brooklyn.parameters) declare config keys of this entity only;
	// Initializers (brooklyn.initializers) add its sensors, effectors and feeds.
	Parameters   []ConfigKey       `json:"parameters,omitempty"`
	Initializers []InitializerSpec `json:"initializers,omitempty"`
	// Adjuncts are the entity's policies and enrichers (brooklyn.policies,
	// brooklyn.enrichers), started when the entity is created.
	Adjuncts []AdjunctSpec `json:"adjuncts,omitempty"`
	// EntitySpecs are the specs that config keys of type "spec" hold (a cluster's
	// dynamiccluster.memberspec), resolved by the catalog when the blueprint is deployed;
	// the config keeps the value as written.
	EntitySpecs map[string]*Spec `json:"entitySpecs,omitempty"`
}

// Entity is one node of a live application tree.
type Entity struct {
	mgmt *Management
	typ  *Type
	id   string
	app  *Entity // itself for an application
	// parent is nil for an application.
	parent *Entity

	// lifecycle serialises start, stop, restart and unmanage of this entity.
	lifecycle sync.Mutex
	// aggregate serialises the recomputation of the indicators derived from the
	// children, so that a stale computation never overwrites a newer one.
	aggregate sync.Mutex

	mu            sync.RWMutex
	name          string
	blueprintID   string
	catalogItemID string
	children      []*Entity
	config        map[string]any
	attrs         map[string]any
	tags          []any
	locations     []string
	created       time.Time
	// params and inits made typ a type of this entity's own (see derive); they are
	// persisted so that it is made again on load.
	params []ConfigKey
	inits  []InitializerSpec
	// dsl holds the evaluated $brooklyn: values of the config (dsl.go).
	dsl dslState
	// specs are the resolved entity specs of config keys of type "spec".
	specs map[string]*Spec
	// adjuncts are the entity's policies and enrichers (adjuncts.go).
	adjuncts []*Adjunct
	// members are the entity's members when it is a group, groups the groups it is a
	// member of (members.go).
	members []*Entity
	groups  []*Entity
}

func (e *Entity) ID() string              { return e.id }
func (e *Entity) Type() *Type             { return e.typ }
func (e *Entity) Parent() *Entity         { return e.parent }
func (e *Entity) Application() *Entity    { return e.app }
func (e *Entity) Management() *Management { return e.mgmt }
func (e *Entity) IsApplication() bool     { return e.parent == nil }
func (e *Entity) Created() time.Time      { return e.created }
func (e *Entity) String() string          { return e.Name() + " (" + e.id + ")" }
func (e *Entity) BlueprintID() string     { e.mu.RLock(); defer e.mu.RUnlock(); return e.blueprintID }
func (e *Entity) CatalogItemID() string   { e.mu.RLock(); defer e.mu.RUnlock(); return e.catalogItemID }
func (e *Entity) Tags() []any {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]any(nil), e.tags...)
}
func (e *Entity) OwnLocations() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]string(nil), e.locations...)
}
func (e *Entity) Name() string { e.mu.RLock(); defer e.mu.RUnlock(); return e.name }
func (e *Entity) OwnConfig() map[string]any {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return maps.Clone(e.config)
}

// SetName renames the entity.
func (e *Entity) SetName(name string) {
	e.mu.Lock()
	e.name = name
	e.mu.Unlock()
	e.mgmt.changed(e)
}

// EntitySpec returns the spec that a config key of type "spec" holds: the entity's own,
// else its nearest ancestor's.
func (e *Entity) EntitySpec(key string) (*Spec, bool) {
	if k, ok := e.typ.ConfigKey(key); ok {
		key = k.Name
	}
	for x := e; x != nil; x = x.parent {
		x.mu.RLock()
		s, ok := x.specs[key]
		x.mu.RUnlock()
		if ok {
			return s, true
		}
	}
	return nil, false
}

// Children returns the entity's children in creation order.
func (e *Entity) Children() []*Entity {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]*Entity(nil), e.children...)
}

// Descendants returns the entity and everything below it, depth first.
func (e *Entity) Descendants() []*Entity {
	out := []*Entity{e}
	for _, c := range e.Children() {
		out = append(out, c.Descendants()...)
	}
	return out
}

// Locations are the entity's own locations, or else its nearest ancestor's.
func (e *Entity) Locations() []string {
	for x := e; x != nil; x = x.parent {
		if l := x.OwnLocations(); len(l) > 0 {
			return l
		}
	}
	return nil
}

// Config returns the value of key: the entity's own, else the nearest ancestor's, else
// the type's declared default. Aliases of a declared key are resolved to its name.
// $brooklyn: values come evaluated once the entity started (see dsl.go).
func (e *Entity) Config(key string) (any, bool) {
	holder, raw, ok := e.rawConfig(key)
	if !ok {
		return nil, false
	}
	if k, ok := e.typ.ConfigKey(key); ok {
		key = k.Name
	}
	return e.resolvedConfig(key, holder, raw, true), true
}

// ConfigString returns a config value as a string ("" when unset).
func (e *Entity) ConfigString(key string) string {
	v, ok := e.Config(key)
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// ConfigDuration returns a duration config value (such as "30s"), or def when it is
// unset or not a duration.
func (e *Entity) ConfigDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(e.ConfigString(key)); err == nil && d >= 0 {
		return d
	}
	return def
}

// EffectiveConfig is every config value the entity sees: declared defaults, then
// inherited values, then its own.
func (e *Entity) EffectiveConfig() map[string]any {
	out := make(map[string]any)
	for _, k := range e.typ.Config {
		if k.Default != nil {
			out[k.Name] = k.Default
		}
	}
	var chain []*Entity
	for x := e; x != nil; x = x.parent {
		chain = append(chain, x)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		maps.Copy(out, chain[i].OwnConfig())
	}
	return e.withResolved(out)
}

// SetConfig sets the entity's own value of key.
func (e *Entity) SetConfig(key string, v any) {
	if k, ok := e.typ.ConfigKey(key); ok {
		key = k.Name
	}
	key = intern(key)
	e.mu.Lock()
	if e.config == nil {
		e.config = make(map[string]any)
	}
	e.config[key] = v
	e.mu.Unlock()
	e.mgmt.changed(e)
}

// Attribute returns the current value of a sensor.
func (e *Entity) Attribute(name string) (any, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	v, ok := e.attrs[name]
	return v, ok
}

// Attributes returns a copy of every sensor value.
func (e *Entity) Attributes() map[string]any {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return maps.Clone(e.attrs)
}

// AttributeNames returns the names of the sensors that have a value, sorted.
func (e *Entity) AttributeNames() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	names := make([]string, 0, len(e.attrs))
	for n := range e.attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SetAttribute sets a sensor value, persists it and publishes the change.
// Setting a sensor to nil removes it.
func (e *Entity) SetAttribute(name string, v any) {
	name = intern(name)
	e.mu.Lock()
	if old, had := e.attrs[name]; had && sameScalar(old, v) {
		e.mu.Unlock()
		return // nothing changed: nothing to write or tell
	}
	if e.attrs == nil {
		e.attrs = make(map[string]any)
	}
	if v == nil {
		delete(e.attrs, name)
	} else {
		e.attrs[name] = v
	}
	e.mu.Unlock()
	e.mgmt.changed(e)
	e.mgmt.bus.Publish(sensors.Event{Entity: e.id, App: e.app.id, Sensor: name, Value: v})
}

// sameScalar says whether two sensor values are the same string, number or boolean.
// Maps and lists are never taken as the same: comparing them costs more than a write.
func sameScalar(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case int:
		y, ok := b.(int)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	}
	return false
}

// SetNotUp records (msg non-empty) or clears (msg empty) a reason why the entity is not
// up, under key, and recomputes service.isUp and service.state.
func (e *Entity) SetNotUp(key, msg string) { e.setIndicator(sensors.NotUpIndicators, key, msg) }

// SetProblem records (msg non-empty) or clears (msg empty) a problem under key; any
// problem makes the entity ON_FIRE.
func (e *Entity) SetProblem(key, msg string) { e.setIndicator(sensors.Problems, key, msg) }

// SetExpected sets service.state.expected and recomputes service.state.
func (e *Entity) SetExpected(l Lifecycle) {
	e.mu.Lock()
	if e.attrs == nil {
		e.attrs = make(map[string]any)
	}
	// Brooklyn's Lifecycle.Transition, as it sends it in JSON.
	v := map[string]any{"state": string(l), "timestampUtc": time.Now().UnixMilli()}
	e.attrs[sensors.ServiceStateExpected] = v
	e.mu.Unlock()
	e.mgmt.bus.Publish(sensors.Event{Entity: e.id, App: e.app.id, Sensor: sensors.ServiceStateExpected, Value: v})
	e.refreshState()
}

// State returns service.state.
func (e *Entity) State() Lifecycle {
	v, _ := e.Attribute(sensors.ServiceState)
	s, _ := v.(string)
	return Lifecycle(s)
}

// Expected returns the state the entity is expected to be in (service.state.expected).
func (e *Entity) Expected() Lifecycle {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return expectedLocked(e.attrs)
}

func expectedLocked(attrs map[string]any) Lifecycle {
	m, _ := attrs[sensors.ServiceStateExpected].(map[string]any)
	s, _ := m["state"].(string)
	return Lifecycle(s)
}

// IsUp returns service.isUp.
func (e *Entity) IsUp() bool {
	v, _ := e.Attribute(sensors.ServiceUp)
	b, _ := v.(bool)
	return b
}

func (e *Entity) setIndicator(sensor, key, msg string) {
	e.mu.Lock()
	cur, _ := e.attrs[sensor].(map[string]any)
	old, had := cur[key]
	if (msg == "" && !had) || (had && old == msg) {
		e.mu.Unlock()
		return
	}
	next := maps.Clone(cur)
	if next == nil {
		next = make(map[string]any)
	}
	if msg == "" {
		delete(next, key)
	} else {
		next[key] = msg
	}
	if e.attrs == nil {
		e.attrs = make(map[string]any)
	}
	e.attrs[sensor] = next
	e.mu.Unlock()
	e.mgmt.bus.Publish(sensors.Event{Entity: e.id, App: e.app.id, Sensor: sensor, Value: next})
	e.refreshState()
}

// refreshState recomputes service.isUp and service.state from the indicators, and tells
// the parent when either changed.
func (e *Entity) refreshState() {
	e.mu.Lock()
	notUp, _ := e.attrs[sensors.NotUpIndicators].(map[string]any)
	problems, _ := e.attrs[sensors.Problems].(map[string]any)
	expected := expectedLocked(e.attrs)
	up := len(notUp) == 0
	state := string(ComputeState(expected, up, len(problems)))
	oldUp, _ := e.attrs[sensors.ServiceUp].(bool)
	_, hadUp := e.attrs[sensors.ServiceUp]
	oldState, _ := e.attrs[sensors.ServiceState].(string)
	changedUp := !hadUp || oldUp != up
	changedState := oldState != state
	e.attrs[sensors.ServiceUp] = up
	e.attrs[sensors.ServiceState] = state
	e.mu.Unlock()
	e.mgmt.changed(e)
	if changedUp {
		e.mgmt.bus.Publish(sensors.Event{Entity: e.id, App: e.app.id, Sensor: sensors.ServiceUp, Value: up})
	}
	if changedState {
		e.mgmt.bus.Publish(sensors.Event{Entity: e.id, App: e.app.id, Sensor: sensors.ServiceState, Value: state})
		e.mgmt.log.Debug("entity state", "entity", e.id, "state", state)
	}
	if changedUp || changedState {
		if e.parent != nil {
			e.parent.refreshChildren()
		}
		for _, g := range e.Groups() {
			if g.typ.Group && g != e.parent {
				g.refreshChildren()
			}
		}
	}
}

// refreshChildren recomputes the indicators a parent derives from its children, or a
// group from its members.
func (e *Entity) refreshChildren() {
	e.aggregate.Lock()
	defer e.aggregate.Unlock()
	aggregate, kids := aggregateChildren, e.Children()
	if e.typ.Group {
		aggregate, kids = aggregateMembers, e.Members()
	}
	summary := make([]childSummary, len(kids))
	for i, c := range kids {
		summary[i] = childSummary{name: c.Name(), up: c.IsUp(), state: c.State()}
	}
	notUp, problem := aggregate(summary)
	e.SetNotUp(indicatorChildren, notUp)
	e.SetProblem(indicatorChildren, problem)
}

// intern returns the one shared copy of a config key or sensor name: ten thousand entities
// with the same keys hold one string each, and a name cut from a request path does not
// keep the whole path alive.
func intern(s string) string { return unique.Make(s).Value() }

// internKeys copies m with its keys interned.
func internKeys(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[intern(k)] = v
	}
	return out
}

// LocationOf returns the entity's location (its own or inherited; the first when there
// are several) as T, one of the contracts of package locations such as ContainerHost or
// Executor. what names T in the error when the location is of another kind.
func LocationOf[T any](e *Entity, what string) (T, error) {
	var zero T
	ids := e.Locations()
	if len(ids) == 0 {
		return zero, fmt.Errorf("%s has no location: %w", e, locations.ErrInvalid)
	}
	l, err := e.mgmt.locations.Get(ids[0])
	if err != nil {
		return zero, err
	}
	t, ok := l.(T)
	if !ok {
		return zero, fmt.Errorf("location %s is a %s location, not %s: %w", ids[0], l.Kind(), what, locations.ErrInvalid)
	}
	return t, nil
}
