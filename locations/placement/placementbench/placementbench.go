// Package placementbench is the placement benchmark of issue 5 (acceptance 6): 10,000
// containers placed one after another over 100 hosts with CPU, memory and count
// constraints, each placement added to its host before the next decision, then checked for
// violations. BenchmarkPlace (in package placement) and bench/cmd/gantrybench both run it.
//
// It imports only the placement package; like it, it does no I/O.
package placementbench

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"syscall"
	"time"

	"github.com/gantry-dev/gantry/locations/placement"
)

// Scenario describes the hosts and the requests. Everything is derived from Seed, so two
// runs of one scenario place the same requests on the same hosts.
type Scenario struct {
	Hosts    int
	Requests int
	Seed     uint64
}

// Default is acceptance 6: 10,000 containers over 100 hosts.
func Default() Scenario { return Scenario{Hosts: 100, Requests: 10000, Seed: 1} }

// The constraints of the scenario.
const (
	MaxContainers     = 110 // the infrastructure's max-containers
	BigMaxContainers  = 150 // the max-containers of every tenth host (a host-level override)
	CPURatio          = 1.5 // max-cpu: declared CPUs <= 1.5 x the host's
	MemoryRatio       = 1.0 // max-memory: declared memory <= the host's
	describeHosts     = "100 hosts of 16, 24 or 32 CPUs and 24, 32 or 48 GiB"
	describeRequests  = "10,000 requests of 0.05, 0.1, 0.25 or 0.5 CPUs and 64, 128, 256 or 512 MiB, drawn from a seeded generator"
	describeLimits    = "max-containers 110 (150 on every tenth host, set on the host), max-cpu ratio 1.5, max-memory ratio 1"
	describeCapacity  = "11,400 container slots, 3,588 declarable CPUs and 3,456 GiB for about 2,250 CPUs and 2,344 GiB requested: about 10,800 containers of the average size fit"
	describeScenarios = describeHosts + "; " + describeRequests + "; " + describeLimits + " (" + describeCapacity + ")"
)

// Describe says what the default scenario is, for reports.
func Describe() string { return describeScenarios }

// HostsOf builds the scenario's hosts, empty.
func (s Scenario) HostsOf() []placement.Host {
	cpus := []float64{16, 24, 32}
	mems := []int64{24 << 30, 32 << 30, 48 << 30}
	override := []placement.Strategy{{Type: "max-containers", Params: map[string]any{"max": BigMaxContainers}}}
	override, err := placement.ParseStrategies(override)
	if err != nil {
		panic(err)
	}
	hs := make([]placement.Host, s.Hosts)
	for i := range hs {
		hs[i] = placement.Host{
			ID:          fmt.Sprintf("host-%03d", i),
			Name:        fmt.Sprintf("docker-%03d.example", i),
			Labels:      map[string]string{"zone": []string{"a", "b", "c"}[i%3]},
			CPUs:        cpus[i%3],
			MemoryBytes: mems[(i/3)%3],
			Up:          true,
			Containers:  make([]placement.Placed, 0, BigMaxContainers),
		}
		if i%10 == 9 {
			hs[i].Strategies = override
		}
	}
	return hs
}

// RequestsOf builds the scenario's requests, in the order they are placed.
func (s Scenario) RequestsOf() []placement.Request {
	cpus := []float64{0.05, 0.1, 0.25, 0.5}
	mems := []int64{64 << 20, 128 << 20, 256 << 20, 512 << 20}
	x := s.Seed*0x9e3779b97f4a7c15 | 1
	next := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	rs := make([]placement.Request, s.Requests)
	for i := range rs {
		app := fmt.Sprintf("app-%d", i/10)
		rs[i] = placement.Request{
			ID:          fmt.Sprintf("c-%05d", i),
			App:         app,
			Entity:      fmt.Sprintf("e-%05d", i),
			Name:        fmt.Sprintf("web-%d", i%10),
			CPUs:        cpus[next()%4],
			MemoryBytes: mems[next()%4],
		}
	}
	return rs
}

// Chain is the infrastructure chain with the given sorter and extra strategies.
func Chain(sorter string, extra ...map[string]any) []placement.Strategy {
	v := []any{
		map[string]any{"type": "max-containers", "max": MaxContainers},
		map[string]any{"type": "max-cpu", "ratio": CPURatio},
		map[string]any{"type": "max-memory", "ratio": MemoryRatio},
	}
	for _, e := range extra {
		v = append(v, e)
	}
	v = append(v, sorter)
	c, err := placement.ParseStrategies(v)
	if err != nil {
		panic(err)
	}
	return c
}

