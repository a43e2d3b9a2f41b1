package catalog

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
)

// Policies and enrichers: the entries of brooklyn.policies and brooklyn.enrichers, on a
// service or at the root of a blueprint, become the Spec's Adjuncts. Each entry is a map
// with a type (a registered policy or enricher kind, by its Java name or a short name,
// or a catalog item of itemType policy or enricher), an optional name, and its config
// under brooklyn.config; config keys the kind declares may also be written at the top
// level of the entry. Declared keys are stored under their names with values of their
// types, and the kind's Check sees the whole config, so that a bad entry is an error at
// its line before anything is deployed. $brooklyn: values are evaluated when the
// adjunct uses them; the entities they name must exist (dsl.go).

const (
	policiesKey  = "brooklyn.policies"
	enrichersKey = "brooklyn.enrichers"
)

// adjunctList is one of the blueprint keys that list adjuncts.
type adjunctList struct {
	key      string
	category entities.AdjunctCategory
	typeKeys []string // the keys that may give an entry's type: type, and Brooklyn's older ones
	item     ItemType // the catalog items that may be its types
}

// adjunctLists are in the order the adjuncts of an entity are made and started:
// enrichers first, since policies often watch the sensors they derive.
var adjunctLists = []adjunctList{
	{enrichersKey, entities.EnricherCategory, []string{"type", "enricherType", "enricher_type"}, EnricherItem},
	{policiesKey, entities.PolicyCategory, []string{"type", "policyType", "policy_type"}, PolicyItem},
}

func adjunctListOf(t ItemType) (adjunctList, bool) {
	for _, l := range adjunctLists {
		if l.item == t {
			return l, true
		}
	}
	return adjunctList{}, false
}

// adjunctEntry is one entry of a list, or the definition of a catalog item, as written.
type adjunctEntry struct {
	typ    string
	typeAt *blueprints.Value
	name   string
	id     string
	config []adjunctValue // brooklyn.config's, then those at the top level, each in key order
}

type adjunctValue struct {
	key string
	top bool // written at the top level of the entry, not under brooklyn.config
	v   *blueprints.Value
}

// adjuncts resolves the policies and enrichers of a service (or of the root: in) into
// spec.Adjuncts.
func (r *resolver) adjuncts(spec *entities.Spec, in map[string]*blueprints.Value) {
	for _, l := range adjunctLists {
		v := in[l.key]
		if v == nil {
			continue
		}
		items, _ := v.Raw.([]any) // anything else but null is the parser's error
		for i := range items {
			item, ok := v.Index(i)
			if !ok {
				continue
			}
			a, values, ok := r.adjunct(item, l)
			if !ok {
				continue
			}
			spec.Adjuncts = append(spec.Adjuncts, a)
			if len(values) > 0 {
				if r.adjunctValues == nil {
					r.adjunctValues = map[*entities.Spec][]*blueprints.Value{}
				}
				r.adjunctValues[spec] = append(r.adjunctValues[spec], values...)
			}
		}
	}
}

// moveAdjunctValues hands what the DSL checks know of the adjuncts of from (the wrapper
// application) over to to (the single service that takes its place).
func (r *resolver) moveAdjunctValues(from, to *entities.Spec) {
	if vs := r.adjunctValues[from]; len(vs) > 0 {
		r.adjunctValues[to] = append(vs, r.adjunctValues[to]...)
		delete(r.adjunctValues, from)
	}
}

