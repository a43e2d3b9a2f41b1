package network

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"sync"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sdn"
	_ "github.com/gantry-dev/gantry/sdn/docker" // the default provider
)

// TypeName is Clocker's name for the kind.
const TypeName = "brooklyn.networking.VirtualNetwork"

// Config keys of the kind (the sdn.* keys are inherited from the application).
const (
	// KeyID is the network's name on its hosts (default gantry-<entity id>).
	KeyID = "network.id"
	// KeyCIDR is the network's subnet (default: allocated from sdn.network.cidr).
	KeyCIDR = "network.cidr"
	// KeyShared says the network is shared by applications rather than its own
	// application's (providers that enforce isolation let every application in).
	KeyShared = "network.shared"
	// KeyLabels are extra labels of the network on its hosts.
	KeyLabels = "network.labels"
)

// Sensors of the kind.
const (
	SensorID         = "network.id"         // the network's name on its hosts
	SensorCIDR       = "network.cidr"       // its subnet
	SensorContainers = "network.containers" // ids of the containers attached
	SensorHosts      = "network.hosts"      // ids of the locations it was made on
	// sensorPending marks a network whose destroy found containers still using it: the
	// last of them removes it (Leave).
	sensorPending = "network.deletePending"
)

// indicator is the key of this kind's not-up and problem entries.
const indicator = "network"

// nameRE is what Docker accepts as a network name.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func init() {
	entities.Register(&entities.Type{
		Name:        TypeName,
		Aliases:     []string{"virtual-network", "VirtualNetwork", "clocker.docker.networking.entity.VirtualNetwork"},
		Description: "A virtual network (sdn): a subnet on its hosts that containers join",
		Config: []entities.ConfigKey{
			{Name: KeyID, Aliases: []string{"network.name"}, Type: "string", Description: "Name of the network on its hosts (default gantry-<entity id>)"},
			{Name: KeyCIDR, Type: "string", Description: "Subnet of the network, e.g. 10.240.7.0/24 (default: allocated from " + sdn.KeyPool + ")"},
			{Name: KeyShared, Type: "boolean", Description: "Shared by applications (default false: the network of its application)"},
			{Name: KeyLabels, Type: "stringmap", Description: "Extra labels of the network on its hosts"},
			{Name: "labels", Aliases: []string{"docker.container.labels"}, Type: "stringmap", Description: "Labels, as the containers of the application have them (inherited)"},
			{Name: sdn.KeyProvider, Type: "string", Description: "Provider: docker (default) or calico"},
			{Name: sdn.KeyPool, Type: "string", Description: "Pool of subnets, private address space (default " + sdn.DefaultPool.String() + ")"},
			{Name: sdn.KeySize, Type: "integer", Description: fmt.Sprintf("Prefix length of an allocated subnet (default %d)", sdn.DefaultSize)},
		},
		Sensors: []entities.SensorType{
			{Name: SensorID, Type: "java.lang.String", Description: "Name of the network on its hosts"},
			{Name: SensorCIDR, Type: "java.lang.String", Description: "Subnet of the network"},
			{Name: SensorContainers, Type: "java.util.List", Description: "Ids of the containers attached"},
			{Name: SensorHosts, Type: "java.util.List", Description: "Ids of the locations the network is on"},
		},
		Start:   start,
		Stop:    stop,
		Rebind:  rebind,
		Destroy: destroy,
	})
}

// Is says whether e is a virtual network.
func Is(e *entities.Entity) bool { return e != nil && e.Type() != nil && e.Type().Name == TypeName }

// Name is the network's name on its hosts.
func Name(e *entities.Entity) string {
	if s := e.ConfigString(KeyID); s != "" {
		return s
	}
	if v, ok := e.Attribute(SensorID); ok {
		if s, _ := v.(string); s != "" {
			return s
		}
	}
	return "gantry-" + e.ID()
}

// CIDR is the network's subnet, once it has one.
func CIDR(e *entities.Entity) (netip.Prefix, bool) {
	v, _ := e.Attribute(SensorCIDR)
	s, _ := v.(string)
	p, err := netip.ParsePrefix(s)
	return p, err == nil
}

// describe is the network as providers see it.
func describe(e *entities.Entity) sdn.Network {
	n := sdn.Network{ID: e.ID(), Name: Name(e), Labels: map[string]string{}}
	n.CIDR, _ = CIDR(e)
	if !truthy(e, KeyShared) {
		n.App = e.Application().ID()
		n.Labels[sdn.LabelApp] = n.App
	}
	maps.Copy(n.Labels, stringMap(e, "labels"))
	maps.Copy(n.Labels, stringMap(e, KeyLabels))
	n.Labels[sdn.LabelServer] = e.Management().ServerID()
	n.Labels[sdn.LabelNetwork] = e.ID()
	return n
}

