package catalog

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/stock"
)

// maxItemDepth bounds chains of items built on items.
const maxItemDepth = 32

// view is what one resolution sees of the catalog, and where it is in expanding items.
// A nil view is no catalog: built-in types only.
type view struct {
	snap *snapshot
	// partial is set while an item is checked as it is added: locations are neither
	// resolved nor required, since the blueprint using the item gives them.
	partial bool
	// self is the item being checked; its plan keeps its own positions, which map to
	// the BOM's.
	self *Item
	// stack is the items being expanded, outermost first.
	stack []*Item
	// direct marks services whose type is not to be looked up in the catalog: those
	// made up here with a built-in type.
	direct map[*blueprints.Service]bool
}

func (v *view) isPartial() bool { return v != nil && v.partial }

func (v *view) markDirect(s *blueprints.Service) {
	if v.direct == nil {
		v.direct = map[*blueprints.Service]bool{}
	}
	v.direct[s] = true
}

// expanding says whether an item of that symbolic name is being expanded: inside an
// item, its own name without a version does not refer to it.
func (v *view) expanding(name string) bool {
	return slices.ContainsFunc(v.stack, func(it *Item) bool { return it.SymbolicName == name })
}

func (v *view) chain() string {
	ids := make([]string, len(v.stack))
	for i, it := range v.stack {
		ids[i] = it.ID()
	}
	return strings.Join(ids, " -> ")
}

// lookup finds the item a `type:` names: "id" (the best version) or "id:version"
// (OSGi-equal, or "latest"). It returns nil, nil when the name is no item, to be
// resolved as a built-in type; a built-in type with this server's version
// ("basic-entity:0.1.0-SNAPSHOT") gives its BuiltIn entry. An id of the catalog with a
// version it does not have is an error listing the versions it has.
func (v *view) lookup(ref string) (*Item, error) {
	s := v.snap
	if vs := s.items[ref]; len(vs) > 0 && !v.expanding(ref) {
		return vs[0], nil
	}
	name, version, ok := strings.Cut(ref, ":")
	if !ok || name == "" || version == "" || strings.Contains(version, ":") {
		return nil, nil
	}
	vs := s.items[name]
	if len(vs) == 0 {
		if b := s.builtinItem(name); b != nil && SameVersion(version, b.Version) {
			return b, nil
		}
		return nil, nil
	}
	if strings.EqualFold(version, "latest") {
		if v.expanding(name) {
			return nil, nil
		}
		return vs[0], nil
	}
	if it := s.find(name, version); it != nil {
		if slices.Contains(v.stack, it) {
			return nil, fmt.Errorf("catalog item %s refers to itself (%s -> %s)", it.ID(), v.chain(), it.ID())
		}
		return it, nil
	}
	if _, _, err := entities.ResolveType(ref); err == nil {
		return nil, nil // a built-in name such as docker:<image>
	}
	return nil, fmt.Errorf("catalog item %s has no version %s (available: %s)", name, version, versionList(vs))
}

// fromCatalog resolves a service whose type is a catalog item: the item's definition,
// with what the service says on top (its name, id, config, locations win; its children,
// tags, parameters and initializers come after the item's). The entity records the
// item (CatalogItemID), and through it the version it was made from. ok is false when
// the type is no item.
func (r *resolver) fromCatalog(s *blueprints.Service, inherited []string) (spec *entities.Spec, t *entities.Type, ok bool) {
	v := r.view
	if v == nil || v.snap == nil || s.Type == "" || v.direct[s] {
		return nil, nil, false
	}
	it, err := v.lookup(s.Type)
	if err == nil && it == nil {
		return nil, nil, false
	}
	placeholder := &entities.Spec{Name: s.Name, BlueprintID: s.ID}
	switch {
	case err != nil:
		r.fail(s.TypePos, s.Path+".type", "%v", err)
		return placeholder, nil, true
	case it.BuiltIn:
		c := *s
		c.Type = it.SymbolicName
		v.markDirect(&c)
		spec, t := r.service(&c, inherited)
		return spec, t, true
	case !it.ItemType.IsEntity():
		r.fail(s.TypePos, s.Path+".type", "catalog item %s is a %s item, not an entity: it cannot be the type of a service", it.ID(), it.ItemType)
		return placeholder, nil, true
	case it.Disabled:
		r.fail(s.TypePos, s.Path+".type", "catalog item %s is disabled", it.ID())
		return placeholder, nil, true
	case len(v.stack) >= maxItemDepth:
		r.fail(s.TypePos, s.Path+".type", "catalog items build on each other deeper than %d: %s", maxItemDepth, v.chain())
		return placeholder, nil, true
	}
	body, err := v.body(it, s)
	if err != nil {
		r.fail(s.TypePos, s.Path+".type", "catalog item %s: %v", it.ID(), err)
		return placeholder, nil, true
	}
	merged := v.merge(body, s, it)
	v.stack = append(v.stack, it)
	spec, t = r.service(merged, inherited)
	v.stack = v.stack[:len(v.stack)-1]
	if spec != nil {
		spec.CatalogItemID = it.ID()
	}
	return spec, t, true
}

