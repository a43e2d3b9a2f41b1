package policies

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// headroomMinRetry is the least time between two adds when the last one failed, even
// for containers that wait.
const headroomMinRetry = time.Second

// HeadroomConfig is what the headroom policy keeps: Count free container slots, or
// Percent of the slots (one of them), across the hosts of a Docker cloud.
type HeadroomConfig struct {
	Count   int
	Percent float64 // 0-100
	// UpDelay is how long fewer slots than the headroom must be free before a host is
	// added. Containers waiting for a host do not wait for it.
	UpDelay time.Duration
	// DownDelay is how long enough slots must be spare (the headroom kept without a
	// host) before that empty host is removed.
	DownDelay time.Duration
	// RemoveEmpty allows removing empty hosts at all.
	RemoveEmpty bool
	// RetryDelay is how long to wait after a host failed to be added before trying again.
	RetryDelay time.Duration
}

// Validate checks a headroom config.
func (c HeadroomConfig) Validate() error {
	switch {
	case c.Count < 0:
		return invalid("headroom count %d is negative", c.Count)
	case c.Percent < 0 || c.Percent > 100:
		return invalid("headroom percent %g is not within 0-100", c.Percent)
	case c.Count > 0 && c.Percent > 0:
		return invalid("give a headroom count or a percent, not both")
	case c.UpDelay < 0 || c.DownDelay < 0 || c.RetryDelay < 0:
		return invalid("stabilization and retry delays cannot be negative")
	}
	return nil
}

// HeadroomHost is one host as the headroom policy sees it.
type HeadroomHost struct {
	ID         string
	Up         bool
	Draining   bool // being removed
	Containers int  // placed on it
	Slots      int  // containers it takes
}

// HeadroomObservation is the cloud as it is.
type HeadroomObservation struct {
	Hosts []HeadroomHost // in the order they were added
	// Waiting is how many containers wait for a host: demand that cannot wait.
	Waiting int
	// PoolAvailable is how many hosts can still be added.
	PoolAvailable int
	// MinHosts is the fewest hosts kept (the cloud's initial hosts).
	MinHosts int
	// Busy: a host is being added or removed; nothing else is done meanwhile.
	Busy bool
}

// HeadroomMemory is what the policy remembers between decisions (and restarts).
type HeadroomMemory struct {
	// DeficitSince is when fewer slots than the headroom became free (zero: they are not).
	DeficitSince time.Time `json:"deficitSince,omitzero"`
	// SurplusSince is when an empty host became removable (zero: none is).
	SurplusSince time.Time `json:"surplusSince,omitzero"`
	// LastFailure is when adding a host last failed, and why.
	LastFailure       time.Time `json:"lastFailure,omitzero"`
	LastFailureReason string    `json:"lastFailureReason,omitempty"`
}

// HeadroomAction is what the policy does.
type HeadroomAction int

const (
	HeadroomNothing HeadroomAction = iota
	HeadroomAddHost
	HeadroomRemoveHost
)

func (a HeadroomAction) String() string {
	switch a {
	case HeadroomAddHost:
		return "add a host"
	case HeadroomRemoveHost:
		return "remove a host"
	}
	return "nothing"
}

// HeadroomDecision is what DecideHeadroom says.
type HeadroomDecision struct {
	Action HeadroomAction
	HostID string // the host to remove
	// Capacity is the slots of the hosts that are up (and not draining), Free those left
	// (less the containers waiting), Desired the free slots wanted, Needed = Desired-Free
	// (negative: spare), as Clocker's docker.container.cluster.needed.
	Capacity, Free, Desired, Needed int
	// Problem, when not empty, is why the headroom cannot be kept (the entity goes on
	// fire with it); empty clears it.
	Problem string
	// Reason says what was seen, for people.
	Reason string
	// RecheckAt is when to decide again without any change (zero: on changes only).
	RecheckAt time.Time
	// Memory is what to remember from now on.
	Memory HeadroomMemory
}

