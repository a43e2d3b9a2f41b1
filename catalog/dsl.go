package catalog

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
)

// The checks of $brooklyn: DSL values before anything is deployed: every expression
// parses and names known functions (and known external providers); the entities the
// scopes name exist; and the start order the waits imply has no cycle. An entity waits,
// at its start, for the sensors its config waits for (attributeWhenReady), and a child
// starts after its parent's own start: a cycle of these would start nothing, so it is
// an error naming the entities in it.
//
// The entities that the entity specs of config keys of type "spec" make (a cluster's
// members) are in the tree as children of the entity holding the key, so that their
// values are checked where they will be evaluated; there may be any number of them at
// run time, so their ids are never an error to name. The config of policies and
// enrichers is checked from their entity, without waits: adjuncts do not hold up a
// start.

// source records the service a spec was made from, for the positions of its values.
func (r *resolver) source(spec *entities.Spec, s *blueprints.Service) {
	if spec == nil || s == nil {
		return
	}
	if r.sources == nil {
		r.sources = map[*entities.Spec]*blueprints.Service{}
	}
	r.sources[spec] = s
}

// checkDSL adds the errors of the DSL values of plan to r.errs: those of the resolved
// tree spec when resolution succeeded, else only the syntax of the values written in
// the plan (with the other errors of the plan).
func (r *resolver) checkDSL(plan *blueprints.Plan, spec *entities.Spec) {
	if spec == nil {
		r.errs = append(r.errs, dslSyntax(plan, r.specs)...)
		return
	}
	g := newDSLGraph(plan, spec, r.sources, r.adjunctValues, r.view.isPartial())
	r.errs = append(r.errs, g.check()...)
}

