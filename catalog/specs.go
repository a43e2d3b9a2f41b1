package catalog

import (
	"errors"
	"maps"
	"slices"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
)

// Entity specs held by config keys of type "spec", such as a cluster's
// dynamiccluster.memberspec: the entities the kind makes at run time. Each is resolved
// here as a service of the blueprint would be (its type from the catalog, its config,
// children, parameters, initializers, policies and enrichers, its location), so that a
// mistake in a member is an error at its line before anything is deployed, and the kind
// finds the spec ready (Entity.EntitySpec). The config keeps the value as written.

// entitySpecKey is Brooklyn's map form of $brooklyn:entitySpec.
const entitySpecKey = blueprints.DSLPrefix + "entitySpec"

// entitySpecs resolves the values of spec's keys of type "spec" (by key name) into
// spec.EntitySpecs. The entities they make are spec's children or below: they inherit
// its locations (inherited, when it has none of its own).
func (r *resolver) entitySpecs(spec *entities.Spec, values map[string]*blueprints.Value, inherited []string) {
	for _, key := range sortedKeys(values) {
		svc := r.specService(values[key])
		if svc == nil {
			continue
		}
		child, _ := r.service(svc, inherited)
		if child == nil {
			continue
		}
		if spec.EntitySpecs == nil {
			spec.EntitySpecs = map[string]*entities.Spec{}
		}
		spec.EntitySpecs[key] = child
	}
}

// specService reads the service an entity spec value holds: Brooklyn's
// {$brooklyn:entitySpec: {type: ...}} (its argument also as a list of one),
// "$brooklyn:entitySpec({type: ...})", or the service map itself. nil when there is
// none, the problem reported.
func (r *resolver) specService(v *blueprints.Value) *blueprints.Service {
	body := r.specBody(v)
	if body == nil {
		return nil
	}
	svc, err := blueprints.ServiceAt(body)
	if r.specs == nil {
		r.specs = map[*blueprints.Value]*blueprints.Service{}
	}
	r.specs[v] = svc // its DSL is checked in the service, as written there
	if err != nil {
		r.errs = append(r.errs, asErrors(err, body)...)
		return nil
	}
	return svc
}

const specForms = "$brooklyn:entitySpec: {type: ..., brooklyn.config: {...}}, or a service map with a type"

func (r *resolver) specBody(v *blueprints.Value) *blueprints.Value {
	switch x := v.Raw.(type) {
	case map[string]any:
		var dsl []string
		for k := range x {
			if blueprints.IsDSL(k) {
				dsl = append(dsl, k)
			}
		}
		if len(dsl) == 0 {
			return v
		}
		slices.Sort(dsl)
		if dsl[0] != entitySpecKey || len(x) != 1 {
			if len(x) == 1 {
				r.fail(v.Pos, v.Path, "must be an entity spec, %s; a %s value is only known at run time", specForms, dsl[0])
			} else {
				r.fail(v.Pos, v.Path, "a map with the key %q is a $brooklyn: call and may have no other key", dsl[0])
			}
			return nil
		}
		arg, ok := v.At(entitySpecKey)
		if !ok {
			arg = &blueprints.Value{Pos: v.Pos, Path: blueprints.JoinPath(v.Path, entitySpecKey), Raw: x[entitySpecKey]}
		}
		if l, isList := arg.Raw.([]any); isList {
			if len(l) != 1 {
				r.fail(arg.Pos, arg.Path, "$brooklyn:entitySpec takes one argument, the spec, not %d", len(l))
				return nil
			}
			if first, ok := arg.Index(0); ok {
				return first
			}
			return &blueprints.Value{Pos: arg.Pos, Path: blueprints.IndexPath(arg.Path, 0), Raw: l[0]}
		}
		return arg
	case string:
		if !blueprints.IsDSL(x) {
			r.fail(v.Pos, v.Path, "must be an entity spec, %s; not a string", specForms)
			return nil
		}
		d, err := blueprints.ParseDSL(x)
		if err != nil {
			return nil // reported with the other $brooklyn: values (dsl.go)
		}
		if c, ok := d.Expr.(*blueprints.Call); ok && c.Name == "entitySpec" && c.Target == nil && len(c.Args) == 1 {
			return &blueprints.Value{Pos: v.Pos, Path: v.Path, Raw: blueprints.Quote(c.Args[0])}
		}
		r.fail(v.Pos, v.Path, "must be an entity spec, %s; %s is only known at run time", specForms, x)
		return nil
	}
	r.fail(v.Pos, v.Path, "must be an entity spec, %s; not %s", specForms, kind(v.Raw))
	return nil
}

// asErrors is err as a list of blueprint errors (at v when it is no blueprint error).
func asErrors(err error, v *blueprints.Value) blueprints.Errors {
	var many blueprints.Errors
	var one *blueprints.Error
	switch {
	case errors.As(err, &many):
		return many
	case errors.As(err, &one):
		return blueprints.Errors{one}
	}
	return blueprints.Errors{blueprints.Errorf(v.Pos, v.Path, "%v", err)}
}

// specTree calls fn for s and every spec below it: its children, and the entity specs
// its config holds, and theirs; parent is nil for s.
func specTree(s *entities.Spec, fn func(s, parent *entities.Spec)) {
	var walk func(s, parent *entities.Spec)
	walk = func(s, parent *entities.Spec) {
		if s == nil {
			return
		}
		fn(s, parent)
		for _, c := range s.Children {
			walk(c, s)
		}
		for _, k := range slices.Sorted(maps.Keys(s.EntitySpecs)) {
			walk(s.EntitySpecs[k], s)
		}
	}
	walk(s, nil)
}
