package cluster

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/entities"
)

// What a cluster decides, as pure functions: the size it aims at, the members it removes
// when it shrinks, the names of new members, and what it does after a server restart.

// RemovalStrategy says which members a shrinking cluster removes first
// (dynamiccluster.removalstrategy).
type RemovalStrategy string

const (
	// NewestFirst removes the member with the highest cluster.member.id first (the newest),
	// as Brooklyn's DefaultRemovalStrategy does.
	NewestFirst RemovalStrategy = "newest-first"
	// OldestFirst removes the member with the lowest cluster.member.id first.
	OldestFirst RemovalStrategy = "oldest-first"
)

// brooklynDefaultRemoval is Brooklyn's class name for its default strategy, accepted as
// newest-first.
const brooklynDefaultRemoval = "org.apache.brooklyn.entity.group.DynamicClusterImpl$DefaultRemovalStrategy"

// ParseRemovalStrategy reads dynamiccluster.removalstrategy: "newest-first" (also "" and
// "newest", the default) or "oldest-first" ("oldest"), in any case.
func ParseRemovalStrategy(s string) (RemovalStrategy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "newest-first", "newest", "newestfirst", strings.ToLower(brooklynDefaultRemoval):
		return NewestFirst, nil
	case "oldest-first", "oldest", "oldestfirst":
		return OldestFirst, nil
	}
	return "", fmt.Errorf("removal strategy %q: use newest-first or oldest-first: %w", s, entities.ErrInvalid)
}

// Candidate is what the removal decision knows of one member.
type Candidate struct {
	ID       string
	MemberID int       // cluster.member.id; -1 when the member has none
	Created  time.Time // when the member entity was made
	// Healthy: expected to run and running. Members that are not (on fire, caught
	// mid-start or mid-stop by a restart) go first, whatever the strategy.
	Healthy bool
	// Replaced: the member a replaceMember cut short by a restart was replacing; it goes
	// before any other.
	Replaced bool
}

// PickRemovals returns the ids of the n members to remove, in the order they go: the
// member being replaced, then members that are not healthy, then by strategy (newest or
// oldest by cluster.member.id, then by creation time). n larger than the members
// removes them all.
func PickRemovals(members []Candidate, n int, s RemovalStrategy) []string {
	if n <= 0 {
		return nil
	}
	c := slices.Clone(members)
	age := func(a, b Candidate) int { // oldest first
		return cmp.Or(cmp.Compare(a.MemberID, b.MemberID), a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	}
	slices.SortStableFunc(c, func(a, b Candidate) int {
		if a.Replaced != b.Replaced {
			return boolFirst(a.Replaced)
		}
		if a.Healthy != b.Healthy {
			return boolFirst(!a.Healthy)
		}
		if s == OldestFirst {
			return age(a, b)
		}
		return age(b, a)
	})
	n = min(n, len(c))
	ids := make([]string, n)
	for i := range n {
		ids[i] = c[i].ID
	}
	return ids
}

// boolFirst orders the candidate for which first is true before the other.
func boolFirst(first bool) int {
	if first {
		return -1
	}
	return 1
}

// Target returns the size a cluster aims at when asked for desired members, given its
// cluster.max.size (negative: no limit), and whether the limit cut it down.
func Target(desired, max int) (target int, capped bool) {
	if desired < 0 {
		desired = 0
	}
	if max >= 0 && desired > max {
		return max, true
	}
	return desired, false
}

// MemberName names a new member: the member spec's name, or its type's short name, and
// its cluster.member.id, as "web 3".
func MemberName(specName, typeName string, memberID int) string {
	base := specName
	if base == "" {
		base = typeName
	}
	return fmt.Sprintf("%s %d", base, memberID)
}

// Parallelism is how many of n member starts run at once under
// dynamiccluster.maxConcurrentChildCommands (zero or less: no bound).
func Parallelism(n, limit int) int {
	if limit <= 0 || limit > n {
		return max(n, 1)
	}
	return limit
}

// RebindAction is what a cluster does once the server restarted.
type RebindAction int

const (
	// RebindNothing: the cluster is as it was left (stopped, or running at its size).
	RebindNothing RebindAction = iota
	// RebindStart: the cluster's own start was cut short; it is run again.
	RebindStart
	// RebindResize: a resize or replacement was cut short, or members are left half
	// made; a resize to the desired size finishes it.
	RebindResize
)

func (a RebindAction) String() string {
	switch a {
	case RebindStart:
		return "start"
	case RebindResize:
		return "resize"
	}
	return "nothing"
}

// RebindState is what a cluster found of itself after a server restart.
type RebindState struct {
	Expected entities.Lifecycle // the cluster's service.state.expected
	Resizing bool               // a resize or replacement had begun and not ended
	// HalfStarted counts the members whose start had not ended (created, or starting);
	// Strays the children that are neither members nor quarantined (made, or being
	// removed, when the server stopped).
	HalfStarted, Strays int
}

// DecideRebind says what a cluster does after a restart: it finishes what the restart
// cut short, and nothing else. A stopped cluster stays stopped; a running one whose
// resizes all ended is left alone, even below its desired size (the failures of a
// resize that ended were reported then, and are not retried by a restart).
func DecideRebind(s RebindState) RebindAction {
	switch s.Expected {
	case entities.Starting:
		return RebindStart
	case entities.Running:
		if s.Resizing || s.HalfStarted > 0 || s.Strays > 0 {
			return RebindResize
		}
	}
	return RebindNothing
}
