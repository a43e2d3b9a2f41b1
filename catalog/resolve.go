package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/locations"
)

// Resolve turns a plan into the spec of the application to deploy. Every problem found
// is reported, each with its position; the error wraps blueprints.ErrInvalid.
func Resolve(plan *blueprints.Plan, locs *locations.Registry) (*entities.Spec, error) {
	return resolveWith(plan, locs, nil)
}

// resolveWith is Resolve seeing the catalog through view (nil: built-in types only).
func resolveWith(plan *blueprints.Plan, locs *locations.Registry, view *view) (*entities.Spec, error) {
	r := &resolver{locs: locs, view: view}
	spec := r.resolve(plan)
	r.checkDSL(plan, spec) // dsl.go
	if len(r.errs) > 0 {
		slices.SortStableFunc(r.errs, func(a, b *blueprints.Error) int {
			if a.Pos.Line != b.Pos.Line {
				return a.Pos.Line - b.Pos.Line
			}
			return a.Pos.Column - b.Pos.Column
		})
		return nil, r.errs
	}
	return spec, nil
}

type resolver struct {
	locs *locations.Registry
	errs blueprints.Errors
	// paramChecks are the parameters whose constraints are checked once the tree is
	// resolved (parameters.go).
	paramChecks []paramCheck
	// view is the catalog's items (items_expand.go); nil for built-in types only.
	view *view
	// sources are the services the specs come from, for the DSL's checks (dsl.go).
	sources map[*entities.Spec]*blueprints.Service
	// adjunctValues are the config values of the policies and enrichers of each spec
	// that hold $brooklyn: DSL, for the DSL's checks (adjuncts.go).
	adjunctValues map[*entities.Spec][]*blueprints.Value
	// specs are the values of config keys of type "spec" read as services (specs.go).
	specs map[*blueprints.Value]*blueprints.Service
	// unknownAdjunctsOK accepts a policy or enricher of a type this server does not have
	// (checking a catalog item of one: the kinds are known when it is used).
	unknownAdjunctsOK bool
}

func (r *resolver) fail(pos blueprints.Pos, path, format string, args ...any) {
	r.errs = append(r.errs, blueprints.Errorf(pos, path, format, args...))
}

func (r *resolver) resolve(plan *blueprints.Plan) *entities.Spec {
	app := &entities.Spec{
		Type:        stock.Application,
		Name:        plan.Name,
		BlueprintID: plan.ID,
		Config:      rootConfig(plan.Config),
		Tags:        raws(plan.Tags),
	}
	r.rootParameters(plan, app)
	r.adjuncts(app, plan.Adjuncts) // adjuncts.go
	app.Locations = r.locations(plan.Locations)
	// Check every service before unwrapping, so that every error is reported.
	var services []*entities.Spec
	var types []*entities.Type
	for _, s := range plan.Services {
		spec, t := r.service(s, app.Locations)
		services, types = append(services, spec), append(types, t)
	}
	var children []*entities.Spec
	for _, s := range plan.Children {
		spec, _ := r.service(s, app.Locations)
		children = append(children, spec)
	}
	top := append(slices.Clone(services), children...)
	r.checkParameters(app, top) // parameters.go
	r.checkLinks(app, top)      // links.go
	if len(r.errs) > 0 {
		return nil
	}
	// Brooklyn's wrapper rule: a lone service that is itself an application becomes the
	// application, taking the root's name, locations and config where it has none.
	if len(services) == 1 && len(children) == 0 && types[0] != nil && types[0].Application {
		only := services[0]
		if plan.Name != "" {
			only.Name = plan.Name
		}
		if len(only.Locations) == 0 {
			only.Locations = app.Locations
		}
		for k, v := range app.Config {
			if _, own := only.Config[k]; !own {
				if only.Config == nil {
					only.Config = map[string]any{}
				}
				only.Config[k] = v
			}
		}
		only.Tags = append(app.Tags, only.Tags...)
		only.Parameters = append(app.Parameters, only.Parameters...)
		only.Initializers = append(app.Initializers, only.Initializers...)
		only.Adjuncts = append(app.Adjuncts, only.Adjuncts...)
		r.moveAdjunctValues(app, only)
		if only.BlueprintID == "" {
			only.BlueprintID = plan.ID
		}
		return only
	}
	if app.Config == nil {
		app.Config = map[string]any{}
	}
	app.Config[stock.WrapperAppKey] = true
	app.Children = append(services, children...)
	if app.Name == "" {
		app.Name = defaultAppName(services)
	}
	return app
}

