package cluster

import (
	"context"
	"fmt"
	"sync"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// Type names, as Brooklyn spells them.
const (
	ClusterType      = "org.apache.brooklyn.entity.group.DynamicCluster"
	BasicGroupType   = "org.apache.brooklyn.entity.group.BasicGroup"
	DynamicGroupType = "org.apache.brooklyn.entity.group.DynamicGroup"
	ControlledType   = "org.apache.brooklyn.entity.webapp.ControlledDynamicWebAppCluster"
)

// Config keys of DynamicCluster, with Brooklyn's names (their flags are aliases).
const (
	KeyInitialSize     = "cluster.initial.size"
	KeyMaxSize         = "cluster.max.size"
	KeyMemberSpec      = "dynamiccluster.memberspec"
	KeyFirstMemberSpec = "dynamiccluster.firstmemberspec"
	KeyRemovalStrategy = "dynamiccluster.removalstrategy"
	KeyQuarantine      = "dynamiccluster.quarantineFailedEntities"
	KeyMaxConcurrent   = "dynamiccluster.maxConcurrentChildCommands"
	// KeyMemberID is set on each member: its sequential number in the cluster, from 0 as
	// in Brooklyn (blueprints use it, e.g. member 0 as the seed). Member names carry it.
	KeyMemberID = "cluster.member.id"
)

// DefaultMaxConcurrent bounds how many members start at once when
// dynamiccluster.maxConcurrentChildCommands is not set.
const DefaultMaxConcurrent = 8

// Sensors of DynamicCluster beyond group.members, group.members.count and cluster.first.
const (
	// SensorDesiredSize is the size last asked for (by resize, or the initial size),
	// bounded by cluster.max.size: the size a resize cut short by a restart is finished at.
	SensorDesiredSize = "cluster.desired.size"
	// SensorResizing is true while a resize runs; found true after a restart, it says
	// that one was cut short.
	SensorResizing = sensors.ClusterResizing
	// SensorReplacing is the id of the member a running replaceMember replaces.
	SensorReplacing = "cluster.replacing"
	// SensorNextMemberID is the cluster.member.id of the next member (Brooklyn's name).
	SensorNextMemberID = "next.cluster.member.id"
	// SensorQuarantineGroup is the id of the child group of quarantined members.
	SensorQuarantineGroup = "dynamiccluster.quarantineGroup"
	// SensorEntityQuarantined is the id of the member last quarantined.
	SensorEntityQuarantined = "dynamiccluster.entityQuarantined"
	// SensorClusterMember (true) and SensorClusterEntity (the cluster's id) are set on
	// each member.
	SensorClusterMember = "cluster.member"
	SensorClusterEntity = "cluster.entity"
)

// QuarantineName is the name of a cluster's quarantine group.
const QuarantineName = "quarantine"

func init() {
	entities.Register(&entities.Type{
		Name:    ClusterType,
		Aliases: []string{"cluster", "DynamicCluster"},
		Description: "A cluster of members made from a member spec, which are also its children; " +
			"resized by effectors, members started in parallel, failed members quarantined",
		Group:          true,
		StartsChildren: true,
		Config:         clusterKeys(),
		Sensors: []entities.SensorType{
			{Name: sensors.GroupMembers, Type: "java.util.Collection", Description: "Ids of the members"},
			{Name: sensors.GroupMembersCount, Type: "java.lang.Integer", Description: "Number of members"},
			{Name: sensors.ClusterFirst, Type: "java.lang.String", Description: "Id of the first member"},
			{Name: SensorDesiredSize, Type: "java.lang.Integer", Description: "The size last asked for, within cluster.max.size"},
			{Name: SensorResizing, Type: "java.lang.Boolean", Description: "True while a resize runs"},
			{Name: SensorReplacing, Type: "java.lang.String", Description: "Id of the member being replaced, while replaceMember runs"},
			{Name: SensorNextMemberID, Type: "java.lang.Integer", Description: "cluster.member.id of the next member"},
			{Name: SensorQuarantineGroup, Type: "java.lang.String", Description: "Id of the group of members that failed to start"},
			{Name: SensorEntityQuarantined, Type: "java.lang.String", Description: "Id of the member last quarantined"},
		},
		Effectors: clusterEffectors(),
		Start:     startCluster,
		Stop:      stopCluster,
		Rebind:    rebindCluster,
		Destroy:   destroyCluster,
	})
}

func clusterKeys() []entities.ConfigKey {
	return []entities.ConfigKey{
		{Name: KeyInitialSize, Aliases: []string{"initialSize"}, Type: "integer", Default: 1, Description: "Number of members made at the first start"},
		{Name: KeyMemberSpec, Aliases: []string{"memberSpec"}, Type: "spec", Description: "Spec of the members ($brooklyn:entitySpec)"},
		{Name: KeyFirstMemberSpec, Aliases: []string{"firstMemberSpec"}, Type: "spec", Description: "Spec of the first member, when it differs"},
		{Name: KeyMaxSize, Aliases: []string{"maxSize"}, Type: "integer", Description: "Most members the cluster grows to (default: no limit)"},
		{Name: KeyRemovalStrategy, Aliases: []string{"removalStrategy"}, Type: "string", Default: string(NewestFirst), Description: "Which members go first when the cluster shrinks: newest-first or oldest-first (members not running go before either)"},
		{Name: KeyQuarantine, Aliases: []string{"quarantineFailedEntities"}, Type: "boolean", Default: true, Description: "Move members that fail to start to the quarantine group (true), or remove them (false)"},
		{Name: KeyMaxConcurrent, Aliases: []string{"maxConcurrentChildCommands"}, Type: "integer", Default: DefaultMaxConcurrent, Description: "Most members started or removed at once (0 or less: no bound)"},
	}
}

func clusterEffectors() []entities.Effector {
	return []entities.Effector{
		{Name: "resize", Description: "Change the number of members", ReturnType: "java.lang.Integer",
			Params: []entities.Param{{Name: "desiredSize", Type: "java.lang.Integer", Description: "The new number of members"}},
			Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
				n, err := intParam(p, "desiredSize")
				if err != nil {
					return nil, err
				}
				return Resize(ctx, e, n)
			}},
		{Name: "resizeByDelta", Description: "Change the number of members by delta; returns the ids of the members added or removed", ReturnType: "java.util.Collection",
			Params: []entities.Param{{Name: "delta", Type: "java.lang.Integer", Description: "The change in number of members"}},
			Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
				d, err := intParam(p, "delta")
				if err != nil {
					return nil, err
				}
				return ResizeByDelta(ctx, e, d)
			}},
		{Name: "replaceMember", Description: "Start a new member, then remove the given one; returns the new member's id", ReturnType: "java.lang.String",
			Params: []entities.Param{{Name: "memberId", Type: "java.lang.String", Description: "The id of the member to replace"}},
			Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
				id, err := stringParam(p, "memberId")
				if err != nil {
					return nil, err
				}
				return ReplaceMember(ctx, e, id)
			}},
	}
}

