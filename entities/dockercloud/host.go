package dockercloud

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/container"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
	"github.com/gantry-dev/gantry/sensors"
)

// engine is a host's Docker Engine.
type engine = *docker.Engine

// hostFeed is the name of the feed that asks a host's engine about itself.
const hostFeed = "docker.host"

// EngineLocationID is the id under which a host's engine is registered as a location.
func EngineLocationID(host *entities.Entity) string { return "docker-host-" + host.ID() }

// hostsOf lists the hosts of an infrastructure: its members of the docker-host kind.
func hostsOf(infra *entities.Entity) []*entities.Entity {
	var out []*entities.Entity
	for _, m := range infra.Members() {
		if m.Type().Name == HostType {
			out = append(out, m)
		}
	}
	return out
}

// engineOf returns the engine of a host: the one registered in the server's locations
// under EngineLocationID, else a new connection, registered there (the registry is
// where the server's live locations are, so a host's engine is a location too). Two
// callers racing both dial; the second's connection is closed and the first's used.
func engineOf(ctx context.Context, h *entities.Entity) (engine, error) {
	reg := h.Management().Locations()
	id := EngineLocationID(h)
	registered := func() (engine, bool, error) {
		l, err := reg.Get(id)
		if err != nil {
			return nil, false, nil
		}
		if eng, ok := l.(engine); ok {
			return eng, true, nil
		}
		return nil, true, fmt.Errorf("location %s is a %s, not a Docker engine: %w", id, l.Kind(), locations.ErrInvalid)
	}
	if eng, ok, err := registered(); ok {
		return eng, err
	}
	o, err := engineOptions(h)
	if err != nil {
		return nil, err
	}
	eng, err := docker.Dial(ctx, id, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.Name(), err)
	}
	if err := reg.Add(eng); err != nil {
		_ = eng.Close()
		if other, ok, oerr := registered(); ok {
			return other, oerr
		}
		return nil, err
	}
	return eng, nil
}

// engineOptions says how to reach a host's engine: its endpoint, with the TLS files (or
// PEM text) of the host, else of its infrastructure, for tcp:// endpoints; for a host
// without an endpoint, the engine Gantry runs on its machine (provision.go).
func engineOptions(h *entities.Entity) (docker.Options, error) {
	if machineHost(h) {
		return machineEngineOptions(h) // provision.go
	}
	ep := h.ConfigString(KeyEndpoint)
	if ep == "" {
		return docker.Options{}, fmt.Errorf("%s has no %s: give tcp://HOST:2376 or unix:///PATH: %w", h, KeyEndpoint, entities.ErrInvalid)
	}
	if err := checkEndpoint(ep); err != nil {
		return docker.Options{}, err
	}
	o := docker.Options{Endpoint: ep}
	if u, _ := url.Parse(ep); u.Scheme == "tcp" {
		o.TLSCA, o.TLSCert, o.TLSKey = h.ConfigString(KeyTLSCA), h.ConfigString(KeyTLSCert), h.ConfigString(KeyTLSKey)
		if o.TLS() && (o.TLSCA == "" || o.TLSCert == "" || o.TLSKey == "") {
			return o, fmt.Errorf("%s: TLS needs %s, %s and %s (the CA of the engine's certificate, the client certificate and its key): %w",
				h, KeyTLSCA, KeyTLSCert, KeyTLSKey, entities.ErrInvalid)
		}
	}
	return o, nil
}

// dropEngine closes a host's engine and forgets its location.
func dropEngine(h *entities.Entity) {
	reg := h.Management().Locations()
	id := EngineLocationID(h)
	if l, err := reg.Get(id); err == nil {
		_ = reg.Remove(id)
		if eng, ok := l.(engine); ok {
			_ = eng.Close()
		}
	}
}

// infraOf finds the infrastructure of a host: the group of its kind it is a member of,
// else its parent.
func infraOf(h *entities.Entity) *entities.Entity {
	for _, g := range h.Groups() {
		if g.Type().Name == InfrastructureType {
			return g
		}
	}
	if p := h.Parent(); p != nil && p.Type().Name == InfrastructureType {
		return p
	}
	return nil
}

