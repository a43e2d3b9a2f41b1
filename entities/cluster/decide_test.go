package cluster_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/cluster"
)

func TestParseRemovalStrategy(t *testing.T) {
	cases := []struct {
		in   string
		want cluster.RemovalStrategy
		bad  bool
	}{
		{in: "", want: cluster.NewestFirst},
		{in: "newest-first", want: cluster.NewestFirst},
		{in: " Newest ", want: cluster.NewestFirst},
		{in: "org.apache.brooklyn.entity.group.DynamicClusterImpl$DefaultRemovalStrategy", want: cluster.NewestFirst},
		{in: "oldest-first", want: cluster.OldestFirst},
		{in: "OLDEST", want: cluster.OldestFirst},
		{in: "random", bad: true},
	}
	for _, c := range cases {
		got, err := cluster.ParseRemovalStrategy(c.in)
		if c.bad {
			if !errors.Is(err, entities.ErrInvalid) {
				t.Errorf("ParseRemovalStrategy(%q) = %q, %v; want ErrInvalid", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseRemovalStrategy(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestPickRemovals(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := func(id string, memberID int, age time.Duration) cluster.Candidate {
		return cluster.Candidate{ID: id, MemberID: memberID, Created: t0.Add(age), Healthy: true}
	}
	sick := func(c cluster.Candidate) cluster.Candidate { c.Healthy = false; return c }
	replaced := func(c cluster.Candidate) cluster.Candidate { c.Replaced = true; return c }
	three := []cluster.Candidate{m("a", 1, 0), m("b", 2, time.Second), m("c", 3, 2*time.Second)}
	cases := []struct {
		name    string
		members []cluster.Candidate
		n       int
		s       cluster.RemovalStrategy
		want    []string
	}{
		{"newest first by member id", three, 2, cluster.NewestFirst, []string{"c", "b"}},
		{"oldest first by member id", three, 2, cluster.OldestFirst, []string{"a", "b"}},
		{"member id wins over creation time", []cluster.Candidate{m("a", 5, 0), m("b", 2, time.Hour)}, 1, cluster.NewestFirst, []string{"a"}},
		{"creation time breaks a tie of ids", []cluster.Candidate{m("a", -1, time.Hour), m("b", -1, 0)}, 1, cluster.NewestFirst, []string{"a"}},
		{"members not healthy go first, whatever the strategy", []cluster.Candidate{m("a", 1, 0), sick(m("b", 2, 0)), m("c", 3, 0)}, 1, cluster.NewestFirst, []string{"b"}},
		{"then the strategy among the healthy", []cluster.Candidate{m("a", 1, 0), sick(m("b", 2, 0)), m("c", 3, 0)}, 2, cluster.OldestFirst, []string{"b", "a"}},
		{"the member being replaced goes before all", []cluster.Candidate{sick(m("a", 1, 0)), replaced(m("b", 2, 0)), m("c", 3, 0)}, 1, cluster.NewestFirst, []string{"b"}},
		{"more than there are removes all", three, 5, cluster.NewestFirst, []string{"c", "b", "a"}},
		{"none", three, 0, cluster.NewestFirst, nil},
		{"negative is none", three, -1, cluster.NewestFirst, nil},
		{"empty", nil, 2, cluster.NewestFirst, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := append([]cluster.Candidate(nil), c.members...)
			got := cluster.PickRemovals(c.members, c.n, c.s)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
			if !reflect.DeepEqual(before, c.members) {
				t.Error("the members given were reordered")
			}
		})
	}
}

func TestTarget(t *testing.T) {
	cases := []struct {
		desired, max, want int
		capped             bool
	}{
		{desired: 3, max: -1, want: 3},
		{desired: 3, max: 5, want: 3},
		{desired: 5, max: 5, want: 5},
		{desired: 7, max: 5, want: 5, capped: true},
		{desired: 1, max: 0, want: 0, capped: true},
		{desired: 0, max: -1, want: 0},
		{desired: -2, max: -1, want: 0},
	}
	for _, c := range cases {
		got, capped := cluster.Target(c.desired, c.max)
		if got != c.want || capped != c.capped {
			t.Errorf("Target(%d, %d) = %d, %v; want %d, %v", c.desired, c.max, got, capped, c.want, c.capped)
		}
	}
}

func TestMemberNameAndParallelism(t *testing.T) {
	names := []struct {
		spec, typ string
		id        int
		want      string
	}{
		{"web", "docker-container", 3, "web 3"},
		{"", "docker-container", 1, "docker-container 1"},
	}
	for _, c := range names {
		if got := cluster.MemberName(c.spec, c.typ, c.id); got != c.want {
			t.Errorf("MemberName(%q, %q, %d) = %q, want %q", c.spec, c.typ, c.id, got, c.want)
		}
	}
	bounds := []struct{ n, limit, want int }{
		{n: 10, limit: 8, want: 8},
		{n: 3, limit: 8, want: 3},
		{n: 10, limit: 0, want: 10},
		{n: 10, limit: -1, want: 10},
		{n: 0, limit: 8, want: 1},
	}
	for _, c := range bounds {
		if got := cluster.Parallelism(c.n, c.limit); got != c.want {
			t.Errorf("Parallelism(%d, %d) = %d, want %d", c.n, c.limit, got, c.want)
		}
	}
}

func TestDecideRebind(t *testing.T) {
	cases := []struct {
		name string
		s    cluster.RebindState
		want cluster.RebindAction
	}{
		{"stopped cluster stays stopped", cluster.RebindState{Expected: entities.Stopped, Resizing: true, HalfStarted: 2}, cluster.RebindNothing},
		{"never started", cluster.RebindState{Expected: entities.Created, HalfStarted: 1}, cluster.RebindNothing},
		{"its start was cut short", cluster.RebindState{Expected: entities.Starting}, cluster.RebindStart},
		{"settled", cluster.RebindState{Expected: entities.Running}, cluster.RebindNothing},
		{"a resize was cut short", cluster.RebindState{Expected: entities.Running, Resizing: true}, cluster.RebindResize},
		{"members caught starting", cluster.RebindState{Expected: entities.Running, HalfStarted: 1}, cluster.RebindResize},
		{"children made but not members", cluster.RebindState{Expected: entities.Running, Strays: 1}, cluster.RebindResize},
		{"stopping: the rebind marks it, nothing to finish", cluster.RebindState{Expected: entities.Stopping, Resizing: true}, cluster.RebindNothing},
	}
	for _, c := range cases {
		if got := cluster.DecideRebind(c.s); got != c.want {
			t.Errorf("%s: DecideRebind(%+v) = %s, want %s", c.name, c.s, got, c.want)
		}
	}
}