// locks serialise the resizes of each cluster, so that two of them never overshoot. A
// lock is the cluster's state in memory only, keyed by the entity (a restarted server
// has new entities, and new locks); Destroy forgets it.
var locks sync.Map // *entities.Entity -> *sync.Mutex

func lockOf(e *entities.Entity) *sync.Mutex {
	v, _ := locks.LoadOrStore(e, new(sync.Mutex))
	return v.(*sync.Mutex)
}

// active says whether the cluster is started or starting: only then do resizes make and
// start members.
func active(e *entities.Entity) bool {
	x := e.Expected()
	return x == entities.Starting || x == entities.Running
}

// Resize brings cluster e to n members, in the task of ctx, and returns its size. It
// grows by making members from the member spec and starting them in parallel, and
// shrinks by removing members as the removal strategy says. A member that fails to start
// is quarantined (or removed): the error says how many failed, and the cluster is left
// consistent, smaller than asked. Beyond cluster.max.size it grows to the maximum and
// returns an error wrapping locations.ErrNoCapacity. A cluster that is not running only
// records n, for its next start.
func Resize(ctx context.Context, e *entities.Entity, n int) (int, error) {
	if err := isCluster(e); err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("resize %s to %d: %w", e, n, entities.ErrInvalid)
	}
	mu := lockOf(e)
	mu.Lock()
	defer mu.Unlock()
	_, err := resizeLocked(ctx, e, n)
	return len(e.Members()), err
}

// ResizeByDelta changes the size of cluster e by delta (not below zero) and returns the
// ids of the members it added or removed.
func ResizeByDelta(ctx context.Context, e *entities.Entity, delta int) ([]string, error) {
	if err := isCluster(e); err != nil {
		return nil, err
	}
	mu := lockOf(e)
	mu.Lock()
	defer mu.Unlock()
	r, err := resizeLocked(ctx, e, max(len(e.Members())+delta, 0))
	ids := make([]string, 0, len(r.added)+len(r.removed))
	for _, m := range append(r.added, r.removed...) {
		ids = append(ids, m.ID())
	}
	return ids, err
}

func resizeLocked(ctx context.Context, e *entities.Entity, n int) (report, error) {
	if !active(e) {
		target, _ := Target(n, maxSize(e))
		e.SetAttribute(SensorDesiredSize, target)
		entities.Logf(ctx, "%s is %s: size %d recorded for its next start", e, e.Expected(), target)
		return report{}, nil
	}
	return converge(ctx, e, n, false)
}

// ReplaceMember starts a new member of cluster e, then removes the member with id
// memberID, and returns the new member's id. When the new member fails to start, the
// old one stays.
func ReplaceMember(ctx context.Context, e *entities.Entity, memberID string) (string, error) {
	if err := isCluster(e); err != nil {
		return "", err
	}
	mu := lockOf(e)
	mu.Lock()
	defer mu.Unlock()
	old, err := e.Management().Entity(memberID)
	if err != nil || !e.HasMember(old) {
		return "", fmt.Errorf("%s has no member %q: %w", e, memberID, entities.ErrNotFound)
	}
	if !active(e) {
		return "", fmt.Errorf("replace %s: %s is %s: %w", old, e, e.Expected(), entities.ErrInvalid)
	}
	e.SetAttribute(SensorReplacing, old.ID())
	defer e.SetAttribute(SensorReplacing, nil)
	added, failed, err := grow(ctx, e, 1)
	if err == nil && len(failed) > 0 {
		err = failed[0]
	}
	if err != nil {
		return "", fmt.Errorf("in %s, no replacement for %s started; it stays: %w", e, old, err)
	}
	if err := removeMembers(ctx, e, []*entities.Entity{old}); err != nil {
		return added[0].ID(), fmt.Errorf("in %s, %s replaced %s, which could not be removed: %w", e, added[0], old, err)
	}
	syncFirst(e)
	return added[0].ID(), nil
}

