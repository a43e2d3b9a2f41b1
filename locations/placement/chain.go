package placement

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/vm"
)

// Chain is a compiled infrastructure chain: compile it once, place many times. A Chain is
// immutable and safe for concurrent use.
type Chain struct {
	strategies    []Strategy
	maxContainers *compiled // nil: DefaultMaxContainers
	maxCPU        *compiled
	maxMemory     *compiled
	filters       []*compiled // the other filters, in chain order
	sorters       []*compiled
}

var (
	defaultMaxContainers = &compiled{kind: kindMaxContainers, name: "max-containers",
		label: "max-containers " + strconv.Itoa(DefaultMaxContainers) + " (default)", max: DefaultMaxContainers, ratio: 1}
	defaultSorter = &compiled{kind: kindBreadthFirst, name: "breadth-first", label: "breadth-first (default)", ratio: 1}
)

// Compile validates and compiles the infrastructure chain. Errors wrap ErrInvalid and name
// the entry: "strategies[1] (max-cpu): key ratio: ...".
func Compile(chain []Strategy) (*Chain, error) {
	c := &Chain{strategies: chain}
	seen := map[kind]int{}
	for i, s := range chain {
		cs, err := s.compile()
		if err != nil {
			return nil, entryError("strategies", i, s.Type, err)
		}
		if cs.kind.limit() {
			if j, dup := seen[cs.kind]; dup {
				return nil, fmt.Errorf("%w: strategies[%d] (%s): %s is already strategies[%d]; give it once",
					ErrInvalid, i, cs.name, cs.name, j)
			}
			seen[cs.kind] = i
		}
		switch {
		case cs.kind == kindMaxContainers:
			c.maxContainers = cs
		case cs.kind == kindMaxCPU:
			c.maxCPU = cs
		case cs.kind == kindMaxMemory:
			c.maxMemory = cs
		case cs.kind.sorter():
			c.sorters = append(c.sorters, cs)
		default:
			c.filters = append(c.filters, cs)
		}
	}
	return c, nil
}

func entryError(list string, i int, typ string, err error) error {
	msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
	where := fmt.Sprintf("%s[%d]", list, i)
	if n := normalizeType(typ); typ != "" {
		where += " (" + typ + ")"
		msg = strings.TrimPrefix(msg, n+": ")
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalid, where, msg)
}

// Strategies returns the chain as given to Compile.
func (c *Chain) Strategies() []Strategy { return c.strategies }

// MaxContainers is the container limit of h: its own max-containers, else the chain's, else
// DefaultMaxContainers.
func (c *Chain) MaxContainers(h Host) (int, error) {
	lim, err := c.limitsFor(&h)
	if err != nil {
		return 0, err
	}
	return lim.maxC.max, nil
}

// limits in force on one host.
type limits struct {
	maxC *compiled
	cpu  *compiled // nil: no CPU limit
	mem  *compiled // nil: no memory limit
	// The host's limits in thousandths of CPUs and in bytes (0: unknown capacity).
	cpuLim, memLim int64
}

func (c *Chain) limitsFor(h *Host) (limits, error) {
	lim := limits{maxC: c.maxContainers, cpu: c.maxCPU, mem: c.maxMemory}
	if lim.maxC == nil {
		lim.maxC = defaultMaxContainers
	}
	for i := range h.Strategies {
		hs, err := h.Strategies[i].compile()
		if err != nil {
			return lim, hostError(h, i, h.Strategies[i].Type, err)
		}
		switch hs.kind {
		case kindMaxContainers:
			lim.maxC = hs
		case kindMaxCPU:
			lim.cpu = hs
		case kindMaxMemory:
			lim.mem = hs
		default:
			if hs.kind.sorter() {
				return lim, fmt.Errorf("%w: host %s: strategies[%d] (%s) is a sorter; a host takes filters only",
					ErrInvalid, h.ID, i, hs.name)
			}
		}
	}
	if lim.cpu != nil {
		lim.cpuLim = cpuLimit(h, lim.cpu)
	}
	if lim.mem != nil {
		lim.memLim = memLimit(h, lim.mem)
	}
	return lim, nil
}

