package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// report is what a resize did.
type report struct {
	added, removed []*entities.Entity
}

// converge brings cluster e to desired members, in the task of ctx; the caller holds
// the cluster's lock. In order:
//
//  1. the desired size (within cluster.max.size) is recorded, and the cluster marked
//     resizing until converge ends, so that a restart in the middle is noticed;
//  2. children that are neither members nor quarantined (made, or being removed, when
//     the server stopped) become members again;
//  3. members whose start had not ended start (again); with startAll (the cluster's
//     own start), every member that does not run starts;
//  4. the cluster shrinks or grows to the desired size.
//
// Members that fail to start are quarantined or removed and counted in the error.
func converge(ctx context.Context, e *entities.Entity, desired int, startAll bool) (report, error) {
	var r report
	target, capped := Target(desired, maxSize(e))
	e.SetAttribute(SensorDesiredSize, target)
	e.SetAttribute(SensorResizing, true)
	defer e.SetAttribute(SensorResizing, nil)
	defer syncFirst(e)
	// A replacement cut short by a restart ends here: its old member goes first when the
	// cluster shrinks (see shrink), and is not named any more.
	defer e.SetAttribute(SensorReplacing, nil)
	strategy, err := ParseRemovalStrategy(e.ConfigString(KeyRemovalStrategy))
	if err != nil {
		return r, err
	}

	var q *entities.Entity
	if configBool(e, KeyQuarantine, true) {
		if q, err = quarantineGroup(ctx, e); err != nil {
			return r, err
		}
	} else {
		q = existingQuarantine(e)
	}
	for _, c := range e.Children() {
		if c != q && !e.HasMember(c) && (q == nil || !q.HasMember(c)) {
			e.AddMember(c)
			entities.Logf(ctx, "%s is a member again (the server stopped while it was made or removed)", c)
		}
	}

	var errs []error
	var again []*entities.Entity
	for _, m := range e.Members() {
		if halfStarted(m) || (startAll && m.Expected() != entities.Running) {
			again = append(again, m)
		}
	}
	if len(again) > 0 {
		entities.Logf(ctx, "starting %d existing members", len(again))
		if failed := startMembers(ctx, e, again); len(failed) > 0 {
			var list []error
			for _, m := range entitiesByID(failed) {
				list = append(list, failed[m])
			}
			errs = append(errs, failedError(e, list, len(again), "existing"))
		}
	}

	members := e.Members()
	switch {
	case len(members) > target:
		removed, err := shrink(ctx, e, members, len(members)-target, strategy)
		r.removed = removed
		if err != nil {
			errs = append(errs, err)
		}
	case len(members) < target:
		entities.Logf(ctx, "growing %s from %d to %d members", e, len(members), target)
		added, failed, err := grow(ctx, e, target-len(members))
		r.added = added
		if err != nil {
			errs = append(errs, err)
		}
		if len(failed) > 0 {
			errs = append(errs, failedError(e, failed, target-len(members), "new"))
		}
	}
	if capped {
		errs = append(errs, fmt.Errorf("%s is %d, so %s has %d members, not %d: %w",
			KeyMaxSize, target, e, len(e.Members()), desired, locations.ErrNoCapacity))
	}
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("resize %s to %d: %w", e, target, err)
	}
	return r, nil
}

// failedError says how many of n members failed to start, and what became of them.
func failedError(e *entities.Entity, failed []error, n int, which string) error {
	fate := "removed"
	if configBool(e, KeyQuarantine, true) {
		fate = "quarantined"
	}
	return fmt.Errorf("%d of %d %s members failed to start (%s): %w", len(failed), n, which, fate, errors.Join(failed...))
}

