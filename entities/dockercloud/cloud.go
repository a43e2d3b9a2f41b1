package dockercloud

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/container"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/placement"
	"github.com/gantry-dev/gantry/sensors"
)

// Cloud is the location of a Docker infrastructure: docker-cloud:<name>. It runs each
// container on the host the placement chain chooses, and routes every later operation on
// a container to the host that holds it. It is safe for concurrent use.
//
// What it knows in memory (placements, reservations) is mirrored in the infrastructure's
// sensors, and learnt again from the hosts' engines after a restart (relearn).
type Cloud struct {
	id, name string
	m        *entities.Management
	infra    *entities.Entity

	// hostsMu serialises the adding and removing of hosts.
	hostsMu sync.Mutex

	mu         sync.Mutex
	chain      *placement.Chain
	placements map[string]*record // by container id
	reserved   map[string]*record // by request id: a host chosen, its container not made yet
	draining   map[string]bool    // host ids being removed: they take no container
	changed    chan struct{}      // closed, and replaced, when placements or hosts change
	stopped    bool               // the infrastructure is stopped: nothing new is placed
	waiting    int                // containers waiting for a host
	growing    *entities.Task     // the addHost the cloud asked for, while it runs
}

var (
	_ locations.Location          = (*Cloud)(nil)
	_ locations.ContainerHost     = (*Cloud)(nil)
	_ locations.ContainerExecutor = (*Cloud)(nil)
	_ locations.ContainerStats    = (*Cloud)(nil)
	_ locations.NetworkHost       = (*Cloud)(nil)
)

