package entities

import "testing"

func TestComputeState(t *testing.T) {
	cases := []struct {
		expected Lifecycle
		up       bool
		problems int
		want     Lifecycle
	}{
		{"", false, 0, Created},
		{Created, false, 0, Created},
		{Starting, false, 0, Starting},
		{Starting, false, 1, OnFire},
		{Running, true, 0, Running},
		{Running, false, 0, OnFire},
		{Running, true, 2, OnFire},
		{Stopping, false, 1, Stopping},
		{Stopped, false, 0, Stopped},
		{Stopped, false, 1, OnFire},
		{Destroyed, false, 0, Destroyed},
	}
	for _, c := range cases {
		if got := ComputeState(c.expected, c.up, c.problems); got != c.want {
			t.Errorf("ComputeState(%s, up=%v, problems=%d) = %s, want %s", c.expected, c.up, c.problems, got, c.want)
		}
	}
}

func TestAggregateChildren(t *testing.T) {
	cases := []struct {
		name                string
		children            []childSummary
		wantNotUp, wantFire string
	}{
		{"none", nil, "", ""},
		{"all up", []childSummary{{"a", true, Running}, {"b", true, Running}}, "", ""},
		{"one starting", []childSummary{{"a", true, Running}, {"b", false, Starting}}, "1 of 2 children not up: b", ""},
		{"one on fire", []childSummary{{"a", false, OnFire}, {"b", true, Running}}, "1 of 2 children not up: a", "1 of 2 children on fire: a"},
		{"many", []childSummary{{"a", false, OnFire}, {"b", false, OnFire}, {"c", false, OnFire}, {"d", false, OnFire}},
			"4 of 4 children not up: a, b, c, ...", "4 of 4 children on fire: a, b, c, ..."},
	}
	for _, c := range cases {
		notUp, fire := aggregateChildren(c.children)
		if notUp != c.wantNotUp || fire != c.wantFire {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", c.name, notUp, fire, c.wantNotUp, c.wantFire)
		}
	}
}

func TestSameScalar(t *testing.T) {
	cases := []struct {
		a, b any
		want bool
	}{
		{"x", "x", true}, {"x", "y", false}, {1, 1, true}, {1, 1.0, false}, {1.5, 1.5, true},
		{true, true, true}, {true, "true", false}, {int64(2), int64(2), true},
		{map[string]any{}, map[string]any{}, false}, {[]any{}, []any{}, false}, {nil, nil, false},
	}
	for _, c := range cases {
		if got := sameScalar(c.a, c.b); got != c.want {
			t.Errorf("sameScalar(%#v, %#v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
