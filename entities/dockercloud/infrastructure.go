package dockercloud

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/container"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/placement"
	"github.com/gantry-dev/gantry/sensors"
)

// watchFeed is the name of the infrastructure's feed that follows its hosts' events.
const watchFeed = "docker.cloud.events"

// cloudOf returns the cloud of an infrastructure, registered in its server's locations.
func cloudOf(infra *entities.Entity) (*Cloud, error) {
	id, _ := attr(infra, SensorLocation).(string)
	if id == "" {
		id = LocationID(infra.ConfigString(KeyCloudName))
	}
	l, err := infra.Management().Locations().Get(id)
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w: %w", id, infra, errNoCloud, err)
	}
	c, ok := l.(*Cloud)
	if !ok || c.infra != infra {
		return nil, fmt.Errorf("location %s is not the cloud of %s: %w", id, infra, errNoCloud)
	}
	return c, nil
}

// CloudOf returns the Docker cloud location of an infrastructure entity.
func CloudOf(infra *entities.Entity) (*Cloud, error) { return cloudOf(infra) }

// chainOf compiles the infrastructure's placement chain.
func chainOf(e *entities.Entity) (*placement.Chain, error) {
	v, _ := e.Config(KeyStrategies)
	st, err := placement.ParseStrategies(v)
	if err != nil {
		return nil, kindError(e, KeyStrategies, fmt.Errorf("%w (%w)", err, entities.ErrInvalid))
	}
	ch, err := placement.Compile(st)
	if err != nil {
		return nil, kindError(e, KeyStrategies, fmt.Errorf("%w (%w)", err, entities.ErrInvalid))
	}
	return ch, nil
}

// registerCloud registers the cloud of infra under docker-cloud:<name>, and the named
// location <name>, in its server's locations; it returns the cloud already there when
// this infrastructure registered it.
func registerCloud(e *entities.Entity, name string, chain *placement.Chain) (*Cloud, error) {
	if strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t\n:()") {
		return nil, kindError(e, KeyCloudName, fmt.Errorf("%q: a name without spaces, ':' or parentheses: %w", name, entities.ErrInvalid))
	}
	reg := e.Management().Locations()
	// docker-cloud:<name> of a cloud that does not run says so, rather than that there
	// is no provider of that kind (the provider is added once per registry: a second
	// AddProvider is refused, which is fine).
	_ = reg.AddProvider(Kind, func(_ context.Context, def locations.Definition, _ locations.SaveFunc) (locations.Location, error) {
		name := strings.TrimPrefix(def.Spec, Kind+":")
		return nil, fmt.Errorf("no Docker cloud %q runs on this server: deploy a docker-infrastructure with %s: %s first: %w",
			name, KeyCloudName, name, locations.ErrNotFound)
	})
	id := LocationID(name)
	if l, err := reg.Get(id); err == nil {
		c, ok := l.(*Cloud)
		switch {
		case ok && c.infra == e:
			c.mu.Lock()
			c.chain = chain
			c.mu.Unlock()
			return c, nil
		case ok && c.infra.ID() == e.ID():
			// The same infrastructure, loaded again (a Management opened again on the
			// same registry): the new entity takes over.
			_ = reg.Remove(id)
		default:
			return nil, kindError(e, KeyCloudName, fmt.Errorf("a location %s exists already (%s): give the cloud another name: %w", id, l.DisplayName(), entities.ErrConflict))
		}
	}
	c := newCloud(e.Management(), e, name, chain)
	if err := reg.Add(c); err != nil {
		return nil, err
	}
	named := true
	for _, n := range reg.NamedLocations() {
		if n.Name == name && n.Spec != "id:"+id {
			named = false
			e.Management().Logger().Warn("a named location has the Docker cloud's name: named:"+name+" stays what it was; use "+id,
				"entity", e.ID(), "spec", n.Spec)
		}
	}
	if named {
		if err := reg.AddNamed(name, "id:"+id, nil); err != nil {
			return nil, err
		}
	}
	e.SetAttribute(SensorLocation, id)
	return c, nil
}

