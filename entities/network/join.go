package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sdn"
)

// Sensors of a container entity that joined networks.
const (
	// SensorAttachments lists the container's networks in order, each as a map:
	// network (its name), networkEntity (the virtual network's id), host (location id),
	// ip, aliases. The first is the network it is reached on.
	SensorAttachments = "sdn.attachments"
	// SensorSubnetAddress is Brooklyn's host.subnet.address: the container's address on
	// its first network (host.address too).
	SensorSubnetAddress = "host.subnet.address"
)

// ConfigKeys are the keys a container kind declares for its networks.
var ConfigKeys = []entities.ConfigKey{
	{Name: sdn.KeyEnable, Type: "boolean", Description: "Attach the container to virtual networks (default false: the engine's default bridge)"},
	{Name: sdn.KeyAppNetwork, Type: "boolean", Description: "With sdn.enable, make one network per application and attach its containers to it first (default true)"},
	{Name: sdn.KeyNetworks, Type: "list", Description: "With sdn.enable, names of the shared networks to join, after the application's (the first of all is where the container is reached)"},
}

// Sensors are the sensors a container kind publishes about its networks.
var Sensors = []entities.SensorType{
	{Name: SensorAttachments, Type: "java.util.List", Description: "The container's networks, the one it is reached on first"},
	{Name: SensorSubnetAddress, Type: "java.lang.String", Description: "The container's address on its first network"},
}

// AppNetworkName is the name of an application's own network.
func AppNetworkName(app *entities.Entity) string { return "gantry-" + app.ID() }

// Enabled says whether a container entity joins virtual networks (sdn.enable on it, its
// application or its location).
func Enabled(e *entities.Entity) bool { return truthy(e, sdn.KeyEnable) }

// Joining is the networks a container joins from one host, in order: the first is the
// one it is reached on.
type Joining struct {
	host     locations.Location
	networks []*entities.Entity
	aliases  []string
}

// Join decides which networks the container entity e joins (see the package doc), makes
// sure each exists (making, starting and extending virtual-network entities as needed)
// on host, the location the container runs on. It returns nil when e joins none.
func Join(ctx context.Context, e *entities.Entity, host locations.Location) (*Joining, error) {
	if !Enabled(e) {
		return nil, nil
	}
	type want struct {
		name   string
		shared bool
	}
	var wants []want
	if v, ok := setting(e, sdn.KeyAppNetwork); !ok || isTrue(v) {
		wants = append(wants, want{name: AppNetworkName(e.Application())})
	}
	list, _ := e.Config(sdn.KeyNetworks)
	for _, n := range asStrings(list) {
		wants = append(wants, want{name: n, shared: true})
	}
	if len(wants) == 0 {
		return nil, fmt.Errorf("%s: %s is true, but %s is false and %s is empty: no network to join: %w",
			e, sdn.KeyEnable, sdn.KeyAppNetwork, sdn.KeyNetworks, entities.ErrInvalid)
	}
	j := &Joining{host: host, aliases: Aliases(e)}
	for _, w := range wants {
		ne, err := ensureEntity(ctx, e, w.name, w.shared, host)
		if err != nil {
			return nil, err
		}
		if slices.Contains(j.networks, ne) {
			continue
		}
		if _, ok := CIDR(ne); !ok || ne.Expected() != entities.Running || !ne.IsUp() {
			if err := ne.Management().StartEntity(ctx, ne); err != nil {
				return nil, fmt.Errorf("network %s: %w", w.name, err)
			}
		}
		if err := ensureOn(ctx, ne, host.ID()); err != nil {
			return nil, err
		}
		j.networks = append(j.networks, ne)
	}
	return j, nil
}

// Networks are the virtual networks, in order.
func (j *Joining) Networks() []*entities.Entity { return slices.Clone(j.networks) }

