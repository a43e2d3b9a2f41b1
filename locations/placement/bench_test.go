package placement_test

import (
	"runtime"
	"testing"

	"github.com/gantry-dev/gantry/locations/placement"
	"github.com/gantry-dev/gantry/locations/placement/placementbench"
)

// BenchmarkPlace is acceptance 6 of issue 5: one op is the whole scenario, 10,000 decisions
// over 100 hosts, each placement added to its host; decisions/s is reported. Run it on one
// core: go test -run '^$' -bench Place -cpu 1 ./locations/placement
func BenchmarkPlace(b *testing.B) {
	for _, w := range placementbench.Ways() {
		b.Run(w.Name, func(b *testing.B) {
			s := placementbench.Default()
			var last placementbench.Result
			var decisions int
			var seconds float64
			for i := 0; i < b.N; i++ {
				res, err := placementbench.Run(w, s)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Violations) > 0 {
					b.Fatalf("%d violations: %v", len(res.Violations), res.Violations[0])
				}
				last = res
				decisions += res.Requests
				seconds += res.Elapsed.Seconds()
			}
			b.ReportMetric(float64(decisions)/seconds, "decisions/s")
			b.ReportMetric(float64(last.NoFit), "nofit")
			b.ReportMetric(last.AllocsPerDecision, "allocs/decision")
		})
	}
}

// BenchmarkPlaceDecision measures one decision on the scenario's hosts half full (5,000
// containers placed), without changing them.
func BenchmarkPlaceDecision(b *testing.B) {
	s := placementbench.Default()
	hs := s.HostsOf()
	rs := s.RequestsOf()
	c, err := placement.Compile(placementbench.Chain("breadth-first"))
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rs[:5000] {
		d, err := c.Place(hs, r)
		if err != nil {
			b.Fatal(err)
		}
		for i := range hs {
			if hs[i].ID == d.HostID {
				hs[i].Containers = append(hs[i].Containers, r.Placed())
			}
		}
	}
	r := rs[5000]
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Place(hs, r); err != nil {
			b.Fatal(err)
		}
	}
}

// The scenario places every request with no violation, whichever way.
func TestScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("places 40,000 requests")
	}
	for _, w := range placementbench.Ways() {
		res, err := placementbench.Run(w, placementbench.Default())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Violations) > 0 || res.Placed+res.NoFit != 10000 {
			t.Errorf("%s: %+v", w.Name, res)
		}
		t.Logf("%s: placed %d, no fit %d, %.0f decisions/s, hosts %d..%d containers", w.Name, res.Placed, res.NoFit, res.PerSecond, res.MinPerHost, res.MaxPerHost)
	}
}

// Breadth-first through the chain chooses exactly the hosts the hand-written loop chooses.
func TestChainMatchesLoop(t *testing.T) {
	s := placementbench.Default()
	if testing.Short() {
		s.Requests = 2000
	}
	hs := s.HostsOf()
	c, err := placement.Compile(placementbench.Chain("breadth-first"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.RequestsOf() {
		d, err := c.Place(hs, r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := placementbench.LeastUsed(hs, r)
		if err != nil || d.HostID != want {
			t.Fatalf("request %s: chain chose %s, the loop %s (%v)", r.ID, d.HostID, want, err)
		}
		for i := range hs {
			if hs[i].ID == d.HostID {
				hs[i].Containers = append(hs[i].Containers, r.Placed())
			}
		}
	}
}