// adjunct resolves one entry of l. It returns the values of its config that hold
// $brooklyn: DSL, for the DSL's checks.
func (r *resolver) adjunct(item *blueprints.Value, l adjunctList) (entities.AdjunctSpec, []*blueprints.Value, bool) {
	e, ok := r.adjunctEntry(item, l)
	if !ok {
		return entities.AdjunctSpec{}, nil, false
	}
	k, items, ok := r.adjunctKind(e, l)
	if !ok {
		return entities.AdjunctSpec{}, nil, false
	}
	short := shortAdjunctName(k)
	cfg := map[string]any{}
	where := map[string]*blueprints.Value{}
	bad := false
	// The items' config first, the innermost first, then the entry's, each on top.
	layers := append(slices.Clone(items), e)
	slices.Reverse(layers[:len(layers)-1])
	for _, layer := range layers {
		seen := map[string]*blueprints.Value{}
		for _, c := range layer.config {
			key := c.key
			decl, declared := k.ConfigKey(key)
			if declared {
				key = decl.Name
			}
			if c.top && !declared {
				r.fail(c.v.Pos, c.v.Path, "%q is not a config key of %s%s; put it under brooklyn.config to pass it anyway", c.key, short, adjunctKeyHint(k, c.key))
				bad = true
				continue
			}
			if first, dup := seen[key]; dup {
				r.fail(c.v.Pos, c.v.Path, "%q is also given at %s (%s), as %q", c.key, first.Pos, first.Path, key)
				bad = true
				continue
			}
			seen[key] = c.v
			val := c.v.Raw
			if declared {
				var err error
				if val, err = Coerce(decl.Type, c.v.Raw); errors.Is(err, errUnknownType) {
					val = c.v.Raw // a type of the kind's own: its Check says
				} else if err != nil {
					r.fail(c.v.Pos, c.v.Path, "%s: %s: %s", short, key, err)
					bad = true
					continue
				}
			}
			cfg[key], where[key] = val, c.v
		}
	}
	// $brooklyn: values are evaluated when the adjunct uses them; their syntax now.
	var dsl []*blueprints.Value
	for _, key := range slices.Sorted(maps.Keys(where)) {
		v := where[key]
		if !blueprints.ContainsDSL(v.Raw) {
			continue
		}
		_, errs := blueprints.FindDSL(nil, v)
		r.errs = append(r.errs, errs...)
		bad = bad || len(errs) > 0
		dsl = append(dsl, v)
	}
	if bad {
		return entities.AdjunctSpec{}, nil, false
	}
	if k.Check != nil {
		if err := k.Check(maps.Clone(cfg)); err != nil {
			pos, path := item.Pos, item.Path
			var ke *entities.KeyError
			if errors.As(err, &ke) && ke.Key != "" {
				key := ke.Key
				if decl, ok := k.ConfigKey(key); ok {
					key = decl.Name
				}
				if at := where[key]; at != nil {
					pos, path = at.Pos, at.Path
				}
			}
			r.fail(pos, path, "%s: %v", short, err)
			return entities.AdjunctSpec{}, nil, false
		}
	}
	a := entities.AdjunctSpec{Type: k.Name, Name: e.name}
	if a.Name == "" {
		// An id names the adjunct too (REST finds adjuncts by id or name), else the
		// catalog item's name.
		a.Name = e.id
		for _, it := range items {
			a.Name = cmp.Or(a.Name, it.name)
		}
	}
	if len(cfg) > 0 {
		a.Config = cfg
	}
	return a, dsl, true
}

// adjunctEntry reads an entry of l (or a catalog item's definition) as written.
func (r *resolver) adjunctEntry(item *blueprints.Value, l adjunctList) (*adjunctEntry, bool) {
	noun := string(l.category)
	m, isMap := item.Raw.(map[string]any)
	if !isMap {
		r.fail(item.Pos, item.Path, "%s is a map with a type and its config, not %s", article(noun), kind(item.Raw))
		return nil, false
	}
	e := &adjunctEntry{}
	ok := true
	var typeKey string
	for _, key := range sortedKeys(m) {
		at, found := item.At(key)
		if !found {
			at = &blueprints.Value{Pos: item.Pos, Path: blueprints.JoinPath(item.Path, key), Raw: m[key]}
		}
		switch {
		case slices.Contains(l.typeKeys, key):
			if typeKey != "" {
				r.fail(at.Pos, at.Path, "both %q and %q give the type; use one", typeKey, key)
				ok = false
				continue
			}
			typeKey, e.typeAt = key, at
			s, isText := at.Raw.(string)
			if !isText || strings.TrimSpace(s) == "" {
				r.fail(at.Pos, at.Path, "must be a string naming the %s type, not %s", noun, describeValue(at.Raw))
				ok = false
				continue
			}
			e.typ = s
		case key == "name" || key == "id":
			if at.Raw == nil {
				continue
			}
			s, isText := scalar(at.Raw)
			if !isText {
				r.fail(at.Pos, at.Path, "must be a string, not %s", kind(at.Raw))
				ok = false
				continue
			}
			if key == "name" {
				e.name = s
			} else {
				e.id = s
			}
		case key == "brooklyn.config":
			inner, isMap := at.Raw.(map[string]any)
			if at.Raw != nil && !isMap {
				r.fail(at.Pos, at.Path, "must be a map of config keys to values, not %s", kind(at.Raw))
				ok = false
				continue
			}
			for _, ik := range sortedKeys(inner) {
				iv, found := at.At(ik)
				if !found {
					iv = &blueprints.Value{Pos: at.Pos, Path: blueprints.JoinPath(at.Path, ik), Raw: inner[ik]}
				}
				e.config = append(e.config, adjunctValue{key: ik, v: iv})
			}
		default:
			e.config = append(e.config, adjunctValue{key: key, top: true, v: at})
		}
	}
	if ok && typeKey == "" {
		msg := fmt.Sprintf("%s needs a type", article(noun))
		if ks := entities.AdjunctKinds(l.category); len(ks) > 0 {
			msg += fmt.Sprintf(", such as %s", shortAdjunctName(ks[0]))
		}
		r.fail(item.Pos, item.Path, "%s", msg)
		return nil, false
	}
	return e, ok
}