// hostIDs are the locations the network is on (network.hosts), else the entity's own.
func hostIDs(e *entities.Entity) []string {
	if ids := stringList(e, SensorHosts); len(ids) > 0 {
		return ids
	}
	return e.Locations()
}

// open makes the network's provider for the hosts with those ids.
func open(ctx context.Context, e *entities.Entity, ids []string) (sdn.Provider, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s has no location to make its network on: %w", e, entities.ErrInvalid)
	}
	var hosts []locations.Location
	for _, id := range ids {
		l, err := e.Management().Locations().Get(id)
		if err != nil {
			return nil, fmt.Errorf("network %s: %w", Name(e), err)
		}
		hosts = append(hosts, l)
	}
	name, _ := setting(e, sdn.KeyProvider)
	s, _ := name.(string)
	return sdn.Open(ctx, s, sdn.Config{Hosts: hosts, Options: e.EffectiveConfig()})
}

// allocMu serialises the choice of subnets and the making of networks on hosts, so that
// two networks starting at once never take the same subnet.
var allocMu sync.Mutex

func start(ctx context.Context, e *entities.Entity) error {
	name := Name(e)
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%s %q: use letters, digits and _.- (not first): %w", KeyID, name, entities.ErrInvalid)
	}
	ids := hostIDs(e)
	p, err := open(ctx, e, ids)
	if err != nil {
		return err
	}
	defer p.Close()
	allocMu.Lock()
	defer allocMu.Unlock()
	e.SetAttribute(SensorID, name)
	for attempt := 1; ; attempt++ {
		_, had := CIDR(e)
		if err := subnet(ctx, e, p); err != nil {
			return err
		}
		n := describe(e)
		err = entities.Step(ctx, fmt.Sprintf("Create network %s (%s) with %s", n.Name, n.CIDR, p.Name()), func(ctx context.Context) error {
			return p.CreateNetwork(ctx, n)
		})
		// A subnet just allocated may have been taken meanwhile by a network this server
		// does not know (another server's): allocate again, around it.
		if errors.Is(err, sdn.ErrOverlap) && !had && e.ConfigString(KeyCIDR) == "" && attempt < 3 {
			entities.Logf(ctx, "subnet %s taken meanwhile: allocating another", n.CIDR)
			e.SetAttribute(SensorCIDR, nil)
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	e.SetAttribute(SensorHosts, toAny(ids))
	e.SetAttribute(sensorPending, nil)
	if _, ok := e.Attribute(SensorContainers); !ok {
		e.SetAttribute(SensorContainers, []any{})
	}
	e.SetNotUp(indicator, "")
	e.SetProblem(indicator, "")
	return nil
}

// subnet gives the network its subnet, once: the one a network of its name already has
// on the hosts (made before a crash, or by hand), else network.cidr, else one allocated
// from the pool around every other network's. It is recorded before the network is made.
func subnet(ctx context.Context, e *entities.Entity, p sdn.Provider) error {
	if _, ok := CIDR(e); ok {
		return nil
	}
	n := describe(e)
	var existing []netip.Prefix
	if in, ok := p.(sdn.Inspector); ok {
		if st, err := in.InspectNetwork(ctx, n); err == nil && st.CIDR.IsValid() {
			entities.Logf(ctx, "network %s exists with subnet %s: adopted", n.Name, st.CIDR)
			return record(ctx, e, st.CIDR)
		}
		subs, err := in.Subnets(ctx)
		if err != nil {
			return err
		}
		existing = subs
	}
	pool, err := sdn.ParsePool(settingString(e, sdn.KeyPool))
	if err != nil {
		return err
	}
	size := sdn.DefaultSize
	if v, ok := setting(e, sdn.KeySize); ok {
		if size, err = toInt(v); err != nil {
			return fmt.Errorf("%s %v: %w", sdn.KeySize, v, sdn.ErrInvalid)
		}
	}
	a, err := sdn.NewAllocator(pool, size)
	if err != nil {
		return err
	}
	// The other virtual networks' subnets are what the server allocated so far.
	for _, o := range All(e.Management()) {
		if o == e {
			continue
		}
		if c, ok := CIDR(o); ok {
			_ = a.Reserve(c) // outside the pool, or overlapping another (made by hand): Allocate avoids it all the same
			existing = append(existing, c)
		}
	}
	if s := e.ConfigString(KeyCIDR); s != "" {
		c, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("%s %q: write a CIDR such as 10.240.7.0/24: %w", KeyCIDR, s, sdn.ErrInvalid)
		}
		for _, o := range All(e.Management()) {
			if oc, ok := CIDR(o); ok && o != e && oc.Overlaps(c) {
				return fmt.Errorf("%s %s overlaps %s of network %s (%s, application %s): %w", KeyCIDR, c, oc, Name(o), o.ID(), o.Application().Name(), sdn.ErrOverlap)
			}
		}
		if err := sdn.CheckPool(c); err != nil {
			return fmt.Errorf("%s: %w", KeyCIDR, err)
		}
		if b, hit := sdn.Overlapping(c, existing); hit {
			return fmt.Errorf("%s %s overlaps the subnet %s of a network on the hosts: %w", KeyCIDR, c, b, sdn.ErrOverlap)
		}
		return record(ctx, e, c.Masked())
	}
	c, err := a.Allocate(existing...)
	if err != nil {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	entities.Logf(ctx, "subnet %s allocated from %s", c, pool)
	return record(ctx, e, c)
}

// record keeps the subnet and writes it before anything is made with it.
func record(ctx context.Context, e *entities.Entity, c netip.Prefix) error {
	e.SetAttribute(SensorCIDR, c.String())
	return e.Management().Flush(ctx)
}

func stop(ctx context.Context, e *entities.Entity) error {
	defer e.SetNotUp(indicator, "stopped")
	if _, ok := CIDR(e); !ok {
		return nil // never made
	}
	err := remove(ctx, e)
	if errors.Is(err, sdn.ErrInUse) {
		// Stopped containers keep their networks, to start again.
		entities.Logf(ctx, "network %s kept: containers still use it", Name(e))
		return nil
	}
	return err
}

// destroy removes the network, or, while containers still use it (an application's
// containers are released after its network), leaves that to the last of them.
func destroy(ctx context.Context, e *entities.Entity) error {
	if _, ok := CIDR(e); !ok {
		return nil
	}
	err := remove(ctx, e)
	if errors.Is(err, sdn.ErrInUse) {
		entities.Logf(ctx, "network %s is still used: the last container to go removes it", Name(e))
		e.SetAttribute(sensorPending, true)
		return nil
	}
	return err
}

// remove deletes the network from its hosts when nothing uses it.
func remove(ctx context.Context, e *entities.Entity) error {
	ids := stringList(e, SensorHosts)
	if len(ids) == 0 {
		return nil
	}
	p, err := open(ctx, e, ids)
	if err != nil {
		return err
	}
	defer p.Close()
	n := describe(e)
	err = p.DeleteNetwork(ctx, n)
	if err != nil {
		return err
	}
	entities.Logf(ctx, "removed network %s from %v", n.Name, ids)
	e.SetAttribute(SensorHosts, nil)
	return nil
}

// rebind checks that the network of a running entity is still on its hosts; it makes
// nothing.
func rebind(ctx context.Context, e *entities.Entity) error {
	if e.Expected() != entities.Running {
		return nil
	}
	ids := stringList(e, SensorHosts)
	if len(ids) == 0 {
		return nil
	}
	p, err := open(ctx, e, ids)
	if err != nil {
		return err
	}
	defer p.Close()
	in, ok := p.(sdn.Inspector)
	if !ok {
		e.SetNotUp(indicator, "")
		return nil
	}
	st, err := in.InspectNetwork(ctx, describe(e))
	if errors.Is(err, sdn.ErrNotFound) {
		msg := fmt.Sprintf("network %s no longer exists: %v", Name(e), err)
		e.SetNotUp(indicator, msg)
		e.SetProblem(indicator, msg)
		return nil
	}
	if err != nil {
		return err
	}
	if c, _ := CIDR(e); st.CIDR.IsValid() && st.CIDR != c {
		msg := fmt.Sprintf("network %s has subnet %s, not %s", Name(e), st.CIDR, c)
		e.SetProblem(indicator, msg)
		return nil
	}
	e.SetNotUp(indicator, "")
	e.SetProblem(indicator, "")
	return nil
}

// All lists the virtual networks of every application.
func All(m *entities.Management) []*entities.Entity {
	var out []*entities.Entity
	for _, app := range m.Applications() {
		for _, d := range app.Descendants() {
			if Is(d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// ensureOn makes the network on one more host (a container joins it from there).
func ensureOn(ctx context.Context, e *entities.Entity, host string) error {
	ids := stringList(e, SensorHosts)
	if slices.Contains(ids, host) {
		return nil
	}
	p, err := open(ctx, e, []string{host})
	if err != nil {
		return err
	}
	defer p.Close()
	allocMu.Lock()
	defer allocMu.Unlock()
	ids = stringList(e, SensorHosts)
	if slices.Contains(ids, host) {
		return nil
	}
	n := describe(e)
	err = entities.StepOn(ctx, e, fmt.Sprintf("Create network %s (%s) on %s", n.Name, n.CIDR, host), func(ctx context.Context) error {
		return p.CreateNetwork(ctx, n)
	})
	if err != nil {
		return err
	}
	e.SetAttribute(SensorHosts, toAny(append(ids, host)))
	return nil
}
