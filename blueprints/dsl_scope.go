package blueprints

import (
	"errors"
	"fmt"
	"slices"
)

// ErrNoEntity is wrapped by the errors of FindInScope when no entity matches.
var ErrNoEntity = errors.New("no such entity")

// Tree is an entity tree as the DSL's scopes see it: the live entities at run time, or
// the services of a plan before anything is deployed. One implementation of the scopes
// serves both, so that what the catalog predicts is what happens.
type Tree[N comparable] interface {
	Parent(n N) (N, bool) // false for an application
	Children(n N) []N
	PlanID(n N) string      // the blueprint's id:, "" when none
	EntityID(n N) string    // the entity's own id, "" before deploy
	CatalogItem(n N) string // the catalog item n was made from, "" when none
	Name(n N) string        // for messages
	Applications() []N      // every application, for application(id); n's own among them
}

// MemberTree is a Tree whose entities may have members, as Brooklyn's groups do (a
// cluster's members, a BasicGroup's). member() searches them as well as descendants; in
// a Tree without Members, member() is descendant().
type MemberTree[N comparable] interface {
	Tree[N]
	Members(n N) []N // n's members when it is a group, in the order they joined
}

// FindInScope finds the entity a scope function names, seen from base: scope is the
// name of a scope function (self, parent, root, scopeRoot, entity, component, child,
// sibling, descendant, ancestor, member, application) and id its argument, if any.
// An id matches an entity's blueprint id first, else its entity id, and the nearest
// match wins: nearest by distance in the tree for entity(), in breadth-first order for
// descendant(), from the parent up for ancestor(). member() searches, breadth first,
// the children and members of base, and theirs in turn (Brooklyn's descendants and
// members): the members of a group among them, and what is below those members.
func FindInScope[N comparable](t Tree[N], base N, scope, id string) (N, error) {
	var zero N
	switch scope {
	case "self":
		return base, nil
	case "parent":
		if p, ok := t.Parent(base); ok {
			return p, nil
		}
		return zero, fmt.Errorf("parent(): %s is an application and has no parent: %w", t.Name(base), ErrNoEntity)
	case "root":
		return rootOf(t, base), nil
	case "scopeRoot":
		return scopeRoot(t, base), nil
	}
	var candidates []N
	switch scope {
	case "entity", "component":
		candidates = byDistance(t, base)
	case "child":
		candidates = t.Children(base)
	case "sibling":
		if p, ok := t.Parent(base); ok {
			for _, c := range t.Children(p) {
				if c != base {
					candidates = append(candidates, c)
				}
			}
		}
	case "descendant":
		candidates = breadthFirst(t, base)[1:]
	case "member":
		candidates = descendantsAndMembers(t, base)
	case "ancestor":
		for p, ok := t.Parent(base); ok; p, ok = t.Parent(p) {
			candidates = append(candidates, p)
		}
	case "application":
		candidates = byDistance(t, base)
		own := rootOf(t, base)
		for _, app := range t.Applications() {
			if app != own {
				candidates = append(candidates, breadthFirst(t, app)...)
			}
		}
	default:
		return zero, fmt.Errorf("unknown scope %q", scope)
	}
	if n, ok := match(t, candidates, id); ok {
		return n, nil
	}
	where := ""
	switch scope {
	case "entity", "component":
		where = " in application " + t.Name(rootOf(t, base))
	case "application":
		where = " in any application"
	default:
		where = fmt.Sprintf(" among the %s of %s", scopeNouns[scope], t.Name(base))
	}
	return zero, fmt.Errorf("%s(%s): no entity with id %s%s: %w", scope, quote(id), quote(id), where, ErrNoEntity)
}

var scopeNouns = map[string]string{
	"child": "children", "sibling": "siblings", "descendant": "descendants",
	"member": "descendants and members", "ancestor": "ancestors",
}

// match returns the first candidate whose blueprint id is id, else whose entity id is.
func match[N comparable](t Tree[N], candidates []N, id string) (N, bool) {
	for _, c := range candidates {
		if t.PlanID(c) == id {
			return c, true
		}
	}
	for _, c := range candidates {
		if e := t.EntityID(c); e != "" && e == id {
			return c, true
		}
	}
	var zero N
	return zero, false
}

func rootOf[N comparable](t Tree[N], n N) N {
	for p, ok := t.Parent(n); ok; p, ok = t.Parent(n) {
		n = p
	}
	return n
}

// scopeRoot is the root of the blueprint n comes from: the topmost ancestor made from
// the same catalog item as n, or the application when n comes from none.
func scopeRoot[N comparable](t Tree[N], n N) N {
	item := t.CatalogItem(n)
	if item == "" {
		return rootOf(t, n)
	}
	for p, ok := t.Parent(n); ok && t.CatalogItem(p) == item; p, ok = t.Parent(n) {
		n = p
	}
	return n
}

// breadthFirst lists n and its descendants, level by level.
func breadthFirst[N comparable](t Tree[N], n N) []N {
	out := []N{n}
	for i := 0; i < len(out); i++ {
		out = append(out, t.Children(out[i])...)
	}
	return out
}

// descendantsAndMembers lists the children and members of n, then theirs, level by
// level, each once and without n; a Tree that is no MemberTree has no members.
func descendantsAndMembers[N comparable](t Tree[N], n N) []N {
	mt, _ := t.(MemberTree[N])
	seen := map[N]bool{n: true}
	out := []N{n}
	for i := 0; i < len(out); i++ {
		next := t.Children(out[i])
		if mt != nil {
			next = append(slices.Clone(next), mt.Members(out[i])...)
		}
		for _, m := range next {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out[1:]
}

// byDistance lists every entity of base's application, nearest to base first: by the
// number of parent and child steps between them, in tree order within one distance.
func byDistance[N comparable](t Tree[N], base N) []N {
	seen := map[N]bool{base: true}
	out := []N{base}
	for i := 0; i < len(out); i++ {
		n := out[i]
		next := slices.Clone(t.Children(n))
		if p, ok := t.Parent(n); ok {
			next = append([]N{p}, next...)
		}
		for _, m := range next {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}
