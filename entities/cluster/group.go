package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// Config keys of DynamicGroup.
const (
	// KeyEntityFilter is Brooklyn's name for the filter; Gantry's is an expr-lang
	// condition over the environment of sensors.Env (id, name, type, config, sensors ...).
	KeyEntityFilter = "dynamicgroup.entityfilter"
	// KeyScope says where the members are looked for: "application" (the group's own,
	// the default) or "all" (every application of the server).
	KeyScope = "dynamicgroup.scope"
)

// Scopes of a DynamicGroup.
const (
	ScopeApplication = "application"
	ScopeAll         = "all"
)

// trackFeed names the feed that keeps a DynamicGroup's members (and a
// ControlledDynamicWebAppCluster's view) up to date: a subscription to the bus, which
// ends when the entity stops or is unmanaged.
const trackFeed = "members"

// trackPeriod is the period StartFeed is given for a feed that runs once, until it is
// stopped: it is never reached.
const trackPeriod = 24 * time.Hour

func groupSensors() []entities.SensorType {
	return []entities.SensorType{
		{Name: sensors.GroupMembers, Type: "java.util.Collection", Description: "Ids of the members"},
		{Name: sensors.GroupMembersCount, Type: "java.lang.Integer", Description: "Number of members"},
	}
}

func init() {
	entities.Register(&entities.Type{
		Name:        BasicGroupType,
		Aliases:     []string{"group", "BasicGroup"},
		Description: "A group of entities anywhere in the server, added and removed with the addMember and removeMember effectors; up while one member is",
		Group:       true,
		Sensors:     groupSensors(),
		Effectors: []entities.Effector{
			{Name: "addMember", Description: "Make an entity a member; returns false when it already was one", ReturnType: "java.lang.Boolean",
				Params: []entities.Param{{Name: "memberId", Type: "java.lang.String", Description: "The entity's id"}},
				Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
					m, err := memberParam(e, p)
					if err != nil {
						return nil, err
					}
					if m == e {
						return nil, fmt.Errorf("%s cannot be a member of itself: %w", e, entities.ErrInvalid)
					}
					return e.AddMember(m), nil
				}},
			{Name: "removeMember", Description: "Remove a member; returns false when it was not one", ReturnType: "java.lang.Boolean",
				Params: []entities.Param{{Name: "memberId", Type: "java.lang.String", Description: "The entity's id"}},
				Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
					m, err := memberParam(e, p)
					if err != nil {
						return nil, err
					}
					return e.RemoveMember(m), nil
				}},
		},
	})
	entities.Register(&entities.Type{
		Name:        DynamicGroupType,
		Aliases:     []string{"dynamic-group", "DynamicGroup"},
		Description: "A group whose members are the entities an expr-lang filter accepts, kept up to date as their sensors change",
		Group:       true,
		Config: []entities.ConfigKey{
			{Name: KeyEntityFilter, Aliases: []string{"entityFilter"}, Type: "string",
				Description: `expr-lang condition an entity must meet to be a member, over id, name, type, catalogItemId, parent, app, tags, config and sensors, e.g. sensors["service.isUp"] == true && config.role == "web"`},
			{Name: KeyScope, Aliases: []string{"scope"}, Type: "string", Default: ScopeApplication,
				Description: "Where members are looked for: application (the group's) or all (every application)"},
		},
		Sensors: groupSensors(),
		Effectors: []entities.Effector{
			{Name: "rescanEntities", Description: "Evaluate the filter again over every entity in scope (after changing it)", ReturnType: "void",
				Run: func(ctx context.Context, e *entities.Entity, _ map[string]any) (any, error) {
					return nil, track(ctx, e)
				}},
		},
		Start: track,
		Rebind: func(ctx context.Context, e *entities.Entity) error {
			if e.Expected() != entities.Running {
				return nil
			}
			return track(ctx, e)
		},
	})
}

// memberParam finds the entity named by the memberId parameter, in any application.
func memberParam(e *entities.Entity, p map[string]any) (*entities.Entity, error) {
	id, err := stringParam(p, "memberId")
	if err != nil {
		return nil, err
	}
	return e.Management().Entity(id)
}

// tracker keeps a DynamicGroup's members: the entities in scope that its filter accepts.
type tracker struct {
	g      *entities.Entity
	filter *sensors.Expression // nil: no filter, no members (as in Brooklyn)
	all    bool
	// skip are the group and its ancestors, never members (an application that were a
	// member of its own group would take its state from itself).
	skip map[string]bool

	mu sync.Mutex // one evaluation at a time, so that the last one reads the newest state
}