// checkHeadroom reads the headroom config: a count or a percentage, not both.
func checkHeadroom(e *entities.Entity) (bool, error) {
	count, hasCount := e.Config(KeyHeadroomCount)
	pct, hasPct := e.Config(KeyHeadroomPercent)
	hasCount = hasCount && count != nil && count != ""
	hasPct = hasPct && pct != nil && pct != ""
	if hasCount && hasPct {
		return false, kindError(e, KeyHeadroomCount, fmt.Errorf("give %s or %s, not both: %w", KeyHeadroomCount, KeyHeadroomPercent, entities.ErrInvalid))
	}
	return hasCount || hasPct, nil
}

// attachHeadroom adds the headroom policy when headroom is configured and the
// infrastructure has none yet.
func attachHeadroom(e *entities.Entity) error {
	want, err := checkHeadroom(e)
	if err != nil || !want {
		return err
	}
	for _, a := range e.Adjuncts() {
		if a.Kind().Name == HeadroomPolicyType {
			return nil
		}
	}
	cfg := map[string]any{}
	for _, k := range []string{KeyHeadroomCount, KeyHeadroomPercent, KeyUpDelay, KeyDownDelay, KeyRemoveEmpty, KeyRetryDelay} {
		if v, ok := e.Config(k); ok && v != nil && v != "" {
			cfg[k] = v
		}
	}
	if _, err := e.Management().AddAdjunct(e, entities.AdjunctSpec{Type: HeadroomPolicyType, Name: "headroom", Config: cfg}); err != nil {
		return fmt.Errorf("attach the headroom policy to %s (is package policies part of this server?): %w", e, err)
	}
	return nil
}

func startInfrastructure(ctx context.Context, e *entities.Entity) error {
	chain, err := chainOf(e)
	if err != nil {
		return err
	}
	initial, _, err := endpointsOf(e)
	if err != nil {
		return err
	}
	if _, err := checkHeadroom(e); err != nil {
		return err
	}
	if spec, ok := e.EntitySpec(KeyHostSpec); ok {
		if err := checkHostSpec(spec); err != nil {
			return kindError(e, KeyHostSpec, err)
		}
	}
	c, err := registerCloud(e, e.ConfigString(KeyCloudName), chain)
	if err != nil {
		return err
	}
	entities.Logf(ctx, "location %s registered (also named:%s)", c.ID(), c.name)
	c.mu.Lock()
	c.stopped = false
	c.mu.Unlock()
	e.SetAttribute(sensors.DockerHostsMinSize, len(initial))
	e.SetAttribute(sensors.DockerHostAdding, false)

	used := map[string]int{}
	for _, h := range hostsOf(e) {
		used[hostKey(h)]++
	}
	seen := map[string]bool{}
	for _, ep := range initial {
		if takenBy(ep, used, seen) {
			continue
		}
		if _, err := newHost(ctx, e, ep); err != nil {
			return err
		}
	}
	errs := startHosts(ctx, e, hostsOf(e))
	c.publish()
	startWatch(e, c)
	if err := attachHeadroom(e); err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d hosts did not start: %w", len(errs), len(hostsOf(e)), errors.Join(errs...))
	}
	return nil
}