// Prepare lets the first network's provider change the container's spec before it is
// made (the docker provider creates it on that network, off the default bridge).
func (j *Joining) Prepare(ctx context.Context, e *entities.Entity, spec *locations.ContainerSpec) error {
	first := j.networks[0]
	p, err := open(ctx, first, []string{j.host.ID()})
	if err != nil {
		return err
	}
	defer p.Close()
	if cp, ok := p.(sdn.ContainerPreparer); ok {
		n := describe(first)
		a := sdn.Attachment{Network: n.Name, EntityID: e.ID(), App: e.Application().ID(), Host: j.host.ID(), Aliases: j.aliases}
		return cp.PrepareContainer(n, a, spec)
	}
	return nil
}

// attachMu guards the network.containers lists.
var attachMu sync.Mutex

// Attach attaches the container to every network, in order, records where (the
// container's sdn.attachments, each network's network.containers), and publishes its
// address on the first as host.address and host.subnet.address.
func (j *Joining) Attach(ctx context.Context, e *entities.Entity, containerID string) error {
	var recs []any
	for _, ne := range j.networks {
		n := describe(ne)
		a := sdn.Attachment{Network: n.Name, ContainerID: containerID, EntityID: e.ID(), App: e.Application().ID(), Host: j.host.ID(), Aliases: j.aliases}
		err := entities.Step(ctx, fmt.Sprintf("Attach to network %s", n.Name), func(ctx context.Context) error {
			p, err := open(ctx, ne, []string{j.host.ID()})
			if err != nil {
				return err
			}
			defer p.Close()
			if err := p.Attach(ctx, n, &a); err != nil {
				return err
			}
			entities.Logf(ctx, "%s on %s (%s), names %s", a.IP, n.Name, n.CIDR, strings.Join(a.Aliases, ", "))
			return nil
		})
		if err != nil {
			return err
		}
		recs = append(recs, map[string]any{
			"network": n.Name, "networkEntity": ne.ID(), "host": a.Host, "ip": a.IP.String(), "aliases": toAny(a.Aliases),
		})
		addContainer(ne, containerID)
	}
	e.SetAttribute(SensorAttachments, recs)
	if ip, ok := Address(e); ok {
		e.SetAttribute("host.address", ip)
		e.SetAttribute(SensorSubnetAddress, ip)
	}
	return nil
}

// Address is the container's address on its first network, once attached.
func Address(e *entities.Entity) (string, bool) {
	recs := attachments(e)
	if len(recs) == 0 || recs[0].ip == "" {
		return "", false
	}
	return recs[0].ip, true
}

// Leave records that the container left its networks (it was removed): it is detached
// (providers release what they held for it), taken out of each network's
// network.containers, and a network whose entity is gone, stopped or being destroyed
// is removed once nothing uses it.
func Leave(ctx context.Context, e *entities.Entity, containerID string) error {
	var errs []error
	for _, r := range attachments(e) {
		ne, _ := e.Management().Entity(r.networkEntity)
		if ne != nil && !Is(ne) {
			ne = nil
		}
		cfg := e // a network entity that is gone: the container's own sdn settings
		n := sdn.Network{Name: r.network}
		if ne != nil {
			cfg, n = ne, describe(ne)
			removeContainer(ne, containerID)
		}
		p, err := open(ctx, cfg, []string{r.host})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a := sdn.Attachment{Network: n.Name, ContainerID: containerID, EntityID: e.ID(), App: e.Application().ID(), Host: r.host}
		if ip, err := netip.ParseAddr(r.ip); err == nil {
			a.IP = ip
		}
		if err := p.Detach(ctx, n, a); err != nil {
			errs = append(errs, err)
		}
		p.Close()
		if ne == nil || orphaned(ne) {
			errs = append(errs, removeUnused(ctx, e, ne, n, r.host))
		}
	}
	e.SetAttribute(SensorAttachments, nil)
	return errors.Join(errs...)
}

// orphaned says whether a network lives on only for the containers that still use it.
func orphaned(ne *entities.Entity) bool {
	if v, _ := ne.Attribute(sensorPending); v == true {
		return true
	}
	switch ne.Expected() {
	case entities.Stopped, entities.Stopping, entities.Destroyed:
		return true
	}
	return false
}