func newTracker(g *entities.Entity) (*tracker, error) {
	t := &tracker{g: g, skip: map[string]bool{}}
	if src := strings.TrimSpace(g.ConfigString(KeyEntityFilter)); src != "" {
		x, err := sensors.Compile(src)
		if err != nil {
			return nil, fmt.Errorf("%s of %s: %w", KeyEntityFilter, g, err)
		}
		t.filter = x
	}
	switch s := strings.ToLower(strings.TrimSpace(g.ConfigString(KeyScope))); s {
	case "", ScopeApplication:
	case ScopeAll:
		t.all = true
	default:
		return nil, fmt.Errorf("%s of %s is %q: use %s or %s: %w", KeyScope, g, s, ScopeApplication, ScopeAll, entities.ErrInvalid)
	}
	for x := g; x != nil; x = x.Parent() {
		t.skip[x.ID()] = true
	}
	return t, nil
}

// track starts (again) keeping group g's members: it subscribes to the sensor events of
// the entities in scope, then evaluates every one of them, before it returns.
func track(ctx context.Context, g *entities.Entity) error {
	t, err := newTracker(g)
	if err != nil {
		return err
	}
	m := g.Management()
	if t.filter == nil {
		m.StartFeed(g, trackFeed, trackPeriod, func(context.Context) {}) // ends an earlier subscription
		t.scan()
		entities.Logf(ctx, "%s has no %s: no members", g, KeyEntityFilter)
		return nil
	}
	subscribed := make(chan struct{})
	m.StartFeed(g, trackFeed, trackPeriod, func(fctx context.Context) {
		cancel := m.Bus().Subscribe(t.accepts, t.onEvent)
		defer cancel()
		select {
		case <-subscribed:
		default:
			close(subscribed)
		}
		<-fctx.Done()
	})
	select {
	case <-subscribed:
	case <-ctx.Done():
		return ctx.Err()
	}
	n := t.scan()
	entities.Logf(ctx, "filter %s: %d members", t.filter, n)
	return nil
}

// accepts keeps the events of entities in scope, other than the group and its ancestors.
func (t *tracker) accepts(ev sensors.Event) bool {
	if t.skip[ev.Entity] {
		return false
	}
	return t.all || ev.App == t.g.Application().ID()
}

// onEvent evaluates again the entity whose sensor changed, and only that one. A new
// entity publishes its first state at once, so it is evaluated as soon as it exists; one
// that is unmanaged leaves its groups by itself, and publishes DESTROYED last.
func (t *tracker) onEvent(ev sensors.Event) {
	x, err := t.g.Management().Entity(ev.Entity)
	if err != nil {
		// Forgotten: it left its groups, unless an evaluation running meanwhile put it
		// back; its last event (DESTROYED) takes it out for good.
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, m := range t.g.Members() {
			if m.ID() == ev.Entity {
				t.g.RemoveMember(m)
			}
		}
		return
	}
	t.evaluate(x)
}

// evaluate makes x a member when the filter accepts it, and not one otherwise. An entity
// being unmanaged is never (again) a member.
func (t *tracker) evaluate(x *entities.Entity) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.skip[x.ID()] || x.Expected() == entities.Destroyed {
		t.g.RemoveMember(x)
		return
	}
	if t.filter == nil {
		t.g.RemoveMember(x)
		return
	}
	ok, err := t.filter.EvalBool(exprEnv(x))
	if err != nil {
		t.g.Management().Logger().Debug("dynamic group filter failed; not a member", "entity", t.g.ID(), "candidate", x.ID(), "err", err)
		ok = false
	}
	if !ok {
		t.g.RemoveMember(x)
		return
	}
	if t.g.AddMember(x) && x.Expected() == entities.Destroyed {
		t.g.RemoveMember(x) // unmanaged while it was evaluated
	}
}

// scan evaluates every entity in scope, drops members that are not in scope any more,
// and returns the number of members.
func (t *tracker) scan() int {
	m := t.g.Management()
	var apps []*entities.Entity
	if t.all {
		apps = m.Applications()
	} else {
		apps = []*entities.Entity{t.g.Application()}
	}
	seen := map[*entities.Entity]bool{}
	for _, a := range apps {
		for _, x := range a.Descendants() {
			seen[x] = true
			t.evaluate(x)
		}
	}
	for _, x := range t.g.Members() {
		if !seen[x] {
			t.g.RemoveMember(x)
		}
	}
	return len(t.g.Members())
}

// exprEnv is what a filter knows of an entity (sensors.Env).
func exprEnv(x *entities.Entity) map[string]any {
	parent := ""
	if p := x.Parent(); p != nil {
		parent = p.ID()
	}
	return sensors.Env{
		ID: x.ID(), Name: x.Name(), Type: x.Type().Name, CatalogItemID: x.CatalogItemID(),
		Parent: parent, App: x.Application().ID(), Tags: x.Tags(),
		Config: x.EffectiveConfig(), Sensors: x.Attributes(),
	}.Map()
}