func defaultAppName(services []*entities.Spec) string {
	if len(services) == 1 && services[0].Name != "" {
		return services[0].Name
	}
	return "Application"
}

// service resolves one service and its children. inherited are the locations it gets
// from above, for the check that its kind can run there.
func (r *resolver) service(s *blueprints.Service, inherited []string) (*entities.Spec, *entities.Type) {
	if spec, t, ok := r.fromCatalog(s, inherited); ok {
		return spec, t
	}
	t, prefixed, err := entities.ResolveType(s.Type)
	if err != nil {
		r.fail(s.TypePos, s.Path+".type", "unknown type %q%s", s.Type, typeHint(s.Type))
	}
	spec := &entities.Spec{Name: s.Name, BlueprintID: s.ID, Tags: raws(s.Tags)}
	if t != nil {
		spec.Type = t.Name
	}
	spec.Parameters = r.parameters(s.Adjuncts[parametersKey], spec)
	spec.Initializers = r.initializers(s.Adjuncts[initializersKey])
	r.adjuncts(spec, s.Adjuncts) // adjuncts.go
	var specValues map[string]*blueprints.Value
	spec.Config, specValues = r.config(entities.WithParameters(t, spec.Parameters), s, prefixed)
	spec.Locations = r.locations(s.Locations)
	effective := spec.Locations
	if len(effective) == 0 {
		effective = inherited
	}
	r.entitySpecs(spec, specValues, effective) // specs.go
	if t != nil && t.Location != nil && !r.view.isPartial() {
		r.checkLocation(t, s, effective)
	}
	for _, c := range s.Children {
		child, _ := r.service(c, effective)
		spec.Children = append(spec.Children, child)
	}
	if t != nil && spec.Name == "" {
		spec.Name = defaultName(t, spec)
	}
	r.source(spec, s)
	return spec, t
}

func defaultName(t *entities.Type, spec *entities.Spec) string {
	if t.PrefixKey != "" {
		if v, ok := spec.Config[t.PrefixKey].(string); ok && v != "" {
			return v
		}
	}
	if len(t.Aliases) > 0 {
		return t.Aliases[0]
	}
	return t.Name
}

func (r *resolver) checkLocation(t *entities.Type, s *blueprints.Service, locs []string) {
	if len(locs) == 0 {
		r.fail(s.Pos, s.Path, "a %s needs a location: add `location: %s` to it or to the blueprint's root", s.Type, suggestLocation(r.locs, t))
		return
	}
	for _, id := range locs {
		l, err := r.locs.Get(id)
		if err != nil {
			continue // reported where the location is written
		}
		if err := t.Location(l); err != nil {
			r.fail(s.Pos, s.Path, "cannot run in location %q: %v", id, err)
		}
	}
}

// suggestLocation names a registered location the kind can run in, for error messages.
func suggestLocation(locs *locations.Registry, t *entities.Type) string {
	for _, l := range locs.List() {
		if t.Location(l) == nil {
			return l.ID()
		}
	}
	return "<location>"
}

