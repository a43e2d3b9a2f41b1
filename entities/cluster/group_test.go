package cluster_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

func TestBasicGroupEffectors(t *testing.T) {
	m := newManagement(t)
	app, g, err := deploy(t, m, &entities.Spec{Type: "basic-application", Children: []*entities.Spec{
		{Type: "group", Name: "g"}, {Type: "basic-entity", Name: "a"}, {Type: "basic-entity", Name: "b"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := app.Children()[1], app.Children()[2]
	for _, step := range []struct {
		effector string
		member   *entities.Entity
		want     bool
	}{
		{"addMember", a, true}, {"addMember", a, false}, {"removeMember", b, false},
		{"addMember", b, true}, {"removeMember", a, true},
	} {
		got, err := invoke(t, g, step.effector, map[string]any{"memberId": step.member.ID()})
		if err != nil || got != step.want {
			t.Errorf("%s(%s) = %v, %v; want %v", step.effector, step.member.Name(), got, err, step.want)
		}
	}
	if got := names(g.Members()); !reflect.DeepEqual(got, []string{"b"}) {
		t.Errorf("members %v", got)
	}
	if v, _ := g.Attribute(sensors.GroupMembers); !reflect.DeepEqual(v, []any{b.ID()}) {
		t.Errorf("group.members = %v", v)
	}
	if !slices.Contains(b.Groups(), g) {
		t.Error("b does not know its group")
	}
	if _, err := invoke(t, g, "addMember", map[string]any{"memberId": g.ID()}); err == nil {
		t.Error("a group became its own member")
	}
	if _, err := invoke(t, g, "addMember", map[string]any{"memberId": "nope"}); err == nil {
		t.Error("an unknown entity became a member")
	}
	// A member that is unmanaged leaves the group.
	if err := m.RemoveChild(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if len(g.Members()) != 0 {
		t.Errorf("members %v after the member was removed", names(g.Members()))
	}
}

// groupApp is an application with a dynamic group (its first child) of the given config,
// and three basic entities.
func groupApp(name string, cfg map[string]any) *entities.Spec {
	return &entities.Spec{Type: "basic-application", Name: name, Children: []*entities.Spec{
		{Type: "dynamic-group", Name: "web-servers", Config: cfg},
		{Type: "basic-entity", Name: "w1", Config: map[string]any{"tier": "front"}},
		{Type: "basic-entity", Name: "w2"},
		{Type: "basic-entity", Name: "db"},
	}}
}

func membersNamed(g *entities.Entity) []string {
	n := names(g.Members())
	slices.Sort(n)
	return n
}

func awaitMembers(t *testing.T, g *entities.Entity, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	waitFor(t, "members "+strings.Join(want, ","), func() bool {
		got := membersNamed(g)
		return reflect.DeepEqual(got, want) || (len(got) == 0 && len(want) == 0)
	})
}

func TestDynamicGroupFollowsSensorsAndConfig(t *testing.T) {
	dir := t.TempDir()
	one := startServer(t, dir)
	filter := `sensors.role == "web" || config.tier == "front"`
	app, g, err := deploy(t, one.m, groupApp("shop", map[string]any{"dynamicgroup.entityfilter": filter}))
	if err != nil {
		t.Fatal(err)
	}
	w1, w2, db := app.Children()[1], app.Children()[2], app.Children()[3]
	// Evaluated once at start: config matches.
	if got := membersNamed(g); !reflect.DeepEqual(got, []string{"w1"}) {
		t.Fatalf("members at start %v", got)
	}
	w2.SetAttribute("role", "web")
	awaitMembers(t, g, "w1", "w2")
	w2.SetAttribute("role", "db")
	awaitMembers(t, g, "w1")
	db.SetAttribute("role", "web")
	awaitMembers(t, g, "db", "w1")

	// An entity made at run time is evaluated when it appears, and when it changes.
	late, err := one.m.AddChild(context.Background(), app, &entities.Spec{Type: "basic-entity", Name: "late", Config: map[string]any{"tier": "front"}})
	if err != nil {
		t.Fatal(err)
	}
	awaitMembers(t, g, "db", "late", "w1")
	// One that is removed leaves.
	if err := one.m.RemoveChild(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	awaitMembers(t, g, "db", "w1")

	// Other applications are out of scope, unless the scope is all.
	other, _, err := deploy(t, one.m, groupApp("other", map[string]any{"dynamicgroup.entityfilter": `name == "w1"`, "dynamicgroup.scope": "all"}))
	if err != nil {
		t.Fatal(err)
	}
	all := other.Children()[0]
	awaitMembers(t, all, "w1", "w1")
	if slices.ContainsFunc(g.Members(), func(e *entities.Entity) bool { return e.Application() != app }) {
		t.Error("the application-scoped group took a member of another application")
	}
	if slices.Contains(g.Members(), g) || slices.Contains(g.Members(), app) {
		t.Error("the group or its application is a member")
	}

	// After a restart the group follows changes again.
	one.kill(t)
	two := startServer(t, dir)
	g2, _ := two.m.Entity(g.ID())
	awaitMembers(t, g2, "db", "w1")
	w1b, _ := two.m.Entity(w1.ID())
	w1b.SetConfig("tier", "back")
	w1b.SetAttribute("role", "none") // a sensor change triggers the evaluation
	awaitMembers(t, g2, "db")
}

func TestDynamicGroupRescanAndBadFilters(t *testing.T) {
	m := newManagement(t)
	app, g, err := deploy(t, m, groupApp("shop", nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Members()) != 0 || g.State() != entities.Running {
		t.Fatalf("a group without a filter: members %v, %s", names(g.Members()), g.State())
	}
	g.SetConfig("dynamicgroup.entityfilter", `name startsWith "w"`)
	if _, err := invoke(t, g, "rescanEntities", nil); err != nil {
		t.Fatal(err)
	}
	if got := membersNamed(g); !reflect.DeepEqual(got, []string{"w1", "w2"}) {
		t.Errorf("members after rescan %v", got)
	}
	// A filter that fails on an entity (nil compared with a number) leaves it out.
	g.SetConfig("dynamicgroup.entityfilter", `sensors.load > 0.5`)
	app.Children()[1].SetAttribute("load", 0.9)
	if _, err := invoke(t, g, "rescanEntities", nil); err != nil {
		t.Fatal(err)
	}
	if got := membersNamed(g); !reflect.DeepEqual(got, []string{"w1"}) {
		t.Errorf("members %v", got)
	}

	for _, bad := range []map[string]any{
		{"dynamicgroup.entityfilter": `sensors[`},
		{"dynamicgroup.entityfilter": `nope == 1`},
		{"dynamicgroup.entityfilter": `true`, "dynamicgroup.scope": "galaxy"},
	} {
		_, g, err := deploy(t, m, groupApp("bad", bad))
		if err == nil || g.State() != entities.OnFire {
			t.Errorf("config %v: %v, %s", bad, err, g.State())
		}
	}
	g.SetConfig("dynamicgroup.entityfilter", `(`)
	if _, err := invoke(t, g, "rescanEntities", nil); err == nil || !strings.Contains(err.Error(), "dynamicgroup.entityfilter") {
		t.Errorf("rescan with a bad filter: %v", err)
	}
}
