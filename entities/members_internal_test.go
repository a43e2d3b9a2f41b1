package entities

import "testing"

func TestAggregateMembers(t *testing.T) {
	up := childSummary{name: "a", up: true, state: Running}
	down := childSummary{name: "b", up: false, state: OnFire}
	starting := childSummary{name: "c", up: false, state: Starting}
	cases := []struct {
		name           string
		members        []childSummary
		notUp, problem string
	}{
		{"empty group is fine", nil, "", ""},
		{"one of two up is enough", []childSummary{up, down}, "", ""},
		{"all down", []childSummary{down, starting}, "none of the 2 members is up: b, c", "none of the 2 members is running: b, c"},
		{"members still starting are not up, and no problem yet", []childSummary{starting}, "none of the 1 members is up: c", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			notUp, problem := aggregateMembers(c.members)
			if notUp != c.notUp || problem != c.problem {
				t.Errorf("got (%q, %q), want (%q, %q)", notUp, problem, c.notUp, c.problem)
			}
		})
	}
}