// body reads an item's plan into the service it defines: the plan's one service, or an
// application of its services when there are several or the plan says more than its
// services. Unless the item is the one being checked, every position in it becomes
// that of the type of the service using it (s), and key paths tell where in the item a
// problem is: services[0].type(my-item:1.0).brooklyn.config.port.
func (v *view) body(it *Item, s *blueprints.Service) (*blueprints.Service, error) {
	plan, err := blueprints.Parse([]byte(it.Plan))
	if err != nil {
		return nil, err
	}
	var body *blueprints.Service
	strip := ""
	if len(plan.Services) == 1 && len(plan.Children) == 0 && plan.ID == "" && len(plan.Locations) == 0 &&
		len(plan.Config) == 0 && len(plan.Tags) == 0 && len(plan.Adjuncts) == 0 {
		body = plan.Services[0]
		strip = body.Path
		body.Name = cmp.Or(body.Name, plan.Name)
		body.Description = cmp.Or(body.Description, plan.Description)
	} else {
		body = &blueprints.Service{
			Pos: plan.Pos, TypePos: plan.Pos, Type: stock.Application,
			ID: plan.ID, Name: plan.Name, Description: plan.Description, Locations: plan.Locations,
			Config: plan.Config, Flags: map[string]*blueprints.Value{}, Tags: plan.Tags, Adjuncts: plan.Adjuncts,
			Children: slices.Concat(plan.Services, plan.Children),
		}
		v.markDirect(body)
	}
	if it != v.self {
		relocate(body, s.TypePos, s.Path+".type("+it.ID()+")", strip)
	}
	return body, nil
}

// relocate puts every position of svc at `at` and makes its key paths start with base
// (the prefix strip of a path standing for svc itself).
func relocate(svc *blueprints.Service, at blueprints.Pos, base, strip string) {
	path := func(p string) string {
		switch {
		case strip != "":
			return base + strings.TrimPrefix(p, strip)
		case p == "":
			return base
		}
		return base + "." + p
	}
	value := func(v *blueprints.Value) {
		if v == nil {
			return
		}
		v.Pos, v.Path = at, path(v.Path)
		setPositions(v.Node, at, map[*yaml.Node]bool{})
	}
	var service func(*blueprints.Service)
	service = func(s *blueprints.Service) {
		s.Pos, s.TypePos, s.Path = at, at, path(s.Path)
		for _, l := range s.Locations {
			l.Pos, l.Path = at, path(l.Path)
			for _, c := range l.Config {
				value(c)
			}
		}
		for _, m := range []map[string]*blueprints.Value{s.Config, s.Flags, s.Adjuncts} {
			for _, c := range m {
				value(c)
			}
		}
		for _, c := range s.Tags {
			value(c)
		}
		for _, c := range s.Children {
			service(c)
		}
	}
	service(svc)
}

func setPositions(n *yaml.Node, at blueprints.Pos, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	n.Line, n.Column = at.Line, at.Column
	for _, c := range n.Content {
		setPositions(c, at, seen)
	}
	setPositions(n.Alias, at, seen)
}

// merge puts what a service using an item (s) says on top of the item's definition
// (body). Config set by s replaces the item's value of the same key, under whichever of
// the key's names each uses.
func (v *view) merge(body, s *blueprints.Service, it *Item) *blueprints.Service {
	// The path is the item's, so that problems with its type say which item: the
	// service's own config and children keep their paths.
	m := &blueprints.Service{
		Pos: s.Pos, Path: body.Path, Type: body.Type, TypePos: body.TypePos,
		ID:          cmp.Or(s.ID, body.ID),
		Name:        cmp.Or(s.Name, body.Name, it.Name),
		Description: cmp.Or(s.Description, body.Description),
		Locations:   body.Locations,
		Children:    slices.Concat(body.Children, s.Children),
		Tags:        slices.Concat(body.Tags, s.Tags),
		Adjuncts:    mergeAdjuncts(body.Adjuncts, s.Adjuncts),
	}
	if len(s.Locations) > 0 {
		m.Locations = s.Locations
	}
	bodyConfig := maps.Clone(body.Config)
	if bodyConfig == nil {
		bodyConfig = map[string]*blueprints.Value{}
	}
	kind := v.kind(m.Type)
	canonical := func(k string) string {
		if kind != nil {
			if key, ok := kind.ConfigKey(k); ok {
				return key.Name
			}
		}
		return k
	}
	over := map[string]bool{}
	for k := range s.Config {
		over[canonical(k)] = true
	}
	for k := range s.Flags {
		over[canonical(k)] = true
	}
	if v.direct[body] {
		v.markDirect(m)
	} else if ref, _ := v.lookup(body.Type); ref == nil {
		// A built-in type with config in its name (docker:<image>) whose config the
		// service sets: the type without it, so that the service's value wins.
		if t, prefixed, err := entities.ResolveType(body.Type); err == nil && len(prefixed) > 0 && over[canonical(t.PrefixKey)] {
			m.Type = t.Name
			v.markDirect(m)
			for k, val := range prefixed {
				if _, set := bodyConfig[k]; !set {
					bodyConfig[k] = &blueprints.Value{Pos: body.TypePos, Path: body.Path + ".type", Raw: val}
				}
			}
		}
	}
	keep := func(from, on map[string]*blueprints.Value) map[string]*blueprints.Value {
		out := map[string]*blueprints.Value{}
		for k, val := range from {
			if !over[canonical(k)] {
				out[k] = val
			}
		}
		maps.Copy(out, on)
		return out
	}
	m.Config = keep(bodyConfig, s.Config)
	m.Flags = keep(body.Flags, s.Flags)
	return m
}

