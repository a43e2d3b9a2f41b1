package blueprints

import (
	"errors"
	"testing"
)

// node is a test tree: name is the blueprint id, or "#entityid" for one without.
type node struct {
	id, entityID, item string
	parent             *node
	children           []*node
}

type testTree struct{ apps []*node }

func (testTree) Parent(n *node) (*node, bool) { return n.parent, n.parent != nil }
func (testTree) Children(n *node) []*node     { return n.children }
func (testTree) PlanID(n *node) string        { return n.id }
func (testTree) EntityID(n *node) string      { return n.entityID }
func (testTree) CatalogItem(n *node) string   { return n.item }
func (testTree) Name(n *node) string          { return n.entityID }
func (t testTree) Applications() []*node      { return t.apps }
func add(parent *node, id, entityID, item string) *node {
	n := &node{id: id, entityID: entityID, item: item, parent: parent}
	if parent != nil {
		parent.children = append(parent.children, n)
	}
	return n
}

func TestFindInScope(t *testing.T) {
	// app (a1)
	// ├── web (e1)          ├── x (e2, item i)  ── db (e3, item i) ── x (e4, item i)
	// │   └── db (e5)
	// └── db (e6)
	// other app (a2) ── far (e7)
	app := add(nil, "app", "a1", "")
	web := add(app, "web", "e1", "")
	x := add(app, "x", "e2", "i")
	dbInItem := add(x, "db", "e3", "i")
	x2 := add(dbInItem, "x", "e4", "i")
	dbUnderWeb := add(web, "db", "e5", "")
	db := add(app, "db", "e6", "")
	other := add(nil, "", "a2", "")
	far := add(other, "far", "e7", "")
	tree := testTree{apps: []*node{app, other}}

	tests := []struct {
		base        *node
		scope, id   string
		want        *node
		wantMissing bool
	}{
		{web, "self", "", web, false},
		{web, "parent", "", app, false},
		{app, "parent", "", nil, true},
		{x2, "root", "", app, false},
		{x2, "scopeRoot", "", x, false},
		{dbUnderWeb, "scopeRoot", "", app, false},
		// nearest first: from web, its own child db is one step away
		{web, "entity", "db", dbUnderWeb, false},
		{db, "entity", "db", db, false},
		{x, "entity", "db", dbInItem, false},
		{app, "component", "db", db, false}, // children in order: web, x, db; db is a child
		{web, "entity", "e6", db, false},    // by entity id
		{web, "entity", "far", nil, true},   // other applications are not searched
		{web, "application", "far", far, false},
		{web, "application", "db", dbUnderWeb, false},
		{app, "child", "web", web, false},
		{app, "child", "x", x, false},
		{web, "child", "x", nil, true},
		{web, "sibling", "db", db, false},
		{web, "sibling", "web", nil, true},
		{app, "descendant", "x", x, false}, // breadth first: x before x2
		{app, "member", "db", db, false},   // db (e6) is at depth 1
		{x2, "ancestor", "x", x, false},
		{x2, "ancestor", "app", app, false},
		{x2, "ancestor", "x2", nil, true},
	}
	for _, tt := range tests {
		got, err := FindInScope[*node](tree, tt.base, tt.scope, tt.id)
		if tt.wantMissing {
			if !errors.Is(err, ErrNoEntity) {
				t.Errorf("%s(%q) from %s: %v, %v; want ErrNoEntity", tt.scope, tt.id, tt.base.entityID, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s(%q) from %s = %v, %v; want %s", tt.scope, tt.id, tt.base.entityID, got, err, tt.want.entityID)
		}
	}
	_, err := FindInScope[*node](tree, web, "sibling", "nope")
	if want := `sibling("nope"): no entity with id "nope" among the siblings of e1: no such entity`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	_, err = FindInScope[*node](tree, web, "entity", "nope")
	if want := `entity("nope"): no entity with id "nope" in application a1: no such entity`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

// groupTree is testTree with members: groups maps a group to its members.
type groupTree struct {
	testTree
	groups map[*node][]*node
}

func (t groupTree) Members(n *node) []*node { return t.groups[n] }

func TestFindInScopeMembers(t *testing.T) {
	// app (a1)
	// ├── grp (g1): members web (e1), and db (e4) of the other app
	// │   └── helper (e2)
	// ├── web (e1)
	// │   └── cache (e3)
	// └── lone (e5)
	// other app (a2) ── db (e4)
	app := add(nil, "app", "a1", "")
	grp := add(app, "grp", "g1", "")
	helper := add(grp, "helper", "e2", "")
	web := add(app, "web", "e1", "")
	cache := add(web, "cache", "e3", "")
	add(app, "lone", "e5", "")
	other := add(nil, "", "a2", "")
	db := add(other, "db", "e4", "")
	plain := testTree{apps: []*node{app, other}}
	tree := groupTree{testTree: plain, groups: map[*node][]*node{grp: {web, db}, web: {grp}}}

	tests := []struct {
		tree        Tree[*node]
		base        *node
		id          string
		want        *node
		wantMissing bool
	}{
		{tree, grp, "helper", helper, false}, // a child
		{tree, grp, "web", web, false},       // a member
		{tree, grp, "db", db, false},         // a member from another application
		{tree, grp, "cache", cache, false},   // below a member
		{tree, app, "db", db, false},         // a member of a descendant group
		{tree, web, "grp", grp, false},       // web is a group too, with grp as member
		{tree, web, "web", nil, true},        // never the base itself, through a cycle of groups
		{tree, grp, "lone", nil, true},       // neither below nor a member
		{tree, grp, "e4", db, false},         // by entity id
		{plain, grp, "web", nil, true},       // a tree without members: descendants only
		{plain, app, "cache", cache, false},
	}
	for _, tt := range tests {
		got, err := FindInScope(tt.tree, tt.base, "member", tt.id)
		if tt.wantMissing {
			if !errors.Is(err, ErrNoEntity) {
				t.Errorf("member(%q) from %s: %v, %v; want ErrNoEntity", tt.id, tt.base.entityID, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("member(%q) from %s = %v, %v; want %s", tt.id, tt.base.entityID, got, err, tt.want.entityID)
		}
	}
	_, err := FindInScope[*node](tree, grp, "member", "nope")
	if want := `member("nope"): no entity with id "nope" among the descendants and members of g1: no such entity`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