// adjunctKind finds the kind of an entry's type: through the catalog items it names
// (returned outermost first, as entries), else a registered kind of l's category.
func (r *resolver) adjunctKind(e *adjunctEntry, l adjunctList) (*entities.AdjunctKind, []*adjunctEntry, bool) {
	var items []*adjunctEntry
	name, at := e.typ, e.typeAt
	v := r.view
	if v != nil {
		depth := len(v.stack)
		defer func() { v.stack = v.stack[:depth] }()
	}
	for {
		it, err := r.adjunctItem(name)
		if err != nil {
			r.fail(at.Pos, at.Path, "%v", err)
			return nil, nil, false
		}
		if it == nil {
			break
		}
		switch other, isAdjunct := adjunctListOf(it.ItemType); {
		case it.ItemType == l.item:
		case isAdjunct:
			r.fail(at.Pos, at.Path, "catalog item %s is %s item, not %s: put it under %s", it.ID(), article(string(it.ItemType)), article(string(l.category)), other.key)
			return nil, nil, false
		default:
			r.fail(at.Pos, at.Path, "catalog item %s is %s item, not %s: it cannot be the type of an entry of %s", it.ID(), article(string(it.ItemType)), article(string(l.category)), l.key)
			return nil, nil, false
		}
		if it.Disabled {
			r.fail(at.Pos, at.Path, "catalog item %s is disabled", it.ID())
			return nil, nil, false
		}
		if len(v.stack) >= maxItemDepth {
			r.fail(at.Pos, at.Path, "catalog items build on each other deeper than %d: %s", maxItemDepth, v.chain())
			return nil, nil, false
		}
		def, err := v.adjunctDefinition(it, l, at)
		if err != nil {
			r.fail(at.Pos, at.Path, "catalog item %s: %v", it.ID(), err)
			return nil, nil, false
		}
		ie, ok := r.adjunctEntry(def, l)
		if !ok {
			return nil, nil, false
		}
		ie.name = cmp.Or(ie.name, it.Name)
		items = append(items, ie)
		v.stack = append(v.stack, it)
		name, at = ie.typ, ie.typeAt
	}
	k, err := entities.LookupAdjunct(name)
	if err != nil {
		if !r.unknownAdjunctsOK {
			r.fail(at.Pos, at.Path, "%s", r.unknownAdjunct(name, l))
		}
		return nil, nil, false
	}
	if k.Category != l.category {
		other := adjunctLists[0]
		if other.category == l.category {
			other = adjunctLists[1]
		}
		r.fail(at.Pos, at.Path, "%s is %s, not %s: put it under %s", name, article(string(k.Category)), article(string(l.category)), other.key)
		return nil, nil, false
	}
	return k, items, true
}

// adjunctItem is the catalog item a type names, nil when it names none.
func (r *resolver) adjunctItem(name string) (*Item, error) {
	if r.view == nil || r.view.snap == nil {
		return nil, nil
	}
	it, err := r.view.lookup(name)
	if it != nil && it.BuiltIn {
		return it, nil // an entity type: its item type says what is wrong
	}
	return it, err
}

// adjunctDefinition reads the definition of a policy or enricher item, for its use at
// `at`: unless the item is the one being checked, every position in it is at's, and
// key paths tell where in the item a problem is (....type(my-policy:1.0).brooklyn.config.x).
func (v *view) adjunctDefinition(it *Item, l adjunctList, at *blueprints.Value) (*blueprints.Value, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(it.Plan), &doc); err != nil || len(doc.Content) != 1 {
		return nil, fmt.Errorf("its plan cannot be read: %v", err)
	}
	list := mapEntry(doc.Content[0], l.key)
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) != 1 {
		return nil, fmt.Errorf("its plan is not one entry of %s", l.key)
	}
	def := list.Content[0]
	path := blueprints.IndexPath(l.key, 0)
	if it != v.self {
		setPositions(def, at.Pos, map[*yaml.Node]bool{})
		path = at.Path + "(" + it.ID() + ")"
	}
	return blueprints.NodeValue(def, path)
}

