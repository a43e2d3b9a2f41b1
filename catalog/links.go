package catalog

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
)

// linksKeys are the names a container's links may be written under.
var linksKeys = []string{"links", "docker.container.links"}

// checkLinks checks that the entities Clocker's links name exist in the blueprint, so
// that a misspelt link is a 400 at its line rather than a failed start. A link is an
// id (or name) of a service, written in a list (id or id:alias) or as the values of a
// map of alias to id; $brooklyn: values are checked by the DSL's checks.
func (r *resolver) checkLinks(root *entities.Spec, top []*entities.Spec) {
	var all []*entities.Spec
	for _, s := range top {
		specTree(s, func(x, _ *entities.Spec) { all = append(all, x) })
	}
	known := map[string]bool{}
	var ids []string
	for _, s := range all {
		for _, n := range []string{s.BlueprintID, s.Name} {
			if n != "" && !known[n] {
				known[n] = true
				ids = append(ids, n)
			}
		}
	}
	slices.Sort(ids)
	byRef := map[string]*entities.Spec{}
	for _, s := range all {
		for _, n := range []string{s.Name, s.BlueprintID} { // an id wins over a name
			if n != "" {
				byRef[n] = s
			}
		}
	}
	edges := map[*entities.Spec][]*entities.Spec{}
	for _, s := range all {
		v, ok := s.Config["links"]
		if !ok || v == nil {
			continue
		}
		at := r.linksValue(s)
		fail := func(format string, args ...any) {
			if at != nil {
				r.fail(at.Pos, at.Path, format, args...)
			}
		}
		var refs []string
		switch x := v.(type) {
		case string:
			refs = []string{x}
		case []any:
			for i, item := range x {
				ref, isText := item.(string)
				if !isText {
					fail("item %d must be the id of a container, not %s", i, kind(item))
					continue
				}
				ref, _, _ = strings.Cut(ref, ":")
				refs = append(refs, ref)
			}
		case map[string]any:
			for _, alias := range slices.Sorted(maps.Keys(x)) {
				ref, isText := x[alias].(string)
				if !isText {
					fail("link %s must name a container: its id, or $brooklyn:component(\"id\")", alias)
					continue
				}
				refs = append(refs, ref)
			}
		default:
			fail("links must be a list of ids or a map of alias to id, not %s", kind(v))
		}
		for _, ref := range refs {
			if isDSL(ref) {
				continue
			}
			if known[ref] {
				edges[s] = append(edges[s], byRef[ref])
				continue
			}
			msg := fmt.Sprintf("links to %q, which is no service of the blueprint", ref)
			if sug := blueprints.Suggest(ref, ids); sug != "" {
				msg += fmt.Sprintf("; did you mean %q?", sug)
			} else if len(ids) > 0 {
				msg += " (ids and names: " + strings.Join(ids, ", ") + ")"
			}
			fail("%s", msg)
		}
	}
	r.linkCycles(all, edges)
}

// linkCycles reports links that wait on each other: each container starts once those
// it links to run, so a cycle would start none of them.
func (r *resolver) linkCycles(all []*entities.Spec, edges map[*entities.Spec][]*entities.Spec) {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[*entities.Spec]int{}
	var path []*entities.Spec
	var visit func(s *entities.Spec) bool
	visit = func(s *entities.Spec) bool {
		state[s] = onPath
		path = append(path, s)
		for _, t := range edges[s] {
			switch state[t] {
			case onPath:
				i := slices.Index(path, t)
				var names []string
				for _, x := range append(slices.Clone(path[i:]), t) {
					names = append(names, cmp.Or(x.BlueprintID, x.Name))
				}
				if at := r.linksValue(s); at != nil {
					r.fail(at.Pos, at.Path, "links wait on each other: %s; none of them would start", strings.Join(names, " -> "))
				}
				return true
			case unseen:
				if visit(t) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		state[s] = done
		return false
	}
	for _, s := range all {
		if state[s] == unseen && visit(s) {
			return // one cycle is enough to say
		}
	}
}

// linksValue is where the links of spec are written, or nil when unknown.
func (r *resolver) linksValue(spec *entities.Spec) *blueprints.Value {
	s := r.sources[spec]
	if s == nil {
		return nil
	}
	for _, k := range linksKeys {
		if v := s.Flags[k]; v != nil {
			return v
		}
		if v := s.Config[k]; v != nil {
			return v
		}
	}
	return nil
}