func isCluster(e *entities.Entity) error {
	if e.Type().Name != ClusterType {
		return fmt.Errorf("%s is a %s, not a cluster: %w", e, e.Type().Name, entities.ErrInvalid)
	}
	return nil
}

// startCluster is the kind's Start: the quarantine group is made, members that are not
// running (stopped with the cluster) start again, and the cluster is resized to the size
// last asked for (the initial size the first time).
func startCluster(ctx context.Context, e *entities.Entity) error {
	if _, err := ParseRemovalStrategy(e.ConfigString(KeyRemovalStrategy)); err != nil {
		return err
	}
	mu := lockOf(e)
	mu.Lock()
	defer mu.Unlock()
	n, err := desiredSize(e)
	if err != nil {
		return err
	}
	_, err = converge(ctx, e, n, true)
	return err
}

// desiredSize is the size last asked for, else the initial size.
func desiredSize(e *entities.Entity) (int, error) {
	if n, ok := attrInt(e, SensorDesiredSize); ok {
		return n, nil
	}
	n, err := configInt(e, KeyInitialSize, 1)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("%s of %s is %d: %w", KeyInitialSize, e, n, entities.ErrInvalid)
	}
	return n, nil
}

// stopCluster runs after the lifecycle stopped the children. A resize that was running
// may have started members since: once it ended, they are stopped too.
func stopCluster(ctx context.Context, e *entities.Entity) error {
	mu := lockOf(e)
	mu.Lock()
	defer mu.Unlock()
	var late []*entities.Entity
	for _, c := range e.Children() {
		if x := c.Expected(); x == entities.Starting || x == entities.Running {
			late = append(late, c)
		}
	}
	errs := parallel(ctx, e, late, "Stopping", func(ctx context.Context, c *entities.Entity) error {
		return e.Management().StopEntity(ctx, c)
	})
	return joinErrors(errs)
}

// rebindCluster finishes, after a server restart, what the restart cut short (see
// DecideRebind): the cluster's start, or a resize or replacement. Members whose start
// was cut short are started again, children left half made or half removed become
// members again, and the cluster is resized to its desired size, in a task of its own.
func rebindCluster(ctx context.Context, e *entities.Entity) error {
	st := RebindState{
		Expected: e.Expected(),
		Resizing: attrString(e, SensorReplacing) != "",
	}
	if v, _ := e.Attribute(SensorResizing); v == true {
		st.Resizing = true
	}
	q := existingQuarantine(e)
	for _, c := range e.Children() {
		switch {
		case c == q || (q != nil && q.HasMember(c)):
		case !e.HasMember(c):
			st.Strays++
		case halfStarted(c):
			st.HalfStarted++
		}
	}
	action := DecideRebind(st)
	if action == RebindNothing {
		return nil
	}
	// Members caught starting are on fire (the rebind marked them before any hook ran);
	// their start, run again by the task below, clears that.
	m := e.Management()
	m.Logger().Info("cluster finishes what a restart cut short", "entity", e.ID(), "action", action.String(),
		"halfStarted", st.HalfStarted, "strays", st.Strays, "resizing", st.Resizing)
	var err error
	switch action {
	case RebindStart:
		_, err = m.Invoke(ctx, e, "start", nil)
	case RebindResize:
		var n int
		if n, err = desiredSize(e); err == nil {
			_, err = m.Invoke(ctx, e, "resize", map[string]any{"desiredSize": n})
		}
	}
	return err
}

// halfStarted says whether a member's start had not ended: made and never started, or
// caught starting.
func halfStarted(c *entities.Entity) bool {
	switch c.Expected() {
	case "", entities.Created, entities.Starting:
		return true
	}
	return false
}

func destroyCluster(_ context.Context, e *entities.Entity) error {
	locks.Delete(e)
	return nil
}

// maxSize is cluster.max.size, or -1 for no limit (unset, or not a number).
func maxSize(e *entities.Entity) int {
	n, err := configInt(e, KeyMaxSize, -1)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// syncFirst keeps cluster.first on a member: the first one, when the one it named left.
func syncFirst(e *entities.Entity) {
	members := e.Members()
	cur := attrString(e, sensors.ClusterFirst)
	for _, m := range members {
		if m.ID() == cur {
			return
		}
	}
	if len(members) == 0 {
		e.SetAttribute(sensors.ClusterFirst, nil)
		return
	}
	e.SetAttribute(sensors.ClusterFirst, members[0].ID())
}
