package entities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gantry-dev/gantry/blueprints"
)

// Config values stay as written ($brooklyn: strings and map forms) in an entity's config
// and in the store. At start, resolveDeferred evaluates the DSL values the entity sees and
// keeps the results next to the config, each with the value it was evaluated from; Config
// and EffectiveConfig return the result while the written value is unchanged. Stop forgets
// the results, so that the next start evaluates again (a producer may have a new address).
// The results are persisted with the entity: after a restart of the server, an entity
// keeps the values it was started with, as the process or container it runs was made
// with them; evaluating again could wait (a producer that is down now) or give other
// answers (an environment variable changed), and rebinding never blocks or re-installs.

// resolvedValue is a config value as written and as evaluated.
type resolvedValue struct {
	Raw   any `json:"raw"`
	Value any `json:"value"`
}

// dslState is what an entity keeps of its evaluated config values.
type dslState struct {
	mu     sync.Mutex
	values map[string]resolvedValue // by config key
	// deferred are values put off at start because they wait on a sensor of the entity
	// itself or of an entity below it, which cannot be set before the kind starts: they
	// are evaluated when the kind reads them (waiting then), or never.
	deferred map[string]resolvedValue // Value is the entity whose context evaluates Raw
	ctx      context.Context          // the start's, for deferred values read while starting
}

func (s *dslState) reset(ctx context.Context) {
	s.mu.Lock()
	s.values, s.deferred, s.ctx = nil, nil, ctx
	s.mu.Unlock()
}

func (s *dslState) put(key string, raw, v any) {
	s.mu.Lock()
	if s.values == nil {
		s.values = make(map[string]resolvedValue)
	}
	s.values[key] = resolvedValue{Raw: raw, Value: v}
	delete(s.deferred, key)
	s.mu.Unlock()
}

func (s *dslState) postpone(key string, raw any, holder *Entity) {
	s.mu.Lock()
	if s.deferred == nil {
		s.deferred = make(map[string]resolvedValue)
	}
	s.deferred[key] = resolvedValue{Raw: raw, Value: holder}
	s.mu.Unlock()
}

// lookup returns the evaluated value of key, if it was evaluated from raw.
func (s *dslState) lookup(key string, raw any) (any, bool) {
	s.mu.Lock()
	r, ok := s.values[key]
	s.mu.Unlock()
	if !ok || !sameRaw(r.Raw, raw) {
		return nil, false
	}
	return r.Value, true
}

// pending returns the deferred value of key, with the entity that evaluates it and the
// start's context.
func (s *dslState) pending(key string, raw any) (*Entity, context.Context, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.deferred[key]
	if !ok || !sameRaw(r.Raw, raw) {
		return nil, nil, false
	}
	holder, _ := r.Value.(*Entity)
	return holder, s.ctx, true
}

// snapshot returns the evaluated values, for the store.
func (s *dslState) snapshot() map[string]resolvedValue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.values)
}