// unknownAdjunct says that name is no type of l, with the closest known one.
func (r *resolver) unknownAdjunct(name string, l adjunctList) string {
	var names, short []string
	for _, k := range entities.AdjunctKinds(l.category) {
		names = append(names, k.Name)
		names = append(names, k.Aliases...)
		short = append(short, shortAdjunctName(k))
	}
	if r.view != nil && r.view.snap != nil {
		for id, vs := range r.view.snap.items {
			if len(vs) > 0 && vs[0].ItemType == l.item {
				names = append(names, id)
				short = append(short, id)
			}
		}
	}
	msg := fmt.Sprintf("unknown %s type %q", l.category, name)
	if _, err := entities.LookupType(name); err == nil {
		msg = fmt.Sprintf("%s is an entity type, not %s", name, article(string(l.category)))
	}
	if s := blueprints.Suggest(strings.TrimPrefix(name, "java:"), names); s != "" {
		return msg + fmt.Sprintf("; did you mean %q?", s)
	}
	if len(short) == 0 {
		return msg + fmt.Sprintf(": this server has no %s types", l.category)
	}
	slices.Sort(short)
	return msg + " (known: " + strings.Join(slices.Compact(short), ", ") + ")"
}

// article puts "a" or "an" before a noun.
func article(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

// shortAdjunctName is the name a kind goes by in messages: its first alias, else the
// last part of its Java name.
func shortAdjunctName(k *entities.AdjunctKind) string {
	if len(k.Aliases) > 0 {
		return k.Aliases[0]
	}
	return k.Name[strings.LastIndex(k.Name, ".")+1:]
}

func adjunctKeyHint(k *entities.AdjunctKind, key string) string {
	var names []string
	for _, c := range k.Config {
		names = append(names, c.Name)
		names = append(names, c.Aliases...)
	}
	if best := blueprints.Suggest(key, names); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// checkAdjunct checks a policy or enricher item being added, against the catalog and
// the items of its BOM so far (overlay, which ends with it), and returns the problems at
// their place in the BOM. A type this server does not have is accepted: it is checked
// when the item is used.
func (s *snapshot) checkAdjunct(bi *bomItem, overlay []*bomItem) blueprints.Errors {
	l, ok := adjunctListOf(bi.item.ItemType)
	if !ok {
		return nil
	}
	r := &resolver{view: &view{snap: s.with(overlay), partial: true, self: bi.item}, unknownAdjunctsOK: true}
	var n yaml.Node
	if err := n.Encode(map[string]any{"type": bi.item.ID()}); err != nil {
		return blueprints.Errors{blueprints.Errorf(bi.pos, bi.path, "%v", err)}
	}
	use, err := blueprints.NodeValue(&n, "")
	if err != nil {
		return bi.mapErrors(err)
	}
	r.adjunct(use, l)
	if len(r.errs) == 0 {
		return nil
	}
	return bi.mapErrors(r.errs)
}

// Adjunct resolves a policy or enricher given as data, as REST's add-policy gives it, the
// way an entry of brooklyn.policies (category policy) or brooklyn.enrichers is: entry
// has a type (a registered kind or a catalog item of that category), and optionally a
// name and brooklyn.config (declared keys may also be at its top level). Its config is
// coerced to the declared types and checked by the kind. The error wraps
// blueprints.ErrInvalid and names the keys at fault.
func (c *Catalog) Adjunct(category entities.AdjunctCategory, entry map[string]any) (entities.AdjunctSpec, error) {
	i := slices.IndexFunc(adjunctLists, func(l adjunctList) bool { return l.category == category })
	if i < 0 {
		return entities.AdjunctSpec{}, fmt.Errorf("unknown adjunct category %q: %w", category, blueprints.ErrInvalid)
	}
	var n yaml.Node
	if err := n.Encode(entry); err != nil {
		return entities.AdjunctSpec{}, fmt.Errorf("%v: %w", err, blueprints.ErrInvalid)
	}
	v, err := blueprints.NodeValue(&n, "")
	if err != nil {
		return entities.AdjunctSpec{}, err
	}
	r := &resolver{view: &view{snap: c.snapshot()}}
	a, _, ok := r.adjunct(v, adjunctLists[i])
	if ok && len(r.errs) == 0 {
		return a, nil
	}
	// Positions mean nothing here: the key paths say where.
	var msgs []string
	for _, e := range r.errs {
		if e.Path != "" {
			msgs = append(msgs, e.Path+": "+e.Msg)
		} else {
			msgs = append(msgs, e.Msg)
		}
	}
	return entities.AdjunctSpec{}, &invalidError{strings.Join(msgs, "; ")}
}

// invalidError is a message that wraps blueprints.ErrInvalid without saying so.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return blueprints.ErrInvalid }
