package entities

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/sensors"
)

// Groups. Any entity can have members (Brooklyn's Group): entities of any application
// tree, which stay where they are in it. A cluster's members are also its children; a
// BasicGroup's or DynamicGroup's are elsewhere. Membership is persisted, and published as
// the sensors group.members (the members' ids) and group.members.count.
//
// A kind whose Type.Group is set takes its state from its members rather than its
// children, with Brooklyn's cluster quorum (aggregateMembers).

// Members returns the entity's members in the order they joined.
func (e *Entity) Members() []*Entity {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Clone(e.members)
}

// Groups returns the groups the entity is a member of.
func (e *Entity) Groups() []*Entity {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Clone(e.groups)
}

// HasMember says whether m is a member of e.
func (e *Entity) HasMember(m *Entity) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Contains(e.members, m)
}

// AddMember makes m a member of e; it returns false when it already was one.
func (e *Entity) AddMember(m *Entity) bool {
	e.mu.Lock()
	if slices.Contains(e.members, m) {
		e.mu.Unlock()
		return false
	}
	e.members = append(e.members, m)
	e.mu.Unlock()
	m.mu.Lock()
	m.groups = append(m.groups, e)
	m.mu.Unlock()
	e.membersChanged()
	return true
}

// RemoveMember removes m from e's members; it returns false when it was not one.
func (e *Entity) RemoveMember(m *Entity) bool {
	e.mu.Lock()
	i := slices.Index(e.members, m)
	if i < 0 {
		e.mu.Unlock()
		return false
	}
	e.members = slices.Delete(e.members, i, i+1)
	e.mu.Unlock()
	m.mu.Lock()
	m.groups = slices.DeleteFunc(m.groups, func(g *Entity) bool { return g == e })
	m.mu.Unlock()
	e.membersChanged()
	return true
}

// membersChanged publishes the group sensors and recomputes a group's state.
func (e *Entity) membersChanged() {
	members := e.Members()
	ids := make([]any, len(members))
	for i, m := range members {
		ids[i] = m.id
	}
	e.SetAttribute(sensors.GroupMembers, ids)
	e.SetAttribute(sensors.GroupMembersCount, len(members))
	if e.typ.Group {
		e.refreshChildren()
	}
}

// leaveGroups removes e from every group it is in, when it is forgotten.
func (e *Entity) leaveGroups() {
	for _, g := range e.Groups() {
		g.RemoveMember(e)
	}
	for _, m := range e.Members() {
		e.RemoveMember(m)
	}
}

// aggregateMembers decides a group's indicators from its members, with Brooklyn's
// cluster quorum (atLeastOneUnlessEmpty for both up and running): a group with no
// members is up; else it is not up when no member is up, and on fire when no member
// runs and some are on fire (members still starting are no problem yet).
func aggregateMembers(members []childSummary) (notUp, problem string) {
	if len(members) == 0 {
		return "", ""
	}
	var up, running, fire int
	var names []string
	for _, m := range members {
		if m.up {
			up++
		}
		switch m.state {
		case Running:
			running++
		case OnFire:
			fire++
		}
		names = append(names, m.name)
	}
	if up == 0 {
		notUp = describeMembers(names, "up")
	}
	if running == 0 && fire > 0 {
		problem = describeMembers(names, "running")
	}
	return notUp, problem
}

func describeMembers(names []string, what string) string {
	const show = 3
	list, more := names, ""
	if len(list) > show {
		list, more = list[:show], ", ..."
	}
	return fmt.Sprintf("none of the %d members is %s: %s%s", len(names), what, strings.Join(list, ", "), more)
}