// cloudOfHost returns the cloud of a host's infrastructure, or nil.
func cloudOfHost(h *entities.Entity) *Cloud {
	infra := infraOf(h)
	if infra == nil {
		return nil
	}
	c, _ := cloudOf(infra)
	return c
}

func startHost(ctx context.Context, h *entities.Entity) error {
	if machineHost(h) {
		// No endpoint: Gantry runs the engine on a machine of the host's location.
		if err := startMachineHost(ctx, h); err != nil {
			h.SetNotUp(indicatorEngine, err.Error())
			return err
		}
	}
	var eng engine
	err := entities.Step(ctx, "Connect to the engine at "+endpointOf(h), func(ctx context.Context) error {
		var err error
		eng, err = engineOf(ctx, h)
		if err != nil {
			return err
		}
		info, err := eng.Info(ctx)
		if err != nil {
			return err
		}
		publishInfo(h, eng, info)
		entities.Logf(ctx, "Docker %s on %s: %d CPUs, %d MiB", info.ServerVersion, info.Name, info.CPUs, info.Memory>>20)
		return nil
	})
	if err != nil {
		h.SetNotUp(indicatorEngine, err.Error())
		return err
	}
	h.SetNotUp(indicatorEngine, "")
	h.SetProblem(indicatorEngine, "")
	watchHost(h)
	if c := cloudOfHost(h); c != nil {
		c.notify()
		c.publish()
	}
	return nil
}

func publishInfo(h *entities.Entity, eng engine, info docker.Info) {
	h.SetAttribute(SensorEndpoint, endpointOf(h))
	h.SetAttribute(SensorEngineLocation, eng.ID())
	h.SetAttribute(SensorEngineID, info.ID)
	h.SetAttribute(SensorVersion, info.ServerVersion)
	h.SetAttribute(SensorAPIVersion, info.APIVersion)
	h.SetAttribute(SensorCPUs, info.CPUs)
	h.SetAttribute(sensors.MachineMemoryTotal, info.Memory)
	h.SetAttribute(SensorContainersRunning, info.ContainersRunning)
	h.SetAttribute(sensors.HostName, info.Name)
	if u, err := url.Parse(endpointOf(h)); err == nil && u.Scheme == "tcp" {
		h.SetAttribute(sensors.HostAddress, u.Hostname())
	}
}

// stopHost stops watching the engine; the engine, and its containers, stay. The engine
// Gantry runs on a machine is stopped (provision.go), unless containers are placed on it.
func stopHost(ctx context.Context, h *entities.Entity) error {
	var err error
	if machineHost(h) {
		err = stopMachineHost(ctx, h)
	}
	h.SetNotUp(indicatorEngine, "")
	if c := cloudOfHost(h); c != nil {
		c.notify()
		c.publish()
	}
	return err
}

// rebindHost connects to the engine again and watches it; nothing on it is touched. An
// engine Gantry runs on a machine that does not answer is started again there (nothing
// is installed; provision.go).
func rebindHost(ctx context.Context, h *entities.Entity) error {
	if h.Expected() != entities.Running {
		return nil
	}
	ask := func() error {
		eng, err := engineOf(ctx, h)
		if err == nil {
			var info docker.Info
			if info, err = eng.Info(ctx); err == nil {
				publishInfo(h, eng, info)
			}
		}
		return err
	}
	err := ask()
	if err != nil && machineHost(h) {
		rctx, cancel := context.WithTimeout(ctx, h.ConfigDuration(KeyHostStartTimeout, 2*time.Minute))
		if rerr := relaunch(rctx, h); rerr != nil {
			h.Management().Logger().Warn("the engine of a Docker host does not answer after a restart and could not be started again",
				"entity", h.ID(), "endpoint", endpointOf(h), "err", err, "relaunch", rerr)
		} else {
			h.Management().Logger().Info("the engine of a Docker host did not answer after a restart: started again on its machine", "entity", h.ID(), "endpoint", endpointOf(h))
		}
		cancel()
	}
	if err != nil {
		// Not a failure of the rebind: the feed keeps trying, and says when it answers.
		h.SetNotUp(indicatorEngine, fmt.Sprintf("engine at %s does not answer: %v", endpointOf(h), err))
	} else {
		h.SetNotUp(indicatorEngine, "")
	}
	watchHost(h)
	return nil
}