func sameRaw(a, b any) bool {
	if x, ok := a.(string); ok {
		y, ok := b.(string)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

// rawConfig returns the value of key as written, and the entity that holds it: the
// entity's own, else its nearest ancestor's, else the type's default (holder nil).
func (e *Entity) rawConfig(key string) (holder *Entity, raw any, ok bool) {
	if k, ok := e.typ.ConfigKey(key); ok {
		key = k.Name
	}
	for x := e; x != nil; x = x.parent {
		x.mu.RLock()
		v, ok := x.config[key]
		x.mu.RUnlock()
		if ok {
			return x, v, true
		}
	}
	if k, ok := e.typ.ConfigKey(key); ok && k.Default != nil {
		return nil, k.Default, true
	}
	return nil, nil, false
}

// resolvedConfig is what Config returns for key, whose value as written is raw, held by
// holder (nil for a default): the value evaluated at start, by the entity or by the
// ancestor that holds it. A value put off at start is evaluated now: waiting for it when
// wait is set and the entity is starting, else only when it is ready. Anything not
// evaluated is returned as written.
func (e *Entity) resolvedConfig(key string, holder *Entity, raw any, wait bool) any {
	if !blueprints.ContainsDSL(raw) {
		return raw
	}
	if v, ok := e.dsl.lookup(key, raw); ok {
		return v
	}
	if holder != nil && holder != e {
		if v, ok := holder.dsl.lookup(key, raw); ok {
			return v
		}
	}
	in, ctx, ok := e.dsl.pending(key, raw)
	if !ok {
		if holder != nil && holder != e {
			return holder.resolvedConfig(key, holder, raw, false) // put off by the holder?
		}
		return raw
	}
	ev := &evaluator{m: e.mgmt}
	if !wait || ctx == nil || e.Expected() != Starting {
		ev.noWait, ctx = true, context.Background()
	}
	v, err := ev.value(ctx, in, raw)
	if err != nil {
		if !ev.noWait {
			Logf(ctx, "config %s: %v", key, err)
			e.mgmt.log.Warn("config not evaluated", "entity", e.id, "key", key, "err", err)
		}
		return raw
	}
	v = coerceResolved(e.typ, key, v)
	e.dsl.put(key, raw, v)
	e.mgmt.changed(e)
	return v
}

// withResolved replaces the DSL values of an entity's effective config by their
// evaluated values, without waiting for anything.
func (e *Entity) withResolved(out map[string]any) map[string]any {
	for k, raw := range out {
		if !blueprints.ContainsDSL(raw) {
			continue
		}
		if holder, r, ok := e.rawConfig(k); ok && sameRaw(r, raw) {
			out[k] = e.resolvedConfig(k, holder, raw, false)
		}
	}
	return out
}

// forgetResolved drops the evaluated values, when the entity stops.
func (m *Management) forgetResolved(e *Entity) {
	e.dsl.reset(nil)
	m.changed(e)
}

// resolveDeferred evaluates the $brooklyn: DSL values of an entity's config before its
// kind starts: the entity's own values, and the inherited ones of the keys its kind
// declares (each in the context of the entity that holds it, as Brooklyn does). It waits
// where a value depends on another entity's sensor (attributeWhenReady), so that start
// order follows the data; a wait on the entity itself or on an entity below it is put
// off until the kind reads the value.
func (m *Management) resolveDeferred(ctx context.Context, e *Entity) error {
	e.dsl.reset(ctx)
	keys := e.dslKeys()
	if len(keys) == 0 {
		return nil
	}
	defer m.changed(e)
	for _, key := range keys {
		holder, raw, ok := e.rawConfig(key)
		if !ok {
			continue
		}
		in := holder
		if in == nil {
			in = e // a default is evaluated in the entity's own context
		}
		ev := &evaluator{m: m, starting: e, visiting: []configRef{{in, key}}}
		v, err := ev.value(ctx, in, raw)
		switch {
		case errors.Is(err, errDeferred):
			e.dsl.postpone(key, raw, in)
			Logf(ctx, "config %s: %v", key, err)
		case err != nil:
			return fmt.Errorf("config %s: %w", key, err)
		default:
			e.dsl.put(key, raw, coerceResolved(e.typ, key, v))
		}
	}
	return nil
}

// dslKeys lists, sorted, the config keys whose value the entity sees holds DSL: its
// own, and those its type declares with an inherited or default value.
func (e *Entity) dslKeys() []string {
	var keys []string
	e.mu.RLock()
	for k, v := range e.config {
		if blueprints.ContainsDSL(v) {
			keys = append(keys, k)
		}
	}
	e.mu.RUnlock()
	for _, k := range e.typ.Config {
		if slices.Contains(keys, k.Name) {
			continue
		}
		if holder, raw, ok := e.rawConfig(k.Name); ok && holder != e && blueprints.ContainsDSL(raw) {
			keys = append(keys, k.Name)
		}
	}
	slices.Sort(keys)
	return keys
}

// Errors of the evaluation that callers act on.
var (
	// errDeferred: the value waits on a sensor of the entity being started, or of an
	// entity below it, which its start has not set yet.
	errDeferred = errors.New("waits for a sensor of this entity or of one below it, so it is evaluated when read")
	// errNotReady: a sensor is not ready, and the evaluation may not wait.
	errNotReady = errors.New("not ready")
)

// evaluator is the DSL's interpreter: a recursive walk over the syntax tree, in the
// context of an entity (self).
type evaluator struct {
	m *Management
	// starting is the entity whose start evaluates: waits on its sensors or those of
	// entities below it fail with errDeferred.
	starting *Entity
	// noWait makes attributeWhenReady fail with errNotReady instead of waiting.
	noWait bool
	// visiting are the config values being evaluated, against cycles of config().
	visiting []configRef
}

type configRef struct {
	entity *Entity
	key    string
}

// value evaluates every DSL expression inside raw, a config value as written.
func (ev *evaluator) value(ctx context.Context, self *Entity, raw any) (any, error) {
	switch x := raw.(type) {
	case string:
		if !blueprints.IsDSL(x) {
			return x, nil
		}
		d, err := blueprints.ParseDSL(x)
		if err != nil {
			return nil, err
		}
		return ev.eval(ctx, self, d.Expr)
	case map[string]any:
		if d, ok, err := blueprints.ParseDSLValue(x); ok {
			if err != nil {
				return nil, err
			}
			return ev.eval(ctx, self, d.Expr)
		}
		out := make(map[string]any, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			v, err := ev.value(ctx, self, x[k])
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			v, err := ev.value(ctx, self, e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return raw, nil
}

// eval evaluates a node of the syntax tree.
func (ev *evaluator) eval(ctx context.Context, self *Entity, x blueprints.Expr) (any, error) {
	switch n := x.(type) {
	case *blueprints.Lit:
		return n.Value, nil
	case *blueprints.List:
		out := make([]any, len(n.Items))
		for i, item := range n.Items {
			v, err := ev.eval(ctx, self, item)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case *blueprints.Map:
		out := make(map[string]any, len(n.Keys))
		for _, k := range n.Keys {
			v, err := ev.eval(ctx, self, n.Entries[k])
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case *blueprints.Call:
		return ev.call(ctx, self, n)
	}
	return nil, fmt.Errorf("unexpected %T in an expression", x)
}

func (ev *evaluator) call(ctx context.Context, self *Entity, c *blueprints.Call) (any, error) {
	f, ok := blueprints.LookupDSLFunc(c.Name)
	if !ok {
		return nil, fmt.Errorf("unknown function %s", c.Name)
	}
	if f.Scope {
		// An entity as a value is its id.
		target, err := ev.entity(ctx, self, c)
		if err != nil {
			return nil, err
		}
		return target.id, nil
	}
	target := self
	if c.Target != nil {
		var err error
		if target, err = ev.entity(ctx, self, c.Target); err != nil {
			return nil, err
		}
	}
	// Arguments are evaluated in the context of self, the target only answers.
	texts := func(args []blueprints.Expr) ([]string, error) {
		out := make([]string, len(args))
		for i, a := range args {
			s, err := ev.text(ctx, self, a)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	switch c.Name {
	case "config":
		key, err := ev.text(ctx, self, c.Args[0])
		if err != nil {
			return nil, err
		}
		return ev.config(ctx, target, key)
	case "attributeWhenReady":
		sensor, err := ev.text(ctx, self, c.Args[0])
		if err != nil {
			return nil, err
		}
		opts := blueprints.DefaultWaitOptions()
		if len(c.Args) == 2 {
			raw, err := ev.eval(ctx, self, c.Args[1])
			if err != nil {
				return nil, err
			}
			if opts, err = blueprints.ParseWaitOptions(raw); err != nil {
				return nil, fmt.Errorf("attributeWhenReady(%s): %w", strconv.Quote(sensor), err)
			}
		}
		return ev.attributeWhenReady(ctx, target, sensor, opts)
	case "sensor":
		// A sensor is named by its name; sensor(class, name) names its class first.
		return ev.text(ctx, self, c.Args[len(c.Args)-1])
	case "entityId":
		return target.id, nil
	case "formatString":
		pattern, err := ev.text(ctx, self, c.Args[0])
		if err != nil {
			return nil, err
		}
		args := make([]any, len(c.Args)-1)
		for i, a := range c.Args[1:] {
			if args[i], err = ev.eval(ctx, self, a); err != nil {
				return nil, err
			}
		}
		s, err := blueprints.FormatString(pattern, args)
		if err != nil {
			return nil, fmt.Errorf("formatString: %w", err)
		}
		return s, nil
	case "urlEncode":
		v, err := ev.eval(ctx, self, c.Args[0])
		if err != nil || v == nil {
			return nil, err
		}
		return blueprints.URLEncode(blueprints.Text(v)), nil
	case "regexReplacement":
		a, err := texts(c.Args)
		if err != nil {
			return nil, err
		}
		s, err := blueprints.RegexReplace(a[0], a[1], a[2])
		if err != nil {
			return nil, fmt.Errorf("regexReplacement: %w", err)
		}
		return s, nil
	case "literal", "entitySpec", "object":
		// Data, evaluated later by whoever uses it (entitySpec in the entity it makes).
		return blueprints.Quote(c.Args[0]), nil
	case "external":
		a, err := texts(c.Args)
		if err != nil {
			return nil, err
		}
		return external(ctx, a[0], a[1])
	}
	return nil, fmt.Errorf("function %s cannot be evaluated here", c.Name)
}

// text evaluates an argument that must be a string (a number is written as text).
func (ev *evaluator) text(ctx context.Context, self *Entity, x blueprints.Expr) (string, error) {
	v, err := ev.eval(ctx, self, x)
	if err != nil {
		return "", err
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return blueprints.Text(v), nil
}

// entity finds the entity a scope expression names, seen from self.
func (ev *evaluator) entity(ctx context.Context, self *Entity, x blueprints.Expr) (*Entity, error) {
	c, ok := x.(*blueprints.Call)
	if !ok {
		return nil, fmt.Errorf("%s does not name an entity", x)
	}
	if f, known := blueprints.LookupDSLFunc(c.Name); !known || !f.Scope {
		return nil, fmt.Errorf("%s does not name an entity", x)
	}
	base := self
	if c.Target != nil {
		var err error
		if base, err = ev.entity(ctx, self, c.Target); err != nil {
			return nil, err
		}
	}
	scope, id := c.Name, ""
	switch len(c.Args) {
	case 2: // component(scope, id)
		s, err := ev.text(ctx, self, c.Args[0])
		if err != nil {
			return nil, err
		}
		if scope, ok = blueprints.ComponentScope(s); !ok {
			return nil, fmt.Errorf("component(%s, ...): unknown scope", strconv.Quote(s))
		}
		if id, err = ev.text(ctx, self, c.Args[1]); err != nil {
			return nil, err
		}
	case 1:
		var err error
		if id, err = ev.text(ctx, self, c.Args[0]); err != nil {
			return nil, err
		}
	}
	return blueprints.FindInScope[*Entity](entityTree{ev.m}, base, scope, id)
}

// config is the value of key that target sees, evaluated: its own, else its nearest
// ancestor's (evaluated in that ancestor's context), else its type's default.
func (ev *evaluator) config(ctx context.Context, target *Entity, key string) (any, error) {
	if k, ok := target.typ.ConfigKey(key); ok {
		key = k.Name
	}
	holder, raw, ok := target.rawConfig(key)
	if !ok || !blueprints.ContainsDSL(raw) {
		return raw, nil // unset config is null, as in Brooklyn
	}
	if v, ok := target.dsl.lookup(key, raw); ok {
		return v, nil
	}
	in := holder
	if in == nil {
		in = target
	}
	if v, ok := in.dsl.lookup(key, raw); ok {
		return v, nil
	}
	ref := configRef{in, key}
	if slices.Contains(ev.visiting, ref) {
		var path []string
		for _, r := range ev.visiting {
			path = append(path, fmt.Sprintf("%s of %s", r.key, r.entity.Name()))
		}
		return nil, fmt.Errorf("config %s of %s refers back to itself (%s -> %s of %s)", key, in.Name(), strings.Join(path, " -> "), key, in.Name())
	}
	ev.visiting = append(ev.visiting, ref)
	defer func() { ev.visiting = ev.visiting[:len(ev.visiting)-1] }()
	v, err := ev.value(ctx, in, raw)
	if err != nil {
		return nil, err
	}
	return coerceResolved(target.typ, key, v), nil
}

// entityTree is the live entity tree as the DSL's scopes see it, groups' members
// included (member() searches them).
type entityTree struct{ m *Management }

var _ blueprints.MemberTree[*Entity] = entityTree{}

func (entityTree) Parent(e *Entity) (*Entity, bool) { return e.parent, e.parent != nil }
func (entityTree) Children(e *Entity) []*Entity     { return e.Children() }
func (entityTree) PlanID(e *Entity) string          { return e.BlueprintID() }
func (entityTree) EntityID(e *Entity) string        { return e.id }
func (entityTree) CatalogItem(e *Entity) string     { return e.CatalogItemID() }
func (entityTree) Name(e *Entity) string            { return e.String() }
func (t entityTree) Applications() []*Entity        { return t.m.Applications() }
func (entityTree) Members(e *Entity) []*Entity      { return e.Members() }

// isBelow reports whether e is a descendant of ancestor.
func isBelow(e, ancestor *Entity) bool {
	for p := e.parent; p != nil; p = p.parent {
		if p == ancestor {
			return true
		}
	}
	return false
}

// coerceResolved converts an evaluated value to the type its key declares, where that
// is plain (a DSL result is often a string, or a number read back from JSON): the
// kinds read config values of their declared types. Values that do not convert are
// left as they are.
func coerceResolved(t *Type, key string, v any) any {
	k, ok := t.ConfigKey(key)
	if !ok || v == nil {
		return v
	}
	switch k.Type {
	case "string":
		switch v.(type) {
		case string, []any, map[string]any:
			return v
		}
		return blueprints.Text(v)
	case "integer", "port":
		switch x := v.(type) {
		case float64:
			if x == float64(int(x)) {
				return int(x)
			}
		case string:
			if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
				return n
			}
		}
	case "number":
		switch x := v.(type) {
		case int:
			return float64(x)
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f
			}
		}
	case "boolean":
		if s, ok := v.(string); ok {
			if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
				return b
			}
		}
	case "stringmap":
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for mk, mv := range m {
				switch mv.(type) {
				case nil, []any, map[string]any:
					out[mk] = mv
				default:
					out[mk] = blueprints.Text(mv)
				}
			}
			return out
		}
	}
	return v
}