// kind is the built-in type a type name comes to in the end, through items built on
// items; nil when unknown.
func (v *view) kind(name string) *entities.Type {
	for range maxItemDepth {
		it, err := v.lookup(name)
		if err != nil {
			return nil
		}
		if it == nil || it.BuiltIn {
			if it != nil {
				name = it.SymbolicName
			}
			t, _, err := entities.ResolveType(name)
			if err != nil {
				return nil
			}
			return t
		}
		if it.Kind != "" {
			t, _ := entities.LookupType(it.Kind)
			return t
		}
		body, err := v.body(it, &blueprints.Service{})
		if err != nil {
			return nil
		}
		name = body.Type
	}
	return nil
}

// mergeAdjuncts joins the parameters, initializers, policies and enrichers of an item
// (a) and of the service using it (b): b's come after a's, and a parameter b declares
// replaces a's of the same name.
func mergeAdjuncts(a, b map[string]*blueprints.Value) map[string]*blueprints.Value {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]*blueprints.Value{}
	}
	for k, bv := range b {
		av := out[k]
		al, aok := rawList(av)
		bl, bok := rawList(bv)
		if av == nil || !aok || !bok {
			out[k] = bv
			continue
		}
		an, bn := av.Node.Content, bv.Node.Content
		if k == "brooklyn.parameters" {
			names := map[string]bool{}
			for _, p := range bl {
				names[parameterName(p)] = true
			}
			var keptRaw []any
			var keptNodes []*yaml.Node
			for i, p := range al {
				if !names[parameterName(p)] {
					keptRaw, keptNodes = append(keptRaw, p), append(keptNodes, an[i])
				}
			}
			al, an = keptRaw, keptNodes
		}
		out[k] = &blueprints.Value{
			Pos: bv.Pos, Path: bv.Path, Raw: slices.Concat(al, bl),
			Node: &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: bv.Node.Line, Column: bv.Node.Column, Content: slices.Concat(an, bn)},
		}
	}
	return out
}

// rawList is a list value with its node, entry for entry.
func rawList(v *blueprints.Value) ([]any, bool) {
	if v == nil || v.Node == nil || v.Node.Kind != yaml.SequenceNode {
		return nil, false
	}
	l, ok := v.Raw.([]any)
	return l, ok && len(l) == len(v.Node.Content)
}

func parameterName(p any) string {
	switch x := p.(type) {
	case string:
		return x
	case map[string]any:
		if n, ok := x["name"].(string); ok {
			return n
		}
	}
	return fmt.Sprint(p)
}

// check resolves an entity or application item being added, against the catalog and the
// items of its BOM so far (overlay, which ends with it), without locations. It records
// the built-in type the item deploys as, and returns the problems at their place in the
// BOM.
func (s *snapshot) check(bi *bomItem, overlay []*bomItem) blueprints.Errors {
	spec, errs := s.with(overlay).checkItem(bi.item)
	if spec != nil {
		bi.item.Kind = spec.Type
	}
	if len(errs) == 0 {
		return nil
	}
	return bi.mapErrors(errs)
}

// kindOf is the built-in type an item deploys as, "" when it does not resolve.
func (s *snapshot) kindOf(it *Item) string {
	spec, errs := s.checkItem(it)
	if spec == nil || len(errs) > 0 {
		return ""
	}
	return spec.Type
}

// checkItem resolves an item (which s holds) as the type of a service that says
// nothing more, without locations; positions in the errors are those of its plan.
func (s *snapshot) checkItem(it *Item) (*entities.Spec, blueprints.Errors) {
	v := &view{snap: s, partial: true, self: it}
	r := &resolver{view: v}
	use := &blueprints.Service{
		Pos: blueprints.Pos{Line: 1, Column: 1}, TypePos: blueprints.Pos{Line: 1, Column: 1}, Type: it.ID(),
		Config: map[string]*blueprints.Value{}, Flags: map[string]*blueprints.Value{}, Adjuncts: map[string]*blueprints.Value{},
	}
	spec, _ := r.service(use, nil)
	if plan, err := blueprints.Parse([]byte(it.Plan)); err == nil {
		r.checkDSL(plan, spec) // dsl.go: what can be checked of the item on its own
	}
	return spec, r.errs
}
