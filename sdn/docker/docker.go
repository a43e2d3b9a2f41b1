package docker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sdn"
)

// Name is the provider's registered name.
const Name = "docker"

// KeyDriver is the config key naming the Docker network driver (default: the engine's,
// bridge).
const KeyDriver = "sdn.docker.driver"

func init() { sdn.Register(Name, Open) }

// Provider makes Docker networks on its hosts.
type Provider struct {
	ids    []string // host location ids, in the order given
	hosts  map[string]locations.NetworkHost
	driver string
}

var (
	_ sdn.Provider          = (*Provider)(nil)
	_ sdn.Inspector         = (*Provider)(nil)
	_ sdn.ContainerPreparer = (*Provider)(nil)
)

// Open makes the provider for cfg's hosts, each of which must be a locations.NetworkHost
// (a Docker engine).
func Open(_ context.Context, cfg sdn.Config) (sdn.Provider, error) {
	p := &Provider{hosts: map[string]locations.NetworkHost{}}
	if d, ok := cfg.Options[KeyDriver].(string); ok {
		p.driver = d
	}
	if len(cfg.Hosts) == 0 {
		return nil, fmt.Errorf("docker networks: no host to make them on: %w", sdn.ErrInvalid)
	}
	for _, l := range cfg.Hosts {
		h, ok := l.(locations.NetworkHost)
		if !ok {
			return nil, fmt.Errorf("docker networks: location %s is a %s location, which makes no networks: %w", l.ID(), l.Kind(), sdn.ErrInvalid)
		}
		if _, dup := p.hosts[l.ID()]; !dup {
			p.ids = append(p.ids, l.ID())
			p.hosts[l.ID()] = h
		}
	}
	return p, nil
}

// Name is "docker".
func (p *Provider) Name() string { return Name }

// Close does nothing: the engines belong to the location registry.
func (p *Provider) Close() error { return nil }

// CreateNetwork makes n on every host. A network of another name whose subnet overlaps
// n's is an error wrapping sdn.ErrOverlap, checked before the engine is asked.
func (p *Provider) CreateNetwork(ctx context.Context, n sdn.Network) error {
	if err := check(n); err != nil {
		return err
	}
	for _, id := range p.ids {
		h := p.hosts[id]
		others, err := h.ListNetworks(ctx, nil)
		if err != nil {
			return fmt.Errorf("create network %s on %s: %w", n.Name, id, err)
		}
		for _, o := range others {
			if o.Name != n.Name && o.Subnet.IsValid() && o.Subnet.Overlaps(n.CIDR) {
				return fmt.Errorf("create network %s on %s: subnet %s overlaps network %s (%s): %w", n.Name, id, n.CIDR, o.Name, o.Subnet, sdn.ErrOverlap)
			}
		}
		_, err = h.CreateNetwork(ctx, locations.NetworkSpec{Name: n.Name, Driver: p.driver, Subnet: n.CIDR, Labels: n.Labels})
		if err != nil {
			// A network made meanwhile (by another server) took the subnet: the engine
			// says so only in words ("Pool overlaps with other one on this address space").
			if errors.Is(err, locations.ErrInvalid) && strings.Contains(err.Error(), "overlaps") {
				err = fmt.Errorf("%w (%w)", err, sdn.ErrOverlap)
			}
			return fmt.Errorf("create network %s on %s: %w", n.Name, id, err)
		}
	}
	return nil
}