// dslSyntax checks every DSL value written in the plan's config, and in the services of
// the entity specs read from it (specs), instead of the values holding those.
func dslSyntax(plan *blueprints.Plan, specs map[*blueprints.Value]*blueprints.Service) blueprints.Errors {
	var errs blueprints.Errors
	var check func(values map[string]*blueprints.Value)
	service := func(s *blueprints.Service) error {
		check(s.Config)
		check(s.Flags)
		return nil
	}
	check = func(values map[string]*blueprints.Value) {
		for _, k := range slices.Sorted(maps.Keys(values)) {
			if svc, isSpec := specs[values[k]]; isSpec {
				if svc != nil {
					_ = svc.Walk(service)
				}
				continue
			}
			found, bad := blueprints.FindDSL(plan.Source, values[k])
			errs = append(errs, bad...)
			for _, f := range found {
				if err := checkProviders(plan.Source, f); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	check(plan.Config)
	_ = plan.Walk(service)
	return errs
}

// checkProviders reports an external() call whose provider this server does not have.
func checkProviders(src []byte, f blueprints.FoundDSL) *blueprints.Error {
	var bad *blueprints.Error
	walkCalls(f.DSL.Expr, func(c *blueprints.Call) {
		if c.Name != "external" || bad != nil || len(c.Args) == 0 {
			return
		}
		p, ok := c.Args[0].(*blueprints.Lit)
		if !ok {
			return
		}
		name, _ := p.Value.(string)
		if !slices.Contains(entities.ExternalProviders(), name) {
			bad = blueprints.DSLErrorAt(src, f.Value, &blueprints.DSLError{Offset: p.Off,
				Msg: fmt.Sprintf("external: unknown provider %s (this server has: %s)", strconv.Quote(name), strings.Join(entities.ExternalProviders(), ", "))})
		}
	})
	return bad
}

// walkCalls calls fn for every call of an expression, nested ones included.
func walkCalls(x blueprints.Expr, fn func(*blueprints.Call)) {
	switch n := x.(type) {
	case *blueprints.Call:
		fn(n)
		if n.Target != nil {
			walkCalls(n.Target, fn)
		}
		for _, a := range n.Args {
			walkCalls(a, fn)
		}
	case *blueprints.List:
		for _, e := range n.Items {
			walkCalls(e, fn)
		}
	case *blueprints.Map:
		for _, k := range n.Keys {
			walkCalls(n.Entries[k], fn)
		}
	}
}

// snode is an entity to be, as the checks see it.
type snode struct {
	index    int
	spec     *entities.Spec
	typ      *entities.Type // nil when unknown
	parent   *snode
	children []*snode
	svc      *blueprints.Service // the service it comes from; nil for a wrapper application
	path     string              // key path of the service, "" for the root
	pos      blueprints.Pos
}

// dslGraph is the tree of a resolved plan and what its DSL values wait for.
type dslGraph struct {
	plan     *blueprints.Plan
	nodes    []*snode
	partial  bool            // checking a catalog item on its own: entities outside it are unknown
	runtime  map[string]bool // blueprint ids of entities made at run time (in entitySpec)
	adjuncts map[*entities.Spec][]*blueprints.Value
	errs     blueprints.Errors
	edges    [][]dslEdge // by node index
}

// fail records an error once (an inherited value is checked for every entity that sees it).
func (g *dslGraph) fail(err *blueprints.Error) {
	for _, e := range g.errs {
		if e.Error() == err.Error() {
			return
		}
	}
	g.errs = append(g.errs, err)
}

// dslEdge says that from waits for to: a sensor, at a position, or (sensor "") because
// from is a child of to.
type dslEdge struct {
	from, to *snode
	sensor   string
	pos      blueprints.Pos
	path     string
}

func newDSLGraph(plan *blueprints.Plan, spec *entities.Spec, sources map[*entities.Spec]*blueprints.Service,
	adjuncts map[*entities.Spec][]*blueprints.Value, partial bool) *dslGraph {
	g := &dslGraph{plan: plan, partial: partial, runtime: map[string]bool{}, adjuncts: adjuncts}
	var add func(spec *entities.Spec, parent *snode, runtime bool) *snode
	add = func(spec *entities.Spec, parent *snode, runtime bool) *snode {
		if runtime && spec.BlueprintID != "" {
			g.runtime[spec.BlueprintID] = true
		}
		n := &snode{index: len(g.nodes), spec: spec, parent: parent, svc: sources[spec], pos: plan.Pos}
		if t, err := entities.LookupType(spec.Type); err == nil {
			n.typ = entities.WithParameters(t, spec.Parameters)
		}
		if n.svc != nil {
			n.path, n.pos = n.svc.Path, n.svc.Pos
		} else if parent != nil {
			n.path, n.pos = parent.path, parent.pos
		}
		g.nodes = append(g.nodes, n)
		for _, c := range spec.Children {
			if c != nil {
				n.children = append(n.children, add(c, n, runtime))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(spec.EntitySpecs)) {
			if c := spec.EntitySpecs[k]; c != nil {
				n.children = append(n.children, add(c, n, true))
			}
		}
		return n
	}
	add(spec, nil, false)
	g.edges = make([][]dslEdge, len(g.nodes))
	return g
}

// Tree of the DSL's scopes over the nodes.
func (g *dslGraph) Parent(n *snode) (*snode, bool) { return n.parent, n.parent != nil }
func (g *dslGraph) Children(n *snode) []*snode     { return n.children }
func (g *dslGraph) PlanID(n *snode) string         { return n.spec.BlueprintID }
func (g *dslGraph) EntityID(*snode) string         { return "" }
func (g *dslGraph) CatalogItem(n *snode) string    { return n.spec.CatalogItemID }
func (g *dslGraph) Name(n *snode) string           { return nodeName(n) }
func (g *dslGraph) Applications() []*snode         { return g.nodes[:1] }

// nodeName names a node in messages: its name, and its id when that differs; its id
// alone when its name is the one its type gives by default.
func nodeName(n *snode) string {
	name, id := n.spec.Name, n.spec.BlueprintID
	switch {
	case id == "" || name == id:
		return cmp.Or(name, n.spec.Type)
	case name == "" || defaultNamed(n):
		return id
	}
	return fmt.Sprintf("%s (id %s)", name, id)
}

// defaultNamed reports whether a node has the name its type gives by default.
func defaultNamed(n *snode) bool {
	t := n.typ
	if t == nil {
		return false
	}
	return n.spec.Name == t.Name || len(t.Aliases) > 0 && n.spec.Name == t.Aliases[0] ||
		t.PrefixKey != "" && n.spec.Name == fmt.Sprint(n.spec.Config[t.PrefixKey])
}

// occurrence is a DSL expression in a config value of a node.
type occurrence struct {
	dsl   blueprints.DSL
	value *blueprints.Value // nil when it is not written in the plan's text
	pos   blueprints.Pos
	path  string
	quiet bool // reached through another value's config(): its problems are that value's
}

// errorAt is an error about node x of the expression.
func (g *dslGraph) errorAt(o occurrence, x blueprints.Expr, format string, args ...any) *blueprints.Error {
	msg := fmt.Sprintf(format, args...)
	if o.value != nil {
		return blueprints.DSLErrorAt(g.plan.Source, o.value, &blueprints.DSLError{Offset: x.Offset(), Msg: msg})
	}
	return blueprints.Errorf(o.pos, o.path, "bad $brooklyn: expression: %s", msg)
}

// check finds the DSL of every node, reports what is wrong in it, builds the edges of
// the start order and reports a cycle.
func (g *dslGraph) check() blueprints.Errors {
	occ := make([]map[string][]occurrence, len(g.nodes))
	adj := make([][]occurrence, len(g.nodes))
	for _, n := range g.nodes {
		occ[n.index] = g.occurrences(n)
		adj[n.index] = g.adjunctOccurrences(n)
	}
	if len(g.errs) > 0 {
		return g.errs
	}
	for i, m := range occ {
		for _, os := range append(slices.Collect(maps.Values(m)), adj[i]) {
			for _, o := range os {
				walkCalls(o.dsl.Expr, func(c *blueprints.Call) {
					if c.Name == "entitySpec" && len(c.Args) == 1 {
						dslCollectIDs(blueprints.Quote(c.Args[0]), g.runtime)
					}
				})
			}
		}
	}
	for _, n := range g.nodes {
		if n.parent != nil {
			g.edges[n.index] = append(g.edges[n.index], dslEdge{from: n, to: n.parent})
		}
		g.waitsOf(n, occ)
		for _, o := range adj[n.index] {
			g.waits(n, o, o.dsl.Expr, nil) // what it names must exist; it waits for nothing
		}
	}
	if len(g.errs) > 0 || g.partial {
		return g.errs
	}
	next := make([][]int, len(g.nodes))
	for i, es := range g.edges {
		for _, e := range es {
			next[i] = append(next[i], e.to.index)
		}
	}
	if cycle := findCycle(next); cycle != nil {
		g.errs = append(g.errs, g.cycleError(cycle))
	}
	return g.errs
}

// occurrences finds the DSL of a node's own config values, by key.
func (g *dslGraph) occurrences(n *snode) map[string][]occurrence {
	out := map[string][]occurrence{}
	for _, key := range slices.Sorted(maps.Keys(n.spec.Config)) {
		raw := n.spec.Config[key]
		if _, isSpec := n.spec.EntitySpecs[key]; isSpec || !blueprints.ContainsDSL(raw) {
			continue // an entity spec is data: its values are checked in its own nodes
		}
		if v := g.value(n, key); v != nil && blueprints.ContainsDSL(v.Raw) {
			found, bad := blueprints.FindDSL(g.plan.Source, v)
			g.errs = append(g.errs, bad...)
			for _, f := range found {
				if err := checkProviders(g.plan.Source, f); err != nil {
					g.errs = append(g.errs, err)
				}
				out[key] = append(out[key], occurrence{dsl: f.DSL, value: f.Value, pos: f.Value.Pos, path: f.Value.Path})
			}
			continue
		}
		// A value that is not written as such in the plan (from a catalog item, or
		// converted): checked where its service is.
		path := strings.TrimPrefix(n.path+".brooklyn.config."+key, ".")
		dsls, err := blueprints.DSLIn(raw)
		if err != nil {
			g.errs = append(g.errs, blueprints.DSLErrorAt(nil, &blueprints.Value{Pos: n.pos, Path: path}, err))
			continue
		}
		for _, d := range dsls {
			out[key] = append(out[key], occurrence{dsl: d, pos: n.pos, path: path})
		}
	}
	return out
}

// adjunctOccurrences finds the DSL of the config of a node's policies and enrichers.
func (g *dslGraph) adjunctOccurrences(n *snode) []occurrence {
	var out []occurrence
	for _, v := range g.adjuncts[n.spec] {
		found, bad := blueprints.FindDSL(g.plan.Source, v)
		g.errs = append(g.errs, bad...)
		for _, f := range found {
			if err := checkProviders(g.plan.Source, f); err != nil {
				g.errs = append(g.errs, err)
			}
			out = append(out, occurrence{dsl: f.DSL, value: f.Value, pos: f.Value.Pos, path: f.Value.Path})
		}
	}
	return out
}

// value finds the blueprint value of a node's config key: in brooklyn.config or at the
// top level of its service, under the key's name or an alias; the root's config for
// the application.
func (g *dslGraph) value(n *snode, key string) *blueprints.Value {
	if s := n.svc; s != nil {
		for _, m := range []map[string]*blueprints.Value{s.Config, s.Flags} {
			if v, ok := m[key]; ok {
				return v
			}
		}
		if n.typ != nil {
			for _, m := range []map[string]*blueprints.Value{s.Config, s.Flags} {
				for _, k := range slices.Sorted(maps.Keys(m)) {
					if ck, ok := n.typ.ConfigKey(k); ok && ck.Name == key {
						return m[k]
					}
				}
			}
		}
	}
	if n.parent == nil {
		return g.plan.Config[key]
	}
	return nil
}

// dslHolder finds who holds key as n sees it: n, else its nearest ancestor with the key.
func dslHolder(n *snode, key string) (*snode, bool) {
	for x := n; x != nil; x = x.parent {
		if _, ok := x.spec.Config[key]; ok {
			return x, true
		}
	}
	return nil, false
}

// waitsOf adds the edges of what node n waits for when it starts: the sensors its own
// config values wait for, and those of the inherited values of the keys its kind
// declares, each evaluated where it is written. A wait on n itself is put off until
// its kind reads the value (the kind may set that sensor first); a wait on an entity
// below n, which cannot start before n, counts when n's kind reads the key at start
// (a key it declares).
func (g *dslGraph) waitsOf(n *snode, occ []map[string][]occurrence) {
	keys := slices.Sorted(maps.Keys(n.spec.Config))
	if n.typ != nil {
		for _, k := range n.typ.Config {
			if _, own := n.spec.Config[k.Name]; !own {
				keys = append(keys, k.Name)
			}
		}
	}
	declared := func(key string) bool {
		if n.typ == nil || n.typ.Start == nil {
			return false
		}
		_, ok := n.typ.ConfigKey(key)
		return ok
	}
	for _, key := range keys {
		h, ok := dslHolder(n, key)
		if !ok {
			continue
		}
		for _, o := range occ[h.index][key] {
			waits := g.waits(h, o, o.dsl.Expr, []dslConfigRef{{h, key}})
			for _, w := range waits {
				if w.target == n || (dslIsBelow(w.target, n) && !declared(key)) {
					continue
				}
				g.edges[n.index] = append(g.edges[n.index], dslEdge{from: n, to: w.target, sensor: w.sensor, pos: o.pos, path: o.path})
			}
		}
	}
}

type dslConfigRef struct {
	node *snode
	key  string
}

type dslWait struct {
	target *snode
	sensor string
}

// waits lists the sensors x waits for, evaluated in the context of node in, when the
// entities and names are known before deploy.
func (g *dslGraph) waits(in *snode, o occurrence, x blueprints.Expr, visiting []dslConfigRef) []dslWait {
	var out []dslWait
	switch c := x.(type) {
	case *blueprints.List:
		for _, e := range c.Items {
			out = append(out, g.waits(in, o, e, visiting)...)
		}
	case *blueprints.Map:
		for _, k := range c.Keys {
			out = append(out, g.waits(in, o, c.Entries[k], visiting)...)
		}
	case *blueprints.Call:
		f, _ := blueprints.LookupDSLFunc(c.Name)
		if f.Raw {
			return nil
		}
		for _, a := range c.Args {
			out = append(out, g.waits(in, o, a, visiting)...)
		}
		for t := c.Target; t != nil; {
			tc, ok := t.(*blueprints.Call)
			if !ok {
				break
			}
			for _, a := range tc.Args {
				out = append(out, g.waits(in, o, a, visiting)...)
			}
			t = tc.Target
		}
		if f.Scope {
			g.entity(in, o, c) // reports one that cannot exist
			return out
		}
		target := in
		if c.Target != nil {
			var known bool
			if target, known = g.entity(in, o, c.Target); !known {
				return out
			}
		}
		name, literal := dslLitString(c.Args)
		if !literal {
			return out
		}
		switch c.Name {
		case "attributeWhenReady":
			out = append(out, dslWait{target, name})
		case "config":
			if k, ok := dslKeyName(target, name); ok {
				name = k
			}
			h, ok := dslHolder(target, name)
			if !ok {
				return out
			}
			ref := dslConfigRef{h, name}
			if slices.Contains(visiting, ref) {
				return out // a cycle of config values; reported when evaluated
			}
			dsls, err := blueprints.DSLIn(h.spec.Config[name])
			if err != nil {
				return out
			}
			// Its own problems are reported where it is written.
			quiet := occurrence{dsl: o.dsl, pos: o.pos, path: o.path, quiet: true}
			for _, d := range dsls {
				out = append(out, g.waits(h, quiet, d.Expr, append(slices.Clip(visiting), ref))...)
			}
		}
	}
	return out
}

func dslLitString(args []blueprints.Expr) (string, bool) {
	if len(args) == 0 {
		return "", false
	}
	l, ok := args[0].(*blueprints.Lit)
	if !ok {
		return "", false
	}
	s, ok := l.Value.(string)
	return s, ok
}

func dslKeyName(n *snode, key string) (string, bool) {
	if n.typ == nil {
		return "", false
	}
	if k, ok := n.typ.ConfigKey(key); ok {
		return k.Name, true
	}
	return "", false
}

// entity finds the node a scope call names from in, when its arguments are literals.
// An entity that cannot exist is an error (unless ids made at run time may match).
func (g *dslGraph) entity(in *snode, o occurrence, x blueprints.Expr) (*snode, bool) {
	c, ok := x.(*blueprints.Call)
	if !ok {
		return nil, false
	}
	base := in
	if c.Target != nil {
		if base, ok = g.entity(in, o, c.Target); !ok {
			return nil, false
		}
	}
	scope, id := c.Name, ""
	for i, a := range c.Args {
		l, ok := a.(*blueprints.Lit)
		if !ok {
			return nil, false
		}
		s, _ := l.Value.(string)
		if i == 0 && len(c.Args) == 2 {
			if scope, ok = blueprints.ComponentScope(s); !ok {
				return nil, false
			}
			continue
		}
		id = s
	}
	n, err := blueprints.FindInScope[*snode](g, base, scope, id)
	if err != nil {
		if o.quiet || g.partial || g.runtime[id] || scope == "application" || scope == "member" && dslHasGroup(base) {
			return nil, false
		}
		if scope == "entity" || scope == "component" {
			g.fail(g.errorAt(o, c, "%v (ids in this blueprint: %s)", err, g.ids()))
		} else {
			g.fail(g.errorAt(o, c, "%v", err))
		}
		return nil, false
	}
	return n, true
}

func (g *dslGraph) ids() string {
	var ids []string
	for _, n := range g.nodes {
		if id := n.spec.BlueprintID; id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return "none"
	}
	slices.Sort(ids)
	return strings.Join(slices.Compact(ids), ", ")
}

// dslHasGroup reports whether n or an entity below it is a group, whose members (which
// member() searches) are only known at run time, and may be anywhere.
func dslHasGroup(n *snode) bool {
	if n.typ != nil && n.typ.Group {
		return true
	}
	return slices.ContainsFunc(n.children, dslHasGroup)
}

func dslIsBelow(n, ancestor *snode) bool {
	for p := n.parent; p != nil; p = p.parent {
		if p == ancestor {
			return true
		}
	}
	return false
}

// dslCollectIDs adds the ids of the entity specs in v (an entitySpec's map).
func dslCollectIDs(v any, ids map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if id, ok := x["id"].(string); ok {
			ids[id] = true
		}
		for _, e := range x {
			dslCollectIDs(e, ids)
		}
	case []any:
		for _, e := range x {
			dslCollectIDs(e, ids)
		}
	}
}

// cycleError describes a cycle of nodes (by index, each waiting for the next), at the
// first wait written in the plan.
func (g *dslGraph) cycleError(cycle []int) *blueprints.Error {
	steps := make([]dslEdge, len(cycle))
	for i, from := range cycle {
		to := cycle[(i+1)%len(cycle)]
		for _, e := range g.edges[from] {
			if e.to.index == to && (steps[i].to == nil || steps[i].sensor == "" && e.sensor != "") {
				steps[i] = e
			}
		}
	}
	// Start the story at the first wait written in the plan.
	first := -1
	for i, s := range steps {
		if s.sensor != "" && (first < 0 || dslBefore(s.pos, steps[first].pos)) {
			first = i
		}
	}
	if first < 0 {
		first = 0
	}
	steps = append(steps[first:], steps[:first]...)
	var parts []string
	for _, s := range steps {
		if s.sensor == "" {
			parts = append(parts, fmt.Sprintf("%s starts after its parent %s", nodeName(s.from), nodeName(s.to)))
		} else {
			parts = append(parts, fmt.Sprintf("%s waits for sensor %s of %s (%s)", nodeName(s.from), s.sensor, nodeName(s.to), s.path))
		}
	}
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = nodeName(s.from)
	}
	at := steps[0]
	return blueprints.Errorf(at.pos, at.path, "start-order cycle between %s: %s; none of them could start",
		strings.Join(names, ", "), strings.Join(parts, ", "))
}

func dslBefore(a, b blueprints.Pos) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
}