// shrink removes n of members, chosen by the strategy, and returns those it removed.
func shrink(ctx context.Context, e *entities.Entity, members []*entities.Entity, n int, s RemovalStrategy) ([]*entities.Entity, error) {
	replacing := attrString(e, SensorReplacing)
	byID := make(map[string]*entities.Entity, len(members))
	cands := make([]Candidate, len(members))
	for i, m := range members {
		byID[m.ID()] = m
		id := -1
		if v, ok := m.Config(KeyMemberID); ok {
			if n, ok := toInt(v); ok {
				id = n
			}
		}
		cands[i] = Candidate{
			ID: m.ID(), MemberID: id, Created: m.Created(), Replaced: m.ID() == replacing,
			Healthy: m.Expected() == entities.Running && m.State() == entities.Running,
		}
	}
	var gone []*entities.Entity
	for _, id := range PickRemovals(cands, n, s) {
		gone = append(gone, byID[id])
	}
	entities.Logf(ctx, "shrinking %s from %d to %d members (%s)", e, len(members), len(members)-n, s)
	return gone, removeMembers(ctx, e, gone)
}

// removeMembers takes each of gone out of the members (so that a load balancer stops
// sending it work first), then stops, releases and forgets it, in parallel.
func removeMembers(ctx context.Context, e *entities.Entity, gone []*entities.Entity) error {
	for _, m := range gone {
		e.RemoveMember(m)
	}
	errs := parallel(ctx, e, gone, "Removing", func(ctx context.Context, m *entities.Entity) error {
		return e.Management().RemoveChild(ctx, m)
	})
	return joinErrors(errs)
}

// grow makes n members and starts them in parallel. It returns the members it made that
// started, the errors of those that did not (quarantined or removed), and an error
// when it could not make them at all (no member spec).
func grow(ctx context.Context, e *entities.Entity, n int) (added []*entities.Entity, failed []error, err error) {
	var made []*entities.Entity
	for range n {
		m, err := addMember(ctx, e)
		if err != nil {
			if len(made) == 0 {
				return nil, nil, err
			}
			failed = append(failed, err)
			break
		}
		made = append(made, m)
	}
	bad := startMembers(ctx, e, made)
	for _, m := range made {
		if _, ok := bad[m]; !ok {
			added = append(added, m)
		}
	}
	for _, m := range made { // in the order they were made
		if err, ok := bad[m]; ok {
			failed = append(failed, err)
		}
	}
	return added, failed, nil
}

// addMember makes one member from the member spec (the first-member spec for the first
// one), with the next cluster.member.id and a name that carries it, and makes it a
// member before it starts, as Brooklyn does.
func addMember(ctx context.Context, e *entities.Entity) (*entities.Entity, error) {
	spec, ok := (*entities.Spec)(nil), false
	if len(e.Members()) == 0 {
		spec, ok = e.EntitySpec(KeyFirstMemberSpec)
	}
	if !ok || spec == nil {
		spec, ok = e.EntitySpec(KeyMemberSpec)
	}
	if !ok || spec == nil {
		return nil, fmt.Errorf("%s has no %s: %w", e, KeyMemberSpec, entities.ErrInvalid)
	}
	id, ok := attrInt(e, SensorNextMemberID)
	if !ok || id < 0 {
		id = 0
	}
	// The number is taken before the member exists: a restart never gives it twice.
	e.SetAttribute(SensorNextMemberID, id+1)
	s := *spec
	s.Config = maps.Clone(spec.Config)
	if s.Config == nil {
		s.Config = map[string]any{}
	}
	s.Config[KeyMemberID] = id
	s.Name = MemberName(spec.Name, shortTypeName(spec.Type), id)
	m, err := e.Management().AddChild(ctx, e, &s)
	if err != nil {
		return nil, err
	}
	m.SetAttribute(SensorClusterMember, true)
	m.SetAttribute(SensorClusterEntity, e.ID())
	e.AddMember(m)
	return m, nil
}

// shortTypeName is the short name of a type (its first alias), for member names.
func shortTypeName(name string) string {
	t, err := entities.LookupType(name)
	if err != nil {
		return name
	}
	if len(t.Aliases) > 0 {
		return t.Aliases[0]
	}
	return t.Name
}

// startMembers starts members in parallel, at most dynamiccluster.maxConcurrentChildCommands
// at once, and deals with those that fail: quarantined, or removed. It returns their
// errors.
func startMembers(ctx context.Context, e *entities.Entity, members []*entities.Entity) map[*entities.Entity]error {
	if len(members) == 0 {
		return nil
	}
	bad := parallel(ctx, e, members, "Starting", func(ctx context.Context, m *entities.Entity) error {
		return e.Management().StartEntity(ctx, m)
	})
	for m, err := range bad {
		if qerr := failedMember(ctx, e, m, err); qerr != nil {
			bad[m] = errors.Join(err, qerr)
		}
	}
	return bad
}