// DeleteNetwork removes n from every host, once no container (running or stopped) on
// any host uses it; otherwise nothing is removed and the error wraps sdn.ErrInUse.
func (p *Provider) DeleteNetwork(ctx context.Context, n sdn.Network) error {
	var users []string
	for _, id := range p.ids {
		u, err := p.hosts[id].NetworkUsers(ctx, n.Name)
		if errors.Is(err, locations.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("delete network %s on %s: %w", n.Name, id, err)
		}
		users = append(users, u...)
	}
	if len(users) > 0 {
		return fmt.Errorf("delete network %s: %d containers are attached: %w", n.Name, len(users), sdn.ErrInUse)
	}
	for _, id := range p.ids {
		if err := p.hosts[id].RemoveNetwork(ctx, n.Name); err != nil {
			if errors.Is(err, locations.ErrInUse) {
				err = fmt.Errorf("%w (%w)", err, sdn.ErrInUse)
			}
			return fmt.Errorf("delete network %s on %s: %w", n.Name, id, err)
		}
	}
	return nil
}

// Attach connects the container to n on its host, with its aliases, and fills a.IP.
func (p *Provider) Attach(ctx context.Context, n sdn.Network, a *sdn.Attachment) error {
	h, err := p.host(a.Host)
	if err != nil {
		return err
	}
	ep, err := h.ConnectNetwork(ctx, n.Name, a.ContainerID, a.Aliases)
	if err != nil {
		return fmt.Errorf("attach to network %s: %w", n.Name, err)
	}
	a.IP = ep.IP
	return nil
}

// Detach disconnects the container from n.
func (p *Provider) Detach(ctx context.Context, n sdn.Network, a sdn.Attachment) error {
	h, err := p.host(a.Host)
	if err != nil {
		return err
	}
	if err := h.DisconnectNetwork(ctx, n.Name, a.ContainerID); err != nil {
		return fmt.Errorf("detach from network %s: %w", n.Name, err)
	}
	return nil
}

// PrepareContainer makes the container on its first network, with its aliases, instead
// of the engine's default bridge.
func (p *Provider) PrepareContainer(first sdn.Network, a sdn.Attachment, spec *locations.ContainerSpec) error {
	spec.Network = first.Name
	spec.NetworkAliases = slices.Clone(a.Aliases)
	return nil
}

// InspectNetwork reports n as the hosts have it: its subnet and the containers that use
// it. A host without it is an error wrapping sdn.ErrNotFound.
func (p *Provider) InspectNetwork(ctx context.Context, n sdn.Network) (*sdn.NetworkState, error) {
	st := &sdn.NetworkState{Name: n.Name}
	for _, id := range p.ids {
		h := p.hosts[id]
		got, err := h.InspectNetwork(ctx, n.Name)
		if errors.Is(err, locations.ErrNotFound) {
			return nil, fmt.Errorf("network %s is not on %s: %w", n.Name, id, sdn.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("inspect network %s on %s: %w", n.Name, id, err)
		}
		st.CIDR = got.Subnet
		users, err := h.NetworkUsers(ctx, n.Name)
		if err != nil {
			return nil, fmt.Errorf("inspect network %s on %s: %w", n.Name, id, err)
		}
		st.Containers = append(st.Containers, users...)
	}
	return st, nil
}

// Subnets lists the subnets of every network of the hosts.
func (p *Provider) Subnets(ctx context.Context) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, id := range p.ids {
		list, err := p.hosts[id].ListNetworks(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("list networks on %s: %w", id, err)
		}
		for _, n := range list {
			if n.Subnet.IsValid() && !slices.Contains(out, n.Subnet) {
				out = append(out, n.Subnet)
			}
		}
	}
	return out, nil
}

func (p *Provider) host(id string) (locations.NetworkHost, error) {
	if id == "" && len(p.ids) == 1 {
		return p.hosts[p.ids[0]], nil
	}
	h, ok := p.hosts[id]
	if !ok {
		return nil, fmt.Errorf("host %q is not one of the provider's %v: %w", id, p.ids, sdn.ErrNotFound)
	}
	return h, nil
}

func check(n sdn.Network) error {
	if n.Name == "" {
		return fmt.Errorf("network without a name: %w", sdn.ErrInvalid)
	}
	if !n.CIDR.IsValid() {
		return fmt.Errorf("network %s has no subnet: %w", n.Name, sdn.ErrInvalid)
	}
	return nil
}