// record is one container placed in the cloud: its host (entity id) and what placement
// counts of it.
type record struct {
	ID     string            `json:"-"`
	Host   string            `json:"host"`
	Entity string            `json:"entity,omitempty"`
	App    string            `json:"app,omitempty"`
	Name   string            `json:"name,omitempty"` // the container's name
	CPUs   float64           `json:"cpus,omitempty"`
	Memory int64             `json:"memory,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

func (r *record) placed() placement.Placed {
	return placement.Placed{ID: r.ID, App: r.App, Entity: r.Entity, CPUs: r.CPUs, MemoryBytes: r.Memory, Labels: r.Labels}
}

// LocationID is the id of the location of the cloud named name.
func LocationID(name string) string { return Kind + ":" + name }

func newCloud(m *entities.Management, infra *entities.Entity, name string, chain *placement.Chain) *Cloud {
	return &Cloud{
		id: LocationID(name), name: name, m: m, infra: infra, chain: chain,
		placements: map[string]*record{}, reserved: map[string]*record{}, draining: map[string]bool{},
		changed: make(chan struct{}),
	}
}

// ID is docker-cloud:<name>.
func (c *Cloud) ID() string { return c.id }

// Kind is "docker-cloud".
func (c *Cloud) Kind() string { return Kind }

// DisplayName names the cloud and its infrastructure.
func (c *Cloud) DisplayName() string {
	return fmt.Sprintf("Docker cloud %s (%s, %d hosts)", c.name, c.infra.ID(), len(hostsOf(c.infra)))
}

// Spec is docker-cloud:<name>, which resolves to this location.
func (c *Cloud) Spec() string { return c.id }

// Config shows the cloud's name, its infrastructure, its hosts' endpoints and its chain,
// and passes on the infrastructure's sdn.* keys.
func (c *Cloud) Config() map[string]any {
	var eps []any
	for _, h := range hostsOf(c.infra) {
		eps = append(eps, endpointOf(h))
	}
	c.mu.Lock()
	var chain []any
	for _, s := range c.chain.Strategies() {
		chain = append(chain, s.String())
	}
	n := len(c.placements)
	c.mu.Unlock()
	out := map[string]any{"name": c.name, "infrastructure": c.infra.ID(), "hosts": eps, "strategies": chain, "containers": n}
	// The infrastructure's sdn.* keys, for the virtual networks of the containers placed
	// here (entities/network reads a location's config for them).
	for k, v := range c.infra.EffectiveConfig() {
		if strings.HasPrefix(k, "sdn.") && v != nil {
			out[k] = v
		}
	}
	return out
}

// Infrastructure is the entity that manages the cloud.
func (c *Cloud) Infrastructure() *entities.Entity { return c.infra }

// notifyLocked wakes whoever waits for a change (a host, a freed slot). c.mu is held.
func (c *Cloud) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Cloud) notify() {
	c.mu.Lock()
	c.notifyLocked()
	c.mu.Unlock()
}

// request is what placement is asked for a container spec.
func (c *Cloud) request(spec locations.ContainerSpec) (placement.Request, error) {
	req := placement.Request{
		ID:          spec.Labels[container.LabelEntity],
		App:         spec.Labels[container.LabelApp],
		Entity:      spec.Labels[container.LabelEntity],
		Name:        spec.Name,
		CPUs:        spec.CPUs,
		MemoryBytes: spec.MemoryBytes,
		Labels:      maps.Clone(spec.Labels),
	}
	if req.ID == "" {
		req.ID = spec.Name
	}
	if req.ID == "" {
		req.ID = fmt.Sprintf("request-%d", time.Now().UnixNano())
	}
	if e, err := c.m.Entity(req.Entity); err == nil {
		req.Name = e.Name()
	}
	if len(spec.Strategies) > 0 {
		s, err := placement.ParseStrategies(spec.Strategies)
		if err != nil {
			return req, fmt.Errorf("%s of %s: %w (%w)", container.KeyStrategies, req.Name, err, locations.ErrInvalid)
		}
		req.Strategies = s
	}
	return req, nil
}

// hostsLocked is the hosts as placement sees them, with the containers placed and
// reserved on them. c.mu is held.
func (c *Cloud) hostsLocked() []placement.Host {
	hs := hostsOf(c.infra)
	byHost := map[string][]placement.Placed{}
	for _, r := range c.placements {
		byHost[r.Host] = append(byHost[r.Host], r.placed())
	}
	for _, r := range c.reserved {
		byHost[r.Host] = append(byHost[r.Host], r.placed())
	}
	out := make([]placement.Host, 0, len(hs))
	for _, h := range hs {
		v := hostView(h)
		v.Up = v.Up && !c.draining[h.ID()]
		v.Containers = byHost[h.ID()]
		slices.SortFunc(v.Containers, func(a, b placement.Placed) int { return strings.Compare(a.ID, b.ID) })
		out = append(out, v)
	}
	return out
}

// hostView is a host as placement sees it, without its containers.
func hostView(h *entities.Entity) placement.Host {
	v := placement.Host{ID: h.ID(), Name: h.Name()}
	v.Up = h.Expected() == entities.Running && h.IsUp()
	if n, ok := sensors.Number(attr(h, SensorCPUs)); ok {
		v.CPUs = n
	}
	if n, ok := sensors.Number(attr(h, sensors.MachineMemoryTotal)); ok {
		v.MemoryBytes = int64(n)
	}
	if l, ok := h.OwnConfig()[KeyHostLabels].(map[string]any); ok {
		v.Labels = make(map[string]string, len(l))
		for k, x := range l {
			v.Labels[k] = fmt.Sprint(x)
		}
	}
	if s, ok := h.OwnConfig()[KeyStrategies]; ok && s != nil {
		// Checked when the host was made; a host whose filters became invalid takes nothing.
		st, err := placement.ParseStrategies(s)
		if err != nil {
			v.Up = false
		}
		v.Strategies = st
	}
	return v
}

func attr(e *entities.Entity, name string) any {
	v, _ := e.Attribute(name)
	return v
}

// RunContainer places the container on a host and runs it there. When no host fits, it
// waits for one to be added, up to docker.container.placementTimeout; when none can come
// the error names the constraints that failed and wraps locations.ErrNoCapacity.
func (c *Cloud) RunContainer(ctx context.Context, spec locations.ContainerSpec) (*locations.Container, error) {
	req, err := c.request(spec)
	if err != nil {
		return nil, err
	}
	r, err := c.place(ctx, req, spec.Name)
	if err != nil {
		return nil, err
	}
	host, err := c.m.Entity(r.Host)
	var ct *locations.Container
	if err == nil {
		var eng engine
		if eng, err = engineOf(ctx, host); err == nil {
			if err = c.networkFor(ctx, host, eng, spec); err == nil {
				ct, err = eng.RunContainer(ctx, spec)
			}
		}
	}
	c.mu.Lock()
	delete(c.reserved, req.ID)
	if err == nil {
		r.ID = ct.ID
		c.placements[ct.ID] = r
	}
	c.notifyLocked()
	c.mu.Unlock()
	c.publish()
	if err != nil {
		return nil, fmt.Errorf("on %s: %w", hostName(host, r.Host), err)
	}
	return ct, nil
}

func hostName(h *entities.Entity, id string) string {
	if h == nil {
		return "host " + id
	}
	return h.Name() + " (" + endpointOf(h) + ")"
}

// place chooses a host for req and reserves a slot on it. It waits for a host when none
// fits and one can be added.
func (c *Cloud) place(ctx context.Context, req placement.Request, name string) (*record, error) {
	timeout := c.infra.ConfigDuration(KeyPlacementTimeout, DefaultPlacementTimeout)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	waiting := false
	defer func() {
		if waiting {
			c.mu.Lock()
			c.waiting--
			c.mu.Unlock()
			c.publish()
		}
	}()
	started := time.Now()
	for {
		c.mu.Lock()
		if c.stopped {
			c.mu.Unlock()
			return nil, fmt.Errorf("%s is stopped (its infrastructure %s is %s): start it to place containers: %w", c.id, c.infra.Name(), c.infra.Expected(), locations.ErrUnavailable)
		}
		hosts := c.hostsLocked()
		chosen, reasons, err := c.decideLocked(hosts, req)
		if err == nil {
			r := &record{Host: chosen, Entity: req.Entity, App: req.App, Name: name, CPUs: req.CPUs, Memory: req.MemoryBytes, Labels: req.Labels}
			c.reserved[req.ID] = r
			c.notifyLocked()
			c.mu.Unlock()
			c.publish()
			if h, err := c.m.Entity(chosen); err == nil {
				entities.Logf(ctx, "placed on %s: %s", hostName(h, chosen), strings.Join(reasons, "; "))
			}
			return r, nil
		}
		changed := c.changed
		c.mu.Unlock()
		if !errors.Is(err, placement.ErrNoFit) {
			return nil, fmt.Errorf("place %s in %s: %w (%w)", req.Name, c.id, err, locations.ErrInvalid)
		}
		why, can := c.canGrow()
		if !can {
			return nil, fmt.Errorf("no host of %s can take %s: %w; and no host can be added: %s: %w", c.id, req.Name, err, why, locations.ErrNoCapacity)
		}
		if !waiting {
			waiting = true
			c.mu.Lock()
			c.waiting++
			c.mu.Unlock()
			c.publish()
			entities.Logf(ctx, "%v; waiting up to %s for a host to be added (%s)", err, timeout, why)
		}
		c.requestHost(ctx)
		select {
		case <-changed:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return nil, fmt.Errorf("place %s in %s: %w", req.Name, c.id, ctx.Err())
		case <-deadline.C:
			return nil, fmt.Errorf("no host of %s could take %s within %s: %w (%s): %w",
				c.id, req.Name, time.Since(started).Round(time.Second), err, why, locations.ErrNoCapacity)
		}
	}
}

// decideLocked chooses the host of req: the host that already holds a container of the
// same entity (one made before a restart cut its start short, learnt from the engines),
// else the placement chain's choice. c.mu is held.
func (c *Cloud) decideLocked(hosts []placement.Host, req placement.Request) (string, []string, error) {
	if req.Entity != "" {
		for _, r := range c.placements {
			if r.Entity != req.Entity {
				continue
			}
			for _, h := range hosts {
				if h.ID == r.Host && h.Up {
					return h.ID, []string{"it holds a container of this entity already"}, nil
				}
			}
		}
	}
	d, err := c.chain.Place(hosts, req)
	if err != nil {
		return "", nil, err
	}
	return d.HostID, d.Reasons, nil
}

// canGrow says whether a host can be added (or is being added), and how.
func (c *Cloud) canGrow() (string, bool) {
	c.mu.Lock()
	growing := c.growing != nil && !done(c.growing)
	c.mu.Unlock()
	if growing || attr(c.infra, sensors.DockerHostAdding) == true {
		return "a host is being added", true
	}
	for _, h := range hostsOf(c.infra) {
		if x := h.Expected(); x == entities.Starting || x == entities.Created {
			return h.Name() + " is starting", true
		}
	}
	free, failed, err := freeEndpoints(c.infra, time.Now())
	switch {
	case err != nil:
		return err.Error(), false
	case len(free) > 0:
		return fmt.Sprintf("%d unused endpoint(s) in %s: %s next", len(free), KeyHostsPool, free[0].Endpoint), true
	case len(failed) > 0:
		return fmt.Sprintf("%s has no unused endpoint that works (failed recently: %s)", KeyHostsPool, strings.Join(failed, "; ")), false
	}
	return fmt.Sprintf("%s has no unused endpoint (%d hosts use them all)", KeyHostsPool, len(hostsOf(c.infra))), false
}

func done(t *entities.Task) bool {
	select {
	case <-t.Done():
		return true
	default:
		return false
	}
}

// requestHost asks for a host: the headroom policy adds one when it runs (it sees
// docker.container.waiting); otherwise the cloud calls the infrastructure's addHost,
// one at a time.
func (c *Cloud) requestHost(ctx context.Context) {
	if headroomRunning(c.infra) {
		return
	}
	c.mu.Lock()
	if c.growing != nil && !done(c.growing) {
		c.mu.Unlock()
		return
	}
	if c.growing != nil {
		// When the last one failed a moment ago, not again at once (a failed endpoint
		// is left out, so the next try uses another).
		if _, err := c.growing.Outcome(); err != nil && time.Since(c.growing.Snapshot().Ended) < time.Second {
			c.mu.Unlock()
			return
		}
	}
	t, err := c.m.Invoke(ctx, c.infra, "addHost", nil)
	if err != nil {
		c.mu.Unlock()
		entities.Logf(ctx, "could not ask %s for a host: %v", c.infra.Name(), err)
		return
	}
	c.growing = t
	c.mu.Unlock()
	entities.Logf(ctx, "asked %s to add a host (task %s)", c.infra.Name(), t.ID())
	go func() {
		<-t.Done()
		c.notify()
	}()
}

// headroomRunning says whether the infrastructure has a running headroom policy.
func headroomRunning(infra *entities.Entity) bool {
	for _, a := range infra.Adjuncts() {
		if a.Kind().Name == HeadroomPolicyType && a.Running() {
			return true
		}
	}
	return false
}

// route finds the host holding a container (by id, or by name) and its engine.
func (c *Cloud) route(ctx context.Context, idOrName string) (*entities.Entity, engine, error) {
	c.mu.Lock()
	var hostID string
	if r, ok := c.placements[idOrName]; ok {
		hostID = r.Host
	} else {
		for id, r := range c.placements {
			if r.Name == idOrName || (len(idOrName) >= 12 && strings.HasPrefix(id, idOrName)) {
				hostID = r.Host
				break
			}
		}
	}
	c.mu.Unlock()
	if hostID != "" {
		if h, err := c.m.Entity(hostID); err == nil {
			eng, err := engineOf(ctx, h)
			return h, eng, err
		}
	}
	// Not placed by this cloud (or not known yet): ask every host.
	var errs []error
	for _, h := range hostsOf(c.infra) {
		eng, err := engineOf(ctx, h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ct, err := eng.InspectContainer(ctx, idOrName); err == nil {
			c.learn(h, ct)
			return h, eng, nil
		} else if !errors.Is(err, locations.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("container %s is on no host of %s that answers: %w", idOrName, c.id, errors.Join(errs...))
	}
	return nil, nil, fmt.Errorf("container %s is on no host of %s: %w", idOrName, c.id, locations.ErrNotFound)
}

// StartContainer starts a container on its host.
func (c *Cloud) StartContainer(ctx context.Context, id string) (*locations.Container, error) {
	_, eng, err := c.route(ctx, id)
	if err != nil {
		return nil, err
	}
	return eng.StartContainer(ctx, id)
}

// StopContainer stops a container on its host.
func (c *Cloud) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	_, eng, err := c.route(ctx, id)
	if err != nil {
		return err
	}
	return eng.StopContainer(ctx, id, timeout)
}

// RemoveContainer removes a container from its host, and frees its slot.
func (c *Cloud) RemoveContainer(ctx context.Context, id string) error {
	h, eng, err := c.route(ctx, id)
	if errors.Is(err, locations.ErrNotFound) {
		c.forget("", id)
		return nil
	}
	if err != nil {
		return err
	}
	if err := eng.RemoveContainer(ctx, id); err != nil {
		return err
	}
	c.forget(h.ID(), id)
	return nil
}

// learn records a container found on a host that the cloud did not know, when it is
// one of this server's whose entity runs on this cloud (made just before a restart).
func (c *Cloud) learn(h *entities.Entity, ct *locations.Container) {
	r, ok := c.claimed(h, ct)
	if !ok {
		return
	}
	c.mu.Lock()
	if _, known := c.placements[ct.ID]; known {
		c.mu.Unlock()
		return
	}
	c.placements[ct.ID] = r
	c.notifyLocked()
	c.mu.Unlock()
	c.publish()
}

// claimed says whether a container found on host h belongs in the cloud's placements:
// it carries this server's labels and its entity's location is this cloud. The record
// is made from its labels and its entity's declared resources.
func (c *Cloud) claimed(h *entities.Entity, ct *locations.Container) (*record, bool) {
	if ct.Labels[container.LabelServer] != c.m.ServerID() {
		return nil, false
	}
	e, err := c.m.Entity(ct.Labels[container.LabelEntity])
	if err != nil {
		return nil, false
	}
	if locs := e.Locations(); len(locs) == 0 || locs[0] != c.id {
		return nil, false
	}
	r := &record{ID: ct.ID, Host: h.ID(), Entity: e.ID(), App: ct.Labels[container.LabelApp], Name: ct.Name, Labels: maps.Clone(ct.Labels)}
	if spec, err := container.Spec(e); err == nil {
		r.CPUs, r.Memory = spec.CPUs, spec.MemoryBytes
	}
	return r, true
}

// forget drops the placement of a container that no longer exists (on host, when it
// is not empty).
func (c *Cloud) forget(host, id string) {
	c.mu.Lock()
	r, ok := c.placements[id]
	if !ok || (host != "" && r.Host != host) {
		c.mu.Unlock()
		return
	}
	delete(c.placements, id)
	c.notifyLocked()
	c.mu.Unlock()
	c.publish()
}

// InspectContainer inspects a container on its host.
func (c *Cloud) InspectContainer(ctx context.Context, id string) (*locations.Container, error) {
	_, eng, err := c.route(ctx, id)
	if err != nil {
		return nil, err
	}
	return eng.InspectContainer(ctx, id)
}

// ListContainers lists the containers of every host carrying the labels. A host whose
// engine does not answer makes it an error (with what the others listed).
func (c *Cloud) ListContainers(ctx context.Context, labels map[string]string) ([]*locations.Container, error) {
	var out []*locations.Container
	var errs []error
	seen := map[string]bool{}
	for _, h := range hostsOf(c.infra) {
		eng, err := engineOf(ctx, h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs, err := eng.ListContainers(ctx, labels)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", h.Name(), err))
			continue
		}
		for _, ct := range cs {
			if !seen[ct.ID] {
				seen[ct.ID] = true
				out = append(out, ct)
			}
		}
	}
	slices.SortFunc(out, func(a, b *locations.Container) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

// ExecContainer runs a command in a container on its host.
func (c *Cloud) ExecContainer(ctx context.Context, id string, cmd locations.Command) (int, error) {
	_, eng, err := c.route(ctx, id)
	if err != nil {
		return -1, err
	}
	return eng.ExecContainer(ctx, id, cmd)
}

// StatsContainer reads a container's use on its host.
func (c *Cloud) StatsContainer(ctx context.Context, id string) (*locations.ContainerUsage, error) {
	_, eng, err := c.route(ctx, id)
	if err != nil {
		return nil, err
	}
	return eng.StatsContainer(ctx, id)
}

// WatchContainers follows the event streams of every host of the cloud, the hosts added
// later too, and calls fn from this goroutine, in order per host. A container destroyed
// on its host frees its slot. It returns ctx.Err() once ctx is done.
func (c *Cloud) WatchContainers(ctx context.Context, labels map[string]string, fn func(locations.ContainerEvent)) error {
	if fn == nil {
		return fmt.Errorf("watch containers of %s: nil callback: %w", c.id, locations.ErrInvalid)
	}
	type hostEvent struct {
		host string
		ev   locations.ContainerEvent
	}
	events := make(chan hostEvent, 256)
	watching := map[string]context.CancelFunc{}
	defer func() {
		for _, cancel := range watching {
			cancel()
		}
	}()
	resync := func() {
		present := map[string]bool{}
		for _, h := range hostsOf(c.infra) {
			present[h.ID()] = true
			if watching[h.ID()] != nil {
				continue
			}
			eng, err := engineOf(ctx, h)
			if err != nil {
				continue // tried again at the next change or tick
			}
			wctx, cancel := context.WithCancel(ctx)
			watching[h.ID()] = cancel
			go func() {
				_ = eng.WatchContainers(wctx, labels, func(ev locations.ContainerEvent) {
					select {
					case events <- hostEvent{host: h.ID(), ev: ev}:
					case <-wctx.Done():
					}
				})
			}()
		}
		for id, cancel := range watching {
			if !present[id] {
				cancel()
				delete(watching, id)
			}
		}
	}
	resync()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case he := <-events:
			if he.ev.Action == locations.EventDestroy {
				c.forget(he.host, he.ev.ID)
			}
			fn(he.ev)
		case <-changed:
			resync()
		case <-tick.C:
			resync()
		}
	}
}

// HostOf returns the id of the host entity holding a container ("" when the cloud does
// not know it).
func (c *Cloud) HostOf(containerID string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.placements[containerID]; ok {
		return r.Host
	}
	return ""
}

// Placements returns container id -> host entity id, for the containers placed.
func (c *Cloud) Placements() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.placements))
	for id, r := range c.placements {
		out[id] = r.Host
	}
	return out
}

// onHost counts the containers placed or reserved on a host.
func (c *Cloud) onHost(hostID string) (ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, r := range c.placements {
		if r.Host == hostID {
			ids = append(ids, id)
		}
	}
	for id, r := range c.reserved {
		if r.Host == hostID {
			ids = append(ids, "(starting) "+id)
		}
	}
	slices.Sort(ids)
	return ids
}

// publish sets the sensors of the infrastructure and its hosts from the placements.
func (c *Cloud) publish() {
	c.mu.Lock()
	hosts := c.hostsLocked()
	placed := make(map[string]any, len(c.placements))
	for id, r := range c.placements {
		placed[id] = map[string]any{"host": r.Host, "entity": r.Entity, "app": r.App, "name": r.Name, "cpus": r.CPUs, "memory": r.Memory, "labels": anyMap(r.Labels)}
	}
	count := len(c.placements)
	waiting := c.waiting
	draining := maps.Clone(c.draining)
	chain := c.chain
	c.mu.Unlock()

	capacity, used := 0, 0
	for _, h := range hosts {
		slots, err := chain.MaxContainers(h)
		if err != nil {
			slots = 0
		}
		if he, err := c.m.Entity(h.ID); err == nil {
			he.SetAttribute(sensors.DockerContainerCount, len(h.Containers))
			he.SetAttribute(sensors.DockerHostSlots, slots)
			he.SetAttribute(sensors.DockerHostDraining, draining[h.ID])
		}
		if h.Up {
			capacity += slots
			used += len(h.Containers)
		}
	}
	in := c.infra
	in.SetAttribute(SensorPlacements, placed)
	in.SetAttribute(sensors.DockerContainerCount, count)
	in.SetAttribute(sensors.DockerClusterCapacity, capacity)
	in.SetAttribute(sensors.DockerClusterFree, max(capacity-used, 0))
	util := 0.0
	if capacity > 0 {
		util = float64(used) / float64(capacity)
	}
	in.SetAttribute(sensors.DockerClusterUtilisation, util)
	in.SetAttribute(sensors.DockerContainerWaiting, waiting)
	if free, _, err := freeEndpoints(in, time.Now()); err == nil {
		in.SetAttribute(sensors.DockerHostsPoolAvailable, len(free))
	}
}

func anyMap(m map[string]string) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