// destroyHost refuses to forget a host that holds containers: whoever asks (removeHost,
// an unmanage, a REST call), a host with containers is never removed. Otherwise its
// engine connection is closed; the engine itself is not touched, unless Gantry runs it
// on a machine: then what Gantry put there is removed and the machine given back.
func destroyHost(ctx context.Context, h *entities.Entity) error {
	if c := cloudOfHost(h); c != nil {
		if ids := c.onHost(h.ID()); len(ids) > 0 {
			return fmt.Errorf("%s holds %d container(s) (%s): only empty hosts are removed; remove or move them first: %w",
				h.Name(), len(ids), shortList(ids), entities.ErrConflict)
		}
	}
	if claimed := claimedOn(ctx, h); len(claimed) > 0 {
		return fmt.Errorf("%s runs %d container(s) of this server's entities (%s): only empty hosts are removed: %w",
			h.Name(), len(claimed), shortList(claimed), entities.ErrConflict)
	}
	dropEngine(h)
	if machineHost(h) {
		return destroyMachineHost(ctx, h) // provision.go
	}
	return nil
}

// claimedOn lists the containers on a host's engine that an entity of this server
// claims and that run on the cloud or on the host's own engine location. An engine that does not answer has
// none that can be checked: the placements (checked before) are then what counts.
func claimedOn(ctx context.Context, h *entities.Entity) []string {
	eng, err := engineOf(ctx, h)
	if err != nil {
		return nil
	}
	m := h.Management()
	cs, err := eng.ListContainers(ctx, map[string]string{container.LabelServer: m.ServerID()})
	if err != nil {
		return nil
	}
	mine := map[string]bool{EngineLocationID(h): true}
	if infra := infraOf(h); infra != nil {
		if id, ok := attr(infra, SensorLocation).(string); ok {
			mine[id] = true
		}
	}
	var out []string
	for _, ct := range cs {
		e, err := m.Entity(ct.Labels[container.LabelEntity])
		if err != nil || container.ContainerID(e) != ct.ID {
			continue
		}
		if locs := e.Locations(); len(locs) > 0 && mine[locs[0]] {
			out = append(out, ct.ID)
		}
	}
	return out
}

func shortList(ids []string) string {
	const show = 3
	var s []string
	for i, id := range ids {
		if i == show {
			s = append(s, fmt.Sprintf("and %d more", len(ids)-show))
			break
		}
		if len(id) > 12 && !strings.Contains(id, " ") {
			id = id[:12]
		}
		s = append(s, id)
	}
	return strings.Join(s, ", ")
}

// watchHost starts the host's feed: every docker.host.poll.period it asks the engine
// about itself (which says whether it answers), sums what the placed containers use,
// and reports the containers with this server's labels that no entity claims.
func watchHost(h *entities.Entity) {
	m := h.Management()
	period := h.ConfigDuration(KeyPollPeriod, 10*time.Second)
	if period <= 0 {
		period = 10 * time.Second
	}
	log := m.Logger().With("entity", h.ID(), "feed", hostFeed)
	prev := map[string]locations.ContainerUsage{}
	reported := map[string]bool{}
	failing := ""
	m.StartFeed(h, hostFeed, period, func(ctx context.Context) {
		eng, err := engineOf(ctx, h)
		var info docker.Info
		if err == nil {
			info, err = eng.Info(ctx)
		}
		if ctx.Err() != nil {
			return
		}
		c := cloudOfHost(h)
		if err != nil {
			msg := fmt.Sprintf("engine at %s does not answer: %v", endpointOf(h), err)
			if msg != failing {
				failing = msg
				log.Warn("Docker host does not answer", "endpoint", endpointOf(h), "err", err)
			}
			h.SetNotUp(indicatorEngine, msg)
			if c != nil {
				c.notify()
				c.publish()
			}
			return
		}
		if failing != "" {
			failing = ""
			log.Info("Docker host answers again", "endpoint", endpointOf(h))
		}
		wasUp := h.IsUp()
		h.SetNotUp(indicatorEngine, "")
		publishInfo(h, eng, info)
		if c != nil && !wasUp {
			c.notify()
			c.publish()
		}
		if v, _ := h.Config(KeyStats); v != false && v != "false" && c != nil {
			usage(ctx, h, eng, c, info, prev)
		}
		unclaimed(ctx, h, eng, c, reported, log)
	})
}

