package main

// Benchmark 4: placement decisions per second (issue 5, acceptance 6). A pure function,
// measured in this process: no server, no engine.

import (
	"fmt"
	"log"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/gantry-dev/gantry/locations/placement/placementbench"
)

const (
	sectionPlacement = "placement"
	// goalPlacement: decisions per second on one core.
	goalPlacement = 10000
	// placementWay is the way the goal is about.
	placementWay = "breadth-first"
)

type placementWayInfo struct {
	Name  string `json:"name"`
	About string `json:"about"`
}

type placementResult struct {
	Scenario string                  `json:"scenario"`
	Ways     []placementWayInfo      `json:"ways"`
	Runs     []placementbench.Result `json:"runs"`
	// GOMAXPROCS during the runs (1: one core), and the machine's.
	GOMAXPROCS int `json:"gomaxprocs"`
	NumCPU     int `json:"num_cpu"`
}

// runPlacement runs every way cfg.placementRuns times on one core, the order of the ways
// turning from run to run.
func runPlacement(cfg *config) (*placementResult, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	ways := placementbench.Ways()
	res := &placementResult{Scenario: placementbench.Describe(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU()}
	for _, w := range ways {
		res.Ways = append(res.Ways, placementWayInfo{Name: w.Name, About: w.About})
	}
	s := placementbench.Default()
	for run := 0; run < cfg.placementRuns; run++ {
		for i := range ways {
			w := ways[(i+run)%len(ways)]
			r, err := placementbench.Run(w, s)
			if err != nil {
				return res, fmt.Errorf("placement %s, run %d: %w", w.Name, run+1, err)
			}
			log.Printf("placement %s run %d: %.0f decisions per CPU second, %.0f per wall-clock second, %d placed, %d no fit, %d violations",
				w.Name, run+1, r.PerCPUSecond, r.PerSecond, r.Placed, r.NoFit, len(r.Violations))
			res.Runs = append(res.Runs, r)
		}
	}
	for _, r := range res.Runs {
		if len(r.Violations) > 0 {
			return res, fmt.Errorf("placement %s: %d violations, first: %s", r.Way, len(r.Violations), r.Violations[0])
		}
	}
	return res, nil
}

// placementMedian is the median decisions per CPU second of a way (per wall-clock second
// with wall), and its runs.
func placementMedian(pr *placementResult, way string, wall bool) (float64, []placementbench.Result) {
	var rs []placementbench.Result
	var v []float64
	for _, r := range pr.Runs {
		if r.Way == way {
			rs = append(rs, r)
			if wall {
				v = append(v, r.PerSecond)
			} else {
				v = append(v, r.PerCPUSecond)
			}
		}
	}
	if len(v) == 0 {
		return 0, nil
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], rs
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, rs
}

// placementReport is section 4 of the report.
func placementReport(res *results) string {
	pr := res.Placement
	if pr == nil {
		return ""
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## 4. Placement decisions per second\n\n")
	if c := res.from(sectionPlacement); c != nil {
		p("*Carried over: %s.*\n\n", provenance(*c))
	}
	runs := 0
	for _, r := range pr.Runs {
		if r.Way == placementWay {
			runs++
		}
	}
	p("The pure function `placement.Chain.Place` (`locations/placement`), in the driver's process on one core\n")
	p("(GOMAXPROCS=%d of %d CPUs). The scenario (`locations/placement/placementbench`): %s.\n", pr.GOMAXPROCS, pr.NumCPU, pr.Scenario)
	p("The requests are placed one after another, each placement added to its host before the next decision;\n")
	p("only the decisions are timed on the clock; the process's CPU time (user + system, from getrusage) is taken over the\n")
	p("whole loop. Decisions per CPU second is the figure for \"on one core\" that other work on the machine does not\n")
	p("change (it shares 2 CPUs with whatever else runs; see the load average above); decisions per wall-clock second\n")
	p("is given too. At the end every host is checked against its three limits, independently of the placement package\n")
	p("(violations). Median of %d runs of each way, the order of the ways turning from run to run.\n", runs)
	p("The same benchmark as a Go benchmark: `go test -run '^$' -bench Place -cpu 1 ./locations/placement`.\n\n")
	p("| Way | Decisions per CPU second (median) | Decisions per wall-clock second (median) | Placed / no fit | Violations | Allocations per decision | Containers per host (min..max) |\n|---|---|---|---|---|---|---|\n")
	for _, w := range pr.Ways {
		med, rs := placementMedian(pr, w.Name, false)
		wall, _ := placementMedian(pr, w.Name, true)
		if len(rs) == 0 {
			continue
		}
		last := rs[len(rs)-1]
		viol := 0
		for _, r := range rs {
			viol += len(r.Violations)
		}
		p("| %s | %.0f | %.0f | %d / %d | %d | %.1f (%.0f bytes) | %d..%d |\n", w.Name, med, wall, last.Placed, last.NoFit, viol,
			last.AllocsPerDecision, last.BytesPerDecision, last.MinPerHost, last.MaxPerHost)
	}
	p("\n")
	for _, w := range pr.Ways {
		p("- **%s**: %s.\n", w.Name, w.About)
	}
	p("\nEvery run (decisions per CPU second / per wall-clock second):\n\n")
	for _, w := range pr.Ways {
		_, rs := placementMedian(pr, w.Name, false)
		v := make([]string, len(rs))
		for i, r := range rs {
			v[i] = fmt.Sprintf("%.0f / %.0f", r.PerCPUSecond, r.PerSecond)
		}
		p("- %s: %s\n", w.Name, strings.Join(v, ", "))
	}
	p("\n")
	return b.String()
}

// placementGlance is the row of the goals table.
func placementGlance(res *results, when func(string) string) string {
	pr := res.Placement
	if pr == nil {
		return ""
	}
	med, rs := placementMedian(pr, placementWay, false)
	if len(rs) == 0 {
		return ""
	}
	viol := 0
	for _, r := range pr.Runs {
		viol += len(r.Violations)
	}
	base, _ := placementMedian(pr, "first-fit", false)
	vs := ""
	if base > 0 {
		vs = fmt.Sprintf(" (first-fit baseline: %.0f/s)", base)
	}
	return fmt.Sprintf("| Placement: >= %d decisions/s on one core (per CPU second), %d containers over %d hosts with CPU, memory and count limits, zero violations | %.0f/s%s, %d violations | %s | %s |\n",
		goalPlacement, rs[0].Requests, placementbench.Default().Hosts, med, vs, viol, met(med >= goalPlacement && viol == 0), when(sectionPlacement))
}

// carryPlacement copies the placement section of prev into res when this run skipped it.
func carryPlacement(res, prev *results, cfg *config) {
	if cfg.skipPlacement && prev.Placement != nil && !slices.ContainsFunc(res.Carried, func(c carried) bool { return c.Section == sectionPlacement }) {
		res.Placement = prev.Placement
		res.Carried = append(res.Carried, prev.origin(sectionPlacement))
	}
}