func hostError(h *Host, i int, typ string, err error) error {
	return fmt.Errorf("host %s: %w", h.ID, entryError("strategies", i, typ, err))
}

// usage of a host, in exact units: CPUs in thousandths.
type usage struct {
	count int
	milli int64
	mem   int64
}

func milliCPU(c float64) int64 { return int64(math.Round(c * 1000)) }

func hostUsage(h *Host) usage {
	u := usage{count: len(h.Containers)}
	var cpus float64
	for i := range h.Containers {
		p := &h.Containers[i]
		cpus += p.CPUs
		u.mem += p.MemoryBytes
	}
	// Declared CPUs are counted in thousandths, as Docker's NanoCPUs allow no finer in
	// practice: the sum rounded once is exact for such values (a float64 sum of 10,000 of
	// them is off by far less than half a thousandth).
	u.milli = milliCPU(cpus)
	return u
}

// cpuLimit is the host's CPU limit in thousandths, 0 when its CPUs are unknown.
func cpuLimit(h *Host, c *compiled) int64 {
	if h.CPUs <= 0 {
		return 0
	}
	return int64(math.Floor(h.CPUs*c.ratio*1000 + 1e-6))
}

func memLimit(h *Host, c *compiled) int64 {
	if h.MemoryBytes <= 0 {
		return 0
	}
	if c.ratio == 1 {
		return h.MemoryBytes
	}
	return int64(math.Floor(float64(h.MemoryBytes) * c.ratio))
}

// decider holds what one decision needs besides the hosts.
type decider struct {
	c          *Chain
	hosts      []Host
	req        *Request
	reqMilli   int64
	groupKey   string
	groupState int8 // 0: not computed; 1: some up host holds the group; -1: none does
	groupHost  string
	reqFilters []*compiled
	sorters    []*compiled
	env        *Env
	vm         *vm.VM
	lastErr    error // of the last rule evaluation
}

func groupOf(group, app string) string {
	if group != "" {
		return group
	}
	return app
}

// Place chooses a host for req; see the package function Place.
func (c *Chain) Place(hosts []Host, req Request) (Decision, error) {
	if req.CPUs < 0 || math.IsNaN(req.CPUs) || req.MemoryBytes < 0 {
		return Decision{}, fmt.Errorf("%w: request %s: negative CPUs or memory", ErrInvalid, req.ID)
	}
	d := decider{c: c, hosts: hosts, req: &req, reqMilli: milliCPU(req.CPUs),
		groupKey: groupOf(req.Group, req.App)}
	var reqSorters []*compiled
	for i := range req.Strategies {
		rs, err := req.Strategies[i].compile()
		if err != nil {
			return Decision{}, fmt.Errorf("request %s: %w", req.ID, entryError("strategies", i, req.Strategies[i].Type, err))
		}
		if rs.kind.sorter() {
			reqSorters = append(reqSorters, rs)
		} else {
			d.reqFilters = append(d.reqFilters, rs)
		}
	}
	switch {
	case len(reqSorters) == 0 && len(c.sorters) == 0:
		d.sorters = []*compiled{defaultSorter}
	case len(reqSorters) == 0:
		d.sorters = c.sorters
	default:
		d.sorters = append(reqSorters, c.sorters...)
	}

	// Sort keys of the best host so far and of the candidate, on the stack for usual chains.
	var bestBuf, keyBuf [8]float64
	best, keys := bestBuf[:0], keyBuf[:0]
	if n := len(d.sorters); n > len(bestBuf) {
		best, keys = make([]float64, 0, n), make([]float64, 0, n)
	}
	bestIdx, fit := -1, 0
	var excluded [numKinds]int // by the first constraint that failed; kindNone: down
	for i := range hosts {
		h := &hosts[i]
		if !h.Up {
			excluded[kindNone]++
			continue
		}
		lim, err := c.limitsFor(h)
		if err != nil {
			return Decision{}, err
		}
		if len(h.Containers) >= lim.maxC.max { // full: no need to add up its containers
			excluded[kindMaxContainers]++
			continue
		}
		u := hostUsage(h)
		ok, failed, err := d.passes(h, &u, &lim)
		if err != nil {
			return Decision{}, err
		}
		if !ok {
			excluded[failed]++
			continue
		}
		fit++
		keys = keys[:0]
		for _, s := range d.sorters {
			keys = append(keys, d.key(s, h, &u, &lim))
		}
		if bestIdx < 0 || d.less(keys, best, h, &hosts[bestIdx]) {
			bestIdx = i
			best = append(best[:0], keys...)
		}
	}
	if bestIdx < 0 {
		return Decision{}, d.noFit()
	}
	h := &hosts[bestIdx]
	return Decision{HostID: h.ID, HostName: h.Name, Candidates: fit, Reasons: d.reasons(fit, &excluded, best)}, nil
}

