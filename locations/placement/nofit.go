package placement

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// tally is what one constraint did to the hosts of a failed decision.
type tally struct {
	c        *compiled
	label    string
	rank     int // where the constraint comes: limits, chain, host, request
	excluded int
	// max-cpu, max-memory: the most free among the hosts it excluded (-1: none known), and
	// how many had an unknown capacity.
	mostFree int64
	unknown  int
	// group: hosts holding other groups; hosts left out because the group is elsewhere.
	others, elsewhere int
	// affinity rules: the first evaluation error.
	err error
}

// noFit evaluates every constraint on every host (not only the first that fails) and says
// what each excluded.
func (d *decider) noFit() error {
	e := &NoFitError{Request: d.req.ID, Hosts: len(d.hosts)}
	if e.Request == "" {
		e.Request = d.req.Name
	}
	if len(d.hosts) == 0 {
		return e
	}
	var tallies []*tally
	get := func(c *compiled, host *Host, rank int) *tally {
		label := c.label
		if host != nil {
			label += " (host " + host.ID + ")"
		}
		for _, t := range tallies {
			if t.label == label {
				return t
			}
		}
		t := &tally{c: c, label: label, rank: rank, mostFree: -1}
		tallies = append(tallies, t)
		return t
	}
	down, up := 0, 0
	for i := range d.hosts {
		h := &d.hosts[i]
		if !h.Up {
			down++
			continue
		}
		up++
		lim, err := d.c.limitsFor(h)
		if err != nil {
			return err
		}
		u := hostUsage(h)
		hostLimit := func(k kind) *Host {
			for j := range h.Strategies {
				if s, _ := h.Strategies[j].compile(); s != nil && s.kind == k {
					return h
				}
			}
			return nil
		}
		if u.count >= lim.maxC.max {
			get(lim.maxC, hostLimit(kindMaxContainers), 0).excluded++
		}
		if lim.cpu != nil {
			l := lim.cpuLim
			if l <= 0 || u.milli+d.reqMilli > l {
				t := get(lim.cpu, hostLimit(kindMaxCPU), 1)
				t.excluded++
				if l <= 0 {
					t.unknown++
				} else if free := max(l-u.milli, 0); free > t.mostFree {
					t.mostFree = free
				}
			}
		}
		if lim.mem != nil {
			l := lim.memLim
			if l <= 0 || u.mem+d.req.MemoryBytes > l {
				t := get(lim.mem, hostLimit(kindMaxMemory), 2)
				t.excluded++
				if l <= 0 {
					t.unknown++
				} else if free := max(l-u.mem, 0); free > t.mostFree {
					t.mostFree = free
				}
			}
		}
		check := func(f *compiled, host *Host, rank int) {
			d.lastErr = nil
			if d.pass(f, h, &u) {
				return
			}
			t := get(f, host, rank)
			t.excluded++
			if f.kind == kindGroup {
				if _, other := d.groupOn(h); other {
					t.others++
				} else {
					t.elsewhere++
				}
			}
			if d.lastErr != nil && t.err == nil {
				t.err = d.lastErr
			}
		}
		for j, f := range d.c.filters {
			check(f, nil, 100+j)
		}
		for j := range h.Strategies {
			if f, _ := h.Strategies[j].compile(); f != nil && !f.kind.limit() {
				check(f, h, 1000+j)
			}
		}
		for j, f := range d.reqFilters {
			check(f, nil, 10000+j)
		}
	}
	if down > 0 {
		reason := strconv.Itoa(down) + " of " + strconv.Itoa(len(d.hosts)) + " hosts are down"
		if down == len(d.hosts) {
			reason = "all " + strconv.Itoa(down) + " hosts are down"
			if down == 1 {
				reason = "the only host is down"
			}
		}
		e.Exclusions = append(e.Exclusions, Exclusion{Constraint: "down", Excluded: down, Reason: reason})
	}
	noun := "hosts"
	if down > 0 {
		noun = "up hosts"
	}
	// Chain order: the limits, the infrastructure's filters, the hosts', the request's.
	sort.SliceStable(tallies, func(i, j int) bool { return tallies[i].rank < tallies[j].rank })
	for _, t := range tallies {
		e.Exclusions = append(e.Exclusions, Exclusion{Constraint: t.label, Excluded: t.excluded,
			Reason: d.explain(t, up, noun)})
	}
	return e
}

func quantity(k, n int, noun string) string {
	switch {
	case k == n && n == 1:
		return "the only " + strings.TrimSuffix(noun, "s") + " is"
	case k == n:
		return "all " + strconv.Itoa(n) + " " + noun + " are"
	case k == 1:
		return "1 of " + strconv.Itoa(n) + " " + noun + " is"
	}
	return strconv.Itoa(k) + " of " + strconv.Itoa(n) + " " + noun + " are"
}

func (d *decider) explain(t *tally, up int, noun string) string {
	q := quantity(t.excluded, up, noun)
	switch t.c.kind {
	case kindMaxContainers:
		// "all 3 hosts full": the verb reads better without "are" here.
		q = strings.TrimSuffix(strings.TrimSuffix(q, " are"), " is")
		return q + " full"
	case kindMaxCPU, kindMaxMemory:
		var need, free string
		if t.c.kind == kindMaxCPU {
			need = formatCPUs(d.reqMilli) + " CPUs"
			free = formatCPUs(t.mostFree)
		} else {
			need = formatBytes(d.req.MemoryBytes) + " of memory"
			free = formatBytes(t.mostFree)
		}
		s := q + " without " + need + " free"
		if t.mostFree >= 0 {
			s += " (most free: " + free + ")"
		}
		if t.unknown > 0 {
			what := "CPUs"
			if t.c.kind == kindMaxMemory {
				what = "memory"
			}
			s += "; " + strconv.Itoa(t.unknown) + " of them with unknown " + what
		}
		return s
	case kindHostname:
		return q + " named otherwise"
	case kindLabel:
		return q + " without these labels"
	case kindGroup:
		var parts []string
		if t.others > 0 {
			parts = append(parts, strconv.Itoa(t.others)+" hold other groups")
		}
		if t.elsewhere > 0 {
			parts = append(parts, strconv.Itoa(t.elsewhere)+" do not hold group "+strconv.Quote(d.groupKey)+
				", which is on "+d.groupHost)
		}
		return q + " excluded: " + strings.Join(parts, ", ")
	case kindAffinity, kindAntiAffinity:
		s := q + " excluded by the rule"
		if t.err != nil {
			s += " (error: " + t.err.Error() + ")"
		}
		return s
	}
	return q + " excluded"
}

func formatCPUs(milli int64) string {
	return strconv.FormatFloat(float64(milli)/1000, 'f', -1, 64)
}

func formatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + " " + units[u]
}