// removeUnused deletes a network nothing uses any more, from every host it is on.
func removeUnused(ctx context.Context, e, ne *entities.Entity, n sdn.Network, host string) error {
	if ne != nil {
		err := remove(ctx, ne)
		if errors.Is(err, sdn.ErrInUse) {
			return nil
		}
		return err
	}
	p, err := open(ctx, e, []string{host})
	if err != nil {
		return err
	}
	defer p.Close()
	err = p.DeleteNetwork(ctx, n)
	if err == nil {
		entities.Logf(ctx, "removed network %s, which no entity claims any more", n.Name)
	}
	if errors.Is(err, sdn.ErrInUse) {
		return nil
	}
	return err
}

type attachment struct {
	network, networkEntity, host, ip string
}

func attachments(e *entities.Entity) []attachment {
	v, _ := e.Attribute(SensorAttachments)
	l, _ := v.([]any)
	out := make([]attachment, 0, len(l))
	for _, x := range l {
		m, _ := x.(map[string]any)
		s := func(k string) string { v, _ := m[k].(string); return v }
		out = append(out, attachment{network: s("network"), networkEntity: s("networkEntity"), host: s("host"), ip: s("ip")})
	}
	return out
}

func addContainer(ne *entities.Entity, id string) {
	attachMu.Lock()
	defer attachMu.Unlock()
	ids := stringList(ne, SensorContainers)
	if !slices.Contains(ids, id) {
		ne.SetAttribute(SensorContainers, toAny(append(ids, id)))
	}
}

func removeContainer(ne *entities.Entity, id string) {
	attachMu.Lock()
	defer attachMu.Unlock()
	ids := stringList(ne, SensorContainers)
	if i := slices.Index(ids, id); i >= 0 {
		ne.SetAttribute(SensorContainers, toAny(slices.Delete(ids, i, i+1)))
	}
}

// ensureMu serialises finding and making virtual-network entities, so that two
// containers starting at once make one network.
var ensureMu sync.Mutex

// ensureEntity finds the virtual network name means for e, or makes it as a child of
// e's application, on host.
func ensureEntity(ctx context.Context, e *entities.Entity, name string, shared bool, host locations.Location) (*entities.Entity, error) {
	ensureMu.Lock()
	defer ensureMu.Unlock()
	if ne := find(e, name); ne != nil {
		return ne, nil
	}
	app := e.Application()
	spec := &entities.Spec{
		Type:      TypeName,
		Name:      "network " + name,
		Config:    map[string]any{KeyID: name},
		Locations: []string{host.ID()},
	}
	if shared {
		spec.Config[KeyShared] = true
	} else {
		spec.Name = app.Name() + " network"
	}
	var ne *entities.Entity
	err := entities.Step(ctx, "Add "+spec.Name, func(ctx context.Context) error {
		var err error
		ne, err = e.Management().AddChild(ctx, app, spec)
		return err
	})
	return ne, err
}

// find looks for the virtual network a name means: in e's application by network name,
// blueprint id or entity name; else in any application by network name.
func find(e *entities.Entity, name string) *entities.Entity {
	for _, d := range e.Application().Descendants() {
		if Is(d) && (Name(d) == name || d.BlueprintID() == name || d.Name() == name) {
			return d
		}
	}
	for _, d := range All(e.Management()) {
		if Name(d) == name {
			return d
		}
	}
	return nil
}

// Aliases are the names a container answers to on its networks: its entity's name and
// blueprint id (as DNS labels) and its entity id.
func Aliases(e *entities.Entity) []string {
	var out []string
	for _, s := range []string{dnsLabel(e.Name()), dnsLabel(e.BlueprintID()), e.ID()} {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// dnsLabel makes a DNS label of s: lower case letters, digits and dashes, at most 63.
func dnsLabel(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	return out
}