// DecideHeadroom decides whether to add a host, remove an empty one, or do nothing, so
// that cfg's headroom of free container slots is kept. It is a pure function.
//
//   - Free slots are those of the hosts that are up and not draining, less the
//     containers waiting for a host. Desired is the count, or the percentage of the
//     capacity rounded up.
//   - Fewer free than desired (a deficit): add one host, at once when containers wait,
//     else once the deficit lasted UpDelay. Never while a host is being added or removed,
//     never when none can be added (a Problem says so, instead of trying again and
//     again), and within RetryDelay of a failed add only for waiting containers (the
//     failed endpoint is left out by the cloud, so the next one is tried; the Problem
//     stays until an add succeeds).
//   - No deficit: an EMPTY host (no container, not draining) may be removed when removing
//     it still leaves the headroom free, the cloud keeps at least MinHosts hosts, and
//     this has been so for DownDelay. A host with containers is never chosen. Down hosts
//     go first (they give no slots), then the newest.
//
// Adding happens only when free < desired, and removing only when free - slots >= desired
// after it: a host just added for a deficit can only be removed once the load fell, so
// the two never alternate for a steady load.
func DecideHeadroom(cfg HeadroomConfig, obs HeadroomObservation, mem HeadroomMemory, now time.Time) HeadroomDecision {
	d := HeadroomDecision{Memory: mem}
	used, hosts := 0, 0
	for _, h := range obs.Hosts {
		if h.Draining {
			continue
		}
		hosts++
		if h.Up {
			d.Capacity += h.Slots
			used += h.Containers
		}
	}
	d.Free = max(d.Capacity-used, 0) - obs.Waiting
	d.Desired = cfg.Count
	if cfg.Percent > 0 {
		d.Desired = int(math.Ceil(cfg.Percent / 100 * float64(d.Capacity)))
	}
	d.Needed = d.Desired - d.Free
	state := fmt.Sprintf("%d of %d slots free on %d hosts, headroom %d", max(d.Free, 0), d.Capacity, hosts, d.Desired)
	if obs.Waiting > 0 {
		state += fmt.Sprintf(", %d container(s) waiting for a host", obs.Waiting)
	}

	recentFailure := !mem.LastFailure.IsZero() && now.Sub(mem.LastFailure) < cfg.RetryDelay
	if d.Needed > 0 {
		d.Memory.SurplusSince = time.Time{}
		if d.Memory.DeficitSince.IsZero() {
			d.Memory.DeficitSince = now
		}
		switch {
		case obs.Busy:
			d.Reason = state + "; a host is being added or removed"
			return d
		case obs.PoolAvailable <= 0:
			d.Problem = fmt.Sprintf("%d more container slot(s) needed (%s) but no host can be added: the pool of engine endpoints is used up", d.Needed, state)
			d.Reason = d.Problem
			return d
		case recentFailure && obs.Waiting == 0:
			retry := mem.LastFailure.Add(cfg.RetryDelay)
			d.Problem = fmt.Sprintf("%d more container slot(s) needed (%s); adding a host failed at %s: %s; trying again at %s",
				d.Needed, state, mem.LastFailure.Format(time.RFC3339), mem.LastFailureReason, retry.Format(time.RFC3339))
			d.Reason = d.Problem
			d.RecheckAt = retry
			return d
		case recentFailure && now.Sub(mem.LastFailure) < headroomMinRetry:
			// Containers wait, but adding failed a moment ago: not in a tight loop.
			d.RecheckAt = mem.LastFailure.Add(headroomMinRetry)
			d.Problem = fmt.Sprintf("%d more container slot(s) needed (%s); adding a host failed at %s: %s",
				d.Needed, state, mem.LastFailure.Format(time.RFC3339), mem.LastFailureReason)
			d.Reason = d.Problem
			return d
		case obs.Waiting > 0 || now.Sub(d.Memory.DeficitSince) >= cfg.UpDelay:
			d.Action = HeadroomAddHost
			d.Reason = fmt.Sprintf("%d more container slot(s) needed (%s): adding a host", d.Needed, state)
			d.Memory.DeficitSince = time.Time{}
			if recentFailure {
				// Containers wait: the next endpoint is tried at once (the one that
				// failed is left out by the cloud), and the failure stays reported
				// until an add succeeds.
				d.Problem = fmt.Sprintf("adding a host failed at %s: %s; trying again for %d waiting container(s)",
					mem.LastFailure.Format(time.RFC3339), mem.LastFailureReason, obs.Waiting)
			}
			return d
		}
		d.RecheckAt = d.Memory.DeficitSince.Add(cfg.UpDelay)
		d.Reason = fmt.Sprintf("%d more container slot(s) needed (%s); a host is added at %s if it lasts", d.Needed, state, d.RecheckAt.Format(time.RFC3339))
		return d
	}

	d.Memory.DeficitSince = time.Time{}
	d.Reason = state
	if !cfg.RemoveEmpty || obs.Busy || hosts <= obs.MinHosts {
		d.Memory.SurplusSince = time.Time{}
		return d
	}
	candidate := removable(obs.Hosts, d.Free, d.Desired)
	if candidate == "" {
		d.Memory.SurplusSince = time.Time{}
		return d
	}
	if d.Memory.SurplusSince.IsZero() {
		d.Memory.SurplusSince = now
	}
	if at := d.Memory.SurplusSince.Add(cfg.DownDelay); now.Before(at) {
		d.RecheckAt = at
		d.Reason = fmt.Sprintf("%s; empty host %s is removed at %s if it stays so", state, candidate, at.Format(time.RFC3339))
		return d
	}
	d.Action = HeadroomRemoveHost
	d.HostID = candidate
	d.Reason = fmt.Sprintf("%s; removing empty host %s", state, candidate)
	d.Memory.SurplusSince = time.Time{}
	return d
}

// removable chooses the empty host whose removal keeps the headroom: down ones first,
// then the newest. It returns "" when there is none.
func removable(hosts []HeadroomHost, free, desired int) string {
	var down, up []HeadroomHost
	for _, h := range hosts {
		switch {
		case h.Draining || h.Containers > 0:
		case !h.Up:
			down = append(down, h)
		case free-h.Slots >= desired:
			up = append(up, h)
		}
	}
	for _, l := range [][]HeadroomHost{down, up} {
		if len(l) > 0 {
			return l[len(l)-1].ID
		}
	}
	return ""
}

// describeHosts lists hosts for a highlight: "h1 2/2, h2 0/2 (down)".
func describeHosts(hosts []HeadroomHost) string {
	parts := make([]string, 0, len(hosts))
	for _, h := range hosts {
		s := fmt.Sprintf("%s %d/%d", h.ID, h.Containers, h.Slots)
		if !h.Up {
			s += " (down)"
		}
		if h.Draining {
			s += " (draining)"
		}
		parts = append(parts, s)
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