// Way is one way of placing: a name, what it is, and a placer for a fresh set of hosts.
type Way struct {
	Name  string
	About string
	// New returns the function that places one request on hs (it is called once per run).
	New func() (func(hs []placement.Host, r placement.Request) (string, error), error)
}

func chainWay(name, about string, chain []placement.Strategy) Way {
	return Way{Name: name, About: about, New: func() (func([]placement.Host, placement.Request) (string, error), error) {
		c, err := placement.Compile(chain)
		if err != nil {
			return nil, err
		}
		return func(hs []placement.Host, r placement.Request) (string, error) {
			d, err := c.Place(hs, r)
			return d.HostID, err
		}, nil
	}}
}

// Ways are the ways measured: Gantry's placement with three chains, and the baseline.
func Ways() []Way {
	return []Way{
		chainWay("breadth-first", "placement.Chain.Place: max-containers, max-cpu, max-memory, then breadth-first (least used first)",
			Chain("breadth-first")),
		chainWay("depth-first", "the same limits, then depth-first (fullest host that fits)", Chain("depth-first")),
		chainWay("breadth-first+rule", "the same as breadth-first plus an expr-lang anti-affinity rule evaluated on every host: "+antiRule,
			Chain("breadth-first", map[string]any{"type": "anti-affinity", "expr": antiRule})),
		{Name: "loop-least-used", About: "a hand-written loop with the same limits and the same order as breadth-first (least used after placement, ties by host ID), without strategies: what the chain costs; it must choose the same hosts",
			New: func() (func([]placement.Host, placement.Request) (string, error), error) { return LeastUsed, nil }},
		{Name: "first-fit", About: "the simplest baseline: a plain loop over the hosts in order that skips full hosts, adds up the declared CPUs and memory of the others, and takes the first within the same three limits (no ordering, no strategies, no reasons, no error detail)",
			New: func() (func([]placement.Host, placement.Request) (string, error), error) { return FirstFit, nil }},
	}
}

const antiRule = `used.containers >= 140 && request.cpus > 1`

// FirstFit is the baseline: the simplest placement with the scenario's three limits.
func FirstFit(hs []placement.Host, r placement.Request) (string, error) {
	for i := range hs {
		h := &hs[i]
		if !h.Up {
			continue
		}
		maxC := MaxContainers
		if len(h.Strategies) > 0 {
			maxC = BigMaxContainers
		}
		if len(h.Containers) >= maxC {
			continue
		}
		var cpus float64
		var mem int64
		for j := range h.Containers {
			cpus += h.Containers[j].CPUs
			mem += h.Containers[j].MemoryBytes
		}
		if cpus+r.CPUs <= h.CPUs*CPURatio+1e-9 && float64(mem+r.MemoryBytes) <= float64(h.MemoryBytes)*MemoryRatio {
			return h.ID, nil
		}
	}
	return "", placement.ErrNoFit
}

// LeastUsed is breadth-first written by hand for the scenario's three limits.
func LeastUsed(hs []placement.Host, r placement.Request) (string, error) {
	best, bestUse := -1, 0.0
	for i := range hs {
		h := &hs[i]
		if !h.Up {
			continue
		}
		maxC := MaxContainers
		if len(h.Strategies) > 0 {
			maxC = BigMaxContainers
		}
		if len(h.Containers) >= maxC {
			continue
		}
		var cpus float64
		var mem int64
		for j := range h.Containers {
			cpus += h.Containers[j].CPUs
			mem += h.Containers[j].MemoryBytes
		}
		cpuLimit, memLimit := h.CPUs*CPURatio, float64(h.MemoryBytes)*MemoryRatio
		if cpus+r.CPUs > cpuLimit+1e-9 || float64(mem+r.MemoryBytes) > memLimit {
			continue
		}
		use := max(float64(len(h.Containers)+1)/float64(maxC), (cpus+r.CPUs)/cpuLimit, float64(mem+r.MemoryBytes)/memLimit)
		if best < 0 || use < bestUse-1e-12 || (math.Abs(use-bestUse) <= 1e-12 && h.ID < hs[best].ID) {
			best, bestUse = i, use
		}
	}
	if best < 0 {
		return "", placement.ErrNoFit
	}
	return hs[best].ID, nil
}

