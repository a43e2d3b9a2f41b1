package entities

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/locations"
)

// InitializerSpec is one entry of a blueprint's brooklyn.initializers, as data: the
// kind of initializer (its canonical name) and its config. It is persisted with the
// entity, which makes its sensors, effectors and feeds again after a restart.
type InitializerSpec struct {
	Type   string         `json:"type"`
	Config map[string]any `json:"config,omitempty"`
}

// Initializer is what an initializer adds to one entity: sensors and effectors,
// declared as data so that REST lists them, and the work it does while the entity runs.
type Initializer struct {
	Sensors   []SensorType
	Effectors []Effector
	// Run, when set, starts the initializer's work on e (a feed, with StartFeed). It is
	// called once the entity's kind has started, and again after a rebind while the
	// entity is expected to run. Stopping the entity stops its feeds.
	Run func(e *Entity)
}

// InitializerKind is a kind of brooklyn.initializers entry, registered once from
// init(), as entity types are.
type InitializerKind struct {
	Name        string   // canonical name: Brooklyn's Java type name
	Aliases     []string // other names accepted in blueprints, e.g. ssh-command-sensor
	Description string
	// Build checks the config of one initializer and makes what it adds. An error
	// about one key is a *KeyError, so that the blueprint error points at that key.
	Build func(config map[string]any) (*Initializer, error)
}

// KeyError is an error about the value of one config key (of an initializer or a
// parameter); Key is empty when the key is missing altogether.
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string {
	if e.Key == "" {
		return e.Err.Error()
	}
	return e.Key + ": " + e.Err.Error()
}

func (e *KeyError) Unwrap() error { return e.Err }

var initializers = struct {
	sync.RWMutex
	byName map[string]*InitializerKind
	kinds  []*InitializerKind
}{byName: make(map[string]*InitializerKind)}

// RegisterInitializer adds an initializer kind under its name and aliases; it panics
// on a duplicate, like Register.
func RegisterInitializer(k *InitializerKind) {
	initializers.Lock()
	defer initializers.Unlock()
	for _, n := range append([]string{k.Name}, k.Aliases...) {
		if _, dup := initializers.byName[n]; dup {
			panic(fmt.Sprintf("entities: initializer name %q registered twice", n))
		}
		initializers.byName[n] = k
	}
	initializers.kinds = append(initializers.kinds, k)
}

// LookupInitializer finds an initializer kind by name or alias; Brooklyn's "java:"
// prefix is accepted. An unknown name is an error wrapping ErrNotFound that lists the
// known ones.
func LookupInitializer(name string) (*InitializerKind, error) {
	initializers.RLock()
	defer initializers.RUnlock()
	if k, ok := initializers.byName[strings.TrimPrefix(strings.TrimSpace(name), "java:")]; ok {
		return k, nil
	}
	var names []string
	for _, k := range initializers.kinds {
		names = append(names, k.Aliases[0])
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown initializer type %q (known: %s, or their Brooklyn class names): %w",
		name, strings.Join(names, ", "), ErrNotFound)
}