// startHosts starts the hosts that do not run, in parallel, each as a subtask.
func startHosts(ctx context.Context, e *entities.Entity, hosts []*entities.Entity) []error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, h := range hosts {
		if h.Expected() == entities.Running && h.IsUp() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := entities.StepOn(ctx, h, "Starting "+h.Name(), func(ctx context.Context) error {
				return e.Management().StartEntity(ctx, h)
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// startWatch follows the events of the cloud's containers (all hosts fanned in), as the
// server does for its engines, until the infrastructure stops.
func startWatch(e *entities.Entity, c *Cloud) {
	m := e.Management()
	m.StartFeed(e, watchFeed, 0, func(ctx context.Context) {
		for ctx.Err() == nil {
			if err := container.Watch(ctx, m, c); err != nil && ctx.Err() == nil {
				m.Logger().Warn("watching the Docker cloud's events", "entity", e.ID(), "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	})
}

// checkHostSpec checks that docker.host.spec makes a docker-host.
func checkHostSpec(spec *entities.Spec) error {
	t, err := entities.LookupType(spec.Type)
	if err != nil {
		return err
	}
	if t.Name != HostType {
		return fmt.Errorf("the spec of the hosts is a %s, not a %s: %w", t.Name, HostType, entities.ErrInvalid)
	}
	return nil
}

// newHost makes (does not start) the host of an endpoint, a member of the infrastructure.
func newHost(ctx context.Context, e *entities.Entity, ep endpoint) (*entities.Entity, error) {
	n := 1
	if f, ok := sensors.Number(attr(e, SensorNextHostID)); ok {
		n = int(f)
	}
	e.SetAttribute(SensorNextHostID, n+1)
	spec := &entities.Spec{Type: HostType}
	if hs, ok := e.EntitySpec(KeyHostSpec); ok {
		cp := *hs
		cp.Config = maps.Clone(hs.Config)
		spec = &cp
	}
	if spec.Config == nil {
		spec.Config = map[string]any{}
	}
	maps.Copy(spec.Config, ep.Config)
	if loc, _ := ep.Config[KeyHostLocation].(string); loc != "" {
		// A host made on a machine of the entry's location.
		l, err := e.Management().Locations().ResolveContext(ctx, loc, nil)
		if err != nil {
			return nil, kindError(e, KeyHosts, fmt.Errorf("location %s: %w", loc, err))
		}
		spec.Locations = []string{l.ID()}
	}
	switch {
	case ep.Name != "":
		spec.Name = ep.Name
	case spec.Name != "":
		spec.Name = fmt.Sprintf("%s-%d", spec.Name, n)
	default:
		spec.Name = fmt.Sprintf("docker-host-%d", n)
	}
	h, err := e.Management().AddChild(ctx, e, spec)
	if err != nil {
		return nil, err
	}
	e.AddMember(h)
	return h, nil
}

// addHost adds a host to the infrastructure and starts it: at the given endpoint, else
// at the next unused one. A host that fails to start is removed again (it holds
// nothing), and its endpoint is left out for docker.hosts.pool.retryAfter.
func addHost(ctx context.Context, e *entities.Entity, given string) (string, error) {
	c, err := cloudOf(e)
	if err != nil {
		return "", err
	}
	c.hostsMu.Lock()
	defer c.hostsMu.Unlock()
	if x := e.Expected(); x != entities.Running && x != entities.Starting {
		return "", fmt.Errorf("%s is %s: start it to add hosts: %w", e, x, entities.ErrInvalid)
	}
	var ep endpoint
	if given != "" {
		if err := checkEndpoint(given); err != nil {
			return "", err
		}
		for _, h := range hostsOf(e) {
			if h.ConfigString(KeyEndpoint) == given {
				return "", fmt.Errorf("%s is the endpoint of %s already: %w", given, h.Name(), entities.ErrConflict)
			}
		}
		ep = endpoint{Endpoint: given, Config: map[string]any{KeyEndpoint: given}}
		initial, pool, _ := endpointsOf(e)
		for _, x := range append(initial, pool...) {
			if x.Endpoint == given {
				ep = x
				break
			}
		}
	} else {
		free, failed, err := freeEndpoints(e, time.Now())
		if err != nil {
			return "", err
		}
		if len(free) == 0 {
			why := fmt.Sprintf("%s has no unused endpoint", KeyHostsPool)
			if len(failed) > 0 {
				why += " that works (failed recently: " + strings.Join(failed, "; ") + ")"
			}
			return "", fmt.Errorf("add a host to %s: %s: %w", e, why, locations.ErrNoCapacity)
		}
		ep = free[0]
	}
	e.SetAttribute(sensors.DockerHostAdding, true)
	defer func() {
		e.SetAttribute(sensors.DockerHostAdding, false)
		c.notify()
		c.publish()
	}()
	entities.Logf(ctx, "adding a host at %s", ep.Endpoint)
	h, err := newHost(ctx, e, ep)
	if err != nil {
		return "", err
	}
	err = entities.StepOn(ctx, h, "Starting "+h.Name(), func(ctx context.Context) error {
		return e.Management().StartEntity(ctx, h)
	})
	if err != nil {
		setPoolFailure(e, ep.Endpoint, &poolFailure{Reason: firstLine(err.Error()), Time: time.Now().UnixMilli()})
		if rerr := e.Management().RemoveChild(context.WithoutCancel(ctx), h); rerr != nil {
			entities.Logf(ctx, "the host that failed could not be removed: %v", rerr)
		}
		return "", fmt.Errorf("add a host at %s to %s: %w", ep.Endpoint, e, err)
	}
	setPoolFailure(e, ep.Endpoint, nil)
	entities.Logf(ctx, "%s runs at %s", h.Name(), ep.Endpoint)
	return h.ID(), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// removeHost removes an empty host. A host that holds containers is refused: its
// placements are checked under the cloud's lock, which also marks it draining so that
// nothing is placed on it meanwhile; then its engine is asked; then the host kind's
// Destroy checks both again.
func removeHost(ctx context.Context, e *entities.Entity, idOrName string) error {
	c, err := cloudOf(e)
	if err != nil {
		return err
	}
	c.hostsMu.Lock()
	defer c.hostsMu.Unlock()
	var h *entities.Entity
	for _, x := range hostsOf(e) {
		if x.ID() == idOrName || x.Name() == idOrName {
			h = x
		}
	}
	if h == nil {
		return fmt.Errorf("%s has no host %q: %w", e, idOrName, entities.ErrNotFound)
	}
	c.mu.Lock()
	var held []string
	for id, r := range c.placements {
		if r.Host == h.ID() {
			held = append(held, id)
		}
	}
	for id, r := range c.reserved {
		if r.Host == h.ID() {
			held = append(held, "(starting) "+id)
		}
	}
	if len(held) > 0 {
		c.mu.Unlock()
		return fmt.Errorf("%s holds %d container(s) (%s): only empty hosts are removed: %w", h.Name(), len(held), shortList(held), entities.ErrConflict)
	}
	c.draining[h.ID()] = true
	c.notifyLocked()
	c.mu.Unlock()
	c.publish()
	undrain := func() {
		c.mu.Lock()
		delete(c.draining, h.ID())
		c.notifyLocked()
		c.mu.Unlock()
		c.publish()
	}
	if claimed := claimedOn(ctx, h); len(claimed) > 0 {
		undrain()
		return fmt.Errorf("%s runs %d container(s) of this server's entities (%s): only empty hosts are removed: %w", h.Name(), len(claimed), shortList(claimed), entities.ErrConflict)
	}
	entities.Logf(ctx, "removing %s (%s): it is empty", h.Name(), endpointOf(h))
	if err := e.Management().RemoveChild(ctx, h); err != nil {
		undrain()
		// It was stopped before its release was refused: it runs again.
		if serr := e.Management().StartEntity(ctx, h); serr != nil {
			entities.Logf(ctx, "%s could not be started again: %v", h.Name(), serr)
		}
		return err
	}
	undrain()
	return nil
}

func stopInfrastructure(_ context.Context, e *entities.Entity) error {
	if c, err := cloudOf(e); err == nil {
		c.mu.Lock()
		c.stopped = true
		c.notifyLocked()
		c.mu.Unlock()
		c.publish()
	}
	return nil
}

// rebindInfrastructure registers the cloud again, learns its placements from the hosts'
// engines (nothing is made or removed) and follows their events again.
func rebindInfrastructure(ctx context.Context, e *entities.Entity) error {
	id, _ := attr(e, SensorLocation).(string)
	if id == "" {
		return nil // never started
	}
	chain, err := chainOf(e)
	if err != nil {
		return err
	}
	c, err := registerCloud(e, strings.TrimPrefix(id, Kind+":"), chain)
	if err != nil {
		return err
	}
	running := e.Expected() == entities.Running
	c.mu.Lock()
	c.stopped = !running
	c.mu.Unlock()
	e.SetAttribute(sensors.DockerHostAdding, false)
	// A host made and not yet a member when the server stopped is one.
	for _, ch := range e.Children() {
		if ch.Type().Name == HostType && !e.HasMember(ch) {
			e.AddMember(ch)
		}
	}
	c.relearn(ctx)
	c.publish()
	if running {
		startWatch(e, c)
		for _, h := range hostsOf(e) {
			if x := h.Expected(); x == entities.Starting || x == entities.Created {
				// Its start was cut short: start it again (it makes nothing twice).
				if _, err := e.Management().Invoke(ctx, h, "start", nil); err != nil {
					e.Management().Logger().Warn("start a host again after a restart", "host", h.ID(), "err", err)
				}
			}
		}
	}
	return nil
}

func destroyInfrastructure(_ context.Context, e *entities.Entity) error {
	c, err := cloudOf(e)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	n := len(c.placements) + len(c.reserved)
	c.mu.Unlock()
	if n > 0 {
		return fmt.Errorf("%s holds %d container(s) of other applications: unmanage them first: %w", c.id, n, entities.ErrConflict)
	}
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	return e.Management().Locations().Remove(c.id)
}

// relearn makes the cloud's placements what the hosts' engines hold: the containers of
// this server whose entities run on this cloud, with what was recorded of them. A host
// whose engine does not answer keeps what was recorded for it.
func (c *Cloud) relearn(ctx context.Context) {
	recorded := decodePlacements(attr(c.infra, SensorPlacements))
	learnt := map[string]*record{}
	log := c.m.Logger().With("entity", c.infra.ID(), "location", c.id)
	for _, h := range hostsOf(c.infra) {
		eng, err := engineOf(ctx, h)
		var cs []*locations.Container
		if err == nil {
			cs, err = eng.ListContainers(ctx, map[string]string{container.LabelServer: c.m.ServerID()})
		}
		if err != nil {
			kept := 0
			for id, r := range recorded {
				if r.Host == h.ID() {
					learnt[id] = r
					kept++
				}
			}
			log.Warn("Docker host does not answer: its recorded placements are kept", "host", h.ID(), "kept", kept, "err", err)
			continue
		}
		for _, ct := range cs {
			if _, done := learnt[ct.ID]; done {
				continue // one engine behind two endpoints
			}
			if r, ok := recorded[ct.ID]; ok {
				if r.Host == h.ID() {
					learnt[ct.ID] = r
				}
				continue
			}
			if r, ok := c.claimed(h, ct); ok {
				learnt[ct.ID] = r
				log.Info("container of the cloud found on a host without a record: placement learnt", "host", h.ID(), "container", ct.ID, "entity", r.Entity)
			}
		}
	}
	gone := 0
	for id := range recorded {
		if _, ok := learnt[id]; !ok {
			gone++
		}
	}
	c.mu.Lock()
	c.placements = learnt
	c.notifyLocked()
	c.mu.Unlock()
	log.Info("Docker cloud placements learnt from the hosts", "containers", len(learnt), "recorded", len(recorded), "gone", gone)
}

// decodePlacements reads the placements sensor, as set (Go values) or loaded (JSON).
func decodePlacements(v any) map[string]*record {
	out := map[string]*record{}
	m, _ := v.(map[string]any)
	for id, x := range m {
		f, _ := x.(map[string]any)
		if f == nil {
			continue
		}
		r := &record{ID: id}
		r.Host, _ = f["host"].(string)
		r.Entity, _ = f["entity"].(string)
		r.App, _ = f["app"].(string)
		r.Name, _ = f["name"].(string)
		if n, ok := sensors.Number(f["cpus"]); ok {
			r.CPUs = n
		}
		if n, ok := sensors.Number(f["memory"]); ok {
			r.Memory = int64(n)
		}
		if l, ok := f["labels"].(map[string]any); ok {
			r.Labels = make(map[string]string, len(l))
			for k, x := range l {
				r.Labels[k] = fmt.Sprint(x)
			}
		}
		if r.Host != "" {
			out[id] = r
		}
	}
	return out
}