// passes runs every filter in force on h, stopping at the first that fails.
func (d *decider) passes(h *Host, u *usage, lim *limits) (bool, kind, error) {
	if u.count >= lim.maxC.max {
		return false, kindMaxContainers, nil
	}
	if lim.cpu != nil && (lim.cpuLim <= 0 || u.milli+d.reqMilli > lim.cpuLim) {
		return false, kindMaxCPU, nil
	}
	if lim.mem != nil && (lim.memLim <= 0 || u.mem+d.req.MemoryBytes > lim.memLim) {
		return false, kindMaxMemory, nil
	}
	for _, f := range d.c.filters {
		if !d.pass(f, h, u) {
			return false, f.kind, nil
		}
	}
	for i := range h.Strategies {
		f, err := h.Strategies[i].compile()
		if err != nil {
			return false, kindNone, hostError(h, i, h.Strategies[i].Type, err)
		}
		if !f.kind.limit() && !d.pass(f, h, u) {
			return false, f.kind, nil
		}
	}
	for _, f := range d.reqFilters {
		if !d.pass(f, h, u) {
			return false, f.kind, nil
		}
	}
	return true, kindNone, nil
}

// pass runs one filter other than the limits.
func (d *decider) pass(f *compiled, h *Host, u *usage) bool {
	switch f.kind {
	case kindMaxContainers:
		return u.count < f.max
	case kindMaxCPU:
		return h.CPUs > 0 && u.milli+d.reqMilli <= cpuLimit(h, f)
	case kindMaxMemory:
		return h.MemoryBytes > 0 && u.mem+d.req.MemoryBytes <= memLimit(h, f)
	case kindHostname:
		return f.re.MatchString(h.Name)
	case kindLabel:
		for _, l := range f.labels {
			v, ok := h.Labels[l.key]
			if !ok || (l.value != "*" && v != l.value) {
				return false
			}
		}
		return true
	case kindGroup:
		holds, other := d.groupOn(h)
		if other {
			return false
		}
		return holds || !d.groupPlaced()
	case kindAffinity, kindAntiAffinity:
		v, err := d.eval(f, h, u)
		if err != nil {
			return false
		}
		return v == (f.kind == kindAffinity)
	}
	return true
}

// groupOn says whether h holds containers of the request's group and of other groups.
func (d *decider) groupOn(h *Host) (holds, other bool) {
	for i := range h.Containers {
		if groupOf(h.Containers[i].Group, h.Containers[i].App) == d.groupKey {
			holds = true
		} else {
			other = true
		}
	}
	return holds, other
}

// groupPlaced says whether some up host already holds the request's group.
func (d *decider) groupPlaced() bool {
	if d.groupState == 0 {
		d.groupState = -1
		for i := range d.hosts {
			h := &d.hosts[i]
			if !h.Up {
				continue
			}
			if holds, _ := d.groupOn(h); holds {
				d.groupState, d.groupHost = 1, h.ID
				break
			}
		}
	}
	return d.groupState > 0
}

func (d *decider) eval(f *compiled, h *Host, u *usage) (bool, error) {
	if d.env == nil {
		d.env = &Env{Request: d.req}
		d.vm = &vm.VM{}
	}
	d.env.Host = h
	d.env.Containers = h.Containers
	d.env.Used = Usage{Containers: u.count, CPUs: float64(u.milli) / 1000, MemoryBytes: u.mem}
	out, err := d.vm.Run(f.program, d.env)
	if err != nil {
		// expr's errors show the rule with a caret under the position: keep the first line.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		d.lastErr = fmt.Errorf("host %s: %s", h.ID, msg)
		return false, d.lastErr
	}
	b, ok := out.(bool)
	if !ok {
		d.lastErr = fmt.Errorf("host %s: rule gave %T, not a boolean", h.ID, out)
		return false, d.lastErr
	}
	return b, nil
}