// failedMember deals with a member that failed to start: it leaves the members for the
// quarantine group, where it stays as it is for people to look at; without quarantine it
// is removed.
func failedMember(ctx context.Context, e *entities.Entity, m *entities.Entity, cause error) error {
	e.RemoveMember(m)
	if !configBool(e, KeyQuarantine, true) {
		entities.Logf(ctx, "%s failed to start; removing it: %v", m, cause)
		return entities.StepOn(ctx, m, "Removing "+m.Name(), func(ctx context.Context) error {
			return e.Management().RemoveChild(ctx, m)
		})
	}
	q, err := quarantineGroup(ctx, e)
	if err != nil {
		return err
	}
	q.AddMember(m)
	e.SetAttribute(SensorEntityQuarantined, m.ID())
	entities.Logf(ctx, "%s failed to start; quarantined: %v", m, cause)
	e.Management().Logger().Warn("cluster member quarantined", "entity", e.ID(), "member", m.ID(), "err", cause)
	return nil
}

// existingQuarantine returns the cluster's quarantine group, or nil when it has none.
func existingQuarantine(e *entities.Entity) *entities.Entity {
	id := attrString(e, SensorQuarantineGroup)
	if id == "" {
		return nil
	}
	q, err := e.Management().Entity(id)
	if err != nil || q.Parent() != e {
		return nil
	}
	return q
}

// quarantineGroup returns the cluster's quarantine group, a child BasicGroup, made (and
// started) when it has none.
func quarantineGroup(ctx context.Context, e *entities.Entity) (*entities.Entity, error) {
	if q := existingQuarantine(e); q != nil {
		if q.Expected() != entities.Running {
			if err := e.Management().StartEntity(ctx, q); err != nil {
				return nil, err
			}
		}
		return q, nil
	}
	q, err := e.Management().AddChild(ctx, e, &entities.Spec{Type: BasicGroupType, Name: QuarantineName})
	if err != nil {
		return nil, fmt.Errorf("make the quarantine group of %s: %w", e, err)
	}
	e.SetAttribute(SensorQuarantineGroup, q.ID())
	if err := e.Management().StartEntity(ctx, q); err != nil {
		return nil, err
	}
	return q, nil
}

// parallel runs fn on each of list, each as a subtask "<verb> <name>" listed in that
// entity's activities too, at most dynamiccluster.maxConcurrentChildCommands at once,
// and returns the errors by entity.
func parallel(ctx context.Context, e *entities.Entity, list []*entities.Entity, verb string, fn func(context.Context, *entities.Entity) error) map[*entities.Entity]error {
	if len(list) == 0 {
		return nil
	}
	limit, err := configInt(e, KeyMaxConcurrent, DefaultMaxConcurrent)
	if err != nil {
		limit = DefaultMaxConcurrent
	}
	sem := make(chan struct{}, Parallelism(len(list), limit))
	var mu sync.Mutex
	errs := make(map[*entities.Entity]error)
	var wg sync.WaitGroup
	for _, x := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			err := entities.StepOn(ctx, x, verb+" "+x.Name(), func(ctx context.Context) error { return fn(ctx, x) })
			if err != nil {
				mu.Lock()
				errs[x] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// joinErrors joins the errors of parallel, in a stable order.
func joinErrors(errs map[*entities.Entity]error) error {
	if len(errs) == 0 {
		return nil
	}
	list := make([]error, 0, len(errs))
	for _, e := range entitiesByID(errs) {
		list = append(list, errs[e])
	}
	return errors.Join(list...)
}

func entitiesByID(errs map[*entities.Entity]error) []*entities.Entity {
	out := slices.Collect(maps.Keys(errs))
	slices.SortFunc(out, func(a, b *entities.Entity) int { return strings.Compare(a.ID(), b.ID()) })
	return out
}
