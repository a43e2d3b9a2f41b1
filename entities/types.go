package entities

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gantry-dev/gantry/locations"
)

// ConfigKey declares a config key of a type. Type is the value's kind as the REST API and
// the validator understand it: "string", "integer", "number", "boolean", "list", "map",
// "duration" or "object" (anything).
type ConfigKey struct {
	Name        string   `json:"name"`
	Aliases     []string `json:"aliases,omitempty"` // other names accepted in blueprints (e.g. Clocker's long names)
	Type        string   `json:"type,omitempty"`
	Description string   `json:"description,omitempty"`
	Default     any      `json:"default,omitempty"`
	// Label, Pinned and Constraints come from brooklyn.parameters, for the REST API and
	// the UI's forms; the catalog checks the constraints ("required", {regex: ...}).
	Label       string `json:"label,omitempty"`
	Pinned      bool   `json:"pinned,omitempty"`
	Constraints []any  `json:"constraints,omitempty"`
	// Secret says that values of the key are never shown: the REST API, the event
	// stream and the logs mask them, as they do keys whose names look secret
	// (server.IsSecretKey).
	Secret bool `json:"secret,omitempty"`
}

// SensorType declares a sensor a type publishes.
type SensorType struct {
	Name        string
	Type        string
	Description string
}

// Param is an effector parameter.
type Param struct {
	Name        string
	Type        string
	Description string
	Default     any
}

// Effector is an operation of an entity, declared as data. Run does the work inside the
// task Management creates for the call (TaskFrom(ctx) gives it).
type Effector struct {
	Name        string
	Description string
	ReturnType  string
	Params      []Param
	Run         func(ctx context.Context, e *Entity, params map[string]any) (any, error)
}

// Type is an entity kind. Kinds are stateless: what an entity has (its container id,
// its pid) lives in its attributes, so that it is persisted and survives a restart.
type Type struct {
	Name        string   // canonical name, Brooklyn's Java type name where there is one
	Aliases     []string // short names accepted in blueprints (basic-entity, docker-container)
	Description string
	Application bool // an application: the root of a tree
	// Group says that the entity's state follows its members (members.go), with
	// Brooklyn's cluster quorum, rather than its children.
	Group bool
	// StartsChildren says that the kind's Start starts the children it wants (a cluster
	// starts its members); the lifecycle does not start them after it. Stop still stops
	// every child.
	StartsChildren bool
	Config         []ConfigKey
	Sensors        []SensorType
	Effectors      []Effector // beyond start/stop/restart, which every startable type has

	// Prefix, when set, lets "<Prefix><rest>" name this type, with rest as the value of
	// config key PrefixKey: "docker:redis:7" is a docker-container with image redis:7.
	Prefix    string
	PrefixKey string
	// Location, when set, says whether the kind can run in a location (a container needs
	// an engine); an entity of such a kind must have one.
	Location func(l locations.Location) error

	// Lifecycle hooks; any may be nil. Start runs before the children start, Stop after
	// they stopped. Rebind re-adopts what the entity had (its container, its process) after
	// a server restart, without re-creating it. Destroy releases everything when the
	// entity is unmanaged.
	Start   func(ctx context.Context, e *Entity) error
	Stop    func(ctx context.Context, e *Entity) error
	Restart func(ctx context.Context, e *Entity) error
	Rebind  func(ctx context.Context, e *Entity) error
	Destroy func(ctx context.Context, e *Entity) error
	// ProvidesLocations says that the kind's Rebind makes again locations other entities
	// run on (a Docker infrastructure registers its cloud, its hosts their engines):
	// Management.Rebind runs the hooks of such entities first, and the others' once they
	// all returned.
	ProvidesLocations bool
	// Exec, when set, runs a command where the entity runs (its machine, its
	// container), with the kind's environment and directory; command sensors and
	// effectors of brooklyn.initializers use it.
	Exec func(ctx context.Context, e *Entity, cmd locations.Command) (int, error)
}

// ConfigKey returns the declared key with that name or alias.
func (t *Type) ConfigKey(name string) (*ConfigKey, bool) {
	for i := range t.Config {
		k := &t.Config[i]
		if k.Name == name {
			return k, true
		}
		for _, a := range k.Aliases {
			if a == name {
				return k, true
			}
		}
	}
	return nil, false
}

// Effector returns the effector with that name, including the lifecycle ones.
func (t *Type) Effector(name string) (*Effector, bool) {
	for _, eff := range t.AllEffectors() {
		if eff.Name == name {
			return &eff, true
		}
	}
	return nil, false
}

// AllEffectors lists the lifecycle effectors followed by the type's own.
func (t *Type) AllEffectors() []Effector {
	return append(lifecycleEffectors(), t.Effectors...)
}

var registry = struct {
	sync.RWMutex
	byName map[string]*Type
	types  []*Type
}{byName: make(map[string]*Type)}

// Register adds a type under its name and aliases. It panics on a duplicate: types are
// registered from init() and a clash is a programming error.
func Register(t *Type) {
	registry.Lock()
	defer registry.Unlock()
	for _, n := range append([]string{t.Name}, t.Aliases...) {
		if _, dup := registry.byName[n]; dup {
			panic(fmt.Sprintf("entities: type name %q registered twice", n))
		}
		registry.byName[n] = t
	}
	registry.types = append(registry.types, t)
}

// LookupType finds a type by name or alias.
func LookupType(name string) (*Type, error) {
	registry.RLock()
	defer registry.RUnlock()
	if t, ok := registry.byName[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("unknown entity type %q (known: %s): %w", name, strings.Join(typeNamesLocked(), ", "), ErrNotFound)
}

// ResolveType finds the type a blueprint's `type:` names: a name, an alias, or a prefixed
// form such as docker:<image>, whose config it returns.
func ResolveType(name string) (*Type, map[string]any, error) {
	registry.RLock()
	for _, t := range registry.types {
		if t.Prefix != "" && strings.HasPrefix(name, t.Prefix) && len(name) > len(t.Prefix) {
			registry.RUnlock()
			return t, map[string]any{t.PrefixKey: strings.TrimPrefix(name, t.Prefix)}, nil
		}
	}
	registry.RUnlock()
	t, err := LookupType(name)
	return t, nil, err
}

// Types lists every registered type, sorted by name.
func Types() []*Type {
	registry.RLock()
	defer registry.RUnlock()
	out := append([]*Type(nil), registry.types...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func typeNamesLocked() []string {
	var names []string
	for _, t := range registry.types {
		if len(t.Aliases) > 0 {
			names = append(names, t.Aliases[0])
		} else {
			names = append(names, t.Name)
		}
	}
	sort.Strings(names)
	return names
}