// use is the host's highest fraction of a limit in force, after placing the request.
func (d *decider) use(h *Host, u *usage, lim *limits) float64 {
	f := float64(u.count+1) / float64(lim.maxC.max)
	if lim.cpuLim > 0 {
		if g := float64(u.milli+d.reqMilli) / float64(lim.cpuLim); g > f {
			f = g
		}
	}
	if lim.memLim > 0 {
		if g := float64(u.mem+d.req.MemoryBytes) / float64(lim.memLim); g > f {
			f = g
		}
	}
	return f
}

// key is the sort key of h for sorter s: lower comes first.
func (d *decider) key(s *compiled, h *Host, u *usage, lim *limits) float64 {
	switch s.kind {
	case kindBreadthFirst:
		return d.use(h, u, lim)
	case kindDepthFirst:
		return -d.use(h, u, lim)
	case kindLeastContainers:
		return float64(u.count)
	case kindRandom:
		return float64(randomKey(s.seed, d.req.ID, h.ID) >> 11)
	}
	return 0
}

// randomKey is the random sorter's key of a host for a request: FNV-1a of both, mixed
// (SplitMix64's finalizer) so that every bit depends on every byte.
func randomKey(seed uint64, req, host string) uint64 {
	x := hashString(hashString(seed, req)^0xff, host)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func (d *decider) less(a, b []float64, ha, hb *Host) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	if ha.ID != hb.ID {
		return ha.ID < hb.ID
	}
	return ha.Name < hb.Name
}

var kindNames = [numKinds]string{
	kindNone:            "down",
	kindMaxContainers:   "max-containers",
	kindMaxCPU:          "max-cpu",
	kindMaxMemory:       "max-memory",
	kindHostname:        "hostname",
	kindLabel:           "label",
	kindGroup:           "group",
	kindAffinity:        "affinity",
	kindAntiAffinity:    "anti-affinity",
	kindBreadthFirst:    "breadth-first",
	kindDepthFirst:      "depth-first",
	kindLeastContainers: "least-containers",
	kindRandom:          "random",
}

func (d *decider) reasons(fit int, excluded *[numKinds]int, keys []float64) []string {
	out := make([]string, 0, 1+len(d.sorters))
	b := make([]byte, 0, 96)
	b = strconv.AppendInt(b, int64(fit), 10)
	b = append(b, " of "...)
	b = strconv.AppendInt(b, int64(len(d.hosts)), 10)
	b = append(b, " hosts fit"...)
	first := true
	for k, n := range excluded {
		if n == 0 {
			continue
		}
		if first {
			b = append(b, " (excluded: "...)
			first = false
		} else {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(n), 10)
		if kind(k) == kindNone {
			b = append(b, " down"...)
		} else {
			b = append(b, " by "...)
			b = append(b, kindNames[k]...)
		}
	}
	if !first {
		b = append(b, ')')
	}
	out = append(out, string(b))
	for i, s := range d.sorters {
		b = append(b[:0], s.label...)
		switch s.kind {
		case kindBreadthFirst:
			b = append(b, ": least used, "...)
			b = strconv.AppendFloat(b, keys[i], 'g', 3, 64)
			b = append(b, " of its limit after placement"...)
		case kindDepthFirst:
			b = append(b, ": most used, "...)
			b = strconv.AppendFloat(b, -keys[i], 'g', 3, 64)
			b = append(b, " of its limit after placement"...)
		case kindLeastContainers:
			b = append(b, ": "...)
			b = strconv.AppendFloat(b, keys[i], 'f', 0, 64)
			b = append(b, " containers before placement"...)
		case kindRandom:
			b = append(b, ": seeded by request "...)
			b = append(b, d.req.ID...)
		}
		out = append(out, string(b))
	}
	return out
}