// usage sums the CPU and memory the host's placed containers use, from their stats.
func usage(ctx context.Context, h *entities.Entity, eng engine, c *Cloud, info docker.Info, prev map[string]locations.ContainerUsage) {
	var ids []string
	for _, id := range c.onHost(h.ID()) {
		if !strings.HasPrefix(id, "(") {
			ids = append(ids, id)
		}
	}
	type reading struct {
		id string
		u  *locations.ContainerUsage
	}
	out := make(chan reading, len(ids))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if u, err := eng.StatsContainer(ctx, id); err == nil {
				out <- reading{id, u}
			}
		}()
	}
	wg.Wait()
	close(out)
	var cpu float64
	var mem uint64
	seen := map[string]bool{}
	for r := range out {
		seen[r.id] = true
		mem += r.u.Memory
		if p, ok := prev[r.id]; ok {
			if f, ok := locations.CPUFraction(p, *r.u); ok {
				cpu += f
			}
		}
		prev[r.id] = *r.u
	}
	for id := range prev {
		if !seen[id] {
			delete(prev, id)
		}
	}
	if ctx.Err() != nil {
		return
	}
	if info.CPUs > 0 {
		h.SetAttribute(sensors.MachineCPU, cpu/float64(info.CPUs))
	}
	h.SetAttribute(sensors.MachineMemoryUsed, int64(mem))
	if info.Memory > 0 {
		h.SetAttribute(sensors.MachineMemoryPercent, float64(mem)/float64(info.Memory)*100)
	}
}

// unclaimed reports the containers with this server's labels on the engine that no
// entity claims (left by a crash, or by a bug): a sensor and a warning, never adoption.
func unclaimed(ctx context.Context, h *entities.Entity, eng engine, c *Cloud, reported map[string]bool, log interface {
	Warn(string, ...any)
}) {
	m := h.Management()
	cs, err := eng.ListContainers(ctx, map[string]string{container.LabelServer: m.ServerID()})
	if err != nil {
		return
	}
	var list []any
	now := map[string]bool{}
	for _, ct := range cs {
		e, err := m.Entity(ct.Labels[container.LabelEntity])
		if err == nil && container.ContainerID(e) == ct.ID {
			continue
		}
		if c != nil && (c.HostOf(ct.ID) != "" || c.reservedFor(ct.Labels[container.LabelEntity])) {
			continue // placed a moment ago; its entity records it next
		}
		now[ct.ID] = true
		list = append(list, map[string]any{"id": ct.ID, "name": ct.Name, "entity": ct.Labels[container.LabelEntity], "app": ct.Labels[container.LabelApp], "status": ct.Status})
		if !reported[ct.ID] {
			log.Warn("container with this server's labels that no entity claims: reported, not adopted; remove it with docker rm -f if it is not needed",
				"host", h.Name(), "container", ct.ID, "name", ct.Name, "entity", ct.Labels[container.LabelEntity])
		}
	}
	for id := range reported {
		delete(reported, id)
	}
	for id := range now {
		reported[id] = true
	}
	slices.SortFunc(list, func(a, b any) int {
		return strings.Compare(a.(map[string]any)["name"].(string), b.(map[string]any)["name"].(string))
	})
	if len(list) == 0 {
		h.SetAttribute(SensorUnclaimed, nil)
		return
	}
	h.SetAttribute(SensorUnclaimed, list)
}

// reservedFor says whether a container of the entity is being made in the cloud.
func (c *Cloud) reservedFor(entity string) bool {
	if entity == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.reserved[entity]
	return ok
}

var errNoCloud = errors.New("no Docker cloud")
