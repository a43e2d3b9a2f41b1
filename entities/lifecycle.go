package entities

import (
	"fmt"
	"strings"
)

// Lifecycle is the value of service.state and service.state.expected, spelled as Brooklyn
// sends them in JSON.
type Lifecycle string

const (
	Created   Lifecycle = "CREATED"
	Starting  Lifecycle = "STARTING"
	Running   Lifecycle = "RUNNING"
	Stopping  Lifecycle = "STOPPING"
	Stopped   Lifecycle = "STOPPED"
	Destroyed Lifecycle = "DESTROYED"
	OnFire    Lifecycle = "ON_FIRE"
)

// ComputeState is Brooklyn's service-state rule: what an entity is, given what it is
// expected to be, whether it is up, and how many problems it reports.
func ComputeState(expected Lifecycle, up bool, problems int) Lifecycle {
	switch expected {
	case Running:
		if problems > 0 || !up {
			return OnFire
		}
		return Running
	case Starting, Stopped:
		if problems > 0 {
			return OnFire
		}
		return expected
	case "":
		return Created
	default:
		return expected
	}
}

// Indicator keys this package sets in service.notUp.indicators and service.problems.
// Kinds add their own (the container kind uses "container").
const (
	indicatorLifecycle = "lifecycle"
	indicatorChildren  = "children"
	problemStart       = "start"
	problemStop        = "stop"
	problemRebind      = "rebind"
)

// childSummary is what a parent needs to know of one child to aggregate their state.
type childSummary struct {
	name  string
	up    bool
	state Lifecycle
}

// AggregateChildren decides the parent's children indicators: the not-up message (empty
// when every child is up) and the problem message (empty when no child is on fire).
// A parent with no children has nothing to say.
func aggregateChildren(children []childSummary) (notUp, problem string) {
	var down, fire []string
	for _, c := range children {
		if c.state == OnFire {
			fire = append(fire, c.name)
		}
		if !c.up {
			down = append(down, c.name)
		}
	}
	if len(down) > 0 {
		notUp = describe(down, len(children), "not up")
	}
	if len(fire) > 0 {
		problem = describe(fire, len(children), "on fire")
	}
	return notUp, problem
}

func describe(names []string, total int, what string) string {
	const show = 3
	list, more := names, ""
	if len(list) > show {
		list, more = list[:show], ", ..."
	}
	return fmt.Sprintf("%d of %d children %s: %s%s", len(names), total, what, strings.Join(list, ", "), more)
}