// config checks a service's config: brooklyn.config entries (undeclared keys are kept as
// they are), then the keys written at its top level (each must be declared by its type).
// Declared keys must have values of their type and are stored under the key's name, so
// a key set twice under two of its names is an error. The values of keys of type "spec"
// are returned as written too, by key name, to be resolved into entity specs.
func (r *resolver) config(t *entities.Type, s *blueprints.Service, prefixed map[string]any) (map[string]any, map[string]*blueprints.Value) {
	var specs map[string]*blueprints.Value
	out := make(map[string]any, len(s.Config)+len(s.Flags)+len(prefixed))
	setBy := make(map[string]string)
	for k, v := range prefixed {
		out[k] = v
		setBy[k] = "type " + s.Type
	}
	set := func(k string, v *blueprints.Value) {
		name := k
		var key *entities.ConfigKey
		if t != nil {
			key, _ = t.ConfigKey(k)
		}
		if key == nil {
			out[name] = v.Raw
			return
		}
		name = key.Name
		if by, dup := setBy[name]; dup {
			r.fail(v.Pos, v.Path, "%q is already set (by %s), as %q", k, by, name)
			return
		}
		setBy[name] = v.Path
		if key.Type == specType && v.Raw != nil {
			if specs == nil {
				specs = map[string]*blueprints.Value{}
			}
			specs[name] = v
		}
		val, err := Coerce(key.Type, v.Raw)
		if err != nil {
			r.fail(v.Pos, v.Path, "%s", err)
			return
		}
		out[name] = val
	}
	for _, k := range sortedKeys(s.Config) {
		set(k, s.Config[k])
	}
	for _, k := range sortedKeys(s.Flags) {
		v := s.Flags[k]
		if t == nil {
			continue
		}
		if _, ok := t.ConfigKey(k); !ok {
			r.fail(v.Pos, v.Path, "%q is not a config key of %s%s; put it under brooklyn.config to pass it anyway", k, s.Type, keyHint(t, k))
			continue
		}
		set(k, v)
	}
	if len(out) == 0 {
		return nil, specs
	}
	return out, specs
}

// rootConfig is the application's brooklyn.config: no declared keys to check.
func rootConfig(in map[string]*blueprints.Value) map[string]any {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]any, len(in))
	for k, v := range in {
		out[k] = v.Raw
	}
	return out
}

func (r *resolver) locations(in []*blueprints.Location) []string {
	if r.view.isPartial() {
		return nil // checking a catalog item: the blueprint using it gives the locations
	}
	var out []string
	for _, l := range in {
		cfg := make(map[string]any, len(l.Config))
		for k, v := range l.Config {
			cfg[k] = v.Raw
		}
		loc, err := r.locs.Resolve(l.Spec, cfg)
		switch {
		case errors.Is(err, locations.ErrNotFound) && !strings.ContainsAny(l.Spec, ":("): // named:x etc. say more below
			r.fail(l.Pos, l.Path, "unknown location %q (this server has: %s)", l.Spec, strings.Join(locationIDs(r.locs), ", "))
		case err != nil:
			r.fail(l.Pos, l.Path, "location %q: %v", l.Spec, err)
		default:
			out = append(out, loc.ID())
		}
	}
	return out
}

func locationIDs(locs *locations.Registry) []string {
	var ids []string
	for _, l := range locs.List() {
		ids = append(ids, l.ID())
	}
	if len(ids) == 0 {
		return []string{"none"}
	}
	return ids
}

func raws(vs []*blueprints.Value) []any {
	if len(vs) == 0 {
		return nil
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v.Raw
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// typeHint suggests the closest registered type name.
func typeHint(name string) string {
	var names []string
	for _, t := range entities.Types() {
		names = append(names, t.Name)
		names = append(names, t.Aliases...)
	}
	if best := blueprints.Suggest(name, names); best != "" {
		return fmt.Sprintf(": did you mean %q?", best)
	}
	short := make([]string, 0)
	for _, t := range entities.Types() {
		if len(t.Aliases) > 0 {
			short = append(short, t.Aliases[0])
		}
	}
	slices.Sort(short)
	return fmt.Sprintf(" (known: %s, or docker:<image>)", strings.Join(short, ", "))
}

func keyHint(t *entities.Type, key string) string {
	var names []string
	for _, k := range t.Config {
		names = append(names, k.Name)
		names = append(names, k.Aliases...)
	}
	if best := blueprints.Suggest(key, names); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