// InitializerKinds lists the registered initializer kinds, sorted by name.
func InitializerKinds() []*InitializerKind {
	initializers.RLock()
	defer initializers.RUnlock()
	out := slices.Clone(initializers.kinds)
	slices.SortFunc(out, func(a, b *InitializerKind) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// BuildInitializer makes what one initializer adds.
func BuildInitializer(in InitializerSpec) (*Initializer, error) {
	k, err := LookupInitializer(in.Type)
	if err != nil {
		return nil, err
	}
	return k.Build(in.Config)
}

// WithParameters returns t with the config keys that brooklyn.parameters declare: a
// copy of t (t itself when there are none). A parameter with the name of one of t's
// keys redeclares it, keeping its aliases, and its type, description and default where
// the parameter gives none; a new key without a type is a string.
func WithParameters(t *Type, params []ConfigKey) *Type {
	if t == nil || len(params) == 0 {
		return t
	}
	cp := *t
	cp.Config = slices.Clone(t.Config)
	for _, p := range params {
		if i := slices.IndexFunc(cp.Config, func(k ConfigKey) bool { return k.Name == p.Name }); i >= 0 {
			base := cp.Config[i]
			p.Aliases = base.Aliases
			p.Type = cmp.Or(p.Type, base.Type)
			p.Description = cmp.Or(p.Description, base.Description)
			if p.Default == nil {
				p.Default = base.Default
			}
			p.Default = normalizeDefault(p.Type, p.Default)
			cp.Config[i] = p
			continue
		}
		p.Type = cmp.Or(p.Type, "string")
		p.Default = normalizeDefault(p.Type, p.Default)
		cp.Config = append(cp.Config, p)
	}
	return &cp
}

// normalizeDefault undoes what a JSON round trip (the store) does to a whole number.
func normalizeDefault(typ string, v any) any {
	if f, ok := v.(float64); ok && (typ == "integer" || typ == "port") && f == float64(int(f)) {
		return int(f)
	}
	return v
}

// derive makes the type of one entity that has brooklyn.parameters or
// brooklyn.initializers, as Brooklyn's EntityDynamicType does: a copy of its kind with
// the keys the parameters declare and the sensors and effectors the initializers add,
// whose Start and Rebind also start the initializers' feeds. Without either it returns
// base itself.
func derive(base *Type, params []ConfigKey, inits []InitializerSpec) (*Type, error) {
	if len(params) == 0 && len(inits) == 0 {
		return base, nil
	}
	t := WithParameters(base, params)
	if t == base {
		cp := *base
		t = &cp
	}
	t.Sensors = slices.Clone(base.Sensors)
	t.Effectors = slices.Clone(base.Effectors)
	var runs []func(*Entity)
	for i, in := range inits {
		b, err := BuildInitializer(in)
		if err != nil {
			return nil, fmt.Errorf("brooklyn.initializers[%d] (%s): %w", i, in.Type, err)
		}
		t.Sensors = append(t.Sensors, b.Sensors...)
		t.Effectors = append(t.Effectors, b.Effectors...)
		if b.Run != nil {
			runs = append(runs, b.Run)
		}
	}
	if len(runs) == 0 {
		return t, nil
	}
	start, rebind := base.Start, base.Rebind
	t.Start = func(ctx context.Context, e *Entity) error {
		if start != nil {
			if err := start(ctx, e); err != nil {
				return err
			}
		}
		for _, run := range runs {
			run(e)
		}
		return nil
	}
	t.Rebind = func(ctx context.Context, e *Entity) error {
		var err error
		if rebind != nil {
			err = rebind(ctx, e)
		}
		if e.Expected() == Running {
			for _, run := range runs {
				run(e)
			}
		}
		return err
	}
	return t, nil
}

// ExecOn runs a command where e runs: through its kind's Exec (a software process's
// machine, with its environment and run directory; a container), or else on e's
// location when that runs commands (a basic entity on localhost).
func ExecOn(ctx context.Context, e *Entity, cmd locations.Command) (int, error) {
	if e.typ.Exec != nil {
		return e.typ.Exec(ctx, e, cmd)
	}
	x, err := LocationOf[locations.Executor](e, "a machine that runs commands")
	if err != nil {
		return -1, fmt.Errorf("%s cannot run commands: %w", e, err)
	}
	return x.Exec(ctx, cmd)
}

// AttributeWhenReady waits, as a step of the task in ctx, until target's sensor is
// ready, as $brooklyn:attributeWhenReady does (dsl_wait.go): by default until it is
// truthy, failing as soon as target is on fire or once it has been down for a minute;
// opts.Timeout bounds the wait. It is woken by the event bus, never by polling.
func AttributeWhenReady(ctx context.Context, target *Entity, sensor string, opts blueprints.WaitOptions) (any, error) {
	return target.mgmt.awaitAttribute(ctx, target, sensor, opts)
}

// stringEnv renders a map of environment values as strings (nil and DSL values left
// out are the caller's concern).
func stringEnv(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out[k] = envString(m[k])
	}
	return out
}

// evalInit evaluates the $brooklyn: DSL in a value of an initializer's config, in e's
// context, when the value is used (a poll, an effector call), as Brooklyn resolves
// initializer config: attributeWhenReady waits then.
func evalInit(ctx context.Context, e *Entity, v any) (any, error) {
	if !blueprints.ContainsDSL(v) {
		return v, nil
	}
	return (&evaluator{m: e.mgmt}).value(ctx, e, v)
}

// evalText is evalInit for a value used as text.
func evalText(ctx context.Context, e *Entity, s string) (string, error) {
	v, err := evalInit(ctx, e, s)
	if err != nil {
		return "", err
	}
	return envString(v), nil
}

// evalEnv is evalInit for each value of an environment.
func evalEnv(ctx context.Context, e *Entity, env map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(env))
	for k, v := range env {
		s, err := evalText(ctx, e, v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = s
	}
	return out, nil
}