// Result is one run of one way.
type Result struct {
	Way        string        `json:"way"`
	Requests   int           `json:"requests"`
	Placed     int           `json:"placed"`
	NoFit      int           `json:"no_fit"`
	Violations []string      `json:"violations,omitempty"`
	Elapsed    time.Duration `json:"elapsed_ns"` // the decisions only
	// PerSecond: decisions (placed or not) per second of Elapsed.
	PerSecond float64 `json:"per_second"`
	// CPU: the process's CPU time (user + system) over the whole loop, and decisions per
	// second of it: the figure that other work on the machine does not change.
	CPU          time.Duration `json:"cpu_ns"`
	PerCPUSecond float64       `json:"per_cpu_second"`
	// AllocsPerDecision and BytesPerDecision: heap allocations of the decisions.
	AllocsPerDecision float64 `json:"allocs_per_decision"`
	BytesPerDecision  float64 `json:"bytes_per_decision"`
	// Spread: containers on the emptiest and the fullest host at the end.
	MinPerHost int `json:"min_per_host"`
	MaxPerHost int `json:"max_per_host"`
	GOMAXPROCS int `json:"gomaxprocs"`
}

// Run places every request of s one after another with w, each placement added to its
// host, and checks the hosts at the end. Only the decisions are timed; appending the
// placement to its host is not.
func Run(w Way, s Scenario) (Result, error) {
	place, err := w.New()
	if err != nil {
		return Result{}, err
	}
	hs := s.HostsOf()
	rs := s.RequestsOf()
	index := make(map[string]int, len(hs))
	for i := range hs {
		index[hs[i].ID] = i
	}
	res := Result{Way: w.Name, Requests: len(rs), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var elapsed time.Duration
	cpu0 := cpuTime()
	for _, r := range rs {
		t0 := time.Now()
		id, err := place(hs, r)
		elapsed += time.Since(t0)
		if errors.Is(err, placement.ErrNoFit) {
			res.NoFit++
			continue
		}
		if err != nil {
			return res, fmt.Errorf("%s: request %s: %w", w.Name, r.ID, err)
		}
		i, ok := index[id]
		if !ok {
			return res, fmt.Errorf("%s: request %s placed on unknown host %q", w.Name, r.ID, id)
		}
		hs[i].Containers = append(hs[i].Containers, r.Placed())
		res.Placed++
	}
	res.CPU = cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	res.Elapsed = elapsed
	if res.CPU > 0 {
		res.PerCPUSecond = float64(len(rs)) / res.CPU.Seconds()
	}
	res.PerSecond = float64(len(rs)) / elapsed.Seconds()
	res.AllocsPerDecision = float64(after.Mallocs-before.Mallocs) / float64(len(rs))
	res.BytesPerDecision = float64(after.TotalAlloc-before.TotalAlloc) / float64(len(rs))
	res.Violations = Violations(hs)
	res.MinPerHost, res.MaxPerHost = math.MaxInt, 0
	for _, h := range hs {
		res.MinPerHost = min(res.MinPerHost, len(h.Containers))
		res.MaxPerHost = max(res.MaxPerHost, len(h.Containers))
	}
	return res, nil
}

// Violations checks every host against the scenario's limits independently of the
// placement package: containers <= max-containers (the host's own where it has one),
// declared CPUs <= CPUs x 1.5, declared memory <= memory. One line per broken limit.
func Violations(hs []placement.Host) []string {
	var out []string
	for _, h := range hs {
		maxC := MaxContainers
		if len(h.Strategies) > 0 {
			maxC = BigMaxContainers
		}
		var milli, mem int64
		for _, c := range h.Containers {
			milli += int64(math.Round(c.CPUs * 1000))
			mem += c.MemoryBytes
		}
		if len(h.Containers) > maxC {
			out = append(out, fmt.Sprintf("%s: %d containers > %d", h.ID, len(h.Containers), maxC))
		}
		if float64(milli) > h.CPUs*CPURatio*1000+1e-6 {
			out = append(out, fmt.Sprintf("%s: %.3f CPUs > %.3f", h.ID, float64(milli)/1000, h.CPUs*CPURatio))
		}
		if float64(mem) > float64(h.MemoryBytes)*MemoryRatio {
			out = append(out, fmt.Sprintf("%s: %d bytes > %d", h.ID, mem, h.MemoryBytes))
		}
	}
	return out
}

// cpuTime is the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
